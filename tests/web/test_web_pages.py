"""What the pages print (in-process): formatted values, the customer page's label check, the
review queue's evidence and order, skip/unsure/undo in the store, branded error pages."""

from __future__ import annotations

import asyncio
import html
import re
from datetime import date
from pathlib import Path

import httpx
import polars as pl
import pytest
from fastapi import FastAPI

from seglens.segmenters.profiles import profile_segments
from seglens.store import (
    audit_design,
    label_history,
    list_audit,
    open_store,
    pseudonym,
    record_run,
    run_assignments,
    run_info,
)
from seglens.store.web_labels import review_marks, undo_last_review
from seglens.tracking import kpi_history
from seglens.web import Settings, create_app
from seglens.web.evidence import evidence_for, segment_rules
from seglens.web.queue import seeded_order
from tests.web.conftest import ORIGIN, Client, Seeded, login, make_users

RAW = [
    (re.compile(r"\d\.\d{5,}"), "an unrounded float"),
    (re.compile(r">\s*None\s*<|\bNone\b(?![^<]*</code>)"), "None"),
    (re.compile(r"\d{2}:\d{2}:\d{2}\.\d+"), "a timestamp with microseconds"),
    (re.compile(r"p = 0\.000"), "p = 0.000"),
]


def _assigned(seeded: Seeded) -> dict[str, str]:
    rows = run_assignments(seeded.store, seeded.runs[1]).select("customer_id", "segment").rows()
    return dict(rows)


@pytest.mark.parametrize(
    "path",
    ["/", "/segments", "/review", "/review?queue=teach", "/customers/{c}", "/customers/{d}"],
)
def test_pages_print_no_raw_values(clients: dict[str, Client], seeded: Seeded, path: str) -> None:
    url = path.format(c=seeded.labelled[0], d=seeded.labelled[5])
    page = clients["reviewer"].get(url).text
    # What a reader sees: the page's main part without the charts' embedded JSON specs.
    body = re.sub(r"<script.*?</script>", "", page[page.index("<main>") :], flags=re.S)
    found = [(what, m.group(0)) for rx, what in RAW for m in [rx.search(body)] if m]
    assert found == [], url


def test_the_customer_page_marks_a_disagreement_and_preselects_the_segment(
    clients: dict[str, Client], seeded: Seeded
) -> None:
    assigned = _assigned(seeded)
    wrong, right = seeded.labelled[0], seeded.labelled[1]  # the seed's label 0 is a miss
    label = label_history(seeded.store, wrong)["segment"][-1]
    assert label != assigned[wrong]
    page = clients["reviewer"].get(f"/customers/{wrong}").text
    mismatch = re.search(r'data-testid="label-mismatch">([^<]*)<', page)
    assert mismatch is not None
    assert html.unescape(mismatch.group(1)) == (
        f"The label says {label}, the run assigned {assigned[wrong]}: they disagree."
    )
    menu = page[page.index('data-testid="correct-segment"') :].split("</select>")[0]
    selected = [html.unescape(o) for o in re.findall(r"<option selected>([^<]*)</option>", menu)]
    assert selected == [assigned[wrong]]
    assert 'data-testid="label-age"' in page and "just now" in page
    page2 = clients["reviewer"].get(f"/customers/{right}").text
    assert 'data-testid="label-agrees"' in page2 and 'data-testid="label-mismatch"' not in page2


def test_the_queue_lists_the_design_in_its_seeded_order_with_evidence(
    clients: dict[str, Client], seeded: Seeded
) -> None:
    page = clients["reviewer"].get("/review?show=500").text
    design = audit_design(seeded.store, run_id=seeded.runs[1])
    assert design is not None
    labelled = set(label_history(seeded.store)["customer_id"].to_list())
    want = [c for c in seeded_order(design)["customer_id"].to_list() if c not in labelled]
    shown = re.findall(r'<tr data-customer="([^"]+)">', page)
    assert shown == want and shown != sorted(shown)
    # The order is the same for every view and reviewer: seeded by the design.
    again = re.findall(
        r'<tr data-customer="([^"]+)">', clients["admin"].get("/review?show=500").text
    )
    assert again == shown
    # Each row: the assigned segment's rule in words, evidence values formatted.
    run = run_info(seeded.store, seeded.runs[1])
    assert run is not None
    rules = segment_rules(seeded.store, run)
    assert rules["Champions"] == (
        "Bought very recently, buy often and spend the most. (scores R 5 and FM 4-5; 5 = best)"
    )
    assert page.count('data-testid="rule"') == len(shown)
    assert page.count('data-testid="ev-last-order"') == len(shown)
    assert "Keyboard shortcuts" in page and "<kbd>c</kbd> confirm" in page


