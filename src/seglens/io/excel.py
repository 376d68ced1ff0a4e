"""Excel workbooks (.xlsx / .xlsm) through openpyxl: one sheet or all sheets concatenated."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import polars as pl

from seglens.errors import DataError
from seglens.io.excel_xml import SheetLayout, sheet_layouts
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


HEAD_ROWS: Final = 30
"""Rows looked at to find the header below a block of notes."""


@dataclass
class SheetRead:
    """One sheet read: its rows, the header's row number, and what the report should say."""

    frame: pl.DataFrame
    header_row: int
    warnings: list[str] = field(default_factory=list)
    hidden_rows: int = 0
    merged_filled: int = 0


def _filled(value: object) -> bool:
    return value is not None and bool(str(value).strip())


def find_header(head: list[tuple[object, ...]]) -> int | None:
    """Index of the header among a sheet's first rows: the first row of two or more cells, all
    text, with at least half as many filled cells as the widest first row (so a block of notes
    above the table is passed over); else the first non-empty row; None for an empty sheet.

    >>> find_header([("Export of 2024-03-05",), (), ("Kunde", "Datum", "Betrag"), (1, "x", 2.5)])
    2
    """
    counts = [sum(_filled(v) for v in row) for row in head]
    if not any(counts):
        return None
    need = max(2, max(counts) / 2)
    for i, row in enumerate(head):
        cells = [v for v in row if _filled(v)]
        if len(cells) >= need and all(isinstance(v, str) for v in cells):
            return i
    return next(i for i, n in enumerate(counts) if n)


def _names(header: tuple[object, ...]) -> list[str]:
    names: list[str] = []
    for i, h in enumerate(header):
        base = _cell_text(h) or f"column_{i + 1}"
        name, n = base, 1
        while name in names:
            name, n = f"{base}_{n}", n + 1
        names.append(name)
    return names


def _letters(column: int) -> str:
    out = ""
    while column:
        column, rest = divmod(column - 1, 26)
        out = chr(ord("A") + rest) + out
    return out


def _fill_merged(
    data: list[list[object]], layout: SheetLayout, header_row: int, sheet: str, path: Path
) -> list[str]:
    """Fill each vertically merged range below the header with its top value (what Excel shows);
    refuse a merge across columns or joining the header with data rows (no rule says which
    cell its value belongs to). Merges above the header (titles, notes) are ignored. Returns
    the ranges filled."""
    filled: list[str] = []
    for c1, r1, c2, r2 in layout.merged:
        if r2 <= header_row:
            continue
        ref = f"{_letters(c1)}{r1}:{_letters(c2)}{r2}"
        if r1 <= header_row or c1 != c2:
            what = "join the header with data rows" if r1 <= header_row else "span columns"
            raise DataError(
                f"merged cells {ref} in sheet {sheet!r} {what}: seglens cannot tell which "
                "cell their value belongs to",
                source=str(path),
                lines=(max(r1, header_row + 1),),
                values=(ref,),
                hint="unmerge them in Excel (Home > Merge & Center > Unmerge Cells), give "
                "each cell its own value, and save again",
            )
        if c1 > len(data):
            continue
        col, top = data[c1 - 1], r1 - header_row - 1
        for i in range(top + 1, min(r2 - header_row, len(col))):
            if col[i] is None:
                col[i] = col[top]
        filled.append(ref)
    return filled


def _merged_note(filled: list[str], sheet: str) -> list[str]:
    if not filled:
        return []
    shown = ", ".join(filled[:5]) + (", ..." if len(filled) > 5 else "")
    return [
        f"{len(filled):,} merged range(s) in sheet {sheet!r} ({shown}) were filled: every "
        "cell of a range merged down a column reads as its top cell's value, as Excel shows it"
    ]


def _hidden_note(rows: list[int], sheet: str) -> list[str]:
    if not rows:
        return []
    shown = ", ".join(map(str, rows[:10])) + (", ..." if len(rows) > 10 else "")
    return [
        f"{len(rows):,} hidden row(s) in sheet {sheet!r} (rows {shown}) were loaded like the "
        "others: Excel hides rows (a filter, or by hand) without removing them, and a CSV saved "
        "from Excel keeps them too; delete those rows in Excel if they should not count"
    ]


def _notes_note(head: list[tuple[object, ...]], idx: int, sheet: str) -> list[str]:
    notes = [i + 1 for i, row in enumerate(head[:idx]) if any(_filled(v) for v in row)]
    if not notes:
        return []
    first = next(_cell_text(v) for v in head[notes[0] - 1] if _filled(v))
    return [
        f"sheet {sheet!r}: rows {notes[0]}-{idx} above the header (row {idx + 1}) were read as "
        f"notes, not data (first: {first!r})"
    ]


def _sheet_frame(ws: Any, sheet: str, path: Path, layout: SheetLayout) -> SheetRead:
    """Rows of one sheet as a frame: the header found below any notes, merged ranges filled,
    hidden rows counted (and loaded)."""
    rows = ws.iter_rows(values_only=True)
    head = list(itertools.islice(rows, HEAD_ROWS))
    idx = find_header(head)
    if idx is None:
        return SheetRead(pl.DataFrame(), 0)
    header_row, names = idx + 1, _names(head[idx])
    data: list[list[object]] = [[] for _ in names]
    for row in itertools.chain(head[idx + 1 :], rows):
        for i, col in enumerate(data):
            col.append(row[i] if i < len(row) else None)
    warnings = _notes_note(head, idx, sheet)
    filled = _fill_merged(data, layout, header_row, sheet, path)
    warnings += _merged_note(filled, sheet)
    # trailing empty rows are formatting, not data
    while data and data[0] and all(col[-1] is None for col in data):
        for col in data:
            col.pop()
    n_rows = len(data[0]) if data else 0
    hidden = [r for r in layout.hidden_rows if header_row < r <= header_row + n_rows]
    warnings += _hidden_note(hidden, sheet)
    frame = pl.DataFrame([_column(n, v) for n, v in zip(names, data, strict=True)])
    return SheetRead(frame, header_row, warnings, len(hidden), len(filled))


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


