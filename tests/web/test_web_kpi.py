"""The dashboard and the API show the latest run's stored KPI; the queue is its stored design.

Issue 16: the web app computed its own figure from every label against the latest run (a quarter
whose 300 labels agreed ~86 % with its segments showed 60.9 %, counting the labels given for the
previous run). Here two runs are built by hand: run 1 (2011Q2) has 230 labels, 20 of whose
customers move segment in run 2; run 2 (2011Q3) has 300 labels of which 258 (86 %) agree. The
figures the app shows are checked against ``kpi_history`` and against a hand count of the fresh
and carried labels.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from fastapi import FastAPI

from seglens.store import (
    KpiRecord,
    Store,
    add_label,
    audit_design,
    kpi_table,
    label_events,
    open_store,
    record_kpi,
    record_run,
    run_assignments,
    run_inputs_recorded_at,
    store_labels,
    table_counts,
)
from seglens.tracking import kpi_history, measure_run, run_labels
from seglens.web import Settings, create_app
from seglens.web.queue import review_queue
from tests.web.conftest import ORIGIN, Client, Seeded, Users, login, make_users

SEGS = ("A", "B", "C", "D")
N = 600
SETTINGS = Settings(margin_pts=10.0, min_per_segment=3)


@dataclass
class TwoRuns:
    """The hand-built store and what a hand count says run 2's KPI is."""

    store: Store
    runs: tuple[int, int]
    n_fresh: int
    n_carried: int
    n_expired: int
    correct: int  # fresh and carried labels agreeing with run 2

    @property
    def value(self) -> float:
        return 100 * self.correct / (self.n_fresh + self.n_carried)

    def wilson(self) -> tuple[float, float]:
        """The 95 % Wilson interval of the hand count, in percent."""
        n, p, z = (
            self.n_fresh + self.n_carried,
            self.correct / (self.n_fresh + self.n_carried),
            1.959963984540054,
        )
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return 100 * (centre - half), 100 * (centre + half)


def _labels(store: Store, rows: list[tuple[str, str]], at: datetime, run_id: int, tag: str) -> None:
    table = pl.DataFrame(
        {
            "customer_id": [c for c, _ in rows],
            "segment": [s for _, s in rows],
            "labeled_at": [at] * len(rows),
        },
        schema={"customer_id": pl.String, "segment": pl.String, "labeled_at": pl.Datetime("us")},
    )
    store_labels(store, table, source=f"{tag}.csv", file_hash=tag * 64, run_id=run_id)


def build_two_runs(store: Store) -> TwoRuns:
    """Run 1 and run 2 over 600 customers; labels for both, as in issue 16."""
    ids = [f"c{i:04d}" for i in range(N)]
    seg1 = [SEGS[i % 4] for i in range(N)]
    moved = {i for i in range(100) if i % 5 == 0} | {i for i in range(400, N) if i % 7 == 0}
    seg2 = [SEGS[(i + 1) % 4] if i in moved else seg1[i] for i in range(N)]
    runs = tuple(
        record_run(
            store,
            pl.DataFrame({"customer_id": ids, "segment": seg}),
            segmenter="hand",
            parameters={},
            as_of=as_of,
            data_hash=f"h{k}",
        )
        for k, (seg, as_of) in enumerate(((seg1, date(2011, 6, 30)), (seg2, date(2011, 9, 30))))
    )
    r1, r2 = int(runs[0]), int(runs[1])
    # Run 1: c0000-c0229 judged; all but i % 50 == 3 confirm run 1's segment.
    first = [(ids[i], seg1[i] if i % 50 != 3 else SEGS[(i + 2) % 4]) for i in range(230)]
    _labels(store, first, datetime(2011, 7, 15), r1, "1")
    # Run 2: c0100-c0399 judged; 42 of the 300 disagree (j % 50 < 7), 258 agree (86 %).
    second = [
        (ids[i], seg2[i] if (i - 100) % 50 >= 7 else SEGS[(i + 2) % 4]) for i in range(100, 400)
    ]
    _labels(store, second, datetime(2011, 10, 15), r2, "2")
    # Hand count for run 2. Fresh: its 300 labels. c0000-c0099 have only a run-1 label: carried
    # when the customer kept its segment (i % 5 != 0), expired when it moved.
    carried = [i for i in range(100) if i not in moved]
    correct = 258 + sum(1 for i in carried if i % 50 != 3)
    return TwoRuns(store, (r1, r2), 300, len(carried), 100 - len(carried), correct)


