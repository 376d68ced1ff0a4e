"""Accounts of the web app: users, passwords, login sessions and API tokens.

Passwords are hashed with Argon2id (``argon2-cffi`` defaults, rehashed when those change).
Session cookies and API tokens are 256-bit random values; only their SHA-256 digest is stored,
which is enough for values with that much entropy and keeps each request to one indexed lookup
(Argon2 exists to slow down guessing of *low*-entropy secrets). Every change is written to the
store's audit log in the same transaction.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from seglens.errors import UsageError
from seglens.store import Store
from seglens.store.accounts import ROLES, ApiToken, User, WebSession
from seglens.store.core import audit, utcnow

__all__ = [
    "ROLES",
    "SESSION_TTL",
    "Principal",
    "TokenInfo",
    "authenticate",
    "create_session",
    "create_token",
    "create_user",
    "current_actor",
    "end_session",
    "get_user",
    "list_tokens",
    "list_users",
    "principal_for_session",
    "principal_for_token",
    "revoke_token",
    "role_at_least",
    "set_password",
    "set_password_hashing",
    "update_user",
    "user_id_of",
]

log = logging.getLogger(__name__)

SESSION_TTL = timedelta(hours=12)
"""How long a login lasts."""

TOKEN_PREFIX = "slt_"
_TOKEN_TOUCH = timedelta(minutes=5)  # last_used_at is refreshed at most this often
_hasher = PasswordHasher()  # argon2-cffi defaults: RFC 9106 low-memory profile (Argon2id)
# Verified against when the user does not exist, so a login takes as long either way.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


def set_password_hashing(*, time_cost: int, memory_cost_kib: int, parallelism: int) -> None:
    """Change the Argon2 parameters for new hashes (existing ones are upgraded at next login).

    The defaults (3 passes over 64 MiB, 4 lanes) suit a server; test suites lower them.
    """
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher(
        time_cost=time_cost, memory_cost=memory_cost_kib, parallelism=parallelism
    )
    _DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


MIN_PASSWORD = 10


@dataclass(frozen=True)
class Principal:
    """Who is making a request: the user, their role, and how they proved it."""

    user_id: int
    username: str
    role: str
    via: str  # "session" or "token"

    def can(self, role: str) -> bool:
        """Whether this principal holds ``role`` or a more privileged one."""
        return role_at_least(self.role, role)


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


def role_at_least(role: str, required: str) -> bool:
    """Whether ``role`` is ``required`` or above it in :data:`ROLES`.

    Examples
    --------
    >>> role_at_least("analyst", "reviewer"), role_at_least("viewer", "reviewer")
    (True, False)
    """
    return ROLES.index(role) >= ROLES.index(required)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UsageError(f"unknown role {role!r}", hint=f"use one of {', '.join(ROLES)}")


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"a password needs at least {MIN_PASSWORD} characters")


def _check_username(username: str) -> str:
    name = username.strip()
    if not name or len(name) > 100 or any(c.isspace() for c in name):
        raise UsageError("a username is 1-100 characters without spaces")
    return name


def create_user(
    store: Store, username: str, password: str, *, role: str = "viewer", actor: str = "system"
) -> int:
    """Create a user with an Argon2-hashed password; returns the user id.

    Examples
    --------
    >>> import tempfile
    >>> from seglens.store import open_store
    >>> with tempfile.TemporaryDirectory() as d, open_store(f"{d}/s.db") as st:
    ...     uid = create_user(st, "ana", "correct horse battery", role="reviewer")
    ...     authenticate(st, "ana", "correct horse battery").role
    'reviewer'
    """
    name = _check_username(username)
    _check_role(role)
    _check_password(password)
    with store.write() as s:
        if s.scalar(select(User.id).where(User.username == name)) is not None:
            raise UsageError(f"a user named {name!r} already exists")
        user = User(
            username=name,
            password_hash=_hasher.hash(password),
            role=role,
            active=True,
            created_at=utcnow(),
        )
        s.add(user)
        s.flush()
        audit(s, "user.create", actor=actor, details={"user_id": user.id, "role": role})
        return user.id


def list_users(store: Store) -> list[User]:
    """All users, by name."""
    with store.read() as s:
        return list(s.scalars(select(User).order_by(User.username)))


def get_user(store: Store, user_id: int) -> User | None:
    """One user by id."""
    with store.read() as s:
        return s.get(User, user_id)


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
    """Change a user's role or deactivate them (their sessions and tokens stop working).

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


