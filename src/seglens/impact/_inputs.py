"""Inputs for the impact commands: transactions from a file and a default segmentation.

Uses ``seglens.io.load_transactions`` and ``seglens.segmenters.RFMSegmenter`` when they exist;
until then a small Polars reader (canonical columns, a ``--columns`` mapping, or the UCI Online
Retail layout) and a tercile RFM rule stand in.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from seglens.errors import DataError, UsageError
from seglens.tables import TRANSACTIONS

logger = logging.getLogger(__name__)

_ONLINE_RETAIL = {"InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "UnitPrice", "CustomerID"}


def _io_function(name: str) -> Any:
    """``seglens.io.<name>`` when that package provides it, else None (fallback readers)."""
    try:
        return getattr(importlib.import_module("seglens.io"), name, None)
    except ImportError:
        return None


def parse_columns(text: str | Mapping[str, str] | None) -> dict[str, str]:
    """``"customer_id=ID,amount=Total"`` -> ``{"customer_id": "ID", "amount": "Total"}``."""
    if text is None or isinstance(text, Mapping):
        return dict(text or {})
    out = {}
    for pair in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = pair.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise UsageError(
                f"malformed column pair {pair!r}", hint="write canonical=source, e.g. amount=Total"
            )
        out[key.strip()] = value.strip()
    return out


def read_transactions(
    source: str | Path,
    *,
    columns: str | Mapping[str, str] | None = None,
    as_of: dt.date | None = None,
) -> pl.DataFrame:
    """Transactions in the canonical shape (``seglens.tables.TRANSACTIONS``)."""
    mapping = parse_columns(columns)
    loader: Any = _io_function("load_transactions")
    if loader is not None:
        table: pl.DataFrame = loader(str(source), columns=mapping or None, as_of=as_of).table
        return table
    return _read_fallback(Path(source), mapping)


def read_assignments(
    source: str | Path, *, columns: str | Mapping[str, str] | None = None
) -> pl.DataFrame:
    """``customer_id``, ``segment`` (and any other columns) from a file."""
    mapping = parse_columns(columns)
    loader: Any = _io_function("load_table")
    if loader is not None:
        from seglens.tables import ASSIGNMENTS

        table: pl.DataFrame = loader(str(source), ASSIGNMENTS, columns=mapping or None).table
        return table
    path = Path(source)
    if not path.exists():
        raise DataError("file not found", source=str(path))
    raw = (
        pl.read_parquet(path)
        if path.suffix == ".parquet"
        else pl.read_csv(path, infer_schema=False)
    )
    raw = raw.rename({v: k for k, v in mapping.items() if v in raw.columns})
    for col in ("customer_id", "segment"):
        if col not in raw.columns:
            raise DataError(
                f"column {col!r} is missing",
                source=str(path),
                column=col,
                hint="map it with --segments-columns customer_id=...,segment=...",
            )
    return raw.with_columns(pl.col("customer_id", "segment").cast(pl.String))


def _read_fallback(path: Path, columns: Mapping[str, str]) -> pl.DataFrame:
    if not path.exists():
        raise DataError("file not found", source=str(path))
    name = path.name.lower()
    if name.endswith(".parquet"):
        raw = pl.read_parquet(path)
    else:
        raw = pl.read_csv(path, infer_schema=False)
    if not columns and set(raw.columns) >= _ONLINE_RETAIL:
        return online_retail_to_canonical(raw)
    mapping = {canon: columns.get(canon, canon) for canon in TRANSACTIONS.names}
    missing = [c for c in TRANSACTIONS.required if mapping[c] not in raw.columns]
    if missing:
        raise DataError(
            f"required column(s) {missing} not found",
            source=str(path),
            hint="map them with --columns canonical=source,...",
        )
    exprs = [
        pl.col(mapping["customer_id"])
        .cast(pl.String)
        .str.replace(r"\.0$", "")
        .alias("customer_id"),
        pl.col(mapping["order_id"]).cast(pl.String).alias("order_id"),
        _timestamp(raw, mapping["timestamp"]),
        pl.col(mapping["amount"]).cast(pl.Float64).alias("amount"),
    ]
    return raw.select(exprs).with_columns(pl.col("amount").lt(0).alias("is_return"))


def _timestamp(raw: pl.DataFrame, col: str) -> pl.Expr:
    if raw.schema[col] == pl.String:
        return pl.col(col).str.to_datetime(time_unit="us").alias("timestamp")
    return pl.col(col).cast(pl.Datetime("us")).alias("timestamp")


def online_retail_to_canonical(raw: pl.DataFrame) -> pl.DataFrame:
    """UCI Online Retail (InvoiceNo, ..., CustomerID float) -> canonical transactions.

    Rows without a customer are dropped; ``17850.0`` becomes ``"17850"``; amount is
    Quantity x UnitPrice; invoices starting with ``C`` are cancellations (``is_return``).
    """
    return raw.filter(pl.col("CustomerID").is_not_null() & (pl.col("CustomerID") != "")).select(
        pl.col("CustomerID").cast(pl.String).str.replace(r"\.0$", "").alias("customer_id"),
        pl.col("InvoiceNo").cast(pl.String).alias("order_id"),
        pl.col("InvoiceDate").cast(pl.String).str.to_datetime(time_unit="us").alias("timestamp"),
        (pl.col("Quantity").cast(pl.Float64) * pl.col("UnitPrice").cast(pl.Float64)).alias(
            "amount"
        ),
        pl.col("Quantity").cast(pl.Float64).alias("quantity"),
        pl.col("StockCode").cast(pl.String).alias("product_id"),
        pl.col("InvoiceNo").cast(pl.String).str.starts_with("C").alias("is_return"),
    )


def default_segments(transactions: pl.DataFrame, *, as_of: dt.date) -> pl.DataFrame:
    """Named RFM segments (customer_id, segment) as of a date.

    A tercile rule on recency (days since last purchase) and number of purchase days:
    Champions, Loyal, New, At risk, Hibernating and the catch-all Others.
    """
    per = (
        transactions.filter(pl.col("timestamp").cast(pl.Date) <= as_of)
        .group_by(pl.col("customer_id").cast(pl.String))
        .agg(
            (pl.lit(as_of) - pl.col("timestamp").max().cast(pl.Date))
            .dt.total_days()
            .alias("recency_days"),
            pl.col("timestamp").cast(pl.Date).n_unique().alias("purchase_days"),
        )
    )
    if per.height == 0:
        raise DataError(f"no transactions on or before {as_of}")
    r1, r2 = per["recency_days"].quantile(1 / 3), per["recency_days"].quantile(2 / 3)
    f1, f2 = per["purchase_days"].quantile(1 / 3), per["purchase_days"].quantile(2 / 3)
    rec, frq = pl.col("recency_days"), pl.col("purchase_days")
    seg = (
        pl.when((rec <= r1) & (frq >= f2))
        .then(pl.lit("Champions"))
        .when((frq >= f2) & (rec <= r2))
        .then(pl.lit("Loyal"))
        .when((frq == 1) & (rec <= r1))
        .then(pl.lit("New"))
        .when((rec > r2) & (frq > f1))
        .then(pl.lit("At risk"))
        .when((rec > r2) & (frq <= f1))
        .then(pl.lit("Hibernating"))
        .otherwise(pl.lit("Others"))
    )
    return per.select("customer_id", seg.alias("segment")).sort("customer_id")


BASIC_FEATURES = ("recency_days", "n_orders", "total_spend", "avg_order_value", "tenure_days")


def basic_features(transactions: pl.DataFrame, *, as_of: dt.date) -> pl.DataFrame:
    """Per-customer recency, orders, spend, order value and tenure (days) as of a date."""
    lines = transactions.filter(pl.col("timestamp").cast(pl.Date) <= as_of)
    ts = pl.col("timestamp").cast(pl.Date)
    per = lines.group_by(pl.col("customer_id").cast(pl.String)).agg(
        (pl.lit(as_of) - ts.max()).dt.total_days().alias("recency_days"),
        (pl.lit(as_of) - ts.min()).dt.total_days().alias("tenure_days"),
        pl.col("order_id").filter(pl.col("amount") > 0).n_unique().alias("n_orders"),
        pl.col("amount").sum().alias("total_spend"),
    )
    return per.with_columns(
        (pl.col("total_spend") / pl.max_horizontal(pl.col("n_orders"), 1)).alias("avg_order_value")
    ).sort("customer_id")
