"""Loading a canonical table again is the identity: ingest(ingest(x)) == ingest(x).

``seglens ingest raw.csv -o t.parquet && seglens features t.parquet`` must give what
``seglens features raw.csv`` gives. Lines that differ only in a column the canonical table does
not keep (a description, a unit price) are equal rows there; they must not be judged duplicates
the second time.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Sequence
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from seglens.io import load_transactions
from seglens.io.duplicates import CANONICAL_SOURCE, is_canonical_table, judge_duplicates
from seglens.tables import TRANSACTIONS

HEADER = ["InvoiceNo", "StockCode", "Description", "Quantity", "InvoiceDate", "UnitPrice",
          "CustomerID"]  # fmt: skip

line = st.tuples(
    st.sampled_from(["536365", "536366", "C536379", "536401"]),
    st.sampled_from(["85123A", "71053", "POST", "22423", "M"]),
    st.sampled_from(["WHITE HANGING HEART", "white hanging heart", "", "LANTERN", "?"]),
    st.integers(-3, 12),
    st.sampled_from(["2010-12-01 08:26", "2010-12-01 08:26", "2011-01-04 10:00", "2011-03-05"]),
    st.sampled_from(["2.55", "0", "0.85", "3.39", "12.75"]),
    st.sampled_from(["17850.0", "13047", "0012", "", "12583"]),
)
FIRST = ("536365", "85123A", "X", 1, "2010-12-01 08:26", "2.55", "17850")
copies = st.tuples(st.integers(0, 10**6), st.sampled_from(["", "copy", "other text"]))
lines = st.lists(line, min_size=1, max_size=30).flatmap(
    # repeat some lines: exactly (description ""), or with only the description changed
    lambda rows: st.lists(copies, max_size=8).map(
        lambda picks: [
            FIRST,  # at least one customer id
            *rows,
            *(_described(rows[i % len(rows)], text) for i, text in picks),
        ]
    )
)


def _described(row: tuple[object, ...], text: str) -> tuple[object, ...]:
    return row if not text else (*row[:2], text, *row[3:])


def _csv(rows: Sequence[tuple[object, ...]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=lines, keep_duplicates=st.booleans(), drop_zero=st.booleans())
def test_loading_the_canonical_table_again_changes_nothing(
    rows: list[tuple[object, ...]], keep_duplicates: bool, drop_zero: bool
) -> None:
    """Every column, every value, from the frame itself, its Parquet file and its CSV file
    (with the same options both times; quantity 0 at a non-zero price is a zero-value line)."""
    options = {"drop_duplicates": False if keep_duplicates else None, "drop_zero_price": drop_zero}
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp, "raw.csv")
        raw.write_text(_csv(rows), encoding="utf-8")
        first = load_transactions(raw, **options).table  # type: ignore[arg-type]
        parquet, text = Path(tmp, "t.parquet"), Path(tmp, "t.csv")
        first.write_parquet(parquet)
        first.write_csv(text)
        for again_from in (first, parquet, text):
            again = load_transactions(again_from, **options)  # type: ignore[arg-type]
            assert_frame_equal(again.table, first)
            assert again.report.rows_kept == again.report.rows_read == first.height


def test_lines_differing_only_in_description_survive_a_second_load(tmp_path: Path) -> None:
    """The case from issue 19: two lines equal but for their description."""
    rows = [
        ("536365", "85123A", "WHITE HANGING HEART", 6, "2010-12-01 08:26", "2.55", "17850"),
        ("536365", "85123A", "white hanging heart", 6, "2010-12-01 08:26", "2.55", "17850"),
        ("536365", "85123A", "white hanging heart", 6, "2010-12-01 08:26", "2.55", "17850"),
    ]
    raw = tmp_path / "raw.csv"
    raw.write_text(_csv(rows), encoding="utf-8")
    first = load_transactions(raw)
    assert first.table.height == 2  # the exact copy (third line) is excluded, as before
    assert first.report.rule("duplicate_line").rows_excluded == 1
    out = tmp_path / "t.parquet"
    first.table.write_parquet(out)
    again = load_transactions(out)
    assert_frame_equal(again.table, first.table)
    assert again.report.rule("duplicate_line").rows_excluded == 0
    assert again.report.details["duplicates"] == CANONICAL_SOURCE
    # asked for explicitly, the rule runs on the canonical columns (and merges the two lines)
    forced = load_transactions(out, drop_duplicates=True)
    assert forced.table.height == 1
    assert forced.table["amount"].to_list() == [15.299999999999999]


def test_which_sources_have_their_duplicates_judged() -> None:
    canonical = list(TRANSACTIONS.names)
    assert is_canonical_table(canonical)
    assert not is_canonical_table(canonical[:-1])
    assert not is_canonical_table([*canonical[1:], canonical[0]])
    assert judge_duplicates(None, HEADER, has_order_id=True) == (True, None)
    assert judge_duplicates(None, canonical, has_order_id=True) == (False, CANONICAL_SOURCE)
    assert judge_duplicates(True, canonical, has_order_id=True) == (True, None)
    assert judge_duplicates(False, HEADER, has_order_id=True) == (False, None)
    keep, why = judge_duplicates(None, ["customer", "date", "amount"], has_order_id=False)
    assert not keep
    assert why is not None and "no order id" in why


def test_a_frame_with_the_canonical_columns_in_another_order_is_judged(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "order_id": ["1", "1"],
            "customer_id": ["a", "a"],
            "timestamp": ["2011-01-01", "2011-01-01"],
            "amount": [1.0, 1.0],
        }
    )
    loaded = load_transactions(frame)
    assert loaded.table.height == 1
    assert "duplicates" not in loaded.report.details


@pytest.mark.slow
def test_online_retail_ingest_then_features_equals_features_of_the_raw_file(
    online_retail_csv: Path, tmp_path: Path
) -> None:
    """The issue's case on the real file, as a user types it (two lines of the canonical table
    are equal rows that were different source lines; loading it again used to drop one)."""
    from typer.testing import CliRunner

    from seglens.cli import app

    runner = CliRunner()
    table, direct, via = tmp_path / "t.parquet", tmp_path / "a.parquet", tmp_path / "b.parquet"
    for args in (
        ["ingest", str(online_retail_csv), "-o", str(table)],
        ["features", str(online_retail_csv), "-o", str(direct)],
        ["features", str(table), "-o", str(via)],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    assert_frame_equal(pl.read_parquet(via), pl.read_parquet(direct))
    canonical = pl.read_parquet(table)
    assert canonical.height == 399_693
    assert canonical.is_duplicated().sum() == 4  # 2 pairs, kept: distinct source lines
