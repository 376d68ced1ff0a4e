"""Spark cleans raw files as the embedded engine does (issue 19 item 5): same canonical table,
same rule counts and messages, same features; what it cannot read alike it refuses.

The real-data test reads a fixed subset of the raw UCI Online Retail file (not pre-cleaned):
its header and first :data:`ROWS` lines (2010-12-01 to 2011-01-13; cancellations, ids written
as ``17850.0``, lines without a customer, exact duplicates and postage codes all occur), so the
Spark part stays within about a minute on two cores. tests/spark/test_parity.py compares the
canonical lines and features of the whole raw file.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from seglens.cli import app
from seglens.errors import DataError, UsageError
from seglens.features import customer_features
from seglens.io import CleaningReport, load_transactions
from seglens.io.spark_cleaning import (
    SparkCleaned,
    clean_on_spark,
    read_spark_csv,
    spark_date_pattern,
)

pytestmark = pytest.mark.spark

ROWS = 50_000
"""Lines of the raw Online Retail file (after its header) in the subset."""


@pytest.fixture(scope="module")
def raw_retail(online_retail_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The header and first :data:`ROWS` lines of the raw file, bytes as written."""
    out = tmp_path_factory.mktemp("retail") / "online_retail_head.csv"
    with gzip.open(online_retail_csv, "rb") as src, out.open("wb") as dst:
        for i, line in enumerate(src):
            if i > ROWS:
                break
            dst.write(line)
    return out


def _rules(report: CleaningReport) -> list[tuple[str, str, int, int, str]]:
    return [(r.rule, r.action, r.rows, r.rows_excluded, r.description) for r in report.rules]


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(frame.columns, nulls_last=True)


@pytest.fixture(scope="module")
def on_spark(raw_retail: Path, spark: Any) -> SparkCleaned:
    """The subset cleaned on Spark (once per module)."""
    return clean_on_spark(read_spark_csv(spark, raw_retail), source=str(raw_retail))


def test_spark_cleans_the_raw_file_as_the_embedded_engine(
    raw_retail: Path, on_spark: SparkCleaned
) -> None:
    embedded = load_transactions(raw_retail)
    cleaned = on_spark
    table = pl.from_arrow(cleaned.table.toArrow())
    assert isinstance(table, pl.DataFrame)
    assert table.schema == embedded.table.schema
    assert_frame_equal(
        _sorted(table), _sorted(embedded.table), check_exact=False, rel_tol=1e-9, abs_tol=1e-9
    )
    report = cleaned.report
    assert _rules(report) == _rules(embedded.report)
    assert (report.rows_read, report.rows_kept) == (ROWS, embedded.report.rows_kept)
    assert (report.customers_read, report.customers_kept) == (
        embedded.report.customers_read,
        embedded.report.customers_kept,
    )
    # the values the issue found wrong on Spark: ids, returns, amounts
    assert not table["customer_id"].str.contains(".", literal=True).any()
    assert report.rule("customer_id_decimal").rows > 0
    raw = pl.read_csv(raw_retail, infer_schema=False)
    assert report.rule("cancellation").rows == raw["InvoiceNo"].str.starts_with("C").sum() > 0
    cancels = table.filter(pl.col("order_id").str.starts_with("C"))
    assert cancels.height > 0 and cancels["is_return"].all() and (cancels["amount"] <= 0).all()
    first = table.filter(pl.col("order_id") == "536365").sort("product_id").row(0, named=True)
    assert (first["customer_id"], first["product_id"], first["quantity"]) == ("17850", "21730", 6)
    assert first["amount"] == pytest.approx(6 * 4.25, rel=1e-12)