@pytest.fixture
def two_runs(tmp_path: Path) -> Iterator[TwoRuns]:
    store = open_store(str(tmp_path / "two.db"))
    try:
        yield build_two_runs(store)
    finally:
        store.close()


@pytest.fixture
def two_app(two_runs: TwoRuns) -> FastAPI:
    make_users(two_runs.store)
    return create_app(two_runs.store, settings=SETTINGS)


@pytest.fixture
def viewer(two_app: FastAPI) -> Iterator[Client]:
    c = Client(two_app)
    login(c, "viewer")
    try:
        yield c
    finally:
        c.close()


def _testid(html: str, name: str) -> str:
    found = re.search(rf'data-testid="{name}"[^>]*>([^<]*)<', html)
    assert found is not None, f"no {name} in the page"
    return found.group(1).strip()


def _last(store: Store, metric: str) -> dict[str, object]:
    row: dict[str, object] = kpi_history(store, metric).row(-1, named=True)
    return row


def test_the_hand_count_is_what_the_issue_describes(two_runs: TwoRuns) -> None:
    assert (two_runs.n_fresh, two_runs.n_carried, two_runs.n_expired) == (300, 80, 20)
    assert two_runs.correct == 258 + 78
    # The old figure (every customer's latest label against run 2, whatever run it judged)
    # counts the moved customers' run-1 verdicts as errors: it is not run 2's KPI.
    latest = label_events(two_runs.store).sort("labeled_at", "id").group_by("customer_id").last()
    both = latest.join(run_assignments(two_runs.store, two_runs.runs[1]), on="customer_id")
    naive = 100 * int((both["segment"] == both["segment_right"]).sum()) / both.height
    assert both.height == 400 and abs(naive - two_runs.value) > 1


def test_api_and_dashboard_show_run_2s_stored_kpi(two_runs: TwoRuns, viewer: Client) -> None:
    store = two_runs.store
    assert kpi_table(store).is_empty()  # nothing measured: the first view measures run 2
    got = viewer.get("/api/kpi").json()
    stored = _last(store, "accuracy")
    lo, hi = two_runs.wilson()
    assert got["run_id"] == two_runs.runs[1] and got["period"] == stored["period"] == "2011Q3"
    assert got["metric"] == "accuracy" and got["method"] == stored["method"]
    acc = got["accuracy"]
    assert (acc["value_pct"], acc["n"], acc["ci_low_pct"], acc["ci_high_pct"]) == (
        stored["value"],
        stored["n"],
        stored["ci_low"],
        stored["ci_high"],
    )
    assert acc["n"] == 380 and acc["value_pct"] == pytest.approx(two_runs.value)
    assert (acc["ci_low_pct"], acc["ci_high_pct"]) == (pytest.approx(lo), pytest.approx(hi))
    assert (got["n_fresh"], got["n_carried"], got["n_expired"]) == (300, 80, 20)
    assert got["n_labelled_customers"] == 380
    assert sum(s["size"] for s in got["per_segment"]) == 380  # the same selection
    assert sum(s["correct"] for s in got["per_segment"]) == two_runs.correct
    # Run 1 was never measured: no comparison.
    assert got["change_pts"] is None and got["significant_drop"] is None

    page = viewer.get("/").text
    assert _testid(page, "kpi-value") == f"{two_runs.value:.1f} %"
    assert _testid(page, "kpi-n") == "380"
    assert _testid(page, "kpi-ci") == f"{stored['ci_low']:.1f}–{stored['ci_high']:.1f}"
    assert _testid(page, "kpi-period") == "2011Q3"
    assert "300 fresh" in page and "80 carried" in page and "20 expired" in page
    # Viewing again measures nothing new.
    before = kpi_table(store).height
    viewer.get("/")
    viewer.get("/api/kpi")
    assert kpi_table(store).height == before


