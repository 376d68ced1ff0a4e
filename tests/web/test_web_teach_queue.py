"""The review page's two queues (issue 18 item 3): audit labels count for the KPI, teach never.

The seeded store's latest run has 24 labels (every one fresh, so the KPI's n is 24) and stored
features: enough for ``suggest_labels`` to fit a model, so the teach queue lists the customers
it is least sure about.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from fastapi import FastAPI

from seglens.errors import UsageError
from seglens.segmenters import RFMSegmenter
from seglens.store import (
    ReviewedLabel,
    add_reviewed_labels,
    audit_design,
    label_events,
    open_store,
    record_run,
    run_assignments,
)
from seglens.web import Settings, create_app
from seglens.web.queue import TEACH_SIZE, teach_queue
from tests.web.conftest import (
    ORIGIN,
    Client,
    Seeded,
    Users,
    login,
    make_users,
    rfm_features,
)

AUDIT = "Audit — counts for the KPI"
TEACH = "Teach — improves the model"
SETTINGS = Settings(margin_pts=10.0, min_per_segment=3)
ROW = re.compile(r'<tr data-customer="([^"]+)">')


def _kpi(c: Client, headers: dict[str, str] | None = None) -> tuple[float, int]:
    """The headline ``/api/kpi`` shows: value % and n."""
    acc = c.get("/api/kpi", headers=headers or {}).json()["accuracy"]
    return acc["value_pct"], acc["n"]


def _wrong(store_seeded: Seeded, cid: str) -> tuple[str, str]:
    """The run's segment for ``cid`` and another one of the run's segments."""
    assigned = dict(
        run_assignments(store_seeded.store, store_seeded.runs[1])
        .select("customer_id", "segment")
        .rows()
    )
    other = next(s for s in sorted(set(assigned.values())) if s != assigned[cid])
    return assigned[cid], other


@pytest.fixture
def reviewer(app: FastAPI) -> Client:
    c = Client(app)
    login(c, "reviewer")
    return c


def test_the_review_page_names_both_queues(reviewer: Client, seeded: Seeded) -> None:
    audit_page = reviewer.get("/review").text
    teach_page = reviewer.get("/review?queue=teach").text
    reviewer.close()
    for page in (audit_page, teach_page):
        assert AUDIT in page and TEACH in page
        assert "the KPI is measured on it" in page
        assert "never count in the KPI" in page
    assert 'data-testid="audit-queue"' in audit_page and 'name="purpose"' not in audit_page
    assert 'data-testid="teach-queue"' in teach_page
    # The teach rows send purpose=teach; the audit rows send none (kpi, the default).
    rows = ROW.findall(teach_page)
    assert 0 < len(rows) <= TEACH_SIZE
    assert teach_page.count('name="purpose" value="teach"') == 2 * len(rows)


def test_the_teach_queue_is_the_least_sure_unlabelled_customers_not_in_the_audit(
    reviewer: Client, seeded: Seeded
) -> None:
    page = reviewer.get("/review?queue=teach").text
    again = reviewer.get("/review?queue=teach").text
    reviewer.close()
    rows = ROW.findall(page)
    assert rows == ROW.findall(again)  # deterministic
    design = audit_design(seeded.store, run_id=seeded.runs[1])
    assert design is not None
    members = set(design.members["customer_id"].to_list())
    assert not set(rows) & set(seeded.labelled)
    assert not set(rows) & members
    assert len(rows) == len(set(rows)) == min(TEACH_SIZE, 120 - len(members | set(seeded.labelled)))
    q = teach_queue(seeded.store, SETTINGS)
    assert q is not None and q.ready and [i.customer_id for i in q.items] == rows
    assert "least sure" in q.reason


def test_a_teach_correction_is_stored_as_teach_and_the_kpi_does_not_move(
    reviewer: Client, seeded: Seeded
) -> None:
    value0, n0 = _kpi(reviewer)
    assert n0 == 24
    cid = ROW.findall(reviewer.get("/review?queue=teach").text)[0]
    shown, other = _wrong(seeded, cid)
    form = {
        "customer_id": cid,
        "segment": other,
        "assigned": shown,
        "run_id": str(seeded.runs[1]),
        "purpose": "teach",
    }
    resp = reviewer.post(
        "/review/label", data=form, headers={"Origin": ORIGIN, "HX-Request": "true"}
    )
    assert resp.status_code == 200, resp.text
    assert "not counted in the KPI" in resp.text
    stored = label_events(seeded.store).filter(pl.col("customer_id") == cid)
    assert stored.select("segment", "purpose", "run_id").rows() == [
        (other, "teach", seeded.runs[1])
    ]
    assert _kpi(reviewer) == (value0, n0)  # the teach label is not counted
    # The teach queue no longer offers the customer; the next model has learnt from it.
    assert cid not in ROW.findall(reviewer.get("/review?queue=teach").text)
    # Without HTMX the form lands back on the teach queue.
    cid2 = ROW.findall(reviewer.get("/review?queue=teach").text)[0]
    shown2, _ = _wrong(seeded, cid2)
    form2 = {**form, "customer_id": cid2, "segment": shown2, "assigned": shown2}
    form2["back"] = "/review?queue=teach"
    resp = reviewer.post("/review/label", data=form2, headers={"Origin": ORIGIN})
    assert resp.status_code == 303 and resp.headers["location"] == "/review?queue=teach"
    assert _kpi(reviewer) == (value0, n0)

    # Through the audit queue the label counts: n moves.
    cid3 = ROW.findall(reviewer.get("/review").text)[0]
    shown3, other3 = _wrong(seeded, cid3)
    form3 = {
        "customer_id": cid3,
        "segment": other3,
        "assigned": shown3,
        "run_id": str(seeded.runs[1]),
    }
    resp = reviewer.post(
        "/review/label", data=form3, headers={"Origin": ORIGIN, "HX-Request": "true"}
    )
    assert resp.status_code == 200 and "not counted" not in resp.text
    value1, n1 = _kpi(reviewer)
    reviewer.close()
    assert n1 == n0 + 1 and value1 < value0  # a correction: one more label, a lower share
    assert label_events(seeded.store).filter(pl.col("customer_id") == cid3)[
        "purpose"
    ].to_list() == ["kpi"]


def test_the_form_refuses_an_unknown_purpose(reviewer: Client, seeded: Seeded) -> None:
    cid = seeded.labelled[0]
    shown, _ = _wrong(seeded, cid)
    form = {"customer_id": cid, "segment": shown, "assigned": shown, "purpose": "audit"}
    resp = reviewer.post("/review/label", data=form, headers={"Origin": ORIGIN})
    reviewer.close()
    assert resp.status_code == 422


def test_the_api_takes_a_purpose_and_refuses_an_unknown_one(
    seeded: Seeded, users: Users, app: FastAPI
) -> None:
    c = Client(app)
    auth = {"Authorization": f"Bearer {users.tokens['reviewer']}"}
    value0, n0 = _kpi(c, auth)
    cid = next(
        cid
        for cid in run_assignments(seeded.store, seeded.runs[1])["customer_id"].to_list()
        if cid not in seeded.labelled
    )
    shown, other = _wrong(seeded, cid)
    body = {"customer_id": cid, "segment": other, "purpose": "teach"}
    resp = c.post("/api/labels", json=body, headers=auth)
    assert resp.status_code == 201, resp.text
    assert resp.json()["purpose"] == "teach"
    assert _kpi(c, auth) == (value0, n0)
    bad = c.post("/api/labels", json={**body, "purpose": "audit"}, headers=auth)
    batch = c.post("/api/labels/batch", json={"labels": [{**body, "purpose": "x"}]}, headers=auth)
    kpi_item = c.post("/api/labels", json={"customer_id": cid, "segment": shown}, headers=auth)
    n_after_kpi = _kpi(c, auth)[1]
    schema = c.get("/openapi.json").json()
    c.close()
    assert bad.status_code == 422 and batch.status_code == 422
    assert kpi_item.status_code == 201 and kpi_item.json()["purpose"] == "kpi"
    assert n_after_kpi == n0 + 1  # a kpi label counts
    prop = schema["components"]["schemas"]["LabelIn"]["properties"]["purpose"]
    assert prop["default"] == "kpi" and set(prop["enum"]) == {"kpi", "teach"}
    assert "never counted" in prop["description"]
    purposes = label_events(seeded.store).filter(pl.col("customer_id") == cid)["purpose"]
    assert sorted(purposes.to_list()) == ["kpi", "teach"]


def test_reviewed_label_purpose_is_validated_and_hashes_kpi_items_as_before(
    seeded: Seeded, users: Users
) -> None:
    with pytest.raises(UsageError, match="purpose"):
        ReviewedLabel("c001", "Loyal", purpose="audit")
    cid = seeded.labelled[0]
    shown, _ = _wrong(seeded, cid)
    uid = users.ids["reviewer"]
    kw = {"labeled_by": "reviewer", "source": "web", "user_id": uid}
    first = add_reviewed_labels(
        seeded.store, [ReviewedLabel(cid, shown)], idempotency_key="k1", **kw
    )
    # An explicit kpi purpose is the same request as the default one: replayed.
    again = add_reviewed_labels(
        seeded.store, [ReviewedLabel(cid, shown, purpose="kpi")], idempotency_key="k1", **kw
    )
    assert again.replayed and again.labels == first.labels
    # The same key with a teach item is another request.
    with pytest.raises(UsageError, match="Idempotency-Key"):
        add_reviewed_labels(
            seeded.store, [ReviewedLabel(cid, shown, purpose="teach")], idempotency_key="k1", **kw
        )


def test_too_few_labels_the_teach_queue_says_the_model_needs_the_audit_first(
    tmp_path: Path,
) -> None:
    store = open_store(str(tmp_path / "few.db"))
    try:
        feats = rfm_features(80, 5)
        assigned = RFMSegmenter().fit(feats).assign(feats).select("customer_id", "segment")
        record_run(
            store,
            assigned,
            segmenter="RFMSegmenter",
            parameters={},
            as_of=date(2011, 9, 30),
            data_hash="h",
            features=feats,
        )
        make_users(store)
        c = Client(create_app(store, settings=SETTINGS))
        login(c, "reviewer")
        page = c.get("/review?queue=teach").text
        c.close()
        assert TEACH in page and AUDIT in page
        assert "The model needs labels from the audit first" in page
        assert not ROW.findall(page)
    finally:
        store.close()
