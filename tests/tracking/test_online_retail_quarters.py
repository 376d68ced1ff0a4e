"""Two quarters of the real Online Retail data with reviewer feedback written by the test: the Q3
figure is the Q3 labels' own agreement with the Q3 run, and every surface shows the same stored
number; Q2's labels appear as carried and expired counts, never re-scored against Q3."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from typer.testing import CliRunner

from seglens.cli import app
from seglens.stats import stratified_proportion
from seglens.store import open_store, run_assignments

runner = CliRunner()
pytestmark = pytest.mark.slow


def _ok(args: list[str]) -> str:
    out = runner.invoke(app, args, env={"COLUMNS": "250"})
    assert out.exit_code == 0, out.output
    return out.output


def _json(args: list[str]) -> Any:
    return json.loads(_ok([*args, "--json"]))


def _reviewers(assigned: pl.Series, agree: float, seed: int) -> list[str]:
    """Each reviewer confirms the shown segment with probability ``agree``, else names another."""
    rng = np.random.default_rng(seed)
    names = sorted(set(assigned.to_list()))
    out = []
    for seg in assigned.to_list():
        if rng.random() < agree:
            out.append(seg)
        else:
            out.append(
                names[(names.index(seg) + 1 + int(rng.integers(len(names) - 1))) % len(names)]
            )
    return out


@pytest.fixture(scope="module")
def quarters(online_retail_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Q2 tracked with 230 sales labels, Q3 tracked, then a 330-customer Q3 audit answered."""
    d = tmp_path_factory.mktemp("retail")
    db = f"sqlite:///{d / 'store.db'}"
    csv = str(online_retail_csv)
    q2_run = _json(["track", csv, "--as-of", "2011-06-30", "--db", db])["run_id"]
    with open_store(db) as store:
        q2 = run_assignments(store, q2_run)
    picked = q2.sample(230, seed=2)
    q2_labels = picked.select(
        "customer_id", pl.Series("segment", _reviewers(picked["segment"], 0.80, seed=3))
    )
    q2_file = d / "q2_feedback.csv"
    q2_labels.write_csv(q2_file)
    _ok(["labels", "import", str(q2_file), "--db", db, "--run", str(q2_run)])
    track_q3 = _json(["track", csv, "--as-of", "2011-09-30", "--db", db])
    q3_run = track_q3["run_id"]
    sheet_file = d / "audit_q3.csv"
    _ok(
        [
            "audit-sample",
            "--db",
            db,
            "--run",
            str(q3_run),
            "--out",
            str(sheet_file),
            "--total",
            "300",
            "--seed",
            "4",
        ]
    )
    sheet = pl.read_csv(sheet_file, infer_schema=False)
    sheet = sheet.with_columns(
        pl.Series("reviewer_segment", _reviewers(sheet["assigned_segment"], 0.86, seed=5))
    )
    sheet.write_csv(sheet_file)
    estimate = _json(["audit-estimate", str(sheet_file), "--db", db])
    with open_store(db) as store:
        q3 = run_assignments(store, q3_run)
    return {
        "db": db,
        "dir": d,
        "q2": q2,
        "q3": q3,
        "q2_labels": q2_labels,
        "sheet": sheet,
        "track_q3": track_q3,
        "estimate": estimate,
        "q3_run": q3_run,
    }


def _own_agreement(sheet: pl.DataFrame, q3: pl.DataFrame) -> tuple[float, float, float, int]:
    """The Q3 audit's stratified agreement, computed here from the sheet and the run's sizes."""
    sizes = dict(q3.group_by("segment").len().iter_rows())
    per = (
        sheet.with_columns((pl.col("reviewer_segment") == pl.col("assigned_segment")).alias("ok"))
        .group_by("assigned_segment")
        .agg(pl.len().alias("n"), pl.col("ok").sum().alias("c"))
    )
    strata = per["assigned_segment"].to_list()
    est, _ = stratified_proportion(
        per["c"].to_list(), per["n"].to_list(), [sizes[s] for s in strata]
    )
    assert set(strata) == set(sizes)  # every segment was audited
    return est.value_pct, est.ci_low_pct, est.ci_high_pct, est.n


def test_the_q3_figure_is_the_q3_audits_own_agreement(quarters: dict[str, Any]) -> None:
    value, low, high, n = _own_agreement(quarters["sheet"], quarters["q3"])
    kpi = quarters["estimate"]["kpi"]
    assert kpi["metric"] == "accuracy_audit" and kpi["run_id"] == quarters["q3_run"]
    assert kpi["value"] == pytest.approx(value, abs=1e-9)
    assert (kpi["ci_low"], kpi["ci_high"]) == pytest.approx((low, high), abs=1e-9)
    assert kpi["n"] == n == 330  # 11 segments x at least 30
    assert 80.0 < value < 92.0  # the reviewers agreed 86 % of the time


