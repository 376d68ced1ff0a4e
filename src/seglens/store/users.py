"""Web accounts in the store: users, login sessions and API tokens (the tables of ``accounts``).

Secrets never reach these functions: callers pass the Argon2 hash of a password and the SHA-256
digest of a session or API token (:mod:`seglens.web.users` makes both). Every change is written
to the audit log in the same transaction. Roles and the rule that one active admin must remain
are enforced here, next to the rows they protect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from seglens.errors import UsageError
from seglens.store.accounts import ROLES, ApiToken, User, WebSession
from seglens.store.core import Store, audit, utcnow

__all__ = [
    "ROLES",
    "Account",
    "TokenInfo",
    "UserInfo",
    "UserLogin",
    "account_for_session",
    "account_for_token",
    "add_api_token",
    "add_session",
    "add_user",
    "drop_session",
    "find_login",
    "get_user",
    "list_api_tokens",
    "list_users",
    "record_login",
    "revoke_api_token",
    "set_password_hash",
    "update_user",
    "user_id_of",
]


@dataclass(frozen=True)
class UserInfo:
    """A user as listed (never the password hash)."""

    id: int
    username: str
    role: str
    active: bool
    created_at: datetime
    last_login_at: datetime | None


@dataclass(frozen=True)
class UserLogin:
    """What checking a password needs: the user, whether active, and the stored hash."""

    user_id: int
    username: str
    role: str
    active: bool
    password_hash: str


@dataclass(frozen=True)
class Account:
    """The active user behind a live session or API token."""

    user_id: int
    username: str
    role: str


@dataclass(frozen=True)
class TokenInfo:
    """An API token as listed (never the secret itself)."""

    id: int
    user_id: int
    username: str
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def _info(user: User) -> UserInfo:
    return UserInfo(
        user.id, user.username, user.role, user.active, user.created_at, user.last_login_at
    )


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UsageError(f"unknown role {role!r}", hint=f"use one of {', '.join(ROLES)}")


def _check_username(username: str) -> str:
    name = username.strip()
    if not name or len(name) > 100 or any(c.isspace() for c in name):
        raise UsageError("a username is 1-100 characters without spaces")
    return name


def add_user(
    store: Store, username: str, password_hash: str, *, role: str = "viewer", actor: str = "system"
) -> int:
    """Create an active user with an already hashed password; returns the user id.

    Examples
    --------
    >>> import tempfile
    >>> from seglens.store import open_store
    >>> with tempfile.TemporaryDirectory() as d, open_store(f"{d}/s.db") as st:
    ...     uid = add_user(st, " ana ", "$argon2id$...", role="reviewer")
    ...     [(u.username, u.role, u.active) for u in list_users(st)]
    [('ana', 'reviewer', True)]
    """
    name = _check_username(username)
    _check_role(role)
    with store.write() as s:
        if s.scalar(select(User.id).where(User.username == name)) is not None:
            raise UsageError(f"a user named {name!r} already exists")
        user = User(
            username=name, password_hash=password_hash, role=role, active=True, created_at=utcnow()
        )
        s.add(user)
        s.flush()
        audit(s, "user.create", actor=actor, details={"user_id": user.id, "role": role})
        return user.id


def list_users(store: Store) -> list[UserInfo]:
    """All users, by name."""
    with store.read() as s:
        return [_info(u) for u in s.scalars(select(User).order_by(User.username))]


def get_user(store: Store, user_id: int) -> UserInfo | None:
    """One user by id."""
    with store.read() as s:
        user = s.get(User, user_id)
        return None if user is None else _info(user)


def user_id_of(store: Store, username: str) -> int:
    """The id of the user called ``username``.

    Raises
    ------
    UsageError
        If there is no such user.
    """
    with store.read() as s:
        uid = s.scalar(select(User.id).where(User.username == username.strip()))
    if uid is None:
        raise UsageError(f"no user named {username!r}")
    return int(uid)


def _admins_left(s: Session, excluding: int) -> int:
    stmt = select(func.count()).where(
        User.role == "admin", User.active.is_(True), User.id != excluding
    )
    return int(s.scalar(stmt) or 0)


def update_user(
    store: Store,
    user_id: int,
    *,
    role: str | None = None,
    active: bool | None = None,
    actor: str = "system",
) -> None:
    """Change a user's role or deactivate them (their sessions end; their tokens stop working).

    The last active admin cannot be demoted or deactivated.
    """
    if role is not None:
        _check_role(role)
    with store.write() as s:
        user = s.get(User, user_id)
        if user is None:
            raise UsageError(f"no user with id {user_id}")
        losing_admin = user.role == "admin" and (
            (role is not None and role != "admin") or active is False
        )
        if losing_admin and _admins_left(s, user_id) == 0:
            raise UsageError("this is the last active admin", hint="make another admin first")
        changes: dict[str, object] = {}
        if role is not None and role != user.role:
            user.role, changes["role"] = role, role
        if active is not None and active != user.active:
            user.active, changes["active"] = active, active
            if not active:
                s.execute(delete(WebSession).where(WebSession.user_id == user_id))
        if changes:
            audit(s, "user.update", actor=actor, details={"user_id": user_id, **changes})


def set_password_hash(
    store: Store, user_id: int, password_hash: str, *, actor: str = "system"
) -> None:
    """Replace a user's password hash and end their sessions."""
    with store.write() as s:
        user = s.get(User, user_id)
        if user is None:
            raise UsageError(f"no user with id {user_id}")
        user.password_hash = password_hash
        s.execute(delete(WebSession).where(WebSession.user_id == user_id))
        audit(s, "user.password", actor=actor, details={"user_id": user_id})