def test_the_stored_measurement_and_its_change_are_shown_as_history_shows_them(
    two_runs: TwoRuns, viewer: Client
) -> None:
    store = two_runs.store
    measure_run(store, two_runs.runs[0])  # as track / labels import do, per quarter
    measure_run(store, two_runs.runs[1])
    before = kpi_table(store).height
    got = viewer.get("/api/kpi").json()
    assert kpi_table(store).height == before  # up to date: shown, not measured again
    stored = _last(store, "accuracy")
    assert got["accuracy"]["value_pct"] == stored["value"] == pytest.approx(two_runs.value)
    assert (
        got["change_pts"] == stored["change_pts"] == pytest.approx(two_runs.value - 100 * 225 / 230)
    )
    assert got["change_p_value"] == stored["p_value"] and got["change_p_value"] < 0.001
    assert got["significant_drop"] is True
    page = viewer.get("/").text
    assert "(p &lt; 0.001)" in _testid(page, "kpi-change")
    assert "a significant drop" in page
    # The trend table: the headline metric per period with f/c/e counts and stored changes.
    trend = page[page.index('data-testid="trend-table"') :]
    assert "2011Q2" in trend and "2011Q3" in trend and "300/80/20" in trend
    assert f"{stored['change_pts']:+.1f}" in trend


def test_a_queue_correction_re_measures_the_stored_kpi(
    seeded: Seeded, users: Users, app: FastAPI
) -> None:
    store = seeded.store
    c = Client(app)
    login(c, "reviewer")
    page = c.get("/review?show=500").text
    before = _last(store, "accuracy")
    assert _testid(page, "kpi-n") == str(before["n"]) == "24"  # the seeded labels, all fresh
    rows_before = kpi_table(store).height
    cid = re.findall(r'<tr data-customer="([^"]+)">', page)[0]
    assigned = dict(run_assignments(store, seeded.runs[1]).select("customer_id", "segment").rows())
    wrong = next(s for s in sorted(set(assigned.values())) if s != assigned[cid])
    form = {
        "customer_id": cid,
        "segment": wrong,
        "assigned": assigned[cid],
        "run_id": str(seeded.runs[1]),
    }
    resp = c.post("/review/label", data=form, headers={"Origin": ORIGIN, "HX-Request": "true"})
    assert resp.status_code == 200 and resp.headers["HX-Trigger"] == "kpi-changed"
    assert f"Corrected to <strong>{wrong}</strong>" in resp.text
    fragment = c.get("/fragments/kpi").text
    c.close()
    assert kpi_table(store).height > rows_before  # measured again and stored
    after = _last(store, "accuracy")
    value, n = seeded.expected_accuracy()  # hand count: every label is fresh for run 2
    assert (after["value"], after["n"]) == (pytest.approx(value), n)
    assert n == 25 and value == pytest.approx(100 * 18 / 25)
    # The panel shows the stored headline (the labelled share: no stratum-complete audit yet).
    assert kpi_history(store, "accuracy_audit").is_empty()
    assert _testid(fragment, "kpi-n") == "25"
    assert _testid(fragment, "kpi-value") == f"{after['value']:.1f} %"
    assert _testid(fragment, "kpi-ci") == f"{after['ci_low']:.1f}–{after['ci_high']:.1f}"


