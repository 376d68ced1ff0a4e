"""Issue 19, done when: a whitespace-separated log without order ids (the CDNOW / BTYD layout:
customer, date YYYYMMDD, quantity, amount) gives lifetimes-identical RFM for EVERY customer.

The reference is lifetimes' own ``summary_data_from_transaction_data`` on the same file, read
with pandas. Two things made seglens differ before: zero-value lines were excluded (a zero-value
order is a purchase occasion for lifetimes; CDNOW has 80, and 68 customers whose only orders are
free), and equal lines were excluded as duplicates although, without an order id, two equal
lines are two purchases (lifetimes sums them into the day's value).
"""

from __future__ import annotations

import importlib.util
import os
import random
import warnings
from datetime import datetime
from pathlib import Path

import pandas as pd
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from seglens.cli import app
from tests.transactions import random_transactions

runner = CliRunner()
LIFETIMES = ["customer_id", "frequency", "recency", "T", "monetary_value"]


def _lifetimes_summary(path: Path, end: str, *, header: bool) -> pl.DataFrame:
    """lifetimes' RFM of a whitespace log (customer, date, quantity, amount) read by pandas."""
    pytest.importorskip("lifetimes")
    names = None if header else ["customer_id", "date", "quantity", "amount"]
    raw = pd.read_csv(path, sep=r"\s+", header=0 if header else None, names=names, dtype=str)
    raw.columns = ["customer_id", "date", "quantity", "amount"]
    raw["amount"] = raw["amount"].astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # lifetimes' own pandas deprecations, not under test
        from lifetimes.utils import summary_data_from_transaction_data  # type: ignore[import-untyped]

        theirs = summary_data_from_transaction_data(
            raw,
            "customer_id",
            "date",
            monetary_value_col="amount",
            datetime_format="%Y%m%d",
            observation_period_end=end,
            freq="D",
        )
    table: pl.DataFrame = pl.from_pandas(theirs.reset_index())
    return table.select(LIFETIMES).sort("customer_id")


def _seglens_features(path: Path, as_of: str, out: Path, *options: str) -> pl.DataFrame:
    """``seglens features LOG --set lifetimes`` as a user runs it."""
    args = ["features", str(path), "--set", "lifetimes", "--as-of", as_of, "-o", str(out)]
    result = runner.invoke(app, [*args, *options])
    assert result.exit_code == 0, result.output
    return pl.read_parquet(out).sort("customer_id")


@pytest.fixture(scope="module")
def cdnow_master() -> Path:
    """CDNOW_master.txt from the lifetimes wheel: 69,659 lines of 23,570 customers, 1997-1998,
    whitespace-separated, header ``customer_id date number_of_cds dollar_value``."""
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or spec.origin is None:
        if os.environ.get("CI"):
            pytest.fail("the dev extra must install lifetimes (CDNOW known-answer data)")
        pytest.skip("lifetimes is not installed: pip install -e '.[dev]'")
    return Path(spec.origin).parent / "datasets" / "CDNOW_master.txt"


def test_cdnow_log_gives_lifetimes_rfm_for_every_customer(
    cdnow_master: Path, tmp_path: Path
) -> None:
    expected = _lifetimes_summary(cdnow_master, "19980630", header=True)
    ours = _seglens_features(
        cdnow_master, "1998-06-30", tmp_path / "f.parquet", "--columns", "amount=dollar_value"
    )
    assert ours.height == expected.height == 23_570
    assert_frame_equal(ours, expected, check_exact=False, rel_tol=1e-12, abs_tol=1e-9)
    # the zero-value lines are what kept 68 customers: excluding them loses exactly those
    dropped = _seglens_features(
        cdnow_master,
        "1998-06-30",
        tmp_path / "g.parquet",
        "--columns",
        "amount=dollar_value",
        "--drop-zero-price",
    )
    assert ours.height - dropped.height == 68
    lost = set(ours["customer_id"]) - set(dropped["customer_id"])
    raw = pd.read_csv(cdnow_master, sep=r"\s+", dtype={"customer_id": str})
    free_only = raw.groupby("customer_id")["dollar_value"].max() == 0
    assert lost == set(free_only[free_only].index)


def _whitespace_log(path: Path) -> Path:
    """A headerless BTYD log from the seeded generator: ids with leading zeros, YYYYMMDD dates,
    runs of spaces and tabs, zero-value orders (some customers only have those) and lines
    repeated exactly (two equal purchases on one day)."""
    rng = random.Random(19)
    tx = random_transactions(120, seed=19, max_orders=9)
    lines = []
    for r in tx.iter_rows(named=True):
        cid = f"{int(r['customer_id'][1:]) + 1:05d}"
        when: datetime = r["timestamp"]
        amount = 0.0 if rng.random() < 0.08 else r["amount"]
        sep = rng.choice([" ", "   ", "\t"])
        line = f"{cid}{sep}{when:%Y%m%d} {rng.randint(1, 4)}  {amount:.2f}"
        lines += [line] * (2 if rng.random() < 0.05 else 1)
    lines += ["00999 20110305 1 0.00", "00998 20110102 2 0.00", "00998 20110801 1 0.00"]
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return path


def test_generated_log_without_header_or_order_ids_gives_lifetimes_rfm(tmp_path: Path) -> None:
    log = _whitespace_log(tmp_path / "orders.txt")
    expected = _lifetimes_summary(log, "20111001", header=False)
    ours = _seglens_features(log, "2011-10-01", tmp_path / "f.parquet")
    assert ours.height == expected.height == 122
    assert_frame_equal(ours, expected, check_exact=False, rel_tol=1e-12, abs_tol=1e-9)
    free_only = ours.filter(pl.col("customer_id").is_in(["00998", "00999"]))
    assert free_only.rows() == [("00998", 1.0, 211.0, 272.0, 0.0), ("00999", 0.0, 0.0, 210.0, 0.0)]
