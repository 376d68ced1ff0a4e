"""The review queue and the pages in headless Chromium (Debian's, through Playwright).

A reviewer clears 20 audit items by keyboard and undoes one (the KPI n and the store follow);
an ended session mid-queue shows a message and the pending action survives a re-login; a
rejected input (422) shows its message; no page is wider than a 390 px viewport. The last test
writes the screenshots docs/web.md shows (docs/images/web-*.png), so they stay current.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from seglens.segmenters.segment_map import SegmentMap
from seglens.store import audit_design, label_history, list_audit, run_features, run_info
from seglens.tracking import kpi_history
from seglens.web import Settings, create_app
from seglens.web.format import money
from seglens.web.queue import seeded_order
from seglens.web.users import end_session
from tests.web.conftest import PASSWORD, Seeded, Users
from tests.web.test_web_browser import Watch, launch_chromium, serve

pytestmark = pytest.mark.browser

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
SETTINGS = Settings(margin_pts=10.0, min_per_segment=3)


@pytest.fixture(scope="module")
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One headless Chromium for this module.

    Not session-scoped: Playwright's sync API keeps an event loop running in the main thread,
    and later tests that call ``asyncio.run`` would find it.
    """
    yield from launch_chromium(tmp_path_factory)


@pytest.fixture
def live(seeded: Seeded, users: Users) -> Iterator[str]:
    """A uvicorn server on 127.0.0.1 over the seeded store."""
    with serve(create_app(seeded.store, settings=SETTINGS)) as base:
        yield base


