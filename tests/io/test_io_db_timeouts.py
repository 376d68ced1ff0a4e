"""Databases that never answer, statements that run too long, values a database refuses
(issue 19, item 6): every database path seglens reads or writes ends with a clear error naming
the database (password hidden), the limit and how to raise it — never a hang or a traceback —
and a refused value is named (row, column, value) with nothing half-written."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from seglens.cli import app
from seglens.db_guard import DbTimeouts, db_timeouts, use_db_timeouts
from seglens.errors import DataError, UsageError
from seglens.export import export_segments
from seglens.io import load_transactions
from seglens.store import KpiRecord, list_runs, open_store, record_kpi, record_run
from tests.postgres import fresh_schema, pg_schema_url

HINT_CONNECT = (
    "what to do: check that the server is running and reachable at that address; raise it "
    "with `seglens --db-connect-timeout SECONDS <command> ...` or "
    "SEGLENS_DB_CONNECT_TIMEOUT=SECONDS"
)


@pytest.fixture(scope="module")
def silent_port() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that accepts every connection and never sends a byte."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                return
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    server.close()
    for conn in held:
        conn.close()


def _url(port: int) -> str:
    return f"postgresql+psycopg://seglens:s3cret@127.0.0.1:{port}/crm"


def _hidden(port: int) -> str:
    return f"postgresql+psycopg://seglens:***@127.0.0.1:{port}/crm"


@pytest.fixture
def segments_csv(tmp_path: Path) -> Path:
    path = tmp_path / "segments.csv"
    pl.DataFrame({"customer_id": ["C1", "C2"], "segment": ["A", "B"]}).write_csv(path)
    return path


@pytest.mark.parametrize(
    ("command", "what"),
    [
        (["history", "--db", "{url}"], ""),  # the store
        (["ingest", "{url}", "--table", "transactions"], " table transactions"),  # a source
        (["export", "{segments}", "--format", "db", "--output", "{url}"], ""),  # an export
    ],
    ids=["store", "source", "export"],
)
def test_a_server_that_never_answers_ends_after_the_connect_timeout(
    silent_port: int, segments_csv: Path, command: list[str], what: str
) -> None:
    args = [a.format(url=_url(silent_port), segments=segments_csv) for a in command]
    started = time.monotonic()
    result = CliRunner().invoke(app, ["--db-connect-timeout", "2", *args])
    seconds = time.monotonic() - started
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        f"error: file {_hidden(silent_port)}{what}: the database did not answer within the 2 s "
        "connect timeout",
        HINT_CONNECT,
    ]
    assert "s3cret" not in result.output
    assert 1.9 < seconds < 15


def test_the_connect_timeout_comes_from_the_environment(
    silent_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEGLENS_DB_CONNECT_TIMEOUT", "2")
    assert db_timeouts() == DbTimeouts(2.0, 600.0)
    started = time.monotonic()
    with pytest.raises(DataError) as info:
        load_transactions(_url(silent_port), query="SELECT 1")
    assert time.monotonic() - started < 15
    assert str(info.value).splitlines()[0] == (
        f"file {_hidden(silent_port)} query: the database did not answer within the 2 s "
        "connect timeout"
    )


def test_bad_timeout_settings_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEGLENS_DB_STATEMENT_TIMEOUT", "ten")
    with pytest.raises(UsageError) as info:
        db_timeouts()
    assert str(info.value) == (
        "SEGLENS_DB_STATEMENT_TIMEOUT=ten is not a number of seconds\n"
        "what to do: give seconds, 0 (no limit) or more, e.g. 60"
    )
    monkeypatch.delenv("SEGLENS_DB_STATEMENT_TIMEOUT")
    result = CliRunner().invoke(app, ["--db-connect-timeout", "0", "history"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        "error: --db-connect-timeout=0 is not a number of seconds",
        "what to do: give seconds, more than 0, e.g. 60",
    ]


def test_sqlite_source_that_does_not_exist_is_refused_and_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    result = CliRunner().invoke(app, ["ingest", f"sqlite:///{missing}", "--table", "sales"])
    assert result.exit_code == 2
    assert result.output.strip().splitlines() == [
        f"error: file sqlite:///{missing}: no such database file",
        f"what to do: check the path: {missing} does not exist (sqlite:///relative/path.db, "
        "sqlite:////absolute/path.db)",
    ]
    assert not missing.exists()


STATEMENT_HINT = (
    "what to do: make the query smaller or faster, or raise it with "
    "`seglens --db-statement-timeout SECONDS <command> ...` or SEGLENS_DB_STATEMENT_TIMEOUT=SECONDS"
)


@pytest.mark.postgres
def test_a_query_over_the_statement_timeout_is_cancelled() -> None:
    with fresh_schema("tmo") as schema:
        url = pg_schema_url(schema)
        query = "SELECT 'C1' AS customer_id, now() AS timestamp, 1.0 AS amount, pg_sleep(5) AS z"
        started = time.monotonic()
        result = CliRunner().invoke(
            app, ["--db-statement-timeout", "1", "ingest", url, "--query", query]
        )
        assert time.monotonic() - started < 4.5  # cancelled, not waited out
    assert result.exit_code == 2, result.output
    assert result.output.strip().splitlines() == [
        f"error: file {url} query: a statement ran longer than the 1 s statement timeout and "
        "was cancelled; nothing was changed",
        STATEMENT_HINT,
    ]


@pytest.mark.postgres
def test_a_store_statement_waiting_on_a_lock_ends_at_the_statement_timeout() -> None:
    with fresh_schema("tmo") as schema:
        url = pg_schema_url(schema)
        open_store(url).close()  # creates the tables
        blocker = create_engine(url)
        with blocker.connect() as conn:
            conn.execute(text("LOCK TABLE runs IN ACCESS EXCLUSIVE MODE"))  # held until rollback
            with (
                use_db_timeouts(statement_s=1),
                open_store(url) as store,
                pytest.raises(DataError) as info,
            ):
                list_runs(store)
            conn.rollback()
        blocker.dispose()
    assert str(info.value) == (
        f"file {url}: a statement ran longer than the 1 s statement timeout and was cancelled; "
        f"nothing was changed\n{STATEMENT_HINT}"
    )


@pytest.mark.postgres
def test_a_migration_waiting_on_a_lock_ends_at_the_statement_timeout() -> None:
    from seglens.store.engine import make_engine
    from seglens.store.migrate import upgrade

    with fresh_schema("tmo") as schema:
        url = pg_schema_url(schema)
        engine = make_engine(url)
        upgrade(engine, "0003")  # an older store: opening it migrates (0004 alters labels)
        engine.dispose()
        blocker = create_engine(url)
        with blocker.connect() as conn:
            conn.execute(text("LOCK TABLE labels IN ACCESS EXCLUSIVE MODE"))
            with use_db_timeouts(statement_s=1), pytest.raises(DataError) as info:
                open_store(url)
            conn.rollback()
        blocker.dispose()
    assert str(info.value) == (
        f"file {url}: a statement ran longer than the 1 s statement timeout and was cancelled; "
        f"nothing was changed\n{STATEMENT_HINT}"
    )


def _assignments(bad_id: str) -> pl.DataFrame:
    return pl.DataFrame({"customer_id": ["C1", "C2", bad_id], "segment": ["A", "B", "A"]})


def _store_urls() -> list[object]:
    return ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(params=_store_urls())
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "s.db")
        return
    with fresh_schema("refuse") as schema:
        yield pg_schema_url(schema)


@pytest.mark.parametrize(
    ("bad_id", "message"),
    [
        (
            "X" * 201,
            "row 3 of the run's segments: the value '" + "X" * 57 + "...' (201 characters) is "
            "over the 200 characters the database allows; nothing was written",
        ),
        (
            "C\x003",
            "row 3 of the run's segments: the value 'C\\x003' (3 characters) contains a NUL "
            "character (\\x00), which databases refuse; nothing was written",
        ),
    ],
    ids=["id-over-200", "nul-byte"],
)
def test_a_value_the_store_refuses_is_named_and_nothing_is_written(
    store_url: str, bad_id: str, message: str
) -> None:
    with open_store(store_url) as store:
        with pytest.raises(DataError) as info:
            record_run(
                store,
                _assignments(bad_id),
                segmenter="rfm",
                parameters={},
                as_of=dt.date(2011, 9, 30),
                data_hash="h",
            )
        assert str(info.value) == (
            f"column 'customer_id': {message}\n"
            "what to do: fix or remove the value in the source and run the command again"
        )
        assert list_runs(store).height == 0


@pytest.mark.postgres
def test_any_other_value_postgresql_refuses_is_a_clear_error(tmp_path: Path) -> None:
    with fresh_schema("refuse") as schema, open_store(pg_schema_url(schema)) as store:
        record = KpiRecord(period="2011Q3", metric="m" * 101, value=0.8, n=100, method="x")
        with pytest.raises(DataError) as info:
            record_kpi(store, record)
        where = store.where
    assert str(info.value) == (
        f"file {where}: the database refused a value (value too long for type character "
        "varying(100)); nothing was changed\n"
        "what to do: clean the value in the source file and run the command again"
    )


@pytest.mark.postgres
def test_an_export_with_a_refused_value_keeps_the_table_as_it_was() -> None:
    first = pl.DataFrame({"customer_id": ["C1", "C2"], "segment": ["A", "B"]})
    bad = pl.DataFrame({"customer_id": ["C1", "C2"], "segment": ["A", "B\x00x"]})
    with fresh_schema("export") as schema:
        url = pg_schema_url(schema)
        export_segments(first, url, format="db", as_of=dt.date(2011, 9, 30))
        with pytest.raises(DataError) as info:
            export_segments(bad, url, format="db", as_of=dt.date(2011, 9, 30))
        engine = create_engine(url)
        with engine.connect() as conn:
            kept = conn.execute(
                text("SELECT customer_id, segment FROM seglens_segments ORDER BY 1")
            ).all()
        engine.dispose()
    assert [tuple(r) for r in kept] == [("C1", "A"), ("C2", "B")]
    assert str(info.value) == (
        f"file {url}, column 'segment': row 2 of the export: the value 'B\\x00x' (3 characters) "
        "contains a NUL character (\\x00), which databases refuse; nothing was written\n"
        "what to do: fix or remove the value in the source and run the command again"
    )
