"""`seglens features` end to end: a CSV in, a Parquet of features out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from seglens.cli import app
from seglens.features import customer_features


def _csv(lines: pl.DataFrame, path: Path) -> Path:
    lines.rename({"customer_id": "Client", "amount": "Value"}).write_csv(path)
    return path


def test_features_command_writes_the_library_result(lines: pl.DataFrame, tmp_path: Path) -> None:
    src = _csv(lines, tmp_path / "tx.csv")
    out = tmp_path / "features.parquet"
    res = CliRunner().invoke(
        app,
        [
            "features",
            str(src),
            "--columns",
            "customer_id=Client,amount=Value",
            "--as-of",
            "2024-03-31",
            "-o",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "3 customers" in res.output
    got = pl.read_parquet(out)
    # the CLI loads through seglens.io (which cleans), the library takes the table as given
    from seglens.io import load_transactions

    loaded = load_transactions(src, columns="customer_id=Client,amount=Value", as_of="2024-03-31")
    want = customer_features(loaded.table, as_of="2024-03-31").table
    assert_frame_equal(got, want)
    assert got.columns[0] == "customer_id"


def test_features_command_csv_output_and_rfm_set(lines: pl.DataFrame, tmp_path: Path) -> None:
    src = _csv(lines, tmp_path / "tx.csv")
    out = tmp_path / "rfm.csv"
    args = ["features", str(src), "--columns", "customer_id=Client,amount=Value"]
    res = CliRunner().invoke(app, [*args, "--set", "lifetimes", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert pl.read_csv(out).columns == [
        "customer_id",
        "frequency",
        "recency",
        "T",
        "monetary_value",
    ]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--engine", "pandas"], "unknown engine"),
        (["--set", "some"], "unknown feature set"),
        (["--as-of", "yesterday"], "not a date"),
    ],
)
def test_features_command_user_errors_exit_2(
    lines: pl.DataFrame, tmp_path: Path, extra: list[str], message: str
) -> None:
    src = _csv(lines, tmp_path / "tx.csv")
    args = ["features", str(src), "--columns", "customer_id=Client,amount=Value"]
    res = CliRunner().invoke(app, [*args, *extra, "-o", str(tmp_path / "f.parquet")])
    assert res.exit_code == 2, res.output
    assert message in res.output
    assert "Traceback" not in res.output


def test_features_command_refuses_unknown_output_format(
    lines: pl.DataFrame, tmp_path: Path
) -> None:
    src = _csv(lines, tmp_path / "tx.csv")
    res = CliRunner().invoke(app, ["features", str(src), "-o", str(tmp_path / "f.xlsx")])
    assert res.exit_code == 2
    assert ".parquet or .csv" in res.output


@pytest.mark.spark
def test_features_command_on_spark_reads_parquet_itself(
    lines: pl.DataFrame, tmp_path: Path, spark: Any
) -> None:
    src = tmp_path / "tx.parquet"
    lines.rename({"customer_id": "Client"}).write_parquet(src)
    out = tmp_path / "features.parquet"
    res = CliRunner().invoke(
        app,
        [
            "features",
            str(src),
            "--engine",
            "spark",
            "--columns",
            "customer_id=Client",
            "--as-of",
            "2024-03-31",
            "-o",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    want = customer_features(lines, as_of="2024-03-31").table
    assert_frame_equal(pl.read_parquet(out), want, check_exact=False, rel_tol=1e-9)
