"""Revision 0005: usernames become unique ignoring case (clashes renamed, audited, logged), tokens
get a scope and an expiry, a reset can force a password change."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from seglens.store import (
    add_user,
    current_revision,
    find_login,
    head_revision,
    list_account_events,
    list_api_tokens,
    open_store,
    upgrade,
)
from seglens.store.engine import make_engine

WHEN = datetime(2026, 11, 30, 9, 0)


def _revision_0004_with_case_clashes(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine, "0004")
    with engine.begin() as conn:
        for uid, name, role in [
            (1, "admin1", "admin"),
            (2, "Admin1", "viewer"),
            (3, "bob", "reviewer"),
            (4, "ADMIN1", "analyst"),
            (5, "Admin1-2", "viewer"),  # already holds the name the first rename would take
        ]:
            conn.execute(
                text(
                    "INSERT INTO users (id, username, password_hash, role, active, created_at)"
                    " VALUES (:i, :n, 'h', :r, :a, :t)"
                ),
                {"i": uid, "n": name, "r": role, "a": True, "t": WHEN},
            )
        conn.execute(
            text(
                "INSERT INTO api_tokens (id, user_id, name, prefix, token_hash, created_at)"
                " VALUES (1, 3, 'old', 'slt_abcdef', :h, :t)"
            ),
            {"h": "0" * 64, "t": WHEN},
        )
    assert current_revision(engine) == "0004"
    engine.dispose()


def test_case_clashing_usernames_are_renamed_audited_and_logged(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    _revision_0004_with_case_clashes(db_url)
    caplog.set_level(logging.WARNING, logger="seglens.store.migrate")
    before = datetime.now()
    with open_store(db_url) as store:
        assert current_revision(store.engine) == head_revision()
        with store.read() as s:
            rows = s.execute(text("SELECT id, username, username_key, role FROM users ORDER BY id"))
            users = [tuple(r) for r in rows]
        events = list_account_events(store)
        tokens = list_api_tokens(store)
        login = find_login(store, "ADMIN1")
        with pytest.raises(Exception, match="already exists"):
            add_user(store, "BOB", "h")
    assert users == [
        (1, "admin1", "admin1", "admin"),  # the oldest keeps its name
        (2, "Admin1-2-2", "admin1-2-2", "viewer"),  # "Admin1-2" was taken by user 5
        (3, "bob", "bob", "reviewer"),
        (4, "ADMIN1-4", "admin1-4", "analyst"),
        (5, "Admin1-2", "admin1-2", "viewer"),
    ]
    renames = sorted(
        (e["details"]["user_id"], e["details"]["old"], e["details"]["new"])
        for e in events
        if e["action"] == "user.rename"
    )
    assert renames == [(2, "Admin1", "Admin1-2-2"), (4, "ADMIN1", "ADMIN1-4")]
    messages = [r.getMessage() for r in caplog.records]
    assert (
        "user 2 'Admin1' differs only in case from the older user 'admin1', and usernames now"
        " ignore case: it is renamed 'Admin1-2-2' (same password and role); tell its owner"
    ) in messages
    assert login is not None and (login.user_id, login.username) == (1, "admin1")
    # The old token keeps acting with its user's full role, and now expires in 90 days.
    assert [(t.scope, t.revoked_at) for t in tokens] == [("admin", None)]
    expires = tokens[0].expires_at
    assert expires is not None
    assert timedelta(days=89) < expires - before < timedelta(days=91)
