"""Layouts (issue 19 item 3): every case of ``real_files_layouts.py`` gives the values it must
or the exact error (file, line, column, value, fix)."""

from __future__ import annotations

from pathlib import Path

import pytest

from seglens.errors import DataError
from seglens.io import load_table, load_transactions
from seglens.tables import LABELS

from .real_files import Case
from .real_files_layouts import EXCEL_CASES, SYNONYM_CASES, WHITESPACE_CASES

CASES = SYNONYM_CASES + WHITESPACE_CASES + EXCEL_CASES


def _load(case: Case, path: Path) -> object:
    if case.table == "labels":
        return load_table(path, LABELS, **case.options)
    return load_transactions(path, **case.options)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_layout_case(case: Case, tmp_path: Path) -> None:
    path = case.write(tmp_path)
    if case.error is None:
        loaded = _load(case, path)
        assert case.check is not None
        case.check(loaded)  # type: ignore[arg-type]
        return
    with pytest.raises(case.error) as info:
        _load(case, path)
    err = info.value
    assert type(err) is case.error
    message = str(err)
    for phrase in case.phrases:
        assert phrase in message, message
    assert "what to do:" in message
    if case.error is DataError:
        assert err.source == str(path)
    if case.lines is not None:
        assert list(err.lines)[: len(case.lines)] == list(case.lines), message
    if case.column is not None:
        assert err.column == case.column
    if case.values is not None:
        assert tuple(err.values)[: len(case.values)] == case.values
