"""Read a labels spreadsheet (CSV, TSV, XLSX, Parquet) into the canonical LABELS table.

Uses :func:`seglens.io.load_table` (encoding/delimiter sniffing, column recognition, cleaning
report) when the ingestion package is installed; otherwise a plain reader that accepts the
canonical column names (any case) and an explicit mapping.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from seglens.errors import DataError, UsageError
from seglens.tables import LABELS

__all__ = ["LabelsFile", "parse_columns", "read_labels_file"]

log = logging.getLogger(__name__)


@dataclass
class LabelsFile:
    """A labels file read into canonical columns, with line numbers and a cleaning report."""

    table: pl.DataFrame
    lines: list[int]
    report: dict[str, Any]


def parse_columns(text: str | None) -> dict[str, str]:
    """Parse ``canonical=source,...`` into ``{canonical: source}``.

    Examples
    --------
    >>> parse_columns("customer_id=Kunde, segment=Segment")
    {'customer_id': 'Kunde', 'segment': 'Segment'}
    """
    mapping: dict[str, str] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        canonical, sep, source = part.partition("=")
        if not sep or not canonical.strip() or not source.strip():
            raise UsageError(
                f"malformed column mapping {part.strip()!r}", hint="write canonical=source,..."
            )
        mapping[canonical.strip()] = source.strip()
    unknown = set(mapping) - set(LABELS.names)
    if unknown:
        raise UsageError(
            f"unknown label column(s) {sorted(unknown)}", hint=f"labels have {list(LABELS.names)}"
        )
    return mapping


def _read_raw(path: Path) -> pl.DataFrame:
    suffix = "".join(path.suffixes[-2:]).lower()
    if suffix.endswith((".xlsx", ".xlsm")):
        return pl.read_excel(path, engine="openpyxl", infer_schema_length=0)
    if suffix.endswith(".parquet"):
        return pl.read_parquet(path)
    sep = "\t" if suffix.endswith((".tsv", ".tsv.gz")) else ","
    return pl.read_csv(path, separator=sep, infer_schema=False)


def _fallback(path: Path, mapping: dict[str, str]) -> LabelsFile:
    try:
        raw = _read_raw(path)
    except (OSError, pl.exceptions.PolarsError, ValueError) as err:
        raise DataError(f"cannot read the labels file: {err}", source=str(path)) from err
    by_lower = {c.strip().lower(): c for c in raw.columns}
    chosen: dict[str, str] = {}
    for name in LABELS.names:
        src = mapping.get(name) or by_lower.get(name)
        if src is None:
            continue
        if src not in raw.columns:
            raise DataError(
                f"column {src!r} (mapped to {name}) is not in the file",
                source=str(path),
                hint=f"the file has {raw.columns}",
            )
        chosen[name] = src
    missing = [c for c in LABELS.required if c not in chosen]
    if missing:
        raise DataError(
            f"no column for {missing}",
            source=str(path),
            hint="name the columns with --columns customer_id=...,segment=...",
        )
    exprs = []
    for name, src in chosen.items():
        col = pl.col(src).cast(pl.String).str.strip_chars()
        if name == "labeled_at":
            col = col.str.to_datetime(strict=False, time_unit="us")
        exprs.append(col.alias(name))
    table = raw.select(exprs)
    report = {"reader": "seglens.store.files", "mapping": chosen, "rows": raw.height}
    return LabelsFile(table=table, lines=list(range(2, raw.height + 2)), report=report)


def read_labels_file(path: Path, *, columns: dict[str, str] | None = None) -> LabelsFile:
    """Read a labels file; ``columns`` maps canonical names to the file's column names."""
    if not path.is_file():
        raise DataError("the labels file does not exist", source=str(path))
    try:
        io: Any = importlib.import_module("seglens.io")
        load_table = io.load_table
    except (ImportError, AttributeError):
        return _fallback(path, columns or {})
    loaded = load_table(path, LABELS, columns=columns or None)
    table: pl.DataFrame = loaded.table
    report: dict[str, Any] = loaded.report.to_dict()
    lines = list(range(2, table.height + 2))
    return LabelsFile(table=table, lines=lines, report=report)
