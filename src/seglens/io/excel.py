"""Excel workbooks (.xlsx / .xlsm) through openpyxl: one sheet or all sheets concatenated."""

from __future__ import annotations

import datetime as dt
import io
import warnings
import zipfile
from pathlib import Path
from typing import Any

import polars as pl

from seglens.errors import DataError
from seglens.io.sources_base import ROW, SHEET, RawSource

__all__ = ["read_excel_file"]

ALL_SHEETS = "*"


def _open(path: Path, *, data_only: bool) -> Any:
    import openpyxl

    if not zipfile.is_zipfile(path):
        raise DataError(
            "the file is not a readable Excel workbook (it is not a ZIP container)",
            source=str(path),
            hint="open it in Excel and save it again as .xlsx, or export the sheet as CSV",
        )
    with zipfile.ZipFile(path) as zf:
        if "[Content_Types].xml" not in zf.namelist():
            raise DataError(
                "this is a ZIP archive, not an Excel workbook",
                source=str(path),
                hint=f"extract the data file from it ({', '.join(zf.namelist()[:3])}) and "
                "load that",
            )
    with warnings.catch_warnings():
        # openpyxl warns about styles / data validation it ignores; not the user's concern.
        warnings.simplefilter("ignore")
        try:
            # a file object, so workbooks saved under another extension are read as well
            return openpyxl.load_workbook(
                io.BytesIO(path.read_bytes()), read_only=True, data_only=data_only
            )
        except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as err:
            raise DataError(
                f"the file is not a readable Excel workbook ({type(err).__name__}: {err})",
                source=str(path),
                hint="open it in Excel and save it again as .xlsx, or export the sheet as CSV",
            ) from None
        except Exception as err:  # openpyxl raises its own InvalidFileException and others
            raise DataError(
                f"the file is not a readable Excel workbook ({type(err).__name__}: {err})",
                source=str(path),
                hint="open it in Excel and save it again as .xlsx, or export the sheet as CSV",
            ) from None


def _cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value)
    return text if text.strip() else None


def _column(name: str, values: list[object]) -> pl.Series:
    """A typed column when every cell agrees on a type, else text as written."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, dt.datetime) for v in present):
        return pl.Series(name, values, dtype=pl.Datetime("us"))
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        floats = [None if v is None else float(v) for v in values]  # type: ignore[arg-type]
        return pl.Series(name, floats, pl.Float64)
    return pl.Series(name, [_cell_text(v) for v in values], dtype=pl.String)


def _sheet_frame(ws: Any, sheet: str, path: Path) -> tuple[pl.DataFrame, int]:
    """Rows of one sheet as a frame (header = first non-empty row); also the header's row number."""
    rows = ws.iter_rows(values_only=True)
    header: tuple[object, ...] | None = None
    header_row = 0
    for header_row, row in enumerate(rows, start=1):  # noqa: B007
        if any(v is not None and str(v).strip() for v in row):
            header = row
            break
    if header is None:
        return pl.DataFrame(), 0
    names: list[str] = []
    for i, h in enumerate(header):
        base = _cell_text(h) or f"column_{i + 1}"
        name, n = base, 1
        while name in names:
            name, n = f"{base}_{n}", n + 1
        names.append(name)
    data: list[list[object]] = [[] for _ in names]
    for row in rows:
        if not any(v is not None for v in row):
            for col in data:
                col.append(None)
            continue
        for i in range(len(names)):
            data[i].append(row[i] if i < len(row) else None)
    # trailing empty rows are formatting, not data
    while data and data[0] and all(col[-1] is None for col in data):
        for col in data:
            col.pop()
    frame = pl.DataFrame([_column(n, v) for n, v in zip(names, data, strict=True)])
    return frame, header_row


def _formula_cells(path: Path, sheets: list[str]) -> int:
    """How many cells hold a formula (read without cached values)."""
    wb = _open(path, data_only=False)
    try:
        count = 0
        for s in sheets:
            for row in wb[s].iter_rows(values_only=True):
                count += sum(1 for v in row if isinstance(v, str) and v.startswith("="))
        return count
    finally:
        wb.close()


def read_excel_file(path: Path, *, sheet: str | int | None) -> RawSource:
    """Read one sheet (name or 0-based index; default the first) or all sheets (``"*"``)."""
    wb = _open(path, data_only=True)
    try:
        names = list(wb.sheetnames)
        if sheet is None:
            chosen = names[:1]
        elif sheet == ALL_SHEETS:
            chosen = names
        elif isinstance(sheet, int) or (isinstance(sheet, str) and sheet.isdigit()):
            idx = int(sheet)
            if not 0 <= idx < len(names):
                raise DataError(
                    f"the workbook has {len(names)} sheet(s); index {idx} does not exist",
                    source=str(path),
                    hint=f"choose one of {names} (by name or 0-based index), or '*' for all",
                )
            chosen = [names[idx]]
        elif sheet in names:
            chosen = [sheet]
        else:
            raise DataError(
                f"the workbook has no sheet named {sheet!r}",
                source=str(path),
                hint=f"choose one of {names}, or '*' for all sheets",
            )
        frames: list[pl.DataFrame] = []
        for s in chosen:
            frame, header_row = _sheet_frame(wb[s], s, path)
            if frame.width == 0:
                continue
            frames.append(
                frame.with_columns(
                    (pl.int_range(pl.len(), dtype=pl.Int64) + header_row - 1).alias(ROW),
                    pl.lit(s).alias(SHEET),
                )
            )
    finally:
        wb.close()
    if not frames:
        raise DataError(
            "the workbook has no data (every chosen sheet is empty)",
            source=str(path),
            hint="choose the sheet that holds the transactions with --sheet",
        )
    combined = pl.concat(frames, how="diagonal_relaxed")
    warn: list[str] = []
    # Empty cells in a sheet with formulas may be formulas Excel never calculated.
    if combined.select(pl.exclude(ROW, SHEET).null_count()).sum_horizontal().item():
        n = _formula_cells(path, chosen)
        if n:
            warn.append(
                f"{n} cell(s) hold formulas; their last calculated values were used, and "
                "formulas never calculated (files written by scripts) read as empty — open "
                "and save the file in Excel to store the results"
            )
    return RawSource(
        frame=combined.lazy(),
        name=str(path),
        format="excel",
        first_line=2,
        text=False,
        details={"sheets": chosen},
        warnings=warn,
        row_is_position=False,
    )
