"""CRM export: conventions per format, formula-injection escaping, pseudonyms, round trips, DB."""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seglens.errors import DataError, UsageError
from seglens.export import crm
from seglens.export.crm import (
    escape_formula,
    export_segments,
    pseudonymize,
    read_export,
    unescape_formula,
)
from tests.postgres import PG_URL

AS_OF = dt.date(2024, 5, 31)
KEY = b"k" * 32

SEG = pl.DataFrame(
    {
        "customer_id": ["00017", "17850", "=2+5", "@SUM(A1)", "-3", 'Zoë, "quoted"\nline'],
        "segment": ["Champions", "At risk", "+cmd|' /C calc'!A0", "Ünïcödé ✓", "\tTab", "New"],
        "email": ["a@x.org", "b@x.org", "c@x.org", "d@x.org", "e@x.org", "f@x.org"],
        "clv": [120.5, 3.0, 0.0, -1.25, 9.0, 1e6],
    }
)


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Champions", "Champions"),
        ("a=b", "a=b"),
        ("'=x", "''=x"),
        ("'plain", "'plain"),
        ("''+1", "'''+1"),
        ("", ""),
        (None, None),
    ],
)
def test_escape_cases(raw: str | None, escaped: str | None) -> None:
    assert escape_formula(raw) == escaped
    assert unescape_formula(escaped) == raw


@settings(deadline=None)
@given(st.text())
def test_escape_round_trip_and_safe(value: str) -> None:
    out = escape_formula(value)
    assert out is not None
    assert not out.startswith(crm.FORMULA_START)
    assert unescape_formula(out) == value


@pytest.mark.parametrize("fmt", ["csv", "hubspot", "salesforce", "parquet"])
def test_round_trip_without_loss(tmp_path: Path, fmt: crm.Format) -> None:
    path = tmp_path / f"seg.{'parquet' if fmt == 'parquet' else 'csv'}"
    r = export_segments(SEG, path, format=fmt, as_of=AS_OF, extra_columns=["email"])
    assert r.rows == SEG.height
    back = read_export(path, format=fmt)
    assert back["customer_id"].to_list() == SEG["customer_id"].to_list()
    assert back["segment"].to_list() == SEG["segment"].to_list()
    assert back["email"].to_list() == SEG["email"].to_list()
    assert back["segment_date"].to_list() == [AS_OF] * SEG.height


@pytest.mark.parametrize("fmt", ["csv", "hubspot", "salesforce"])
def test_text_files_are_utf8_escaped_and_dated(tmp_path: Path, fmt: crm.Format) -> None:
    path = tmp_path / "seg.csv"
    r = export_segments(SEG, path, format=fmt, as_of=AS_OF, extra_columns=["clv"])
    raw = path.read_bytes().decode("utf-8")  # strict UTF-8
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    assert header[:3] == list(crm.HEADERS[fmt].values())[:3]
    cells = [c for row in body for c in row]
    # nothing a spreadsheet would run is left unescaped (numbers are numbers, not text)
    text_cells = [c for row in body for c in row[:2]]
    assert not [c for c in text_cells if c.startswith(crm.FORMULA_START)]
    assert r.escaped_cells == 5
    assert "2024-05-31" in cells
    assert "Ünïcödé ✓" in raw
    # numeric columns are written as numbers, unescaped
    assert "-1.25" in cells


def test_headers_per_crm(tmp_path: Path) -> None:
    export_segments(SEG, tmp_path / "h.csv", format="hubspot", as_of=AS_OF, extra_columns=["email"])
    export_segments(SEG, tmp_path / "s.csv", format="salesforce", as_of=AS_OF)
    h = pl.read_csv(tmp_path / "h.csv", infer_schema=False).columns
    s = pl.read_csv(tmp_path / "s.csv", infer_schema=False).columns
    assert h == ["seglens_customer_id", "seglens_segment", "seglens_segment_date", "Email"]
    assert s == ["Customer_ID__c", "Segment__c", "Segment_Date__c"]


def test_hubspot_splits_large_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crm, "HUBSPOT_MAX_ROWS", 4)
    r = export_segments(SEG, tmp_path / "h.csv", format="hubspot", as_of=AS_OF)
    assert [p.name for p in r.paths] == ["h-part1.csv", "h-part2.csv"]
    back = pl.concat([read_export(p, format="hubspot") for p in r.paths])
    assert back["customer_id"].to_list() == SEG["customer_id"].to_list()


