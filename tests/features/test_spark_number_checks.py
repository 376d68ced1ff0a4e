"""Spark checks the separators of every number value as the embedded engine does (issue 19
item 5): an ambiguous column (only ``3.668``) or one mixing ``1,234.56`` and ``1.234,56``
stops with the embedded engine's message (examples instead of line numbers), also when the
values that decide come after the first 100,000 rows the reading decisions are made on; a
decimal comma first seen there reads the column again with it, as on the embedded engine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from seglens.cli import app
from seglens.errors import DataError
from seglens.io import load_transactions
from seglens.io.numbers import number_styles
from seglens.io.projection import SAMPLE_ROWS
from seglens.io.spark_cleaning import clean_on_spark, read_spark_csv
from seglens.io.spark_reading import number_style

pytestmark = pytest.mark.spark

AMBIGUOUS = (
    "order_id;customer_id;timestamp;amount\n"
    "o1;C000;01.12.2024;3.668\n"
    "o2;C000;02.12.2024;4.001\n"
    "o3;C000;03.12.2024;3.401\n"
    "o4;C001;03.12.2024;12.500\n"
    "o5;C001;14.12.2024;1.250\n"
)
"""A European export whose amounts could be thousands or three decimals (the colleague's)."""
NO_LINES = "line numbers: Spark does not know them, run seglens ingest on the embedded engine"


def _table(frame: Any) -> pl.DataFrame:
    table = pl.from_arrow(frame.toArrow())
    assert isinstance(table, pl.DataFrame)
    return table.sort("order_id")


def test_ambiguous_export_is_refused_on_spark_and_reads_alike_with_decimal(
    tmp_path: Path, spark: Any
) -> None:
    path = tmp_path / "export.csv"
    path.write_text(AMBIGUOUS)
    out = tmp_path / "features.parquet"
    args = ["features", str(path), "--engine", "spark", "--as-of", "2024-12-31"]
    res = CliRunner().invoke(app, [*args, "-o", str(out)])
    assert res.exit_code == 2, res.output  # as for every DataError
    flat = " ".join(res.output.split())
    assert (
        f"file {path}, column 'amount': cannot tell whether '.' in these numbers separates "
        "thousands or decimals ('3.668' could be 3668 or 3.668), and no other value in the "
        "column shows which (e.g. '3.668', '4.001', '3.401', '12.500', '1.250'; " + NO_LINES
    ) in flat
    assert "what to do: say which with --decimal . (1,000 = one thousand" in flat
    assert not out.exists()
    with pytest.raises(DataError) as embedded_err:
        load_transactions(path)
    assert str(embedded_err.value).startswith(
        f"file {path}, column 'amount': cannot tell whether '.' in these numbers separates "
        "thousands or decimals ('3.668' could be 3668 or 3.668)"
    )
    assert embedded_err.value.lines == (2, 3, 4, 5, 6)

    outs = {}
    for engine in ("spark", "polars"):
        outs[engine] = tmp_path / f"{engine}.parquet"
        run = [*args[:3], engine, *args[4:], "--decimal", ",", "-o", str(outs[engine])]
        res = CliRunner().invoke(app, run)
        assert res.exit_code == 0, res.output
    on_spark, embedded = (pl.read_parquet(outs[e]).sort("customer_id") for e in ("spark", "polars"))
    assert_frame_equal(on_spark, embedded, check_exact=False, rel_tol=1e-9)
    spend = dict(zip(on_spark["customer_id"], on_spark["total_spend"], strict=True))
    assert spend == pytest.approx({"C000": 11070.0, "C001": 13750.0})


def test_values_loaded_with_decimal_are_the_embedded_ones(tmp_path: Path, spark: Any) -> None:
    path = tmp_path / "export.csv"
    path.write_text(AMBIGUOUS)
    for decimal, amounts in ((",", [3668.0, 4001.0, 3401.0, 12500.0, 1250.0]),
                             (".", [3.668, 4.001, 3.401, 12.5, 1.25])):  # fmt: skip
        embedded = load_transactions(path, decimal=decimal).table.sort("order_id")
        cleaned = clean_on_spark(read_spark_csv(spark, path), source=str(path), decimal=decimal)
        table = _table(cleaned.table)
        assert table["amount"].to_list() == pytest.approx(amounts)
        assert_frame_equal(table, embedded)


def test_mixed_conventions_within_the_first_rows_are_refused_alike(
    tmp_path: Path, spark: Any
) -> None:
    path = tmp_path / "mixed.csv"
    path.write_text(
        "order_id,customer_id,timestamp,amount\n"
        'o1,c1,2024-01-02,"12,5"\n'
        'o2,c1,2024-01-03,"1.234,56"\n'
        'o3,c2,2024-01-04,"1,234.56"\n'
    )
    with pytest.raises(DataError) as spark_err:
        clean_on_spark(read_spark_csv(spark, path), source=str(path))
    assert str(spark_err.value) == (
        f"file {path}, column 'amount': the column mixes two number formats: a decimal point "
        "(e.g. 1,234.56) and a decimal comma (e.g. 1.234,56): '1,234.56', '12,5', '1.234,56'; "
        f"{NO_LINES} to list them\nwhat to do: write every value the same way, or say which "
        "format the column uses with --decimal . or --decimal , (values written the other way "
        "are then unreadable)"
    )
    with pytest.raises(DataError) as embedded_err:
        load_transactions(path)
    assert "the column mixes two number formats" in str(embedded_err.value)
    assert embedded_err.value.lines == (2, 3, 4)


def _long_file(path: Path, later: list[str]) -> Path:
    """:data:`SAMPLE_ROWS` lines with plain decimal-point amounts, then ``later`` amounts."""
    rows = [f"o{i},c{i % 97},2024-01-{i % 28 + 1:02d},{i % 50}.25" for i in range(SAMPLE_ROWS)]
    rows += [f'x{i},c{i},2024-02-01,"{a}"' for i, a in enumerate(later)]
    path.write_text("order_id,customer_id,timestamp,amount\n" + "\n".join(rows) + "\n")
    return path


def test_mixing_after_the_first_rows_is_refused_alike(tmp_path: Path, spark: Any) -> None:
    """The real default sample: the decimal comma appears on line SAMPLE_ROWS + 3."""
    path = _long_file(tmp_path / "long.csv", ["2,000.50", "1.234,56"])
    with pytest.raises(DataError) as spark_err:
        clean_on_spark(read_spark_csv(spark, path), source=str(path))
    text = str(spark_err.value)
    assert text.startswith(
        f"file {path}, column 'amount': the column mixes two number formats: a decimal point "
        "(e.g. 1,234.56) and a decimal comma (e.g. 1.234,56): '0.25', '1.25', '2.25', "
        f"'1.234,56'; {NO_LINES} to list them\nwhat to do: write every value the same way"
    )
    with pytest.raises(DataError) as embedded_err:
        load_transactions(path)
    assert str(embedded_err.value).startswith(
        f"file {path}, column 'amount': the column mixes two number formats: a decimal point "
        "(e.g. 1,234.56) and a decimal comma (e.g. 1.234,56); the rows below show both\n"
        "first offending rows: line 2: '0.25', line 3: '1.25', line 4: '2.25', "
        f"line {SAMPLE_ROWS + 3}: '1.234,56'"
    )


def test_a_decimal_comma_after_the_first_rows_reads_the_column_again(
    tmp_path: Path, spark: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Spark's sample made 3 rows (its reading decisions only): the first rows show no
    separator, later ones a decimal comma; the column is read with it, as the embedded engine
    (whose first rows see the comma) reads it, and the report says so."""
    monkeypatch.setattr("seglens.io.spark_reading.SAMPLE_ROWS", 3)
    path = tmp_path / "later.csv"
    path.write_text(
        "order_id,customer_id,timestamp,amount\n"
        "o1,c1,2024-01-02,12\no2,c1,2024-01-03,7\no3,c2,2024-01-04,3\n"
        'o4,c2,2024-01-05,"2,5"\no5,c3,2024-01-06,"1.000"\no6,c3,2024-01-06,"1.234,75"\n'
    )
    cleaned = clean_on_spark(read_spark_csv(spark, path), source=str(path))
    table = _table(cleaned.table)
    assert table["amount"].to_list() == [12.0, 7.0, 3.0, 2.5, 1000.0, 1234.75]
    assert_frame_equal(table, load_transactions(path).table.sort("order_id"))
    assert cleaned.report.warnings == [
        "numbers in 'amount' are read with a decimal comma: the first rows did not show which "
        "separator the column uses, later rows do"
    ]
    assert cleaned.report.details["decimal_comma"] == ["amount"]


def test_later_dates_the_format_does_not_read_are_refused_not_misread(
    tmp_path: Path, spark: Any
) -> None:
    """Dates are decided on the first rows by both engines; a later date written month first or
    with a two-digit year is re-read by the embedded engine and refused by Spark (never read
    another way)."""
    head = [f"o{i},c{i % 5},{13 + i % 15}/0{1 + i % 9}/2024,{i}.5" for i in range(40)]
    for late, embedded_reads in (("12/31/2024", "2024-12-31"), ("05/01/24", "2024-01-05")):
        path = tmp_path / "dates.csv"
        path.write_text(
            "order_id,customer_id,timestamp,amount\n" + "\n".join([*head, f"x,c9,{late},2.5"])
        )
        with pytest.raises(DataError) as err:
            clean_on_spark(read_spark_csv(spark, path), source=str(path))
        assert (
            f"file {path}, column 'timestamp': 1 value(s) of 'timestamp' do not read with the "
            f"format detected on the first rows (e.g. {late!r})"
        ) in str(err.value)
        table = load_transactions(path).table
        assert str(table.filter(pl.col("order_id") == "x")["timestamp"].item().date()) == (
            embedded_reads
        )


def test_spark_classes_values_as_the_embedded_engine(spark: Any) -> None:
    """:func:`number_style` on Spark equals :func:`number_styles` on Polars for every value
    with a separator (the others decide nothing and are null on Spark)."""
    values = ["1,234.56", "1.234,56", "1,000", "1.500", "0.500", "12,5", "12.5", "  EUR 3.5 ",
              "(1.234,56)", "-1,000", "+12,5", "£1,234.56", "12,34,567.50", "1.234.567",
              "1,234,567", "1 234,5", "1'234.5", "abc", "1.2.3", "\u0661\u0662.\u0665", "12",
              "", None, "USD 1,000", "1,000 EUR", "-(2,5)"]  # fmt: skip
    frame = spark.createDataFrame([(i, v) for i, v in enumerate(values)], "i long, v string")
    got = frame.select(number_style(frame["v"]).alias("s")).toArrow().column("s").to_pylist()
    want = number_styles(pl.Series(values, dtype=pl.String)).to_list()
    separated = [v is not None and ("." in v or "," in v) for v in values]
    want = [w if sep else None for sep, w in zip(separated, want, strict=True)]
    assert got == want
    first = ["point", "comma", "either_comma", "either_point", "point", "comma"]
    assert want[:8] == [*first, "point", "point"]
