"""Join a customers table onto features: numbers kept, categories one-hot, gaps reported."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import polars as pl

from seglens.errors import DataError

__all__ = ["DemographicsReport", "join_demographics"]

MAX_LEVELS = 30
"""Most one-hot columns per categorical column; rarer levels share ``<column>_other``."""


@dataclass
class DemographicsReport:
    """What joining the customers table did.

    Attributes
    ----------
    numeric
        Columns kept as numbers (Float64; booleans become 0/1).
    encoded
        Categorical column -> the one-hot columns made from it.
    dropped
        Columns that could not be used (e.g. dates, nested values) with the reason.
    missing
        Column -> number of featured customers with no value (a missing category is all zeros).
    without_row
        Featured customers absent from the customers table.
    """

    numeric: list[str] = field(default_factory=list)
    encoded: dict[str, list[str]] = field(default_factory=dict)
    dropped: dict[str, str] = field(default_factory=dict)
    missing: dict[str, int] = field(default_factory=dict)
    without_row: int = 0


def _slug(value: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", value.lower()).strip("_") or "blank"


def _as_polars(customers: object) -> pl.DataFrame:
    from seglens.features._input import _to_polars

    if isinstance(customers, pl.DataFrame):
        return customers
    return _to_polars(customers).collect()


def _one_hot(frame: pl.DataFrame, name: str, taken: set[str]) -> tuple[list[pl.Expr], list[str]]:
    values = frame.get_column(name).cast(pl.String)
    counts = values.drop_nulls().value_counts(sort=True)
    levels = counts.get_column(name).to_list()
    kept, rest = levels[:MAX_LEVELS], levels[MAX_LEVELS:]
    exprs: list[pl.Expr] = []
    names: list[str] = []
    col = pl.col(name).cast(pl.String)
    for level in sorted(kept):
        out, k = f"{name}_{_slug(level)}", 2
        while out in taken:
            out, k = f"{name}_{_slug(level)}_{k}", k + 1
        taken.add(out)
        names.append(out)
        exprs.append((col == level).fill_null(False).cast(pl.Int8).alias(out))
    if rest:
        out = f"{name}_other"
        taken.add(out)
        names.append(out)
        exprs.append(col.is_in(rest).fill_null(False).cast(pl.Int8).alias(out))
    return exprs, names


def join_demographics(
    features: pl.DataFrame, customers: object
) -> tuple[pl.DataFrame, DemographicsReport]:
    """Left-join ``customers`` onto ``features`` by ``customer_id`` and encode its columns.

    Numeric columns become Float64 (booleans 0/1); string/categorical columns become one Int8
    column per level (``<column>_<level>``, at most :data:`MAX_LEVELS`, rarer ones in
    ``<column>_other``); other types are dropped and reported. A demographic column whose name
    clashes with a feature gets the prefix ``demo_``. Missing values stay missing (null) and are
    counted in the report.

    Examples
    --------
    >>> f = pl.DataFrame({"customer_id": ["a", "b"], "n_orders": [1, 2]})
    >>> c = pl.DataFrame({"customer_id": ["a"], "age": [40], "gender": ["F"]})
    >>> out, rep = join_demographics(f, c)
    >>> out.columns, rep.without_row, rep.missing
    (['customer_id', 'n_orders', 'age', 'gender_f'], 1, {'age': 1, 'gender': 1})
    """
    table = _as_polars(customers)
    if "customer_id" not in table.columns:
        raise DataError(
            "the customers table has no customer_id column",
            values=table.columns[:20],
            hint="rename the identifier column to customer_id",
        )
    table = table.with_columns(pl.col("customer_id").cast(pl.String))
    dupes = table.filter(pl.col("customer_id").is_duplicated()).get_column("customer_id")
    if len(dupes):
        raise DataError(
            "the customers table has more than one row for some customers",
            column="customer_id",
            values=dupes.unique(maintain_order=True).head(10).to_list(),
            hint="keep one row per customer",
        )
    report = DemographicsReport()
    taken = set(features.columns)
    exprs: list[pl.Expr] = [pl.col("customer_id")]
    for name, dtype in table.schema.items():
        if name == "customer_id":
            continue
        out = f"demo_{name}" if name in taken else name
        if dtype.is_numeric() or dtype == pl.Boolean:
            taken.add(out)
            report.numeric.append(out)
            exprs.append(pl.col(name).cast(pl.Float64).alias(out))
        elif dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
            one_hot, names = _one_hot(table, name, taken)
            report.encoded[name] = names
            exprs += one_hot
        else:
            report.dropped[name] = f"type {dtype} is neither numeric nor categorical"
    encoded = table.select(exprs)
    joined = features.join(
        encoded.with_columns(pl.lit(True).alias("__seglens_has_row")), on="customer_id", how="left"
    )
    report.without_row = int(joined.get_column("__seglens_has_row").null_count())
    joined_raw = features.select("customer_id").join(table, on="customer_id", how="left")
    for name in table.columns:
        if name != "customer_id" and name not in report.dropped:
            n = int(joined_raw.get_column(name).null_count())
            if n:
                report.missing[name] = n
    return joined.drop("__seglens_has_row"), report
