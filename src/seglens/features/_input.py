"""Bring any supported transactions input onto one engine as canonical Narwhals lines."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import narwhals as nw
import polars as pl

from seglens.errors import DataError, UsageError
from seglens.tables import TRANSACTIONS, frame_of

__all__ = ["Engine", "canonical_lines", "native_on_engine", "source_engine", "unwrap"]

Engine = Literal["auto", "polars", "duckdb", "spark"]
ENGINES: tuple[str, ...] = ("auto", "polars", "duckdb", "spark")


def _is_duckdb(obj: object) -> bool:
    return type(obj).__module__.startswith("duckdb")


def _is_spark(obj: object) -> bool:
    return type(obj).__module__.startswith("pyspark.sql")


def _is_pandas(obj: object) -> bool:
    return type(obj).__module__.startswith("pandas")


def unwrap(obj: object) -> object:
    """The frame inside a library result (:func:`seglens.tables.frame_of`)."""
    return frame_of(obj)


def source_engine(transactions: object) -> str:
    """The engine an input already lives on (``polars`` for files and in-memory frames)."""
    transactions = unwrap(transactions)
    if isinstance(transactions, nw.DataFrame | nw.LazyFrame):
        transactions = transactions.to_native()
    if _is_duckdb(transactions):
        return "duckdb"
    if _is_spark(transactions):
        return "spark"
    return "polars"


def _naive_utc(frame: pl.LazyFrame) -> pl.LazyFrame:
    """Time-zone-aware datetime columns converted to UTC and made naive."""
    schema = frame.collect_schema()
    aware = [n for n, t in schema.items() if isinstance(t, pl.Datetime) and t.time_zone]
    if not aware:
        return frame
    return frame.with_columns(
        pl.col(n).dt.convert_time_zone("UTC").dt.replace_time_zone(None) for n in aware
    )


def _to_polars(obj: object) -> pl.LazyFrame:
    return _naive_utc(_to_polars_any(obj))


def _to_polars_any(obj: object) -> pl.LazyFrame:
    obj = unwrap(obj)
    if isinstance(obj, pl.LazyFrame):
        return obj
    if isinstance(obj, pl.DataFrame):
        return obj.lazy()
    if _is_pandas(obj):
        return pl.from_pandas(obj).lazy()  # type: ignore[call-overload,no-any-return]
    if _is_duckdb(obj):
        return pl.from_arrow(obj.to_arrow_table()).lazy()  # type: ignore[attr-defined,union-attr]
    if _is_spark(obj):
        return pl.from_arrow(obj.toArrow()).lazy()  # type: ignore[attr-defined,union-attr]
    if isinstance(obj, str | Path):
        return _scan_file(Path(obj))
    raise UsageError(
        f"cannot read transactions from a {type(obj).__name__}",
        hint="pass a Polars/pandas DataFrame or LazyFrame, a seglens LoadedTable, a DuckDB "
        "relation, a Spark DataFrame, or the path of a Parquet file with canonical columns",
    )


def _scan_file(path: Path) -> pl.LazyFrame:
    if path.suffix.lower() not in (".parquet", ".pq") and not path.is_dir():
        raise UsageError(
            "only Parquet files are read directly by the features engine",
            source=str(path),
            hint="load other formats with seglens.io.load_transactions first",
        )
    if not path.exists():
        raise DataError("file not found", source=str(path))
    return pl.scan_parquet(path / "*.parquet" if path.is_dir() else path)


def native_on_engine(transactions: object, engine: str, spark: Any = None) -> Any:
    """The input as a native lazy frame of ``engine`` (Polars LazyFrame, DuckDB relation, Spark)."""
    transactions = unwrap(transactions)
    if isinstance(transactions, nw.DataFrame | nw.LazyFrame):
        transactions = transactions.to_native()
    if engine == "polars":
        return _to_polars(transactions)
    if engine == "duckdb":
        if _is_duckdb(transactions):
            return transactions
        import duckdb

        con = duckdb.connect()
        if isinstance(transactions, str | Path) and Path(transactions).suffix == ".parquet":
            return con.read_parquet(str(transactions))
        table = _to_polars(transactions).collect().to_arrow()
        return con.from_arrow(table)
    if engine == "spark":
        if _is_spark(transactions):
            return transactions
        from seglens.features.spark import spark_session

        session = spark if spark is not None else spark_session()
        if isinstance(transactions, str | Path) and Path(transactions).suffix == ".parquet":
            return session.read.parquet(str(transactions))
        frame = session.createDataFrame(_to_polars(transactions).collect().to_arrow())
        # An in-memory table becomes a LocalRelation whose rows live inside the query plan; the
        # definition refers to the lines several times, and the optimiser's plan copies then
        # exhaust the driver's heap (the query stalls). A local checkpoint moves the rows to the
        # executors' block store, so the plan only points at them.
        return frame.localCheckpoint()
    raise UsageError(f"unknown engine {engine!r}", hint=f"use one of {', '.join(ENGINES)}")


def _timestamp(frame: nw.LazyFrame[Any]) -> nw.Expr:
    dtype = frame.collect_schema()["timestamp"]
    ts = nw.col("timestamp")
    if isinstance(dtype, nw.Datetime):
        if dtype.time_zone is not None:
            return ts.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
        return ts
    if dtype == nw.Date:
        return ts.cast(nw.Datetime())
    raise DataError(
        f"timestamp must be a date-time column, found {dtype}",
        column="timestamp",
        hint="parse it first (seglens.io.load_transactions does) or pass a datetime column",
    )


def canonical_lines(
    frame: nw.LazyFrame[Any], columns: Mapping[str, str] | None = None
) -> nw.LazyFrame[Any]:
    """Rename (``columns``: canonical -> source name), check and type the canonical columns."""
    if columns:
        unknown = sorted(set(columns) - set(TRANSACTIONS.names))
        if unknown:
            raise UsageError(
                f"unknown canonical column(s) {', '.join(unknown)}",
                hint=f"map onto {', '.join(TRANSACTIONS.names)}",
            )
        frame = frame.rename({src: canon for canon, src in columns.items()})
    names = frame.collect_schema().names()
    missing = [c for c in TRANSACTIONS.required if c not in names]
    if missing:
        raise DataError(
            f"transactions lack the column(s) {', '.join(missing)}",
            values=names[:20],
            hint="map them with columns={'customer_id': 'YourColumn', ...} (CLI: --columns)",
        )
    typed: list[nw.Expr] = [
        nw.col("customer_id").cast(nw.String),
        nw.col("order_id").cast(nw.String),
        _timestamp(frame).alias("timestamp"),
        nw.col("amount").cast(nw.Float64),
    ]
    for opt in ("product_id", "category", "channel"):
        if opt in names:
            typed.append(nw.col(opt).cast(nw.String))
    if "is_return" in names:
        typed.append(nw.col("is_return").cast(nw.Boolean))
    return frame.select(*typed).filter(~nw.col("customer_id").is_null())


def drop_empty_optional(frame: nw.LazyFrame[Any]) -> nw.LazyFrame[Any]:
    """Drop optional feature columns (product, category, channel) that hold no value at all."""
    names = [c for c in ("product_id", "category", "channel") if c in frame.collect_schema()]
    if not names:
        return frame
    counts = frame.select(nw.col(c).count() for c in names).collect(backend="polars")
    empty = [c for c in names if counts.to_native().get_column(c).item() == 0]
    return frame.drop(empty) if empty else frame


def latest_timestamp(frame: nw.LazyFrame[Any]) -> dt.datetime | None:
    """The latest timestamp of the lines (one small query)."""
    out = frame.select(nw.col("timestamp").max()).collect(backend="polars").to_native()
    value = out.item()
    return value if isinstance(value, dt.datetime) else None


def channel_columns(
    frame: nw.LazyFrame[Any], end: dt.datetime, limit: int = 50
) -> list[tuple[str, str]]:
    """The distinct channels of lines before ``end``, as (value, output column name) pairs."""
    if "channel" not in frame.collect_schema().names():
        return []
    values = (
        frame.filter(nw.col("timestamp") < nw.lit(end))
        .select(nw.col("channel").fill_null("unknown"))
        .unique()
        .collect(backend="polars")
        .to_native()
        .to_series()
        .to_list()
    )
    values = sorted(str(v) for v in values)
    if len(values) > limit:
        raise DataError(
            f"{len(values)} distinct channels; channel shares are made for at most {limit}",
            column="channel",
            values=values[:10],
            hint="map channels onto fewer values, or leave the channel column out",
        )
    out: list[tuple[str, str]] = []
    used: set[str] = set()
    for value in values:
        slug = re.sub(r"[^0-9a-z]+", "_", value.lower()).strip("_") or "blank"
        name, k = f"channel_share_{slug}", 2
        while name in used:
            name, k = f"channel_share_{slug}_{k}", k + 1
        used.add(name)
        out.append((value, name))
    return out