def test_features_on_spark_equal_the_embedded_ones_on_the_raw_file(
    raw_retail: Path, tmp_path: Path, spark: Any
) -> None:
    """``features --engine spark`` on the raw file: read, cleaned and computed by Spark
    (tests/spark/test_parity.py checks the library path on the whole file)."""
    as_of = "2011-01-13"
    embedded = customer_features(load_transactions(raw_retail), as_of=as_of).table
    assert embedded.height > 900
    out = tmp_path / "features.parquet"
    args = ["features", str(raw_retail), "--engine", "spark", "--as-of", as_of, "-o", str(out)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    written = pl.read_parquet(out / "*.parquet" if out.is_dir() else out).sort("customer_id")
    assert_frame_equal(written, embedded, check_exact=False, rel_tol=1e-9, abs_tol=1e-9)


EUROPEAN = (
    "Rechnung;Artikel;Menge;Datum;Einzelpreis;Kunde;Land\n"
    '536365;85123A;6;01.12.2010 08:26;2,55;17850;"Vereinigtes Königreich"\n'
    "536366;POST;1;01.12.2010 08:28;18,00;17850;Deutschland\n"
    "C536379;D;-1;01.12.2010 09:41;27,50;14527;Deutschland\n"
    "536367;84406B;8;13.12.2010 08:34;2,75;;Frankreich\n"
    "536368;22960;3;14.12.2010 10:00;4,25;13047;Frankreich\n"
    "536368;22960;3;14.12.2010 10:00;4,25;13047;Frankreich\n"
    "C536369;22960;-2;15.12.2010 11:00;4,25;13047;Frankreich\n"
)


def test_european_export_reads_alike_on_spark(tmp_path: Path, spark: Any) -> None:
    path = tmp_path / "export.csv"
    path.write_bytes(EUROPEAN.encode("cp1252"))
    columns = "order_id=Rechnung,product_id=Artikel,quantity=Menge,timestamp=Datum,"
    columns += "unit_price=Einzelpreis,customer_id=Kunde"
    embedded = load_transactions(path, columns=columns)
    cleaned = clean_on_spark(read_spark_csv(spark, path), source=str(path), columns=columns)
    table = pl.from_arrow(cleaned.table.toArrow())
    assert isinstance(table, pl.DataFrame)
    assert_frame_equal(_sorted(table), _sorted(embedded.table))
    assert _rules(cleaned.report) == _rules(embedded.report)
    assert sorted(table["amount"].to_list()) == [-8.5, 12.75, 15.299999999999999]
    assert sorted(table["customer_id"].unique().to_list()) == ["13047", "17850"]


def test_spark_refuses_what_it_cannot_read_alike(tmp_path: Path, spark: Any) -> None:
    with pytest.raises(UsageError, match=r"'%d/%m/%y'.*%y differs"):
        spark_date_pattern("%d/%m/%y")
    assert spark_date_pattern("%d.%m.%Y %H:%M") == "d.M.yyyy H:m"
    path = tmp_path / "odd.csv"
    rows = [f"o{i},c{i % 7},2024-01-{i % 28 + 1:02d},{i}.5" for i in range(300)]
    rows[250] = "o250,c5,5 Jan 2024,3.5"
    path.write_text("order_id,customer_id,timestamp,amount\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataError) as err:
        clean_on_spark(read_spark_csv(spark, path), source=str(path))
    text = str(err.value)
    assert "1 value(s) of 'timestamp' do not read with the format detected" in text
    assert "5 Jan 2024" in text and "seglens ingest" in text
    assert load_transactions(path).table.height == 300  # the embedded engine re-reads it
    ragged = tmp_path / "ragged.csv"
    ragged.write_text("order_id,customer_id,timestamp,amount\no1,c1,2024-01-02,5\no2,c2,x,1,9,9\n")
    with pytest.raises(DataError) as err:
        clean_on_spark(read_spark_csv(spark, ragged), source=str(ragged))
    text = str(err.value)
    assert text.startswith(f"file {ragged}: Spark could not read the source (")
    assert "seglens ingest FILE names a malformed line" in text
    assert "Traceback" not in text and "py4j" not in text.lower()


def test_raw_parquet_with_typed_columns_cleans_alike(
    raw_retail: Path, tmp_path: Path, spark: Any
) -> None:
    """A raw Parquet export: float customer ids (17850.0), integer quantities, text dates."""
    path = tmp_path / "raw.parquet"
    pl.read_csv(raw_retail, infer_schema=False).head(5_000).with_columns(
        pl.col("Quantity").cast(pl.Int64),
        pl.col("UnitPrice").cast(pl.Float64),
        pl.col("CustomerID").cast(pl.Float64),
    ).write_parquet(path)
    embedded = load_transactions(path)
    cleaned = clean_on_spark(spark.read.parquet(str(path)), source=str(path))
    table = pl.from_arrow(cleaned.table.toArrow())
    assert isinstance(table, pl.DataFrame)
    assert_frame_equal(_sorted(table), _sorted(embedded.table))
    assert _rules(cleaned.report) == _rules(embedded.report)
    assert cleaned.report.rule("customer_id_decimal").rows > 3_000
    assert "17850" in table["customer_id"].to_list()


def test_source_without_order_ids_gets_the_same_made_up_orders(tmp_path: Path, spark: Any) -> None:
    path = tmp_path / "log.csv"
    path.write_text(
        "customer,date,amount\n"
        "7, 2024-01-05 ,10.5\n7,2024-01-05,4\n8,2024-02-01,3.25\n7,2024-03-01,-2\n"
    )
    embedded = load_transactions(path)
    cleaned = clean_on_spark(read_spark_csv(spark, path), source=str(path))
    table = pl.from_arrow(cleaned.table.toArrow())
    assert isinstance(table, pl.DataFrame)
    assert_frame_equal(_sorted(table), _sorted(embedded.table))
    assert sorted(table["order_id"].unique().to_list()) == [
        "7 2024-01-05",
        "7 2024-03-01",
        "8 2024-02-01",
    ]
    assert cleaned.report.warnings == embedded.report.warnings[-1:]


def test_mask_vocabulary_on_spark_equals_polars(spark: Any) -> None:
    from seglens.io.mask_expr import any_of, codes_mask, col, lit, to_polars
    from seglens.io.spark_cleaning import to_spark

    frame = (
        pl.DataFrame(
            {"code": ["POST", "post", "DCGS01", "85123A", None], "x": [1.0, -2.0, None, 0.0, 5.0]}
        )
        .with_row_index("i")
        .with_columns(pl.col("i").cast(pl.Int64))
    )
    masks = {
        "codes": codes_mask("code", ["POST", "DCGS*"]),
        "neg": col("x").lt(0).or_false(),
        "null_or_big": col("x").is_null() | col("x").gt(4),
        "none": any_of([]),
        "not_zero": ~col("x").eq(0),
        "has_12": col("code").contains("12"),
        "finite": col("x").is_finite(),
        "lit": lit(True) & col("x").ge(1),
    }
    want = frame.select("i", *[to_polars(m).alias(k) for k, m in masks.items()])
    sdf = spark.createDataFrame(frame.to_arrow())
    got = pl.from_arrow(
        sdf.select("i", *[to_spark(m).alias(k) for k, m in masks.items()]).toArrow()
    )
    assert isinstance(got, pl.DataFrame)
    assert_frame_equal(got.sort("i"), want, check_dtypes=False)


def test_features_with_customers_on_spark_clean_the_raw_file(tmp_path: Path, spark: Any) -> None:
    """``--customers`` takes the embedded features path; Spark still reads and cleans."""
    path = tmp_path / "export.csv"
    path.write_bytes(EUROPEAN.encode("cp1252"))
    people = tmp_path / "customers.csv"
    people.write_text("customer_id,age\n17850,41\n13047,29\n")
    columns = "order_id=Rechnung,product_id=Artikel,quantity=Menge,timestamp=Datum,"
    columns += "unit_price=Einzelpreis,customer_id=Kunde"
    outs = {}
    for engine in ("polars", "spark"):
        outs[engine] = tmp_path / f"{engine}.parquet"
        args = ["features", str(path), "--engine", engine, "--columns", columns]
        args += ["--customers", str(people), "--as-of", "2010-12-31", "-o", str(outs[engine])]
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 0, res.output
    on_spark, embedded = (pl.read_parquet(outs[e]) for e in ("spark", "polars"))
    assert on_spark["customer_id"].to_list() == ["13047", "17850"]  # not 17850.0, no POST line
    assert_frame_equal(on_spark, embedded, check_exact=False, rel_tol=1e-9)


def test_an_option_that_cannot_apply_is_refused_on_spark(
    raw_retail: Path, tmp_path: Path, spark: Any
) -> None:
    """As on the embedded loader: --decimal on a table whose amounts already are numbers."""
    table = tmp_path / "t.parquet"
    load_transactions(raw_retail).table.head(100).write_parquet(table)
    people = tmp_path / "customers.csv"
    people.write_text("customer_id,age\n17850,41\n")
    target = tmp_path / "spark.parquet"
    args = ["features", str(table), "--engine", "spark", "--customers", str(people)]
    res = CliRunner().invoke(app, [*args, "--decimal", ",", "-o", str(target)])
    assert res.exit_code == 2, res.output
    assert "decimal (--decimal) applies to numbers written as text" in res.output
    assert "'amount' (Float64), 'quantity' (Float64) already hold numbers" in res.output
    assert not target.exists()