def test_the_queue_is_the_stored_design_across_app_instances(seeded: Seeded, users: Users) -> None:
    store = seeded.store
    assert audit_design(store, run_id=seeded.runs[1]) is None
    first = create_app(store, settings=SETTINGS)
    c = Client(first)
    login(c, "viewer")
    page = c.get("/review?show=500").text
    c.close()
    design = audit_design(store, run_id=seeded.runs[1])
    assert design is not None
    shown = set(re.findall(r'<tr data-customer="([^"]+)">', page))
    counted = set(run_labels(store, seeded.runs[1]).counted["customer_id"].to_list())
    members = set(design.members["customer_id"].to_list())
    assert shown == members - counted and shown
    # Another app instance (a restart) with other settings lists the same stored design.
    again = create_app(store, settings=Settings(margin_pts=3.0, min_per_segment=10))
    c = Client(again)
    login(c, "viewer")
    page2 = c.get("/review?show=500").text
    c.close()
    assert set(re.findall(r'<tr data-customer="([^"]+)">', page2)) == shown
    assert table_counts(store)["audit_designs"] == 1
    q = review_queue(store, SETTINGS)
    assert q is not None and q.design.id == design.id and q.total == design.members.height
    assert q.reviewed == len(members & counted)


def test_concurrent_first_views_store_one_design(seeded: Seeded) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(4) as pool:
        queues = list(pool.map(lambda _: review_queue(seeded.store, SETTINGS), range(4)))
    assert table_counts(seeded.store)["audit_designs"] == 1
    assert len({q.design.id for q in queues if q is not None}) == 1


def test_carried_labels_review_design_members_and_the_audit_estimate_is_the_stored_one(
    two_runs: TwoRuns, viewer: Client
) -> None:
    store = two_runs.store
    page = viewer.get("/review?show=500").text
    design = audit_design(store, run_id=two_runs.runs[1])
    assert design is not None
    sel = run_labels(store, two_runs.runs[1])
    status = dict(sel.table.select("customer_id", "status").rows())
    members = design.members["customer_id"].to_list()
    carried = [m for m in members if status.get(m) == "carried"]
    expired = [m for m in members if status.get(m) == "expired"]
    reviewed = [m for m in members if status.get(m) in ("fresh", "carried")]
    assert carried and expired  # the design draws both kinds here
    assert int(_testid(page, "reviewed-count")) == len(reviewed)
    shown = set(re.findall(r'<tr data-customer="([^"]+)">', page))
    assert shown == set(members) - set(reviewed)  # carried: reviewed; expired: still to review
    # Every stratum has a reviewed member, so the run now has a stored audit estimate: the
    # headline, shown by the queue, the panel and the API.
    audit = _last(store, "accuracy_audit")
    stored = kpi_table(store, "accuracy_audit").row(-1, named=True)
    assert stored["design_id"] == design.id and stored["value"] == audit["value"]
    assert audit["n"] == len(reviewed)
    assert _testid(page, "audit-estimate") == f"{audit['value']:.1f} %"
    assert _testid(page, "kpi-value") == f"{audit['value']:.1f} %"
    got = viewer.get("/api/kpi").json()
    assert got["metric"] == "accuracy_audit" and got["accuracy"]["n"] == audit["n"]
    assert got["accuracy"]["value_pct"] == audit["value"]
    overview = viewer.get("/").text
    assert "(<code>accuracy_audit</code>) per period" in overview


def _one_run(store: Store) -> int:
    return record_run(
        store,
        pl.DataFrame({"customer_id": ["a", "b"], "segment": ["A", "B"]}),
        segmenter="hand",
        parameters={},
        as_of=date(2011, 6, 30),
        data_hash="x",
    )


def test_a_proxy_alone_is_not_shown_as_the_kpi(tmp_path: Path) -> None:
    with open_store(str(tmp_path / "p.db")) as store:
        run = _one_run(store)
        record_kpi(
            store,
            KpiRecord(
                period="2011Q2", metric="segment_hold", value=91.0, n=2, method="x", run_id=run
            ),
        )
        make_users(store)
        c = Client(create_app(store, settings=SETTINGS))
        login(c, "viewer")
        page = c.get("/").text
        got = c.get("/api/kpi").json()
        c.close()
    assert "Not measured (n = 0): no labels for this run" in page
    assert "No KPI stored yet" not in page and "91.0" not in page
    assert got["accuracy"] is None and got["run_id"] == run and got["n_labelled_customers"] == 0
    from seglens.audit import plans_for_margins

    plans = plans_for_margins({"A": 1, "B": 1})
    assert got["audit_plan"][-1] == {
        "segment": None,
        "customers": 2,
        "labels_for_5_points": plans[5.0].total,
        "labels_for_3_points": plans[3.0].total,
    }
    assert 'data-testid="audit-plan"' in page


