"""`track` and `history` end to end on hand-built transactions (and the real UCI data, slow)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import date, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any, ClassVar

import polars as pl
import pytest
from typer.testing import CliRunner

from seglens.cli import app
from seglens.store import (
    add_label,
    head_revision,
    kpi_table,
    list_alerts,
    list_runs,
    open_store,
    record_audit_design,
    record_run,
    run_assignments,
    store_labels,
)
from seglens.tracking import LabelsInput, kpi_history, latest_migration, measure_run, track
from tests.transactions import random_transactions

runner = CliRunner()


def _transactions(n_customers: int = 80, seed: int = 7) -> pl.DataFrame:
    return random_transactions(n_customers, seed).with_columns(pl.lit(False).alias("is_return"))


def _labels_from(assigned: pl.DataFrame, n: int, wrong: int) -> pl.DataFrame:
    """Labels for the first ``n`` customers, ``wrong`` of them naming another segment."""
    segments = sorted(assigned["segment"].unique().to_list())
    rows = []
    for i, (cid, seg) in enumerate(assigned.head(n).select("customer_id", "segment").rows()):
        other = next(s for s in segments if s != seg)
        rows.append((cid, other if i < wrong else seg))
    return pl.DataFrame(rows, schema={"customer_id": pl.String, "segment": pl.String}, orient="row")


def test_track_measures_labelled_accuracy_and_raises_alerts(db_url: str) -> None:
    tx = _transactions()
    with open_store(db_url) as store:
        first = track(store, tx, as_of=date(2011, 6, 30))
        assigned = run_assignments(store, first.run_id)
        labels = _labels_from(assigned, n=50, wrong=10)
        again = track(
            store,
            tx,
            as_of=date(2011, 6, 30),
            labels=LabelsInput(labels, "fb.csv", "a" * 64),
        )
        alerts = list_alerts(store)
    assert first.period.label == "2011Q2"
    assert [k.metric for k in first.kpis] == ["segment_hold"]
    acc = again.kpis[0]
    assert (acc.metric, acc.n, acc.successes, acc.value) == ("accuracy", 50, 40, 80.0)
    assert acc.ci_low is not None and acc.ci_low < 80.0 < (acc.ci_high or 0)
    assert {"below_target", "too_few_labels"} <= {a.rule for a in again.alerts}
    assert again.labels_import is not None and again.labels_import.added == 50
    assert again.migration is None or again.previous_run is None  # same as-of: no earlier run
    assert set(alerts["rule"].to_list()) >= {"below_target", "too_few_labels"}


def test_two_quarters_leave_kpi_rows_history_and_a_migration_matrix(db_url: str) -> None:
    tx = _transactions(seed=11)
    with open_store(db_url) as store:
        q2 = track(store, tx, as_of=date(2011, 6, 30))
        q3 = track(store, tx, as_of=date(2011, 9, 30))
        kpis = kpi_table(store)
        trend = kpi_history(store, "segment_hold")
        moved = latest_migration(store)
        runs = list_runs(store)
    assert kpis.height == 2
    assert trend["period"].to_list() == ["2011Q2", "2011Q3"]
    assert trend["change_pts"][0] is None
    assert trend["change_pts"][1] == pytest.approx(trend["value"][1] - trend["value"][0])
    assert trend["p_value"][1] is not None
    assert moved is not None
    a, b, matrix = moved
    assert (a, b) == (q2.run_id, q3.run_id) == tuple(runs["run_id"].to_list())
    assert int(matrix.flows["customers"].sum()) == len(
        set(run_assignments_ids(db_url, a)) | set(run_assignments_ids(db_url, b))
    )
    assert q3.previous_run == q2.run_id


def run_assignments_ids(db_url: str, run_id: int) -> list[str]:
    with open_store(db_url) as store:
        return run_assignments(store, run_id)["customer_id"].to_list()


def test_cli_track_then_history(db_url: str, tmp_path: Path) -> None:
    csv = tmp_path / "tx.csv"
    _transactions(seed=3).write_csv(csv)
    for day in ("2011-06-30", "2011-09-30"):
        out = runner.invoke(app, ["track", str(csv), "--as-of", day, "--db", db_url])
        assert out.exit_code == 0, out.output
    out = runner.invoke(app, ["history", "--db", db_url], env={"COLUMNS": "250"})
    assert out.exit_code == 0, out.output
    assert "2011Q2" in out.output and "2011Q3" in out.output
    assert "segment migration (customers)" in out.output
    assert "segment migration (revenue)" in out.output


def test_cli_track_refuses_a_bad_date(db_url: str, tmp_path: Path) -> None:
    csv = tmp_path / "tx.csv"
    _transactions(n_customers=5).write_csv(csv)
    out = runner.invoke(app, ["track", str(csv), "--as-of", "30/06/2011", "--db", db_url])
    assert out.exit_code == 2
    assert "YYYY-MM-DD" in out.output


@pytest.mark.slow
def test_uci_online_retail_two_quarters(online_retail_csv: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'uci.db'}"
    for day in ("2011-06-30", "2011-09-30"):
        out = runner.invoke(app, ["track", str(online_retail_csv), "--as-of", day, "--db", db])
        assert out.exit_code == 0, out.output
    with open_store(db) as store:
        kpis = kpi_table(store)
        moved = latest_migration(store)
    assert kpis["period"].to_list() == ["2011Q2", "2011Q3"]
    assert moved is not None and moved[2].flows.height > 0
    out = runner.invoke(app, ["history", "--db", db], env={"COLUMNS": "250"})
    assert out.exit_code == 0
    assert "2011Q2" in out.output and "2011Q3" in out.output


def test_an_audit_sample_gives_the_stratified_estimate_from_its_stored_design(
    db_url: str,
) -> None:
    tx = _transactions(seed=5)
    with open_store(db_url) as store:
        first = track(store, tx, as_of=date(2011, 6, 30))
        assigned = run_assignments(store, first.run_id)
        sizes = dict(assigned.group_by("segment").len().iter_rows())
        sample = assigned.group_by("segment", maintain_order=True).head(4).sort("customer_id")
        design = record_audit_design(
            store,
            first.run_id,
            sample.select("customer_id", pl.col("segment").alias("stratum")),
            [
                {"segment": s, "population": n, "sample": int((sample["segment"] == s).sum())}
                for s, n in sizes.items()
            ],
            seed=0,
            allocation="proportional",
            confidence=0.95,
        )
        wrong = sample.row(0, named=True)
        other = next(s for s in assigned["segment"].unique().sort() if s != wrong["segment"])
        labels = sample.select(
            "customer_id",
            pl.when(pl.col("customer_id") == wrong["customer_id"])
            .then(pl.lit(other))
            .otherwise(pl.col("segment"))
            .alias("segment"),
            pl.lit(first.run_id).alias("run_id"),
        )
        store_labels(store, labels, source="audit.csv", file_hash="b" * 64)
        res = measure_run(store, first.run_id)
    audited = dict(sample.group_by("segment").len().iter_rows())
    total = sum(sizes.values())
    expected = 100 * sum(
        sizes[s] / total * ((audited[s] - (s == wrong["segment"])) / audited[s]) for s in sizes
    )
    audit_kpi = res.kpis[0]
    assert audit_kpi.metric == "accuracy_audit"
    assert audit_kpi.design_id == design
    assert audit_kpi.method == "stratified audit estimate"
    assert audit_kpi.n == sample.height
    assert audit_kpi.value == pytest.approx(expected)
    assert res.kpis[1].metric == "accuracy"  # the plain labelled figure is kept alongside
    assert res.audit is not None and res.audit.missing_strata == ()


def test_the_design_sets_the_weights_not_the_labels_that_exist(db_url: str) -> None:
    """Labels of customers outside the design, or a stratum without answers, change nothing
    in the weights: the estimate waits for every stratum instead of reweighting the rest."""
    with open_store(db_url) as store:
        run = record_run(
            store,
            pl.DataFrame(
                {"customer_id": [f"c{i}" for i in range(100)], "segment": ["A"] * 80 + ["B"] * 20}
            ),
            segmenter="hand",
            parameters={},
            as_of=date(2011, 6, 30),
            data_hash="h",
        )
        members = pl.DataFrame(
            {
                "customer_id": ["c0", "c1", "c2", "c3", "c80", "c81"],
                "stratum": ["A"] * 4 + ["B"] * 2,
            }
        )
        record_audit_design(
            store,
            run,
            members,
            [
                {"segment": "A", "population": 80, "sample": 4},
                {"segment": "B", "population": 20, "sample": 2},
            ],
            seed=1,
            allocation="proportional",
            confidence=0.95,
        )
        for cid in ("c0", "c1", "c2", "c3"):
            add_label(store, cid, "A")
        for cid in ("c50", "c51", "c90", "c91"):  # outside the design
            add_label(store, cid, "B")
        partial = measure_run(store, run)
        add_label(store, "c80", "A")  # wrong
        add_label(store, "c81", "B")
        full = measure_run(store, run)
    assert partial.audit is not None and partial.audit.missing_strata == ("B",)
    assert [k.metric for k in partial.kpis] == ["accuracy"]
    audit = full.kpis[0]
    assert audit.metric == "accuracy_audit"
    assert audit.value == pytest.approx(100 * (0.8 * 1.0 + 0.2 * 0.5))
    assert audit.n == 6


def test_monthly_periods(db_url: str) -> None:
    with open_store(db_url) as store:
        res = track(store, _transactions(seed=2), as_of=date(2011, 8, 15), period_kind="month")
        kpis = kpi_table(store)
    assert res.period.label == "2011-08"
    assert kpis["period_kind"].to_list() == ["month"] * kpis.height


class _Hook(BaseHTTPRequestHandler):
    bodies: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).bodies.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[tuple[str, type[_Hook]]]:
    handler = type("Hook", (_Hook,), {"bodies": []})
    server = HTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/", handler
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_cli_track_sends_alerts_to_the_configured_webhook_and_log(
    db_url: str, tmp_path: Path, hook: tuple[str, Any]
) -> None:
    url, handler = hook
    csv = tmp_path / "tx.csv"
    _transactions(seed=4).write_csv(csv)
    config = tmp_path / "tracking.toml"
    config.write_text(
        f'[tracking]\nwebhook_url = "{url}"\nwebhook_format = "teams"\nmargin = 1.0\n'
    )
    out = runner.invoke(
        app, ["track", str(csv), "--as-of", "2011-06-30", "--db", db_url, "--config", str(config)]
    )
    assert out.exit_code == 0, out.output
    assert "too_few_labels" in out.output  # the terminal
    ((body,),) = [handler.bodies]
    assert body["@type"] == "MessageCard" and "labelled customers" in body["text"]
    log = (tmp_path / "state" / "seglens" / "alerts.log").read_text()
    assert "too_few_labels" in log


def test_cli_options_override_the_config_file(tmp_path: Path) -> None:
    from seglens.tracking.config import load_tracking_config

    config = tmp_path / "t.toml"
    config.write_text('[tracking]\ntarget = 90\nperiod = "month"\n')
    loaded = load_tracking_config(config)
    assert (loaded.rules.target_pct, loaded.period) == (90.0, "month")
    assert loaded.override(target=80.0).rules.target_pct == 80.0
    config.write_text('[tracking]\nperiod = "week"\n')
    out = runner.invoke(app, ["track", "x.csv", "--as-of", "2011-06-30", "--config", str(config)])
    assert out.exit_code == 2 and "period" in out.output


def test_cli_alerts_list_and_acknowledge(db_url: str, tmp_path: Path) -> None:
    csv = tmp_path / "tx.csv"
    _transactions(seed=8).write_csv(csv)
    assert (
        runner.invoke(app, ["track", str(csv), "--as-of", "2011-06-30", "--db", db_url]).exit_code
        == 0
    )
    with open_store(db_url) as store:
        first = int(list_alerts(store)["id"][0])
    out = runner.invoke(
        app, ["alerts", "--db", db_url, "--ack", str(first)], env={"SEGLENS_USER": "ana"}
    )
    assert out.exit_code == 0, out.output
    with open_store(db_url) as store:
        still_open = list_alerts(store, open_only=True)["id"].to_list()
        everything = list_alerts(store)
    assert first not in still_open
    assert everything.filter(pl.col("id") == first)["acknowledged_by"].to_list() == ["ana"]
    listed = runner.invoke(app, ["alerts", "--db", db_url], env={"COLUMNS": "250"})
    assert listed.exit_code == 0


def test_cli_history_writes_csv_tables(db_url: str, tmp_path: Path) -> None:
    csv = tmp_path / "tx.csv"
    _transactions(seed=9).write_csv(csv)
    for day in ("2011-06-30", "2011-09-30"):
        assert (
            runner.invoke(app, ["track", str(csv), "--as-of", day, "--db", db_url]).exit_code == 0
        )
    out = runner.invoke(app, ["history", "--db", db_url, "--output", str(tmp_path / "h")])
    assert out.exit_code == 0, out.output
    trend = pl.read_csv(tmp_path / "h" / "trend.csv")
    assert trend["period"].to_list() == ["2011Q2", "2011Q3"]
    cust = pl.read_csv(tmp_path / "h" / "migration_customers.csv")
    rev = pl.read_csv(tmp_path / "h" / "migration_revenue.csv")
    assert cust.columns == rev.columns and cust.height == rev.height


def test_cli_db_upgrade_and_status(tmp_path: Path) -> None:
    db = str(tmp_path / "x.db")
    first = runner.invoke(app, ["db", "upgrade", "--db", db])
    again = runner.invoke(app, ["db", "upgrade", "--db", db])
    status = runner.invoke(app, ["db", "status", "--db", db])
    head = head_revision()
    assert f"upgraded from empty to {head}" in first.output
    assert f"already at revision {head}" in " ".join(again.output.split())
    assert status.exit_code == 0 and "labels" in status.output


def test_cli_track_uses_a_saved_segmenter(db_url: str, tmp_path: Path) -> None:
    from seglens.features import customer_features
    from seglens.segmenters import RFMSegmenter
    from seglens.segmenters.persistence import save_model

    tx = _transactions(seed=12)
    csv = tmp_path / "tx.csv"
    tx.write_csv(csv)
    features = customer_features(tx, as_of=datetime(2011, 6, 30, 23, 59)).table
    path = save_model(RFMSegmenter(n_bins=3).fit(features), tmp_path / "rfm3.zip")
    out = runner.invoke(
        app, ["track", str(csv), "--as-of", "2011-06-30", "--db", db_url, "--model", str(path)]
    )
    assert out.exit_code == 0, out.output
    with open_store(db_url) as store, store.read() as s:
        from sqlalchemy import text

        params = s.execute(text("SELECT parameters FROM runs")).scalar_one()
    params = json.loads(params) if isinstance(params, str) else params
    assert params["n_bins"] == 3


def test_without_labels_track_and_history_say_not_measured_and_keep_the_proxy_apart(
    tmp_path: Path,
) -> None:
    from seglens.audit import plan_audit

    db = f"sqlite:///{tmp_path / 's.db'}"
    csv = tmp_path / "tx.csv"
    _transactions(seed=3).write_csv(csv)
    out = runner.invoke(
        app, ["track", str(csv), "--as-of", "2011-09-30", "--db", db], env={"COLUMNS": "250"}
    )
    assert out.exit_code == 0, out.output
    assert "segmentation accuracy not measured (n = 0)" in out.output
    assert "monitoring (label-free, not the KPI): segment_hold" in out.output
    assert "segment_hold" not in out.output.split("monitoring")[0]  # never in the KPI table
    with open_store(db) as store:
        run = int(list_runs(store)["run_id"][-1])
        sizes = dict(run_assignments(store, run).group_by("segment").len().iter_rows())
    plan3, plan5 = plan_audit(sizes, margin_pct=3.0), plan_audit(sizes, margin_pct=5.0)
    total_row = next(
        line for line in out.output.splitlines() if line.strip("│ ").startswith("total")
    )
    assert f"{plan5.total:,}" in total_row and f"{plan3.total:,}" in total_row
    js = runner.invoke(app, ["track", str(csv), "--as-of", "2011-09-30", "--db", db, "--json"])
    d = json.loads(js.output)
    assert d["measured"] is False and d["headline"] is None
    assert d["audit_plan"]["3"]["total"] == plan3.total
    assert d["audit_plan"]["5"]["total"] == plan5.total
    hist = runner.invoke(app, ["history", "--db", db], env={"COLUMNS": "250"})
    assert hist.exit_code == 0, hist.output
    kpi_part, monitoring_part = hist.output.split("monitoring (label-free signals, not the KPI)")
    assert "not measured" in kpi_part and "segment_hold" not in kpi_part
    from seglens.accuracy import proxy_caveat

    caveat = " ".join(proxy_caveat("out_of_time_held").split())
    assert f"segment_hold: {caveat}" in " ".join(monitoring_part.split())
