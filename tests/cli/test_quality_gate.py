"""The quality gate (issue 21): --fail-under on accuracy, audit-estimate, track, and
`seglens check` on the stored KPI; exit 0 ok, 1 check failed, 2 usage or data error."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from seglens.cli import app
from seglens.store import open_store, run_assignments
from tests.transactions import random_transactions

runner = CliRunner()


def _files(tmp_path: Path, n: int = 50, wrong: int = 10) -> tuple[Path, Path]:
    """Segments of 3 x n customers and labels for the first n, ``wrong`` of them wrong
    (80 % with n=50, wrong=10; Wilson 95 % CI about 67-89)."""
    segs = ["A", "B", "C"]
    seg = pl.DataFrame(
        {
            "customer_id": [str(i) for i in range(3 * n)],
            "segment": [segs[i % 3] for i in range(3 * n)],
        }
    )
    lab = seg.head(n).with_columns(
        pl.when(pl.int_range(pl.len()) < wrong)
        .then(pl.lit("Z"))
        .otherwise(pl.col("segment"))
        .alias("segment")
    )
    seg.write_csv(tmp_path / "seg.csv")
    lab.write_csv(tmp_path / "lab.csv")
    return tmp_path / "seg.csv", tmp_path / "lab.csv"


def _accuracy(tmp_path: Path, *extra: str) -> object:
    seg, lab = _files(tmp_path)
    args = ["accuracy", "--segments", str(seg), "--labels", str(lab), "--match", "names"]
    return runner.invoke(app, [*args, *extra])


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        ([], 0),
        (["--fail-under", "70"], 0),
        (["--fail-under", "80"], 0),  # at the threshold passes
        (["--fail-under", "85"], 1),
        (["--fail-under", "60", "--require-interval"], 0),
        (["--fail-under", "70", "--require-interval"], 1),  # 80 %, but the CI reaches below 70
        (["--require-interval"], 2),  # needs --fail-under
        (["--fail-under", "150"], 2),
    ],
)
def test_accuracy_fail_under_exit_codes(tmp_path: Path, extra: list[str], code: int) -> None:
    out = _accuracy(tmp_path, *extra)
    assert out.exit_code == code, out.output  # type: ignore[attr-defined]


def test_a_failed_gate_still_prints_the_json_and_says_why_on_stderr(tmp_path: Path) -> None:
    out = _accuracy(tmp_path, "--json", "--fail-under", "85")
    assert out.exit_code == 1  # type: ignore[attr-defined]
    payload = json.loads(out.stdout)  # type: ignore[attr-defined]
    assert payload["accuracy_pct"] == pytest.approx(80.0)
    assert "check failed: accuracy 80.0 % is below 85 %" in out.stderr  # type: ignore[attr-defined]


def _sheet(tmp_path: Path, wrong: int) -> Path:
    seg, _ = _files(tmp_path, n=70)
    sheet = tmp_path / "sheet.csv"
    out = runner.invoke(
        app, ["audit-sample", "--segments", str(seg), "--out", str(sheet), "--total", "60"]
    )
    assert out.exit_code == 0, out.output
    frame = pl.read_csv(sheet, infer_schema=False)
    frame = frame.with_columns(
        pl.when(pl.int_range(pl.len()) < wrong)
        .then(pl.lit("Z"))
        .otherwise(pl.col("assigned_segment"))
        .alias("reviewer_segment")
    )
    frame.write_csv(sheet)
    return sheet


@pytest.mark.parametrize(("wrong", "code"), [(0, 0), (30, 1)])
def test_audit_estimate_fail_under(tmp_path: Path, wrong: int, code: int) -> None:
    sheet = _sheet(tmp_path, wrong)
    out = runner.invoke(
        app, ["audit-estimate", str(sheet), "--match", "names", "--fail-under", "70"]
    )
    assert out.exit_code == code, out.output


def _transactions(path: Path, n_customers: int = 80, seed: int = 7) -> Path:
    random_transactions(n_customers, seed, days=172).write_csv(path)
    return path


@pytest.fixture(scope="module")
def tracked(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path, Path]:
    """A store whose 2011Q2 headline is the labelled accuracy 80 % (n = 50), and the files."""
    tmp = tmp_path_factory.mktemp("gate")
    db = f"sqlite:///{tmp / 'store.db'}"
    tx = _transactions(tmp / "tx.csv")
    first = runner.invoke(app, ["track", str(tx), "--as-of", "2011-06-30", "--db", db])
    assert first.exit_code == 0, first.output
    with open_store(db) as store:
        assigned = run_assignments(store, 1).sort("customer_id")
    segments = sorted(assigned["segment"].unique().to_list())
    rows = []
    for i, (cid, seg) in enumerate(assigned.head(50).select("customer_id", "segment").rows()):
        rows.append((cid, next(s for s in segments if s != seg) if i < 10 else seg))
    labels = tmp / "labels.csv"
    pl.DataFrame(rows, schema=["customer_id", "segment"], orient="row").write_csv(labels)
    again = runner.invoke(
        app, ["track", str(tx), "--as-of", "2011-06-30", "--db", db, "--labels", str(labels)]
    )
    assert again.exit_code == 0, again.output
    return db, tx, labels


def test_track_fail_under_judges_the_stored_headline(
    tracked: tuple[str, Path, Path], tmp_path: Path
) -> None:
    db, tx, _ = tracked
    base = ["track", str(tx), "--as-of", "2011-06-30", "--db", db, "--json"]
    ok = runner.invoke(app, [*base, "--fail-under", "70"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout)["headline"] == "accuracy"
    assert runner.invoke(app, [*base, "--fail-under", "85"]).exit_code == 1
    assert runner.invoke(app, [*base, "--fail-under", "70", "--require-interval"]).exit_code == 1


def test_track_without_labels_is_not_measured_and_fails_the_gate(tmp_path: Path) -> None:
    tx = _transactions(tmp_path / "tx.csv", n_customers=30)
    db = f"sqlite:///{tmp_path / 'store.db'}"
    out = runner.invoke(
        app, ["track", str(tx), "--as-of", "2011-06-30", "--db", db, "--fail-under", "1"]
    )
    assert out.exit_code == 1, out.output
    assert "not measured (n = 0)" in out.stderr


@pytest.mark.parametrize(
    ("extra", "code"),
    [
        (["--fail-under", "70"], 0),
        (["--fail-under", "85"], 1),
        ([], 1),  # the default threshold is the target, 85 %
        (["--fail-under", "60", "--require-interval"], 0),
        (["--fail-under", "70", "--require-interval"], 1),
        (["--period", "2011Q2", "--fail-under", "70"], 0),
        (["--period", "1999Q1"], 2),
        (["--fail-under", "-5"], 2),
    ],
)
def test_check_exit_codes(tracked: tuple[str, Path, Path], extra: list[str], code: int) -> None:
    db, _, _ = tracked
    out = runner.invoke(app, ["check", "--db", db, *extra])
    assert out.exit_code == code, out.output


def test_check_json_reads_the_stored_figure(tracked: tuple[str, Path, Path]) -> None:
    db, _, _ = tracked
    out = runner.invoke(app, ["check", "--db", db, "--fail-under", "70", "--json"])
    assert out.exit_code == 0, out.output
    verdict = json.loads(out.stdout)
    from seglens.tracking import kpi_history

    with open_store(db) as store:
        stored = kpi_history(store, "accuracy").row(-1, named=True)
    assert verdict["period"] == "2011Q2"
    assert verdict["metric"] == "accuracy"
    assert (verdict["value"], verdict["ci_low"], verdict["n"]) == (
        stored["value"],
        stored["ci_low"],
        stored["n"],
    )
    assert verdict["passed"] is True


def test_check_on_an_unmeasured_store_fails(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'empty.db'}"
    assert runner.invoke(app, ["db", "upgrade", "--db", db]).exit_code == 0
    out = runner.invoke(app, ["check", "--db", db, "--json", "--fail-under", "0"])
    assert out.exit_code == 1, out.output
    assert json.loads(out.stdout)["reason"] == "not measured (n = 0)"