def find_login(store: Store, username: str) -> UserLogin | None:
    """The user called ``username`` (surrounding spaces ignored) with their password hash."""
    with store.read() as s:
        user = s.scalar(select(User).where(User.username == username.strip()))
        if user is None:
            return None
        return UserLogin(user.id, user.username, user.role, user.active, user.password_hash)


def record_login(store: Store, user_id: int, *, new_password_hash: str | None = None) -> None:
    """Note a successful login (``last_login_at``), storing a rehashed password if given."""
    with store.write() as s:
        user = s.get(User, user_id)
        if user is not None:
            user.last_login_at = utcnow()
            if new_password_hash is not None:
                user.password_hash = new_password_hash


def add_session(
    store: Store, user_id: int, token_hash: str, *, ttl: timedelta, actor: str
) -> datetime:
    """Start a login session lasting ``ttl`` (expired ones are purged); returns its expiry."""
    now = utcnow()
    with store.write() as s:
        s.add(
            WebSession(token_hash=token_hash, user_id=user_id, created_at=now, expires_at=now + ttl)
        )
        s.execute(delete(WebSession).where(WebSession.expires_at < now))
        audit(s, "session.login", actor=actor, details={"user_id": user_id})
    return now + ttl


def drop_session(store: Store, token_hash: str, *, actor: str) -> None:
    """Log out: forget the session with this digest."""
    with store.write() as s:
        s.execute(delete(WebSession).where(WebSession.token_hash == token_hash))
        audit(s, "session.logout", actor=actor)


def account_for_session(store: Store, token_hash: str) -> Account | None:
    """The user of a live session with this digest, if the user is active."""
    stmt = (
        select(User.id, User.username, User.role)
        .join(WebSession, WebSession.user_id == User.id)
        .where(
            WebSession.token_hash == token_hash,
            WebSession.expires_at > utcnow(),
            User.active.is_(True),
        )
    )
    with store.read() as s:
        row = s.execute(stmt).first()
    return None if row is None else Account(row[0], row[1], row[2])


def add_api_token(
    store: Store, user_id: int, *, name: str, prefix: str, token_hash: str, actor: str = "system"
) -> int:
    """Store an API token's digest for a user; returns the token id."""
    with store.write() as s:
        if s.get(User, user_id) is None:
            raise UsageError(f"no user with id {user_id}")
        tok = ApiToken(
            user_id=user_id,
            name=name.strip()[:100] or "token",
            prefix=prefix,
            token_hash=token_hash,
            created_at=utcnow(),
        )
        s.add(tok)
        s.flush()
        audit(s, "token.create", actor=actor, details={"token_id": tok.id, "user_id": user_id})
        return tok.id


def revoke_api_token(store: Store, token_id: int, *, actor: str = "system") -> None:
    """Revoke an API token (it stops working at once)."""
    with store.write() as s:
        tok = s.get(ApiToken, token_id)
        if tok is None:
            raise UsageError(f"no API token with id {token_id}")
        if tok.revoked_at is None:
            tok.revoked_at = utcnow()
            audit(s, "token.revoke", actor=actor, details={"token_id": token_id})


def list_api_tokens(store: Store, user_id: int | None = None) -> list[TokenInfo]:
    """API tokens (of one user, or all), newest first."""
    stmt = (
        select(ApiToken, User.username)
        .join(User, User.id == ApiToken.user_id)
        .order_by(ApiToken.id.desc())
    )
    if user_id is not None:
        stmt = stmt.where(ApiToken.user_id == user_id)
    with store.read() as s:
        return [
            TokenInfo(
                t.id, t.user_id, u, t.name, t.prefix, t.created_at, t.last_used_at, t.revoked_at
            )
            for t, u in s.execute(stmt)
        ]


def account_for_token(
    store: Store, token_hash: str, *, touch_after: timedelta = timedelta(minutes=5)
) -> Account | None:
    """The active user behind an unrevoked API token with this digest.

    The token's ``last_used_at`` is refreshed when it is older than ``touch_after`` (so a busy
    client does not write on every request).
    """
    stmt = (
        select(ApiToken.id, ApiToken.last_used_at, User.id, User.username, User.role)
        .join(User, User.id == ApiToken.user_id)
        .where(
            ApiToken.token_hash == token_hash,
            ApiToken.revoked_at.is_(None),
            User.active.is_(True),
        )
    )
    with store.read() as s:
        row = s.execute(stmt).first()
    if row is None:
        return None
    now = utcnow()
    if row[1] is None or now - row[1] > touch_after:
        with store.write() as s:
            s.execute(update(ApiToken).where(ApiToken.id == row[0]).values(last_used_at=now))
    return Account(row[2], row[3], row[4])