def test_skip_unsure_and_undo_in_the_store(
    clients: dict[str, Client], seeded: Seeded, app: FastAPI
) -> None:
    c = clients["reviewer"]
    page = c.get("/review").text
    first, second, third = re.findall(r'<tr data-customer="([^"]+)">', page)[:3]
    run = seeded.runs[1]
    design = audit_design(seeded.store, run_id=run)
    assert design is not None
    kpi_rows = kpi_history(seeded.store).height
    labels = label_history(seeded.store).height
    hx = {"Origin": ORIGIN, "HX-Request": "true"}
    skip = c.post("/review/mark", data={"customer_id": first, "kind": "skip"}, headers=hx)
    unsure = c.post("/review/mark", data={"customer_id": second, "kind": "unsure"}, headers=hx)
    assert skip.status_code == unsure.status_code == 200
    assert "Skipped" in skip.text and "Unsure" in unsure.text
    assert label_history(seeded.store).height == labels  # no verdict, nothing counts
    marks = review_marks(seeded.store, actor="reviewer", design_id=design.id, run_id=run)
    assert sorted(marks.values()) == ["skip", "unsure"]
    assert review_marks(seeded.store, actor="admin", design_id=design.id, run_id=run) == {}
    order = re.findall(r'<tr data-customer="([^"]+)">', c.get("/review?show=500").text)
    assert order[0] == third and order[-2:] == [first, second]
    # A customer outside the audit sample cannot be marked.
    outside = next(x for x in _assigned(seeded) if x not in set(design.members["customer_id"]))
    bad = c.post("/review/mark", data={"customer_id": outside, "kind": "skip"}, headers=hx)
    assert bad.status_code == 422 and "not in the current audit sample" in bad.text

    # Undo steps back: first the unsure mark, then the skip; a label is deleted.
    form = {"customer_id": third, "segment": _assigned(seeded)[third], "run_id": str(run)}
    assert c.post("/review/label", data=form, headers=hx).status_code == 200
    undo = c.post("/review/undo", headers=hx)
    assert undo.status_code == 200 and undo.headers["X-Undone-Customer"] == third
    assert undo.headers["X-Undone-Kind"] == "label" and 'name="segment"' in undo.text
    assert third not in set(label_history(seeded.store)["customer_id"].to_list())
    assert label_history(seeded.store).height == labels
    assert kpi_history(seeded.store).height >= kpi_rows
    second_undo = c.post("/review/undo", headers=hx)
    assert second_undo.headers["X-Undone-Customer"] == second
    assert second_undo.headers["X-Undone-Kind"] == "unsure"
    assert c.post("/review/undo", headers=hx).headers["X-Undone-Customer"] == first
    assert c.post("/review/undo", headers=hx).status_code == 204  # nothing left
    actions = list_audit(seeded.store)["action"].to_list()
    assert actions.count("label.undo") == 1 and actions.count("review.undo") == 2
    # Another reviewer's labels are never undone by this one.
    assert undo_last_review(seeded.store, actor="admin") is None


def test_undo_re_measures_the_kpi(clients: dict[str, Client], seeded: Seeded) -> None:
    c = clients["reviewer"]
    page = c.get("/review").text
    cid = re.findall(r'<tr data-customer="([^"]+)">', page)[0]
    assigned = _assigned(seeded)[cid]
    before = kpi_history(seeded.store, "accuracy").row(-1, named=True)["n"]
    form = {"customer_id": cid, "segment": assigned, "run_id": str(seeded.runs[1])}
    c.post("/review/label", data=form, headers={"Origin": ORIGIN})
    c.get("/fragments/kpi")
    assert kpi_history(seeded.store, "accuracy").row(-1, named=True)["n"] == before + 1
    c.post("/review/undo", headers={"Origin": ORIGIN})
    fragment = c.get("/fragments/kpi").text
    assert kpi_history(seeded.store, "accuracy").row(-1, named=True)["n"] == before
    assert f'data-testid="kpi-n">{before}<' in fragment


