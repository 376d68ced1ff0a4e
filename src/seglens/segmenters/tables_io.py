"""Reading feature tables and writing segment assignments (CSV or Parquet)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from seglens.errors import DataError
from seglens.io.atomic import atomic_path
from seglens.segmenters._tabular import ID_COLUMN

__all__ = ["read_feature_table", "write_assignments"]

_PARQUET = (".parquet", ".pq")
_CSV = (".csv", ".csv.gz", ".tsv", ".txt")


def _kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith(_PARQUET):
        return "parquet"
    if name.endswith(_CSV):
        return "csv"
    raise DataError(
        "unsupported file type", source=str(path), hint="use a .csv, .csv.gz or .parquet file"
    )


def read_feature_table(path: str | Path, *, id_column: str = ID_COLUMN) -> pl.DataFrame:
    """A feature table (one row per customer) from CSV or Parquet; the id is read as text.

    Raises :class:`DataError` when the file is missing, unreadable, lacks ``id_column`` or
    repeats a customer id.
    """
    p = Path(path)
    if not p.exists():
        raise DataError("file not found", source=str(p))
    try:
        if _kind(p) == "parquet":
            df = pl.read_parquet(p)
        else:
            sep = "\t" if p.name.lower().endswith(".tsv") else ","
            df = pl.read_csv(
                p,
                separator=sep,
                schema_overrides={id_column: pl.String},
                infer_schema_length=10_000,
            )
    except (pl.exceptions.PolarsError, OSError) as err:
        raise DataError(f"cannot read the table: {err}", source=str(p)) from None
    if id_column not in df.columns:
        raise DataError(
            f"the table has no {id_column!r} column",
            source=str(p),
            column=id_column,
            hint=f"columns are: {', '.join(df.columns[:15])}; pass --id-column NAME",
        )
    df = df.with_columns(pl.col(id_column).cast(pl.String))
    dupes = df.filter(pl.col(id_column).is_duplicated())
    if dupes.height:
        first = dupes.get_column(id_column).unique(maintain_order=True).head(5).to_list()
        raise DataError(
            f"{dupes.height} rows repeat a customer id (a feature table has one row per customer)",
            source=str(p),
            column=id_column,
            values=tuple(first),
            hint=f"first repeated ids: {', '.join(first)}",
        )
    return df


def write_assignments(df: pl.DataFrame, path: str | Path) -> Path:
    """Write segment assignments to Parquet or CSV (chosen by the file extension).

    The write is atomic (:func:`seglens.io.atomic.atomic_path`): a failure leaves an earlier
    file at ``path`` unchanged; a missing folder is a :class:`~seglens.errors.UsageError`.
    """
    p = Path(path)
    kind = _kind(p)
    with atomic_path(p) as tmp:
        if kind == "parquet":
            df.write_parquet(tmp)
        else:
            df.write_csv(tmp)
    return p