def _choose(names: list[str], sheet: str | int | None, path: Path) -> list[str]:
    """The sheets to read: the one named or numbered, every one for ``"*"``, else the first."""
    if sheet is None:
        return names[:1]
    if sheet == ALL_SHEETS:
        return names
    if isinstance(sheet, int) or (isinstance(sheet, str) and sheet.isdigit()):
        idx = int(sheet)
        if not 0 <= idx < len(names):
            raise DataError(
                f"the workbook has {len(names)} sheet(s); index {idx} does not exist",
                source=str(path),
                hint=f"choose one of {names} (by name or 0-based index), or '*' for all",
            )
        return [names[idx]]
    if sheet in names:
        return [sheet]
    raise DataError(
        f"the workbook has no sheet named {sheet!r}",
        source=str(path),
        hint=f"choose one of {names}, or '*' for all sheets",
    )


def _describe(ws: Any, name: str, state: str) -> tuple[bool, str]:
    """Whether a sheet holds a table (a header of two or more names and a row below it), and a
    few words saying what it holds."""
    head = list(itertools.islice(ws.iter_rows(values_only=True), HEAD_ROWS + 1))
    idx = find_header(head)
    hidden = f", {state}" if state != "visible" else ""
    if idx is None:
        return False, f"{name!r} (empty{hidden})"
    header = [_cell_text(v) for v in head[idx] if _filled(v)]
    below = any(any(_filled(v) for v in row) for row in head[idx + 1 :])
    if len(header) < 2 or not below:
        lines = sum(any(_filled(v) for v in row) for row in head)
        return False, f"{name!r} (no table: {lines} line(s) of text{hidden})"
    cols = ", ".join(str(h) for h in header[:4]) + (", ..." if len(header) > 4 else "")
    rows = f", about {ws.max_row - idx - 1:,} rows" if isinstance(ws.max_row, int) else ""
    return True, f"{name!r} ({len(header)} columns: {cols}{rows}{hidden})"


def _sheet_choice(wb: Any, names: list[str], path: Path, states: dict[str, str]) -> list[str]:
    """With several sheets and none chosen: refuse when the first holds no table (naming the
    sheets and which to pick), else say which sheet was read and which others there are."""
    if len(names) < 2:
        return []
    described = [_describe(wb[n], n, states.get(n, "visible")) for n in names[:20]]
    listing = "; ".join(text for _, text in described)
    if not described[0][0]:
        pick = next((i for i, (ok, _) in enumerate(described) if ok), None)
        hint = (
            f"choose the sheet with --sheet {names[pick]!r} (or --sheet {pick}), "
            if pick is not None
            else "choose the sheet that holds the table with --sheet NAME, "
        )
        raise DataError(
            f"the first sheet, {names[0]!r}, holds no table (notes first?); the workbook's "
            f"sheets: {listing}",
            source=str(path),
            hint=hint + "or --sheet '*' to read every sheet",
        )
    return [
        f"the workbook has {len(names)} sheets and the first, {names[0]!r}, was read; all: "
        f"{listing}; choose another with --sheet NAME, or --sheet '*' for every sheet"
    ]


def read_excel_file(path: Path, *, sheet: str | int | None) -> RawSource:
    """Read one sheet (name or 0-based index; default the first) or all sheets (``"*"``).

    The header is found below a block of notes; ranges merged down a column are filled with
    their top value and other merges in the table refused; hidden rows are loaded and counted;
    a first sheet without a table is refused, listing the sheets (see docs/ingestion.md).
    """
    wb = _open(path, data_only=True)
    warn: list[str] = []
    counts: dict[str, dict[str, int]] = {}
    """Per detail (hidden_rows, merged_filled, header_row), per sheet, when not zero / 1."""
    try:
        names = list(wb.sheetnames)
        chosen = _choose(names, sheet, path)
        layouts = sheet_layouts(path, names)
        if sheet is None:
            warn += _sheet_choice(wb, names, path, {n: v.state for n, v in layouts.items()})
        frames: list[pl.DataFrame] = []
        for s in chosen:
            if sheet == ALL_SHEETS and not _describe(wb[s], s, layouts[s].state)[0]:
                warn.append(f"sheet {s!r} holds no table and was not read")
                continue
            read = _sheet_frame(wb[s], s, path, layouts[s])
            warn += read.warnings
            for key, value in (
                ("hidden_rows", read.hidden_rows),
                ("merged_filled", read.merged_filled),
                ("header_row", read.header_row if read.header_row > 1 else 0),
            ):
                if value:
                    counts.setdefault(key, {})[s] = value
            if read.frame.width == 0:
                continue
            frames.append(
                read.frame.with_columns(
                    (pl.int_range(pl.len(), dtype=pl.Int64) + read.header_row - 1).alias(ROW),
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
        details={"sheets": chosen, **counts},
        warnings=warn,
        row_is_position=False,
    )