def test_no_kpi_stored_yet_only_without_any(tmp_path: Path) -> None:
    with open_store(str(tmp_path / "e.db")) as store:
        _one_run(store)
        make_users(store)
        c = Client(create_app(store, settings=SETTINGS))
        login(c, "viewer")
        page = c.get("/").text
        c.close()
    assert "No KPI stored yet" in page


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_run_inputs_recorded_at(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = str(tmp_path / "i.db") if backend == "sqlite" else request.getfixturevalue("pg_store_url")
    with open_store(url) as store:
        run1 = _one_run(store)
        assert run_inputs_recorded_at(store, run1) is None
        assert run_inputs_recorded_at(store, 999) is None
        run2 = record_run(
            store,
            pl.DataFrame({"customer_id": ["a", "b"], "segment": ["A", "A"]}),
            segmenter="hand",
            parameters={},
            as_of=date(2011, 9, 30),
            data_hash="y",
        )
        add_label(store, "a", "A", run_id=run2)  # judges the later run: not an input of run 1
        assert run_inputs_recorded_at(store, run1) is None
        t2 = run_inputs_recorded_at(store, run2)
        assert t2 is not None
        add_label(store, "b", "B", run_id=run1)  # an earlier run's label can be carried
        t1 = run_inputs_recorded_at(store, run1)
        assert t1 is not None and t1 == run_inputs_recorded_at(store, run2) and t1 >= t2
        measure_run(store, run2)
        assert run_inputs_recorded_at(store, run2) == t1  # a measurement is not an input


def test_the_web_measures_with_the_tracking_settings_track_uses(two_runs: TwoRuns) -> None:
    """With ``carry = "none"`` in the tracking config, the dashboard counts fresh labels only,
    as ``seglens track`` would; the web app does not fall back to its own policy."""
    from seglens.tracking import CarryPolicy
    from seglens.tracking.config import TrackingConfig

    make_users(two_runs.store)
    app = create_app(
        two_runs.store, settings=SETTINGS, tracking=TrackingConfig(carry=CarryPolicy(mode="none"))
    )
    c = Client(app)
    login(c, "viewer")
    try:
        got = c.get("/api/kpi").json()
    finally:
        c.close()
    assert (got["n_fresh"], got["n_carried"], got["n_expired"]) == (300, 0, 100)
    assert got["accuracy"]["n"] == 300
    assert got["accuracy"]["value_pct"] == pytest.approx(100 * 258 / 300)


def test_a_label_timed_before_the_measurement_but_stored_after_is_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The race the live queue hit: a label whose ``recorded_at`` was taken before a
    measurement read the labels, but which committed after it, looks already counted by time.
    The inputs' fingerprint shows it arrived, so the next view measures again."""
    import seglens.store.labels as store_labels_module
    from seglens.store import run_inputs_version
    from seglens.store.core import utcnow
    from seglens.web.kpi import run_kpi

    with open_store(str(tmp_path / "race.db")) as store:
        run = _one_run(store)
        add_label(store, "a", "A", run_id=run)
        first = run_kpi(store, SETTINGS)
        assert first is not None and first.selection.counted.height == 1
        before = run_inputs_version(store, run)
        early = utcnow() - timedelta(seconds=30)
        monkeypatch.setattr(store_labels_module, "utcnow", lambda: early)
        add_label(store, "b", "B", run_id=run)  # stamped 30 s before the measurement
        assert run_inputs_version(store, run) != before
        again = run_kpi(store, SETTINGS)
        assert again is not None and again.selection.counted.height == 2
        stored = kpi_history(store).filter(pl.col("metric") == "accuracy")
        assert stored.row(-1, named=True)["n"] == 2