def test_pseudonyms_keyed_and_stable(tmp_path: Path) -> None:
    r = export_segments(SEG, tmp_path / "p.csv", format="csv", as_of=AS_OF, pseudonym_key=KEY)
    assert r.pseudonymized
    back = read_export(tmp_path / "p.csv")
    ids = back["customer_id"].to_list()
    assert not set(ids) & set(SEG["customer_id"].to_list())
    assert ids == pseudonymize(SEG["customer_id"], KEY).to_list()
    other = pseudonymize(SEG["customer_id"], b"x" * 32).to_list()
    assert not set(ids) & set(other)
    import hashlib
    import hmac

    assert ids[1] == hmac.new(KEY, b"17850", hashlib.sha256).hexdigest()[:32]
    with pytest.raises(UsageError, match="too short"):
        pseudonymize(SEG["customer_id"], b"short")


def test_rejects_duplicates_and_missing(tmp_path: Path) -> None:
    dup = pl.DataFrame({"customer_id": ["1", "1"], "segment": ["a", "b"]})
    with pytest.raises(DataError, match="more than once"):
        export_segments(dup, tmp_path / "x.csv", as_of=AS_OF)
    with pytest.raises(DataError, match="no customer_id or segment"):
        export_segments(
            pl.DataFrame({"customer_id": ["1"], "segment": [None]}), tmp_path / "x.csv", as_of=AS_OF
        )
    with pytest.raises(UsageError, match="format"):
        export_segments(dup, tmp_path / "x.csv", format="xml")  # type: ignore[arg-type]


def _db_urls(tmp_path: Path) -> list[str]:
    return [f"sqlite:///{tmp_path / 'seg.db'}"]


def _check_db(url: str, table: str) -> None:
    seg2 = SEG.with_columns(pl.lit("Others").alias("segment"))
    export_segments(SEG, url, format="db", table=table, as_of=AS_OF, extra_columns=["clv"])
    engine = sa.create_engine(url)
    try:
        with engine.connect() as c:
            got = pl.read_database(f"SELECT * FROM {table} ORDER BY customer_id", c)
        assert sorted(got["customer_id"].to_list()) == sorted(SEG["customer_id"].to_list())
        assert set(got["segment"].to_list()) == set(SEG["segment"].to_list())
        # replace: the new rows, and nothing else
        export_segments(seg2, url, format="db", table=table, as_of=AS_OF, extra_columns=["clv"])
        with engine.connect() as c:
            n, segs = c.execute(sa.text(f"SELECT count(*), min(segment) FROM {table}")).one()
        assert (n, segs) == (SEG.height, "Others")
        # a failing write (incompatible columns) changes nothing: one transaction
        with pytest.raises(DataError, match="nothing was changed"):
            export_segments(
                SEG, url, format="db", table=table, as_of=AS_OF, extra_columns=["email"]
            )
        with engine.connect() as c:
            n, segs = c.execute(sa.text(f"SELECT count(*), min(segment) FROM {table}")).one()
        assert (n, segs) == (SEG.height, "Others")
        with pytest.raises(DataError, match="already has"):
            export_segments(SEG, url, format="db", table=table, if_exists="fail", as_of=AS_OF)
    finally:
        with engine.begin() as c:
            c.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
        engine.dispose()


def test_db_write_sqlite_transactional(tmp_path: Path) -> None:
    _check_db(f"sqlite:///{tmp_path / 'seg.db'}", "seglens_segments")


@pytest.mark.postgres
def test_db_write_postgres_transactional() -> None:
    _check_db(PG_URL, f"seglens_test_{uuid.uuid4().hex[:8]}")


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.text(min_size=1, max_size=12), st.text(min_size=1, max_size=12)),
        min_size=1,
        max_size=20,
        unique_by=lambda t: t[0],
    )
)
def test_csv_round_trip_property(tmp_path: Path, pairs: list[tuple[str, str]]) -> None:
    pairs = [(a.replace("\x00", "_"), b.replace("\x00", "_")) for a, b in pairs]
    frame = pl.DataFrame({"customer_id": [a for a, _ in pairs], "segment": [b for _, b in pairs]})
    if frame["customer_id"].is_duplicated().any():
        return
    path = tmp_path / "prop.csv"
    export_segments(frame, path, format="csv", as_of=AS_OF)
    back = read_export(path)
    assert back["customer_id"].to_list() == frame["customer_id"].to_list()
    assert back["segment"].to_list() == frame["segment"].to_list()
