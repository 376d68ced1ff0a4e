"""Every kind of source gives the same canonical table: CSV variants, Parquet, Excel, SQL."""

from __future__ import annotations

import datetime as dt
import gzip
import uuid
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import polars as pl
import pytest
import sqlalchemy as sa
from polars.testing import assert_frame_equal

from seglens.errors import DataError, UsageError
from seglens.io import load_table, load_transactions
from seglens.tables import ASSIGNMENTS, CUSTOMERS, LABELS

ROWS = [
    ("0012", "A1", "2024-01-05 10:00:00", 12.5),
    ("0012", "A2", "2024-02-01 09:30:00", 7.25),
    ("0345", "A3", "2024-02-03 17:45:00", 100.0),
]
CSV = "CustID,Invoice,OrderDate,Total\n" + "".join(f"{c},{o},{t},{a}\n" for c, o, t, a in ROWS)
MAPPING = "customer_id=CustID,order_id=Invoice,timestamp=OrderDate,amount=Total"


def expected() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": [r[0] for r in ROWS],
            "order_id": [r[1] for r in ROWS],
            "timestamp": [dt.datetime.fromisoformat(r[2]) for r in ROWS],
            "amount": [r[3] for r in ROWS],
        }
    )


def check(table: pl.DataFrame) -> None:
    assert_frame_equal(table.select("customer_id", "order_id", "timestamp", "amount"), expected())
    assert table["is_return"].to_list() == [False, False, False]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("plain.csv", CSV.encode()),
        ("semicolon.csv", CSV.replace(",", ";").encode()),
        ("tab.tsv", CSV.replace(",", "\t").encode()),
        ("bom.csv", b"\xef\xbb\xbf" + CSV.encode()),
        ("latin1.csv", CSV.encode("latin-1")),
        ("crlf.csv", CSV.replace("\n", "\r\n").encode()),
        ("zipped.csv.gz", gzip.compress(CSV.encode(), mtime=0)),
    ],
)
def test_csv_variants(tmp_path: Path, name: str, data: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    loaded = load_transactions(path, columns=MAPPING)
    check(loaded.table)
    assert loaded.mapping == dict(pair.split("=") for pair in MAPPING.split(","))


def test_recognised_names_need_no_mapping(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(CSV.replace("CustID", "Customer ID").replace("OrderDate", "Order Date"))
    loaded = load_transactions(path)
    check(loaded.table)
    assert {m.canonical: m.how for m in loaded.report.mapping} == {
        "customer_id": "recognised",
        "order_id": "recognised",
        "timestamp": "recognised",
        "amount": "recognised",
    }


def test_parquet_with_typed_columns(tmp_path: Path) -> None:
    frame = expected().rename(
        {
            "customer_id": "CustID",
            "order_id": "Invoice",
            "timestamp": "OrderDate",
            "amount": "Total",
        }
    )
    path = tmp_path / "t.parquet"
    frame.write_parquet(path)
    check(load_transactions(path, columns=MAPPING).table)


def test_polars_and_pandas_frames() -> None:
    pl_frame = pl.read_csv(CSV.encode(), infer_schema=False)
    check(load_transactions(pl_frame, columns=MAPPING).table)
    check(load_transactions(pl_frame.lazy(), columns=MAPPING).table)
    pd_frame = pd.read_csv(pd.io.common.StringIO(CSV), dtype={"CustID": str})
    check(load_transactions(pd_frame, columns=MAPPING).table)


def test_float_customer_ids_from_a_float_column() -> None:
    frame = pl.DataFrame(
        {
            "CustomerID": [17850.0, None, 13047.0],
            "InvoiceNo": ["1", "2", "3"],
            "InvoiceDate": ["2011-01-01"] * 3,
            "Amount": [1.0, 2.0, 3.0],
        }
    )
    loaded = load_transactions(frame)
    assert loaded.table["customer_id"].to_list() == ["17850", "13047"]
    assert loaded.report.rule("customer_id_decimal").rows == 2


def test_excel_one_sheet_and_all_sheets(tmp_path: Path) -> None:
    import openpyxl

    path = tmp_path / "book.xlsx"
    wb = openpyxl.Workbook()
    first = wb.active
    first.title = "Jan"
    first.append(["CustID", "Invoice", "OrderDate", "Total"])
    for c, o, t, a in ROWS[:2]:
        first.append([c, o, dt.datetime.fromisoformat(t), a])
    second = wb.create_sheet("Feb")
    second.append(["CustID", "Invoice", "OrderDate", "Total"])
    c, o, t, a = ROWS[2]
    second.append([c, o, dt.datetime.fromisoformat(t), a])
    wb.save(path)
    jan = load_transactions(path, columns=MAPPING)
    assert jan.table.height == 2
    assert jan.report.details["sheets"] == ["Jan"]
    feb = load_transactions(path, columns=MAPPING, sheet="Feb")
    assert feb.table["order_id"].to_list() == ["A3"]
    both = load_transactions(path, columns=MAPPING, sheet="*")
    check(both.table)
    assert both.report.details["sheets"] == ["Jan", "Feb"]
    with pytest.raises(DataError, match="no sheet named 'Mar'"):
        load_transactions(path, columns=MAPPING, sheet="Mar")


def _write_table(engine: sa.Engine, table: str, schema: str | None = None) -> None:
    frame = expected().rename(
        {
            "customer_id": "CustID",
            "order_id": "Invoice",
            "timestamp": "OrderDate",
            "amount": "Total",
        }
    )
    frame.to_pandas().to_sql(table, engine, schema=schema, index=False)


def test_sqlite_table_and_query(tmp_path: Path) -> None:
    db = tmp_path / "shop.db"
    url = f"sqlite:///{db}"
    engine = sa.create_engine(url)
    _write_table(engine, "orders")
    engine.dispose()
    check(load_transactions(url, table="orders", columns=MAPPING).table)
    loaded = load_transactions(
        url, query="SELECT * FROM orders WHERE Total > 10 ORDER BY Invoice", columns=MAPPING
    )
    assert loaded.table["order_id"].to_list() == ["A1", "A3"]
    with pytest.raises(DataError, match="no such table"):
        load_transactions(url, table="missing", columns=MAPPING)
    with pytest.raises(UsageError, match="exactly one of a table name or a query"):
        load_transactions(url, columns=MAPPING)


def _postgres_url() -> str:
    for user in ("postgres", "root"):
        url = f"postgresql+psycopg://{user}@127.0.0.1:5432/test"
        try:
            engine = sa.create_engine(url)
            with engine.connect():
                pass
            engine.dispose()
            return url
        except sa.exc.OperationalError:
            continue
    pytest.fail("PostgreSQL at 127.0.0.1:5432 (database test) is not reachable")


@pytest.fixture
def pg_schema() -> Iterator[tuple[str, str]]:
    url = _postgres_url()
    schema = f"seglens_io_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield url, schema
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.mark.postgres
def test_postgresql_table_and_query(pg_schema: tuple[str, str]) -> None:
    url, schema = pg_schema
    engine = sa.create_engine(url)
    _write_table(engine, "orders", schema=schema)
    with engine.begin() as conn:  # a NUMERIC and a timestamptz column, as real schemas have
        conn.execute(
            sa.text(
                f'CREATE TABLE "{schema}".typed AS SELECT "CustID", "Invoice", '
                f'("OrderDate" AT TIME ZONE \'UTC\')::timestamptz AS "OrderDate", '
                f'"Total"::numeric(12,2) AS "Total" FROM "{schema}".orders'
            )
        )
    engine.dispose()
    check(load_transactions(url, table=f"{schema}.orders", columns=MAPPING).table)
    check(load_transactions(url, table=f"{schema}.typed", columns=MAPPING).table)
    loaded = load_transactions(
        url, query=f'SELECT * FROM "{schema}".orders WHERE "CustID" = \'0345\'', columns=MAPPING
    )
    assert loaded.table["customer_id"].to_list() == ["0345"]
    assert "password" not in loaded.source


def test_bad_database_url() -> None:
    with pytest.raises(UsageError, match="not a usable database URL"):
        load_transactions("nosuchdialect://x/y", table="t")


def test_load_table_for_customers_labels_assignments(tmp_path: Path) -> None:
    customers = tmp_path / "customers.csv"
    customers.write_text("CustomerID,Age,Region\n0012,34,North\n0345,51,South\n0012,35,North\n")
    got = load_table(customers, CUSTOMERS)
    assert got.table.rows() == [("0012", 34.0, "North"), ("0345", 51.0, "South")]
    assert got.report.rule("duplicate_customer_id").rows == 1

    labels = tmp_path / "labels.csv"
    labels.write_text(
        "customer,segment,labeled_at,note\n0012,Champions,2024-03-01,called\n"
        ",Lost,2024-03-02,\n0345,At risk,,\n"
    )
    got = load_table(labels, LABELS)
    assert got.table["customer_id"].to_list() == ["0012", "0345"]
    assert got.table["labeled_at"].to_list() == [dt.datetime(2024, 3, 1), None]
    assert got.report.rule("missing_customer_id").rows == 1
    # an unreadable date is an error, never silently the import time (tests/io/test_io_real_files)
    labels.write_text(labels.read_text().replace("0345,At risk,,", "0345,At risk,not a date,"))
    with pytest.raises(DataError, match="not a readable date"):
        load_table(labels, LABELS)

    assignments = pl.DataFrame({"customer_id": ["1", "2"], "cluster": [0, 1]})
    got = load_table(assignments, ASSIGNMENTS, columns="segment=cluster")
    assert got.table.rows() == [("1", "0"), ("2", "1")]


def test_config_file_and_keywords(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(CSV)
    cfg = tmp_path / "seglens.toml"
    cfg.write_text(
        '[columns]\ncustomer_id = "CustID"\norder_id = "Invoice"\n'
        'timestamp = "OrderDate"\namount = "Total"\n'
        '[ingest]\nas_of = "2024-02-01"\n'
    )
    loaded = load_transactions(path, config=cfg)
    assert loaded.table.height == 2  # the 2024-02-03 line is after the as-of date
    assert loaded.report.rule("after_as_of").rows == 1
    assert {m.how for m in loaded.report.mapping} == {"config"}
    later = load_transactions(path, config=cfg, as_of="2024-12-31")  # keywords win
    assert later.table.height == 3
    cfg.write_text("[ingest]\nbogus = 1\n")
    with pytest.raises(UsageError, match="unknown ingest option 'bogus'"):
        load_transactions(path, config=cfg, columns=MAPPING)
