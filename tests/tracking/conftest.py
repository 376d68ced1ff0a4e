"""Tracking fixtures: the store's (private dirs, databases on SQLite and the real PostgreSQL)."""

from __future__ import annotations

from tests.store.conftest import _private_dirs, db_url, pg_schema_url, pg_url

__all__ = ["_private_dirs", "db_url", "pg_schema_url", "pg_url"]
