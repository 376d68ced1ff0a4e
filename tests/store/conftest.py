"""Store fixtures: every store test runs on a SQLite file and on the real PostgreSQL server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.postgres import fresh_schema, pg_schema_url

__all__ = ["_private_dirs", "db_url", "pg_schema_url", "pg_url"]


@pytest.fixture(autouse=True)
def _private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep keys and default databases of the tests out of the user's home."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("SEGLENS_WEBHOOK_URL", raising=False)
    monkeypatch.setenv("SEGLENS_PSEUDONYM_KEY", "test-key")
    monkeypatch.delenv("SEGLENS_DB", raising=False)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, uniquely named PostgreSQL schema, dropped afterwards."""
    with fresh_schema("seglens_test") as schema:
        yield pg_schema_url(schema)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL for an empty database on each engine."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url