def test_q2_labels_are_carried_or_expired_not_rescored(quarters: dict[str, Any]) -> None:
    q2, q3 = quarters["q2"], quarters["q3"]
    moved = (
        quarters["q2_labels"]
        .join(q2, on="customer_id", suffix="_q2")
        .join(q3, on="customer_id", how="left", suffix="_q3")
        .with_columns(
            (pl.col("segment_q2") != pl.col("segment_q3").fill_null("(gone)")).alias("moved")
        )
    )
    audited = set(quarters["sheet"]["customer_id"].to_list())
    in_q3 = moved.filter(pl.col("segment_q3").is_not_null())
    not_fresh = in_q3.filter(~pl.col("customer_id").is_in(sorted(audited)))
    carried = int((~not_fresh["moved"]).sum())
    expired = int(not_fresh["moved"].sum())
    assert expired > 20  # customers legitimately move segment between quarters
    # before the audit, Q3 had only the carried Q2 labels
    before = quarters["track_q3"]
    head = next(k for k in before["kpis"] if k["metric"] == "accuracy")
    assert before["labels"]["fresh"] == 0
    assert before["labels"]["carried"] + before["labels"]["expired"] == in_q3.height
    assert before["labels"]["expired"] == int(in_q3["moved"].sum())
    assert head["n"] == before["labels"]["carried"]
    # after it, the stored Q3 measurement counts the audit fresh and the rest as above
    kpi = quarters["estimate"]["kpi"]
    assert (kpi["n_fresh"], kpi["n_carried"], kpi["n_expired"]) == (330, carried, expired)


def test_history_and_report_show_the_same_stored_q3_figure(quarters: dict[str, Any]) -> None:
    kpi = quarters["estimate"]["kpi"]
    hist = _json(["history", "--db", quarters["db"]])["trend"]
    q3 = next(r for r in hist if r["metric"] == "accuracy_audit" and r["period"] == "2011Q3")
    for key in ("value", "ci_low", "ci_high", "n", "n_fresh", "n_carried", "n_expired"):
        assert q3[key] == kpi[key], key
    out = quarters["dir"]
    _ok(
        ["report", "--db", quarters["db"], "-o", str(out / "r.html"), "--json", str(out / "r.json")]
    )
    snap = json.loads((out / "r.json").read_text(encoding="utf-8"))
    assert snap["period"] == "2011Q3" and snap["method"] == "stratified"
    acc = snap["accuracy"]
    assert (acc["value_pct"], acc["ci_low_pct"], acc["ci_high_pct"], acc["n"]) == (
        kpi["value"],
        kpi["ci_low"],
        kpi["ci_high"],
        kpi["n"],
    )
    assert snap["label_counts"] == [kpi["n_fresh"], kpi["n_carried"], kpi["n_expired"]]
    html = (out / "r.html").read_text(encoding="utf-8")
    assert f"{kpi['value']:.1f} %" in html
    assert f"{kpi['n_carried']:,} carried from earlier runs" in html


def test_the_web_dashboard_and_api_show_the_same_stored_q3_figure(
    quarters: dict[str, Any],
) -> None:
    from seglens.store import open_store
    from seglens.web import create_app
    from tests.web.conftest import Client, login, make_users

    kpi = quarters["estimate"]["kpi"]
    with open_store(quarters["db"]) as store:
        make_users(store)
        client = Client(create_app(store))
        try:
            login(client, "viewer")
            api = client.get("/api/kpi").json()
            page = client.get("/").text
        finally:
            client.close()
    assert (api["period"], api["metric"], api["run_id"]) == (
        "2011Q3",
        "accuracy_audit",
        kpi["run_id"],
    )
    acc = api["accuracy"]
    assert (acc["value_pct"], acc["ci_low_pct"], acc["ci_high_pct"], acc["n"]) == (
        kpi["value"],
        kpi["ci_low"],
        kpi["ci_high"],
        kpi["n"],
    )
    assert (api["n_fresh"], api["n_carried"], api["n_expired"]) == (
        kpi["n_fresh"],
        kpi["n_carried"],
        kpi["n_expired"],
    )
    assert f"{kpi['value']:.1f} %" in page
    assert f"{kpi['n_carried']:,} carried" in page
