"""The test PostgreSQL server: its URL and throw-away schemas for tests that need a real one."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from seglens.store import schema_url

PG_URL = os.environ.get("SEGLENS_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def pg_schema_url(schema: str) -> str:
    """A URL whose connections work inside ``schema`` (search_path set at connect)."""
    return schema_url(PG_URL, schema)


@contextmanager
def fresh_schema(prefix: str) -> Iterator[str]:
    """Create a uniquely named schema (``prefix`` + random suffix), yield its name, drop it.

    Where the server is unreachable the test is skipped, except in CI (``CI`` set), where
    PostgreSQL is required and the test fails.
    """
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as err:
        admin.dispose()
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL at {PG_URL} is required in CI: {err}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
    try:
        yield schema
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