def set_password(store: Store, user_id: int, password: str, *, actor: str = "system") -> None:
    """Replace a user's password and end their sessions."""
    _check_password(password)
    with store.write() as s:
        user = s.get(User, user_id)
        if user is None:
            raise UsageError(f"no user with id {user_id}")
        user.password_hash = _hasher.hash(password)
        s.execute(delete(WebSession).where(WebSession.user_id == user_id))
        audit(s, "user.password", actor=actor, details={"user_id": user_id})


def authenticate(store: Store, username: str, password: str) -> Principal | None:
    """The principal for a correct username and password of an active user, else ``None``."""
    with store.read() as s:
        user = s.scalar(select(User).where(User.username == username.strip()))
    if user is None or not user.active:
        # Spend the same time as a real check, so whether the user exists does not leak.
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        return None
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    with store.write() as s:
        row = s.get(User, user.id)
        if row is not None:
            row.last_login_at = utcnow()
            if _hasher.check_needs_rehash(row.password_hash):
                row.password_hash = _hasher.hash(password)
    return Principal(user.id, user.username, user.role, "session")


def create_session(store: Store, principal: Principal) -> str:
    """Start a login session; returns the secret cookie value."""
    secret = secrets.token_urlsafe(32)
    now = utcnow()
    with store.write() as s:
        s.add(
            WebSession(
                token_hash=_digest(secret),
                user_id=principal.user_id,
                created_at=now,
                expires_at=now + SESSION_TTL,
            )
        )
        s.execute(delete(WebSession).where(WebSession.expires_at < now))
        audit(s, "session.login", actor=principal.username, details={"user_id": principal.user_id})
    return secret


def end_session(store: Store, secret: str, *, actor: str) -> None:
    """Log out: forget the session."""
    with store.write() as s:
        s.execute(delete(WebSession).where(WebSession.token_hash == _digest(secret)))
        audit(s, "session.logout", actor=actor)


def principal_for_session(store: Store, secret: str) -> Principal | None:
    """The signed-in user behind a session cookie, if the session is live and the user active."""
    stmt = (
        select(User.id, User.username, User.role)
        .join(WebSession, WebSession.user_id == User.id)
        .where(
            WebSession.token_hash == _digest(secret),
            WebSession.expires_at > utcnow(),
            User.active.is_(True),
        )
    )
    with store.read() as s:
        row = s.execute(stmt).first()
    return None if row is None else Principal(row[0], row[1], row[2], "session")


def create_token(store: Store, user_id: int, name: str, *, actor: str = "system") -> str:
    """Issue an API token for a user; returns the secret (shown once, stored only hashed)."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    label = name.strip()[:100] or "token"
    with store.write() as s:
        if s.get(User, user_id) is None:
            raise UsageError(f"no user with id {user_id}")
        tok = ApiToken(
            user_id=user_id,
            name=label,
            prefix=secret[:10],
            token_hash=_digest(secret),
            created_at=utcnow(),
        )
        s.add(tok)
        s.flush()
        audit(s, "token.create", actor=actor, details={"token_id": tok.id, "user_id": user_id})
    return secret


def revoke_token(store: Store, token_id: int, *, actor: str = "system") -> None:
    """Revoke an API token (it stops working at once)."""
    with store.write() as s:
        tok = s.get(ApiToken, token_id)
        if tok is None:
            raise UsageError(f"no API token with id {token_id}")
        if tok.revoked_at is None:
            tok.revoked_at = utcnow()
            audit(s, "token.revoke", actor=actor, details={"token_id": token_id})


def list_tokens(store: Store, user_id: int | None = None) -> list[TokenInfo]:
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


def principal_for_token(store: Store, secret: str) -> Principal | None:
    """The user behind a bearer token, if the token is live and the user active."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    stmt = (
        select(ApiToken.id, ApiToken.last_used_at, User.id, User.username, User.role)
        .join(User, User.id == ApiToken.user_id)
        .where(
            ApiToken.token_hash == _digest(secret),
            ApiToken.revoked_at.is_(None),
            User.active.is_(True),
        )
    )
    with store.read() as s:
        row = s.execute(stmt).first()
    if row is None:
        return None
    now = utcnow()
    if row[1] is None or now - row[1] > _TOKEN_TOUCH:
        with store.write() as s:
            s.execute(update(ApiToken).where(ApiToken.id == row[0]).values(last_used_at=now))
    return Principal(row[2], row[3], row[4], "token")


def user_id_of(store: Store, username: str) -> int:
    """The id of the user called ``username``."""
    with store.read() as s:
        uid = s.scalar(select(User.id).where(User.username == username.strip()))
    if uid is None:
        raise UsageError(f"no user named {username!r}")
    return int(uid)


def current_actor() -> str:
    """Who runs a CLI account command, for the audit log (``cli:<login>``)."""
    from seglens.store.core import current_user

    return f"cli:{current_user()}"
