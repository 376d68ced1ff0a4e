"""Spark's sources and outputs (``seglens.spark.sources``): safe writes and cluster URIs.

A write that fails while Spark runs the job (a value computed with ``raise_error`` on the last
row of the second partition, after the first partition's task wrote its part file) must leave
the earlier output byte for byte (folder) or row for row (table), and no staging copy; a write
that succeeds replaces it. The folders are read back with Polars, the values compared with the
rows built here in Python.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from seglens.errors import DataError, UsageError
from seglens.spark.sources import is_spark_source, local_path, read_source, write_output

pytestmark = [
    pytest.mark.spark,
    pytest.mark.filterwarnings(
        "ignore:PySpark does not yet fully support pandas >= 3.0.0:FutureWarning"
    ),
]

DB = "seglens_sources_t"


def frame(spark: Any, n: int, label: str, *, fail: bool = False) -> Any:
    """``id`` 0..n-1 and ``label``; with ``fail`` the last row raises while the job runs."""
    from pyspark.sql import functions as F  # noqa: N812 - the usual alias

    value = F.lit(label)
    if fail:
        value = F.when(F.col("id") == n - 1, F.raise_error(F.lit("boom"))).otherwise(value)
    return spark.range(0, n, 1, 2).select(F.col("id"), value.alias("label"))


def rows_of(spark: Any, target: str) -> list[tuple[int, str]]:
    """The rows written, read back without Spark for folders (Polars), sorted."""
    if target.startswith("table:"):
        return sorted((int(r["id"]), str(r["label"])) for r in spark.table(target[6:]).collect())
    path = local_path(target)
    assert path is not None
    if path.name.endswith(".csv"):
        got = pl.concat([pl.read_csv(p) for p in sorted(path.glob("part-*.csv"))])
    else:
        got = pl.read_parquet(path / "*.parquet")
    return sorted(zip(got["id"].to_list(), got["label"].to_list(), strict=True))


def snapshot(spark: Any, target: str) -> Any:
    if target.startswith("table:"):
        return rows_of(spark, target)
    path = local_path(target)
    assert path is not None
    return {p.name: p.read_bytes() for p in path.iterdir()}


@pytest.mark.parametrize("kind", ["parquet folder", "csv folder", "file uri", "table"])
def test_failed_write_keeps_the_earlier_output(spark: Any, tmp_path: Path, kind: str) -> None:
    target = {
        "parquet folder": str(tmp_path / "out.parquet"),
        "csv folder": str(tmp_path / "out.csv"),
        "file uri": f"file://{tmp_path / 'out'}",
        "table": f"table:{DB}.out",
    }[kind]
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {DB} LOCATION '{tmp_path / 'wh'}'")
    try:
        where = write_output(frame(spark, 6, "first"), target)
        assert where == (f"table {DB}.out" if kind == "table" else f"folder {local_path(target)}")
        assert rows_of(spark, target) == [(i, "first") for i in range(6)]
        before = snapshot(spark, target)

        with pytest.raises(DataError) as err:
            write_output(frame(spark, 8, "second", fail=True), target)
        text = str(err.value)
        assert "boom" in text and "the earlier output was kept unchanged" in text
        assert err.value.source == (target if kind == "table" else str(local_path(target)))
        assert snapshot(spark, target) == before

        write_output(frame(spark, 3, "third"), target)
        assert rows_of(spark, target) == [(i, "third") for i in range(3)]
        # no staging folder or table left behind (other tests' temporary views are listed too)
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
            ["wh"] + ([] if kind == "table" else [local_path(target).name])  # type: ignore[union-attr]
        )
        tables = [t.name for t in spark.catalog.listTables(DB) if not t.isTemporary]
        assert tables == (["out"] if kind == "table" else [])
        assert [p.name for p in (tmp_path / "wh").iterdir()] == (["out"] if kind == "table" else [])
    finally:
        spark.sql(f"DROP DATABASE IF EXISTS {DB} CASCADE")


def test_failed_first_write_leaves_nothing(spark: Any, tmp_path: Path) -> None:
    target = tmp_path / "new.parquet"
    with pytest.raises(DataError, match="nothing was written"):
        write_output(frame(spark, 8, "x", fail=True), str(target))
    assert list(tmp_path.iterdir()) == []


def test_file_uris_are_read_and_written(spark: Any, tmp_path: Path) -> None:
    parquet, csv = f"file://{tmp_path / 'lines.parquet'}", f"file://{tmp_path / 'lines.csv'}"
    assert write_output(frame(spark, 5, "a"), parquet) == f"folder {tmp_path / 'lines.parquet'}"
    assert write_output(frame(spark, 4, "b"), csv) == f"folder {tmp_path / 'lines.csv'}"
    assert not list(tmp_path.glob("**/.*.crc"))
    got = read_source(spark, parquet)
    assert sorted((r["id"], r["label"]) for r in got.collect()) == [(i, "a") for i in range(5)]
    text = read_source(spark, csv)  # CSV: a header, every column as text
    assert dict(text.dtypes) == {"id": "string", "label": "string"}
    assert sorted((r["id"], r["label"]) for r in text.collect()) == [
        (str(i), "b") for i in range(4)
    ]
    # a folder URI without an extension is Parquet
    write_output(frame(spark, 2, "c"), str(tmp_path / "plain"))
    assert read_source(spark, f"file://{tmp_path / 'plain'}").count() == 2
    # file://localhost/x is the same file (Hadoop itself only takes file:///x)
    local = read_source(spark, f"file://localhost{tmp_path / 'lines.parquet'}")
    assert sorted((r["id"], r["label"]) for r in local.collect()) == [(i, "a") for i in range(5)]


def test_missing_uri_is_a_clear_error(spark: Any, tmp_path: Path) -> None:
    missing = f"file://{tmp_path / 'nowhere.parquet'}"
    assert is_spark_source(missing)  # not checked on the driver: the cluster may see it
    with pytest.raises(DataError) as err:
        read_source(spark, missing)
    text = str(err.value)
    assert text.startswith(f"file {missing}: Spark could not read it (")
    assert "nowhere.parquet" in text.splitlines()[0] and "what to do: check the path" in text
    with pytest.raises(DataError, match=r"^file nosuchfs://b/x\.parquet: Spark could not read"):
        read_source(spark, "nosuchfs://b/x.parquet")
    with pytest.raises(UsageError, match="Spark reads Parquet"):
        read_source(spark, "s3a://bucket/orders.xlsx")


def test_cluster_uri_write_error_says_what_may_be_lost(spark: Any) -> None:
    with pytest.raises(DataError) as err:
        write_output(frame(spark, 2, "x"), "nosuchfs://bucket/out")
    assert err.value.source == "nosuchfs://bucket/out"
    assert "may be lost" in str(err.value) and "nosuchfs" in str(err.value)


@pytest.mark.parametrize(
    ("source", "spark_reads"),
    [
        ("s3a://bucket/lines", True),
        ("s3a://bucket/orders.csv.gz", True),
        ("hdfs://namenode:8020/data/lines.parquet", True),
        ("abfss://c@acct.dfs.core.windows.net/lines", True),
        ("gs://bucket/lines", True),
        ("dbfs:/mnt/lines", True),
        ("file:///nowhere/lines.parquet", True),
        ("table:db.lines", True),
        ("sql:SELECT 1", True),
        ("sqlite:///shop.db", False),
        ("postgresql+psycopg://u@h:5432/shop", False),
        ("duckdb:///shop.duckdb", False),
        ("orders.xlsx", False),
        ("C:/data/orders.xlsx", False),
    ],
)
def test_is_spark_source(source: str, spark_reads: bool) -> None:
    assert is_spark_source(source) is spark_reads


def test_local_path() -> None:
    assert local_path("file:///data/x.parquet") == Path("/data/x.parquet")
    assert local_path("file://localhost/data/x") == Path("/data/x")
    assert local_path("file:/data/a%20b") == Path("/data/a%20b")  # not decoded, as in Hadoop
    assert local_path("out/x.csv") == Path("out/x.csv")
    for other in ("s3a://b/x", "file://otherhost/x", "table:db.x", "sql:SELECT 1"):
        assert local_path(other) is None
