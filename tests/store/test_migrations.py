"""Migrations create the models' schema and upgrade a database made by the previous version."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from seglens.errors import SeglensError, UsageError
from seglens.store import (
    current_revision,
    head_revision,
    kpi_table,
    open_store,
    schema_url,
    upgrade,
)
from seglens.store.engine import make_engine
from seglens.store.models import Base
from tests.postgres import PG_URL, fresh_schema


def test_empty_database_upgrades_to_head_and_matches_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    assert current_revision(engine) is None
    assert upgrade(engine) == (None, head_revision())
    assert upgrade(engine) == (head_revision(), head_revision())  # idempotent
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        tables = set(inspect(conn).get_table_names())
    engine.dispose()
    assert diffs == []
    assert tables == set(Base.metadata.tables) | {"alembic_version"}


OLDER_REVISIONS = ["0001", "0002", "0003", "0004"]


@pytest.fixture(params=OLDER_REVISIONS)
def previous_version_db(db_url: str, request: pytest.FixtureRequest) -> str:
    """A database created by an earlier schema revision, holding a label, a run and a KPI row."""
    engine = make_engine(db_url)
    upgrade(engine, request.param)
    now = datetime(2011, 7, 1, 9, 30)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO runs (id, segmenter, parameters, as_of, data_hash, seglens_version,"
                " n_customers, created_at) VALUES (1, 'rfm', '{}', :t, 'h', '0.0.1', 1, :t)"
            ),
            {"t": now},
        )
        conn.execute(
            text("INSERT INTO assignments (run_id, customer_id, segment) VALUES (1, 'c1', 'A')")
        )
        conn.execute(
            text(
                "INSERT INTO labels (customer_id, segment, labeled_at, fingerprint, recorded_at)"
                " VALUES ('c1', 'A', :t, 'fp1', :t)"
            ),
            {"t": now},
        )
        conn.execute(
            text(
                "INSERT INTO kpi_measurements (run_id, period, metric, value, n, method,"
                " created_at) VALUES (1, '2011Q2', 'accuracy', 0.9, 10, 'labelled', :t)"
            ),
            {"t": now},
        )
    assert current_revision(engine) == request.param
    engine.dispose()
    return db_url


def test_previous_version_database_upgrades_and_keeps_its_data(previous_version_db: str) -> None:
    with open_store(previous_version_db) as store:  # upgrades automatically on first use
        assert current_revision(store.engine) == head_revision()
        kpi = kpi_table(store)
        with store.read() as s:
            labels = s.execute(text("SELECT customer_id, segment FROM labels")).all()
    assert kpi.select("period", "period_kind", "value", "n").rows() == [
        ("2011Q2", "quarter", 0.9, 10)
    ]
    assert [tuple(r) for r in labels] == [("c1", "A")]


FIXTURE_0003 = Path(__file__).parents[1] / "data" / "stores" / "revision_0003.db"


def test_a_revision_0003_store_keeps_every_label_and_binds_it_to_the_run_it_judged(
    tmp_path: Path,
) -> None:
    """A store written by the previous release (a committed file): every label survives the
    upgrade unchanged, and each is bound to the run that was current when it was recorded."""
    db = tmp_path / "old.db"
    db.write_bytes(FIXTURE_0003.read_bytes())
    engine = make_engine(f"sqlite:///{db}")
    assert current_revision(engine) == "0003"
    with engine.connect() as conn:
        before = conn.execute(
            text(
                "SELECT id, customer_id, segment, labeled_by, labeled_at, source, note, "
                "fingerprint, recorded_at FROM labels ORDER BY id"
            )
        ).all()
    engine.dispose()
    with open_store(str(db)) as store:
        assert current_revision(store.engine) == head_revision()
        with store.read() as s:
            after = s.execute(
                text(
                    "SELECT id, customer_id, segment, labeled_by, labeled_at, source, note, "
                    "fingerprint, recorded_at FROM labels ORDER BY id"
                )
            ).all()
            bound = s.execute(
                text("SELECT id, run_id, judged_segment FROM labels ORDER BY id")
            ).all()
        kpi = kpi_table(store)
    assert len(before) == 6
    assert [tuple(r) for r in after] == [tuple(r) for r in before]
    assert [tuple(r) for r in bound] == [
        (1, None, None),  # recorded before any run: unbound
        (2, 1, "Loyal"),  # recorded after run 1 was created: judged run 1's segment
        (3, 1, "At risk"),
        (4, 1, "Champions"),
        (5, 2, "At risk"),  # after run 2: its segment for c4 (run 1 said Loyal)
        (6, 2, None),  # c9 is in no run: bound, but no segment was shown
    ]
    assert kpi.select("period", "value", "n", "successes").rows() == [("2011Q2", 66.7, 3, 2)]


def test_downgrade_then_upgrade_round_trips(previous_version_db: str) -> None:
    engine = make_engine(previous_version_db)
    upgrade(engine)
    from alembic import command

    from seglens.store.migrate import _config

    with engine.begin() as conn:
        cfg = _config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001")
    assert current_revision(engine) == "0001"
    assert "alerts" not in inspect(engine).get_table_names()
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_without_auto_upgrade_an_old_schema_is_refused(previous_version_db: str) -> None:
    with pytest.raises(SeglensError, match="seglens db upgrade"):
        open_store(previous_version_db, auto_upgrade=False)


def test_a_newer_schema_is_refused(db_url: str) -> None:
    open_store(db_url).close()
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    engine.dispose()
    with pytest.raises(SeglensError, match="newer than this seglens"):
        open_store(db_url)


def test_unreachable_database_is_a_user_error() -> None:
    with pytest.raises(SeglensError, match="cannot open the seglens database"):
        open_store("postgresql+psycopg://nobody@127.0.0.1:1/none")


def test_sqlite_connections_use_wal_busy_timeout_foreign_keys_secure_delete(
    tmp_path: Path,
) -> None:
    with open_store(f"{tmp_path}/p.db") as store, store.read() as s:
        got = {
            p: s.execute(text(f"PRAGMA {p}")).scalar()
            for p in ("journal_mode", "busy_timeout", "foreign_keys", "secure_delete")
        }
    assert got == {
        "journal_mode": "wal",
        "busy_timeout": 60000,
        "foreign_keys": 1,
        "secure_delete": 1,
    }


def test_default_location_follows_xdg_data_home(tmp_path: Path) -> None:
    with open_store() as store:
        assert store.sqlite_path == tmp_path / "data" / "seglens" / "seglens.db"


def test_seglens_db_environment_variable_overrides_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEGLENS_DB", str(tmp_path / "elsewhere.db"))
    with open_store() as store:
        assert store.sqlite_path == tmp_path / "elsewhere.db"


@pytest.mark.postgres
def test_a_schema_url_keeps_the_stores_tables_in_that_schema_and_the_urls_options() -> None:
    with fresh_schema("seglens_schema_url") as schema:
        url = schema_url(f"{PG_URL}?options=-cstatement_timeout%3D4321", schema)
        with open_store(url) as store, store.read() as s:
            got = s.execute(text("SELECT current_schema(), current_setting('statement_timeout')"))
            assert got.one() == (schema, "4321ms")
            tables = s.execute(
                text("SELECT count(*) FROM information_schema.tables WHERE table_schema = :s"),
                {"s": schema},
            ).scalar()
            assert tables and tables > 5


@pytest.mark.parametrize(
    ("url", "schema", "message"),
    [
        ("postgresql+psycopg://u@h/db", "crm; DROP TABLE x", "not a plain identifier"),
        ("postgresql+psycopg://u@h/db", "1st", "not a plain identifier"),
        ("sqlite:///x.db", "crm", "applies to PostgreSQL"),
    ],
)
def test_schema_url_refuses_unquotable_names_and_other_databases(
    url: str, schema: str, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        schema_url(url, schema)