def _login(page: Any, base: str, user: str) -> None:
    page.set_default_timeout(60_000)  # 2 shared cores: a busy machine, not a broken page
    page.goto(f"{base}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def _open_queue(page: Any, base: str) -> None:
    page.goto(f"{base}/review")
    page.wait_for_function("window.htmx !== undefined")
    page.wait_for_selector("table.queue tr.current")  # review.js is ready


def _web_labels(seeded: Seeded, user: str) -> pl.DataFrame:
    hist = label_history(seeded.store)
    return hist.filter((pl.col("labeled_by") == user) & (pl.col("source") == "web"))


def _settled(page: Any) -> None:
    """Wait until review.js has no panel refresh under way (and none was asked for)."""
    page.wait_for_function("!document.body.dataset.refreshing")


def _text(page: Any, testid: str) -> str:
    return str(page.inner_text(f"[data-testid={testid}]")).strip()


def _wait_text(page: Any, testid: str, value: str) -> None:
    page.wait_for_function(
        "([id, v]) => document.querySelector(`[data-testid=${id}]`)?.textContent.trim() === v",
        arg=[testid, value],
    )


def test_a_reviewer_clears_20_items_by_keyboard_and_undoes_one(
    chromium: Any, live: str, seeded: Seeded
) -> None:
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    watch = Watch(page, live)
    _login(page, live, "reviewer")
    _open_queue(page, live)
    run = seeded.runs[1]
    design = audit_design(seeded.store, run_id=run)
    assert design is not None
    labelled = set(label_history(seeded.store)["customer_id"].to_list())
    order = [c for c in seeded_order(design)["customer_id"].to_list() if c not in labelled]
    shown = page.eval_on_selector_all(
        "table.queue tbody tr[data-customer]", "rows => rows.map(r => r.dataset.customer)"
    )
    # The design's seeded random order, not sorted by id or segment; segments are mixed.
    assert shown == order[: len(shown)] and shown != sorted(shown)
    strata = dict(design.members.iter_rows())
    assert len({strata[c] for c in shown[:10]}) >= 3

    # The first row's evidence is the run's stored features, and the rule the map's words.
    first = page.locator("table.queue tbody tr").first
    feats = (
        run_features(seeded.store, run).filter(pl.col("customer_id") == shown[0]).row(0, named=True)
    )
    assert first.locator("[data-testid=ev-spend]").inner_text() == money(feats["total_spend"])
    assert first.locator("[data-testid=ev-orders]").inner_text() == f"{feats['n_orders']:,.0f}"
    segment = strata[shown[0]]
    words = next(s for s in SegmentMap.default().segments if s.name == segment).description
    assert words in first.locator("[data-testid=rule]").inner_text()

    n_before = int(_text(page, "kpi-n"))
    count_before = int(_text(page, "reviewed-count"))
    for i in range(20):
        page.keyboard.press("c")
        page.wait_for_function(
            f"document.querySelectorAll('[data-testid=reviewed]').length === {i + 1}"
        )
    mine = _web_labels(seeded, "reviewer")
    assert mine["customer_id"].to_list() == shown[:20]  # confirmed in the order shown
    assert (mine["segment"] == mine["judged_segment"]).all() and (mine["run_id"] == run).all()
    members = set(design.members["customer_id"].to_list())
    reviewed = len(members & set(label_history(seeded.store)["customer_id"].to_list()))
    assert reviewed == count_before + 20
    _wait_text(page, "reviewed-count", str(reviewed))  # the panels were fetched: measured
    stored = kpi_history(seeded.store)
    audited = stored.filter(pl.col("metric") == "accuracy_audit")
    metric = "accuracy_audit" if audited.height else "accuracy"
    head = stored.filter(pl.col("metric") == metric).row(-1, named=True)
    # The audit estimate counts the reviewed design members; the labelled share every label.
    expected_n = reviewed if metric == "accuracy_audit" else n_before + 20
    _wait_text(page, "kpi-n", str(expected_n))
    assert page.inner_text("[data-testid=kpi-method] code") == metric
    assert head["n"] == expected_n and head["period"] == "2011Q3"

    page.keyboard.press("z")  # undo the last confirmation
    last = shown[19]
    page.wait_for_selector(f"tr[data-customer='{last}'] form.confirm")
    _wait_text(page, "reviewed-count", str(reviewed - 1))
    _wait_text(page, "kpi-n", str(expected_n - 1))
    assert last not in set(label_history(seeded.store)["customer_id"].to_list())
    assert _web_labels(seeded, "reviewer").height == 19
    undo = list_audit(seeded.store).filter(pl.col("action") == "label.undo")
    assert undo.height == 1 and undo["actor"][0] == "reviewer"
    again = kpi_history(seeded.store).filter(pl.col("metric") == metric).row(-1, named=True)
    assert again["n"] == expected_n - 1
    _settled(page)
    assert watch.problems == []
    page.close()


def test_skip_and_unsure_store_no_verdict_and_move_to_the_end(
    chromium: Any, live: str, seeded: Seeded
) -> None:
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    watch = Watch(page, live)
    _login(page, live, "reviewer")
    _open_queue(page, live)
    ids = page.eval_on_selector_all(
        "table.queue tbody tr[data-customer]", "rows => rows.map(r => r.dataset.customer)"
    )
    n_before = _text(page, "kpi-n")
    labels_before = label_history(seeded.store).height
    page.keyboard.press("s")
    page.wait_for_selector(f"tr[data-customer='{ids[0]}'] [data-testid=marked-done]")
    page.keyboard.press("u")
    page.wait_for_selector(f"tr[data-customer='{ids[1]}'] [data-testid=marked-done]")
    assert label_history(seeded.store).height == labels_before  # no verdict stored
    actions = list_audit(seeded.store)["action"].to_list()
    assert actions.count("review.skip") == 1 and actions.count("review.unsure") == 1
    _settled(page)
    page.reload()
    page.wait_for_selector("table.queue tr.current")
    assert _text(page, "mark-counts").startswith("You skipped 1 and were unsure about 1 ")
    after = page.eval_on_selector_all(
        "table.queue tbody tr[data-customer]", "rows => rows.map(r => r.dataset.customer)"
    )
    assert after[0] == ids[2] and after[-2:] == [ids[0], ids[1]]  # skipped, then unsure
    assert _text(page, "kpi-n") == n_before
    page.keyboard.press("z")  # takes back the unsure mark: the customer is back in line
    page.wait_for_function(
        "document.querySelector('[data-testid=queue-message]').textContent.startsWith('Undone')"
    )
    assert _text(page, "queue-message") == f"Undone: {ids[1]} is back in the queue."
    assert page.locator(f"tr[data-customer='{ids[1]}'] [data-testid=marked]").count() == 0
    assert list_audit(seeded.store)["action"].to_list().count("review.undo") == 1
    assert watch.problems == []
    page.close()


def test_an_ended_session_keeps_the_action_through_a_re_login(
    chromium: Any, live: str, seeded: Seeded
) -> None:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _login(page, live, "reviewer")
    _open_queue(page, live)
    ids = page.eval_on_selector_all(
        "table.queue tbody tr[data-customer]", "rows => rows.map(r => r.dataset.customer)"
    )
    page.keyboard.press("c")
    page.wait_for_selector(f"tr[data-customer='{ids[0]}'] [data-testid=reviewed]")
    # The session ends on the server (as logout elsewhere, expiry or a password change do).
    cookie = next(c for c in context.cookies() if "session" in c["name"])
    end_session(seeded.store, cookie["value"], actor="reviewer")
    page.keyboard.press("c")
    page.wait_for_selector("#relogin[open]")
    assert "session has ended" in _text(page, "queue-message")
    assert ids[1] not in set(label_history(seeded.store)["customer_id"].to_list())
    page.fill("#relogin input[name=username]", "reviewer")
    page.fill("#relogin input[name=password]", "not the password")
    page.click("#relogin button[type=submit]")
    page.wait_for_selector("[data-testid=relogin-error]:not([hidden])")
    assert "Wrong user name or password" in _text(page, "relogin-error")
    page.fill("#relogin input[name=password]", PASSWORD)
    page.click("#relogin button[type=submit]")
    page.wait_for_selector(f"tr[data-customer='{ids[1]}'] [data-testid=reviewed]")
    got = _web_labels(seeded, "reviewer").filter(pl.col("customer_id") == ids[1])
    assert got.height == 1 and got["run_id"][0] == seeded.runs[1]
    assert not page.is_visible("#relogin")

    # A rejected input (422): the message is shown, nothing is stored, the row stays open.
    row = page.locator(f"tr[data-customer='{ids[2]}']")
    row.locator("select[name=segment]").evaluate(
        "s => { const o = new Option('Nowhere', 'Nowhere'); s.add(o); s.value = 'Nowhere'; }"
    )
    row.locator("form.correct button").click()
    page.wait_for_selector("[data-testid=queue-message]:not([hidden])")
    page.wait_for_function(
        "document.querySelector('[data-testid=queue-message]').textContent.includes('422')"
    )
    message = _text(page, "queue-message")
    assert "Not saved (422)" in message and "'Nowhere'" in message
    assert ids[2] not in set(label_history(seeded.store)["customer_id"].to_list())
    assert row.locator("form.confirm").count() == 1
    context.close()


PAGES = [
    ("overview", "/", "admin"),
    ("review", "/review", "reviewer"),
    ("review-teach", "/review?queue=teach", "reviewer"),
    ("segments", "/segments", "admin"),
    ("customer", "/customers/{customer}", "reviewer"),
    ("admin", "/admin", "admin"),
    ("account", "/account", "reviewer"),
    ("account-password", "/account/password", "reviewer"),
    ("api-docs", "/api/docs", None),
    ("not-found", "/no/such/page", "admin"),
    ("login", "/login", None),
]


def _shot(page: Any, name: str) -> None:
    """The top of the page (at most 1,600 px high) as a PNG for docs/web.md.

    With Pillow (there with the dev tools) the PNG is palette-reduced, so each stays a few tens
    of kB, and an existing file is kept when under 1 % of its pixels changed (a clock or an id
    in the text), so a test run does not rewrite the docs' images for nothing.
    """
    IMAGES.mkdir(parents=True, exist_ok=True)
    path = IMAGES / f"web-{name}.png"
    page.evaluate("window.scrollTo(0, 0)")
    height = min(int(page.evaluate("document.documentElement.scrollHeight")), 1600)
    clip = {"x": 0, "y": 0, "width": page.viewport_size["width"], "height": height}
    shot = page.screenshot(full_page=True, clip=clip, animations="disabled")
    try:
        from PIL import Image, ImageChops
    except ImportError:  # kept as taken
        path.write_bytes(shot)
        return
    with Image.open(io.BytesIO(shot)) as img:
        new = img.convert("RGB").quantize(colors=96)
    if path.exists():
        with Image.open(path) as old_img:
            old = old_img.convert("RGB")
        if old.size == new.size:
            diff = ImageChops.difference(old, new.convert("RGB")).convert("L")
            changed = sum(diff.point(lambda v: 255 if v else 0).histogram()[255:])
            if changed < 0.01 * old.size[0] * old.size[1]:
                return
    new.save(path, optimize=True)


@pytest.mark.parametrize("width", [390, 1280])
def test_no_page_is_wider_than_the_viewport_and_the_docs_screenshots(
    chromium: Any, live: str, seeded: Seeded, width: int
) -> None:
    customer = seeded.labelled[0]  # its label disagrees with the run: the page marks it
    widths: dict[str, int] = {}
    contexts: dict[str | None, Any] = {}
    for name, path, user in PAGES:
        if user not in contexts:
            contexts[user] = chromium.new_context(viewport={"width": width, "height": 844})
            if user is not None:
                _login(contexts[user].new_page(), live, user)
        page = contexts[user].new_page()
        watch = Watch(page, live)
        resp = page.goto(live + path.format(customer=customer))
        assert resp is not None and resp.status == (404 if name == "not-found" else 200), name
        page.wait_for_load_state("networkidle")
        widths[name] = page.evaluate("document.documentElement.scrollWidth")
        _shot(page, f"{name}-{'mobile' if width == 390 else 'desktop'}")
        if name != "not-found":
            assert watch.problems == [], name
        page.close()
    for ctx in contexts.values():
        ctx.close()
    assert {n: w for n, w in widths.items() if w > width} == {}, widths


def test_a_browser_gets_branded_error_pages_and_the_api_json(
    chromium: Any, live: str, seeded: Seeded
) -> None:
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    _login(page, live, "viewer")
    resp = page.goto(f"{live}/no/such/page")
    assert resp is not None and resp.status == 404
    assert _text(page, "error-status") == "404" and page.title() == "Page not found · seglens"
    api = page.goto(f"{live}/api/no-such-thing")
    assert api is not None and api.status == 404 and api.json() == {"detail": "Not Found"}
    forbidden = page.goto(f"{live}/admin")
    assert forbidden is not None and forbidden.status == 403
    assert "admin role" in _text(page, "error-page")
    assert run_info(seeded.store, seeded.runs[1]) is not None
    page.close()
