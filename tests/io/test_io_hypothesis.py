"""Property: random rows never crash the loader — only a clean report or a DataError."""

from __future__ import annotations

import csv
import io
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seglens.errors import DataError
from seglens.io import LoadedTable, load_transactions

HEADER = ["customer_id", "order_id", "timestamp", "amount", "product_id"]

cell = st.one_of(
    st.text(max_size=12),
    st.integers(-(10**12), 10**12).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.dates().map(str),
    st.datetimes().map(lambda d: d.strftime("%d/%m/%Y %H:%M")),
    st.sampled_from(["", "NaN", "NULL", "=1+1", "@SUM(A1)", "C536379", "17850.0", "0012"]),
)
rows = st.lists(st.lists(cell, min_size=0, max_size=7), min_size=0, max_size=25)


def _check(loaded: LoadedTable) -> None:
    report = loaded.report
    assert report.rows_kept == loaded.table.height
    assert report.rows_read - report.rows_kept == sum(r.rows_excluded for r in report.rules)
    assert loaded.table.columns[:4] == ["customer_id", "order_id", "timestamp", "amount"]
    assert loaded.table["customer_id"].null_count() == 0
    report.to_dict()


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=rows, delimiter=st.sampled_from([",", ";", "\t"]))
def test_random_csv_rows(rows: list[list[str]], delimiter: str) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter)
    writer.writerow(HEADER)
    writer.writerows(rows)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        path.write_text(buf.getvalue(), encoding="utf-8")
        try:
            loaded = load_transactions(path)
        except DataError as err:
            assert str(err)
            return
        _check(loaded)


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=2000), header=st.booleans())
def test_random_bytes(data: bytes, header: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "t.csv"
        path.write_bytes((",".join(HEADER) + "\n").encode() * header + data)
        try:
            _check(load_transactions(path))
        except DataError as err:
            assert str(err)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(cell, cell, cell, cell), min_size=1, max_size=20))
def test_random_frames(rows: list[tuple[str, str, str, str]]) -> None:
    frame = pl.DataFrame(rows, schema=HEADER[:4], orient="row")
    try:
        _check(load_transactions(frame))
    except DataError as err:
        assert str(err)
