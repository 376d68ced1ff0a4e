"""Read a labels spreadsheet (CSV, TSV, XLSX, Parquet, a SQL table) into the canonical LABELS table.

Reading, column recognition and cleaning are :func:`seglens.io.load_table`'s; this module only
adapts its result for :func:`seglens.store.store_labels`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from seglens.io import load_table
from seglens.io.sources import check_file
from seglens.tables import LABELS

__all__ = ["LabelsFile", "read_labels_file"]


@dataclass
class LabelsFile:
    """A labels file read into canonical columns, with its cleaning report.

    ``lines`` holds the file's line (or sheet row) number of each row of ``table``: rows the
    loader excluded leave gaps, so problems found later are reported where they are in the file.
    """

    table: pl.DataFrame
    report: dict[str, Any]
    mapping: dict[str, str]
    lines: list[int] | None = None


def read_labels_file(path: Path, *, columns: str | None = None) -> LabelsFile:
    """Read a labels file; ``columns`` maps canonical names to the file's (``a=b,...``).

    Rows without a customer id are excluded and counted in the report by the loader.
    """
    check_file(path)  # missing, a folder, a pipe or a device: a clear error, nothing opened
    loaded = load_table(path, LABELS, columns=columns or None)
    lines = loaded.lines.to_list() if loaded.lines is not None else None
    return LabelsFile(
        table=loaded.table, report=loaded.report.to_dict(), mapping=loaded.mapping, lines=lines
    )
