"""Inputs of every kind, user errors, periods and demographics."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import narwhals as nw
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from seglens.errors import DataError, UsageError
from seglens.features import (
    calibration_holdout,
    customer_features,
    join_demographics,
    quarter_ends,
    quarterly_snapshots,
)

AS_OF = dt.date(2024, 3, 31)


def test_every_input_kind_gives_the_same_table(lines: pl.DataFrame, tmp_path: Path) -> None:
    want = customer_features(lines, as_of=AS_OF).table
    path = tmp_path / "lines.parquet"
    lines.write_parquet(path)
    con = duckdb.connect()
    inputs: list[object] = [
        lines.lazy(),
        lines.to_pandas(),
        nw.from_native(lines),
        con.from_arrow(lines.to_arrow()),
        path,
        str(path),
    ]
    for given in inputs:
        got = customer_features(given, as_of=AS_OF).table
        assert_frame_equal(got, want, check_exact=False, rel_tol=1e-12), type(given)


def test_duckdb_relation_runs_on_duckdb_by_default(lines: pl.DataFrame) -> None:
    rel = duckdb.connect().from_arrow(lines.to_arrow())
    assert customer_features(rel, as_of=AS_OF).engine == "duckdb"
    assert customer_features(lines, as_of=AS_OF).engine == "polars"


def test_column_mapping_renames_source_columns(lines: pl.DataFrame) -> None:
    source = lines.rename({"customer_id": "CustID", "amount": "Total"})
    got = customer_features(
        source, as_of=AS_OF, columns={"customer_id": "CustID", "amount": "Total"}
    ).table
    assert got.equals(customer_features(lines, as_of=AS_OF).table)


def test_missing_column_is_a_data_error_naming_it(lines: pl.DataFrame) -> None:
    with pytest.raises(DataError, match="order_id") as err:
        customer_features(lines.drop("order_id"))
    assert "columns=" in (err.value.hint or "")


def test_text_timestamps_are_refused_with_a_hint(lines: pl.DataFrame) -> None:
    text = lines.with_columns(pl.col("timestamp").dt.to_string())
    with pytest.raises(DataError, match="date-time") as err:
        customer_features(text)
    assert err.value.column == "timestamp"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"engine": "pandas"}, "unknown engine"),
        ({"feature_set": "most"}, "unknown feature set"),
        ({"as_of": "31/03/2024"}, "not a date"),
        ({"columns": {"client": "customer_id"}}, "unknown canonical"),
    ],
)
def test_bad_options_are_usage_errors(lines: pl.DataFrame, kwargs: dict, message: str) -> None:  # type: ignore[type-arg]
    with pytest.raises(UsageError, match=message):
        customer_features(lines, **kwargs)


def test_unreadable_input_type_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="cannot read transactions"):
        customer_features([1, 2, 3])
    with pytest.raises(UsageError, match="Parquet"):
        customer_features("transactions.csv")


def test_calibration_holdout_outcomes(lines: pl.DataFrame) -> None:
    out = calibration_holdout(lines, calibration_end="2024-01-31", holdout_end=AS_OF)
    rows = {r["customer_id"]: r for r in out.iter_rows(named=True)}
    # A bought by Jan 31; in Feb 1 .. Mar 31 one purchase day (Feb 10, order o4, 30.0)
    assert rows["A"]["holdout_purchase_days"] == 1
    assert rows["A"]["holdout_orders"] == 1
    assert rows["A"]["holdout_spend"] == 30.0
    assert rows["A"]["holdout_came_back"] is True
    # E bought in 2023 and not after: zeros; B first bought after the calibration cut-off
    assert rows["E"]["holdout_came_back"] is False
    assert rows["E"]["holdout_spend"] == 0.0
    assert "B" not in rows
    assert set(out.get_column("holdout_days")) == {(AS_OF - dt.date(2024, 1, 31)).days}
    # the calibration features are those of customer_features at the cut-off
    cal = customer_features(lines, as_of="2024-01-31").table
    assert out.select(cal.columns).equals(cal)


def test_calibration_holdout_rejects_an_empty_window(lines: pl.DataFrame) -> None:
    with pytest.raises(UsageError, match="not after"):
        calibration_holdout(lines, calibration_end=AS_OF, holdout_end="2024-01-01")


def test_quarter_ends_cover_whole_quarters_only() -> None:
    ends = quarter_ends(dt.date(2023, 2, 10), dt.date(2024, 3, 31))
    assert ends == [
        dt.date(2023, 3, 31),
        dt.date(2023, 6, 30),
        dt.date(2023, 9, 30),
        dt.date(2023, 12, 31),
        dt.date(2024, 3, 31),
    ]
    assert quarter_ends(dt.date(2024, 1, 1), dt.date(2024, 3, 30)) == []


def test_quarterly_snapshots_match_features_at_each_quarter_end(lines: pl.DataFrame) -> None:
    snaps = quarterly_snapshots(lines, feature_set="rfm")
    periods = snaps.get_column("period").unique(maintain_order=True).to_list()
    assert periods == ["2023Q1", "2023Q2", "2023Q3", "2023Q4", "2024Q1", "2024Q2*"]
    q4 = snaps.filter(pl.col("period") == "2023Q4").drop("period", "as_of")
    assert q4.equals(customer_features(lines, as_of="2023-12-31", feature_set="rfm").table)
    assert q4.get_column("customer_id").to_list() == ["E"]


def test_demographics_are_encoded_and_missing_values_reported(lines: pl.DataFrame) -> None:
    customers = pl.DataFrame(
        {
            "customer_id": ["A", "B", "Z"],
            "age": [34, None, 50],
            "segment": ["Gold", "Silver", "Gold"],
            "member": [True, False, True],
            "n_orders": [1, 2, 3],  # clashes with a feature name
            "joined": [dt.date(2020, 1, 1)] * 3,
        }
    )
    result = customer_features(lines, as_of=AS_OF, customers=customers)
    table = result.table
    rep = result.demographics
    assert rep is not None
    assert rep.numeric == ["age", "member", "demo_n_orders"]
    assert rep.encoded == {"segment": ["segment_gold", "segment_silver"]}
    assert rep.dropped == {"joined": "type Date is neither numeric nor categorical"}
    assert rep.without_row == 1  # E
    assert rep.missing == {"age": 2, "segment": 1, "member": 1, "n_orders": 1}
    rows = {r["customer_id"]: r for r in table.iter_rows(named=True)}
    assert rows["A"]["age"] == 34.0 and rows["A"]["segment_gold"] == 1
    assert rows["B"]["segment_silver"] == 1 and rows["B"]["member"] == 0.0
    assert rows["E"]["age"] is None
    assert table.height == 3  # Z bought nothing: not added


def test_duplicate_customers_are_refused() -> None:
    features = pl.DataFrame({"customer_id": ["a"], "x": [1]})
    with pytest.raises(DataError, match="more than one row"):
        join_demographics(features, pl.DataFrame({"customer_id": ["a", "a"], "age": [1, 2]}))


def test_every_feature_is_documented() -> None:
    from seglens.features import CATALOG

    docs = (Path(__file__).resolve().parents[2] / "docs" / "features.md").read_text()
    for info in CATALOG:
        assert f"| `{info.name}` | {info.unit} | {info.feature_set} |" in docs, info.name
