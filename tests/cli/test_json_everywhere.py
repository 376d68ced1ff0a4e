"""Issue 21 item 2: ``--json`` parses on every reporting command, and stdout then carries the
JSON alone (progress, summaries and warnings go to stderr or are left out)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from typer.testing import CliRunner

from seglens.cli import app
from seglens.store import open_store, run_assignments
from tests.transactions import random_transactions

runner = CliRunner()


def _json(args: list[str], code: int = 0, **kwargs: Any) -> Any:
    out = runner.invoke(app, [*args, "--json"], **kwargs)
    assert out.exit_code == code, out.output
    return json.loads(out.stdout)  # the whole of stdout is one JSON document


def _transactions(path: Path, n_customers: int = 60, seed: int = 3) -> Path:
    random_transactions(n_customers, seed, max_orders=10, days=172).write_csv(path)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Transactions, a tracked store with labels for its run, segments and labels files."""
    tmp = tmp_path_factory.mktemp("json")
    db = f"sqlite:///{tmp / 'store.db'}"
    tx = _transactions(tmp / "tx.csv")
    first = runner.invoke(app, ["track", str(tx), "--as-of", "2011-06-30", "--db", db])
    assert first.exit_code == 0, first.output
    with open_store(db) as store:
        assigned = run_assignments(store, 1).sort("customer_id")
    seg = tmp / "seg.csv"
    assigned.select("customer_id", "segment").write_csv(seg)
    labels = tmp / "labels.csv"
    assigned.head(30).select("customer_id", "segment").write_csv(labels)
    imported = runner.invoke(app, ["labels", "import", str(labels), "--db", db])
    assert imported.exit_code == 0, imported.output
    return {"tmp": tmp, "db": db, "tx": tx, "seg": seg, "labels": labels}


def test_accuracy(files: dict[str, Any]) -> None:
    args = ["accuracy", "--segments", str(files["seg"]), "--labels", str(files["labels"])]
    payload = _json([*args, "--match", "names"])
    assert payload["accuracy_pct"] == pytest.approx(100.0)


def test_audit_sample_and_estimate(files: dict[str, Any], tmp_path: Path) -> None:
    sheet = tmp_path / "sheet.csv"
    plan = _json(["audit-sample", "--segments", str(files["seg"]), "--out", str(sheet)])
    assert isinstance(plan, dict) and plan
    frame = pl.read_csv(sheet, infer_schema=False)
    frame.with_columns(pl.col("assigned_segment").alias("reviewer_segment")).write_csv(sheet)
    est = _json(["audit-estimate", str(sheet), "--match", "names"])
    assert est["accuracy_pct"] == pytest.approx(100.0)


def test_track_history_alerts_check(files: dict[str, Any]) -> None:
    db, tx = files["db"], str(files["tx"])
    tracked = _json(["track", tx, "--as-of", "2011-06-30", "--db", db])
    assert tracked["period"] == "2011Q2"
    assert tracked["measured"] is True
    trend = _json(["history", "--db", db])
    assert {r["period"] for r in trend["trend"]} == {"2011Q2"}
    alerts = _json(["alerts", "--db", db, "--all"])
    assert alerts["count"] == len(alerts["alerts"])
    assert alerts["open_only"] is False
    verdict = _json(["check", "--db", db, "--fail-under", "50"])
    assert verdict["period"] == "2011Q2"


def test_labels_show(files: dict[str, Any]) -> None:
    current = _json(["labels", "show", "--db", files["db"]])
    assert current["rows"] == 30 == len(current["labels"])
    assert current["policy"] == "latest"
    one = current["labels"][0]["customer_id"]
    history = _json(["labels", "show", one, "--db", files["db"]])
    assert history["customer_id"] == one
    assert {r["customer_id"] for r in history["labels"]} == {one}


def test_db_status(files: dict[str, Any]) -> None:
    status = _json(["db", "status", "--db", files["db"]])
    assert status["revision"]
    assert "store.db" in status["database"]
    assert all(isinstance(n, int) for n in status["tables"].values())


def test_users_list(files: dict[str, Any]) -> None:
    db = files["db"]
    made = runner.invoke(app, ["users", "create", "ana", "--role", "analyst", "--db", db],
                         env={"SEGLENS_PASSWORD": "a long enough password 1"})  # fmt: skip
    assert made.exit_code == 0, made.output
    users = _json(["users", "list", "--db", db])["users"]
    assert {"username": "ana", "role": "analyst", "active": True}.items() <= users[0].items()


def test_features(files: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "feat.parquet"
    payload = _json(["features", str(files["tx"]), "-o", str(out), "--as-of", "2011-06-30"])
    assert payload["rows"] == pl.read_parquet(out).height == 60
    assert payload["columns"][0] == "customer_id"
    assert payload["as_of"].startswith("2011-06-30")
    assert payload["output"] == str(out)


def test_segment_rfm_and_kmeans(files: dict[str, Any], tmp_path: Path) -> None:
    feat = tmp_path / "feat.parquet"
    runner.invoke(app, ["features", str(files["tx"]), "-o", str(feat), "--as-of", "2011-06-30"])
    out = tmp_path / "seg.parquet"
    rfm = _json(["segment", str(feat), "-o", str(out)])
    assert rfm["method"] == "rfm"
    assert sum(s["customers"] for s in rfm["segments"]) == rfm["customers"] == 60
    assert rfm["rfm_rules"]
    km = _json(["segment", str(feat), "-m", "kmeans", "-k", "3", "-o", str(out)])
    assert km["n_segments"] == 3
    assert pl.read_parquet(out).height == 60


def test_segment_supervised_reports_the_out_of_fold_figure(
    files: dict[str, Any], tmp_path: Path
) -> None:
    feat = tmp_path / "feat.parquet"
    runner.invoke(app, ["features", str(files["tx"]), "-o", str(feat), "--as-of", "2011-06-30"])
    labels = tmp_path / "labels.csv"
    pl.read_csv(files["seg"], infer_schema=False).write_csv(labels)  # every customer labelled
    out = tmp_path / "seg.parquet"
    args = ["segment", str(feat), "-m", "supervised", "--labels", str(labels), "--no-curve"]
    payload = _json([*args, "--folds", "3", "-o", str(out)])
    assert payload["method"] == "supervised"
    assert payload["labels_used"] == 60
    assert 0 <= payload["out_of_fold"]["accuracy"]["value_pct"] <= 100
    assert payload["out_of_fold"]["n_folds"] == 3


def test_ingest(files: dict[str, Any]) -> None:
    report = _json(["ingest", str(files["tx"])])
    assert report["rows_read"] > 0
