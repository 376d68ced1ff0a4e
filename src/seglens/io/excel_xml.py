"""What openpyxl's fast read-only mode does not give: each sheet's hidden rows, merged ranges and
visibility, read straight from the workbook's XML parts (a regular-expression scan of the bytes,
so a large sheet costs one pass, not a parse into objects)."""

from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

__all__ = ["SheetLayout", "column_number", "sheet_layouts"]

_SHEET: Final = re.compile(rb"<(?:\w+:)?sheet\b([^>]*)/?>")
_REL: Final = re.compile(rb"<(?:\w+:)?Relationship\b([^>]*)/?>")
_ROW: Final = re.compile(rb"<(?:\w+:)?row\b([^>]*)>")
_MERGE: Final = re.compile(rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')
_ATTR: Final = re.compile(rb'([\w:]+)="([^"]*)"')


@dataclass
class SheetLayout:
    """One sheet's hidden rows (1-based), merged ranges and visibility."""

    hidden_rows: list[int] = field(default_factory=list)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    """``(first_column, first_row, last_column, last_row)``, 1-based, as ``A1:B3`` says."""
    state: str = "visible"
    """``visible``, ``hidden`` or ``veryHidden`` (only Excel's VBA editor can show it)."""


def column_number(letters: str) -> int:
    """``A`` -> 1, ``Z`` -> 26, ``AA`` -> 27.

    >>> column_number("A"), column_number("AB")
    (1, 28)
    """
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - ord("A") + 1
    return n


def _attrs(blob: bytes) -> dict[str, str]:
    return {k.decode().split(":")[-1]: v.decode() for k, v in _ATTR.findall(blob)}


def _parts(zf: zipfile.ZipFile) -> dict[str, tuple[str, str]]:
    """Sheet name -> (XML part inside the ZIP, visibility state)."""
    rels: dict[str, str] = {}
    for blob in _REL.findall(zf.read("xl/_rels/workbook.xml.rels")):
        a = _attrs(blob)
        target = a.get("Target", "")
        rels[a.get("Id", "")] = (
            target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
        )
    out: dict[str, tuple[str, str]] = {}
    for blob in _SHEET.findall(zf.read("xl/workbook.xml")):
        a = _attrs(blob)
        if "name" in a and a.get("id") in rels:
            out[_unescape(a["name"])] = (rels[a["id"]], a.get("state", "visible"))
    return out


def _unescape(text: str) -> str:
    for ent, ch in (("&lt;", "<"), ("&gt;", ">"), ("&quot;", '"'), ("&apos;", "'"), ("&amp;", "&")):
        text = text.replace(ent, ch)
    return text


def _scan(xml: bytes) -> SheetLayout:
    """Hidden rows and merged ranges; a sheet without either costs one substring search (the
    merged ranges follow the rows, so only the part after them is searched for those)."""
    out = SheetLayout()
    if b'hidden="' in xml:
        for blob in _ROW.findall(xml):
            if b"hidden=" in blob:
                a = _attrs(blob)
                if a.get("hidden") in ("1", "true") and a.get("r", "").isdigit():
                    out.hidden_rows.append(int(a["r"]))
    end = xml.rfind(b"sheetData>")
    for c1, r1, c2, r2 in _MERGE.findall(xml, max(end, 0)):
        out.merged.append(
            (column_number(c1.decode()), int(r1), column_number(c2.decode()), int(r2))
        )
    return out


def sheet_layouts(path: Path, names: list[str]) -> dict[str, SheetLayout]:
    """Hidden rows, merged ranges and visibility of the sheets ``names``; a workbook whose parts
    cannot be found this way gives empty layouts (openpyxl has read it, so nothing is lost but
    the report of them)."""
    with zipfile.ZipFile(path) as zf:
        try:
            parts = _parts(zf)
        except KeyError:
            return {n: SheetLayout() for n in names}
        out: dict[str, SheetLayout] = {}
        for n in names:
            part, state = parts.get(n, ("", "visible"))
            try:
                layout = _scan(zf.read(part)) if part else SheetLayout()
            except KeyError:
                layout = SheetLayout()
            layout.state = state
            out[n] = layout
    return out
