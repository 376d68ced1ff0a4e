"""Account lifecycle: case-insensitive usernames, forced password change, token scope and expiry.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05

``users.username_key`` holds the case-folded name and is unique, so ``Admin1`` and ``admin1``
can no longer both exist. Where they already do, the oldest account (lowest id) keeps its name
and every later one is renamed ``<name>-<id>`` (still active, same password and role); each
rename is written to the audit log (action ``user.rename``) and logged as a warning naming the
old and new names, so an admin can tell the people concerned. Existing API tokens keep acting
with their user's full role (scope ``admin``, as before) and expire 90 days after the upgrade.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

log = logging.getLogger("seglens.store.migrate")

_AUDIT = sa.table(
    "audit_log",
    sa.column("at", sa.DateTime()),
    sa.column("actor", sa.String()),
    sa.column("action", sa.String()),
    sa.column("subject", sa.String()),
    sa.column("details", sa.JSON()),
)


def _renames(rows: list[tuple[int, str]]) -> dict[int, tuple[str, str]]:
    """``{user id: (old name, new name)}`` for users whose name clashes ignoring case."""
    taken = {name.casefold() for _, name in rows}
    first: dict[str, int] = {}
    out: dict[int, tuple[str, str]] = {}
    for uid, name in sorted(rows):
        key = name.casefold()
        if key not in first:
            first[key] = uid
            continue
        new, n = f"{name}-{uid}", 2
        while new.casefold() in taken:
            new, n = f"{name}-{uid}-{n}", n + 1
        taken.add(new.casefold())
        out[uid] = (name, new)
    return out


def _fold_usernames(conn: sa.Connection) -> None:
    rows = [(int(r[0]), str(r[1])) for r in conn.execute(sa.text("SELECT id, username FROM users"))]
    renames = _renames(rows)
    now = datetime.now(UTC).replace(tzinfo=None)
    for uid, (old, new) in renames.items():
        kept = min((i, name) for i, name in rows if name.casefold() == old.casefold())[1]
        log.warning(
            "user %d %r differs only in case from the older user %r, and usernames now ignore"
            " case: it is renamed %r (same password and role); tell its owner",
            uid,
            old,
            kept,
            new,
        )
        conn.execute(sa.text("UPDATE users SET username = :n WHERE id = :i"), {"n": new, "i": uid})
        conn.execute(
            _AUDIT.insert().values(
                at=now,
                actor="migration 0005",
                action="user.rename",
                subject=None,
                details={
                    "user_id": uid,
                    "old": old,
                    "new": new,
                    "reason": "another user's name differs only in case",
                },
            )
        )
    for uid, name in rows:
        final = renames.get(uid, (name, name))[1]
        conn.execute(
            sa.text("UPDATE users SET username_key = :k WHERE id = :i"),
            {"k": final.casefold(), "i": uid},
        )


def upgrade() -> None:
    """Add the columns, fold existing names (renaming clashes), then index the key uniquely.

    Plain ``ADD COLUMN`` throughout: a SQLite batch copy of ``users`` would drop and recreate
    the table, and its ``ON DELETE CASCADE`` children (sessions, tokens) would go with it.
    """
    op.add_column(
        "users", sa.Column("username_key", sa.String(100), nullable=False, server_default="")
    )
    op.add_column(
        "users",
        sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    _fold_usernames(op.get_bind())
    op.create_index("ix_users_username_key", "users", ["username_key"], unique=True)
    op.add_column(
        "api_tokens", sa.Column("scope", sa.String(10), nullable=False, server_default="admin")
    )
    op.add_column("api_tokens", sa.Column("expires_at", sa.DateTime(), nullable=True))
    expiry = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=90)
    op.get_bind().execute(sa.text("UPDATE api_tokens SET expires_at = :e"), {"e": expiry})


def downgrade() -> None:
    """Back to revision 0004 (renamed users keep their new names)."""
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("expires_at")
        batch.drop_column("scope")
    op.drop_index("ix_users_username_key", "users")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("must_change_password")
        batch.drop_column("username_key")