def test_branded_error_pages_for_browsers_and_json_for_the_api(
    clients: dict[str, Client], app: FastAPI
) -> None:
    c = clients["viewer"]
    page = c.get("/no/such/page", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    assert "Page not found" in page.text and 'data-testid="error-status">404<' in page.text
    plain = c.get("/no/such/page", headers={"Accept": "application/json"})
    assert plain.status_code == 404 and plain.json() == {"detail": "Not Found"}
    api = c.get("/api/nothing", headers={"Accept": "text/html"})
    assert api.status_code == 404 and api.json() == {"detail": "Not Found"}
    refused = c.get("/admin", headers={"Accept": "text/html"})
    assert refused.status_code == 403 and "Not allowed" in refused.text

    def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/boom", boom)
    app.add_api_route("/api/boom", boom)

    async def both() -> tuple[httpx.Response, httpx.Response]:
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as quiet:
            page = await quiet.get("/boom", headers={"Accept": "text/html"})
            api = await quiet.get("/api/boom", headers={"Accept": "text/html"})
        return page, api

    failed, api_failed = asyncio.run(both())
    assert failed.status_code == 500 and "Something went wrong" in failed.text
    assert api_failed.status_code == 500
    assert api_failed.json() == {"detail": "internal server error"}


def test_the_audit_log_shows_action_pseudonym_and_segment(
    clients: dict[str, Client], seeded: Seeded
) -> None:
    cid = seeded.labelled[3]
    segment = _assigned(seeded)[cid]
    form = {"customer_id": cid, "segment": segment, "run_id": str(seeded.runs[1])}
    resp = clients["reviewer"].post("/review/label", data=form, headers={"Origin": ORIGIN})
    assert resp.status_code == 303
    page = clients["admin"].get("/admin").text
    log = page[page.index('data-testid="audit-log"') :].split("</table>")[0]
    first = re.search(r"<tr>(.*?)</tr>", log[log.index("<tbody>") :], flags=re.S)
    assert first is not None
    cells = [
        html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
        for c in re.findall(r"<td[^>]*>(.*?)</td>", first.group(1), flags=re.S)
    ]
    assert cells[1:] == [
        "reviewer",
        "label.add",
        pseudonym(cid)[:12],
        f"{segment} (run {seeded.runs[1]})",
    ]
    assert cid not in log  # the raw customer id never appears in the log


def test_evidence_and_rules_for_a_clustering_run_with_lifetimes_features(tmp_path: Path) -> None:
    n = 60
    feats = pl.DataFrame(
        {
            "customer_id": [f"k{i:02d}" for i in range(n)],
            "frequency": [float(i % 7) for i in range(n)],
            "recency": [float(10 * (i % 5)) for i in range(n)],
            "T": [100.0 + i % 10 for i in range(n)],
            "monetary_value": [
                10.0 + 2 * (i % 9) if i < 30 else 300.0 + 20 * (i % 9) for i in range(n)
            ],
        }
    )
    segments = ["Small" if i < 30 else "Big" for i in range(n)]
    with open_store(str(tmp_path / "k.db")) as store:
        run_id = record_run(
            store,
            feats.select("customer_id").with_columns(segment=pl.Series(segments)),
            segmenter="KMeansSegmenter",
            parameters={"n_clusters": 2},
            as_of=date(2024, 3, 31),
            data_hash="k",
            features=feats,
        )
        run = run_info(store, run_id)
        assert run is not None
        ev = evidence_for(store, run, ["k07", "nobody"])
        rules = segment_rules(store, run)
    # k07: T 107 (first purchase), recency 20 (first to last) -> last order 87 days before.
    assert ev["k07"].last_order == "2024-01-04 (87 days before the run)"
    assert ev["k07"].orders == "0 repeat purchase days" and ev["k07"].tenure == "107 days"
    assert ev["k07"].spend == "–" and ev["k07"].categories is None and ev["k07"].label is None
    assert ev["nobody"].last_order == "–"
    prof = profile_segments(
        feats, feats.select("customer_id").with_columns(segment=pl.Series(segments)), revenue=None
    )
    big = prof["Big"]
    top = big.distinguishing[0]
    assert top.feature == "monetary_value" and top.direction == "higher"
    assert rules == {
        "Big": f"{big.auto_name}: higher average repeat-day spend (median 380 vs 17) than the "
        "other customers",
        "Small": f"{prof['Small'].auto_name}: lower average repeat-day spend (median 17 vs 380) "
        "than the other customers",
    }


def test_undoing_the_only_label_leaves_the_run_not_measured(tmp_path: Path) -> None:
    with open_store(str(tmp_path / "u.db")) as store:
        record_run(
            store,
            pl.DataFrame({"customer_id": ["a", "b"], "segment": ["A", "B"]}),
            segmenter="hand",
            parameters={},
            as_of=date(2011, 6, 30),
            data_hash="u",
        )
        make_users(store)
        c = Client(create_app(store, settings=Settings(margin_pts=10.0, min_per_segment=1)))
        login(c, "reviewer")
        form = {"customer_id": "a", "segment": "A"}
        assert c.post("/review/label", data=form, headers={"Origin": ORIGIN}).status_code == 303
        measured = c.get("/api/kpi").json()
        assert c.post("/review/undo", headers={"Origin": ORIGIN}).status_code == 303
        after = c.get("/api/kpi").json()
        page = c.get("/").text
        c.close()
        assert label_history(store).is_empty()
    assert measured["accuracy"]["n"] == 1
    assert after["accuracy"] is None and after["n_labelled_customers"] == 0
    assert "Not measured (n = 0)" in page
