"""Web accounts in the store: users, login sessions and API tokens (the tables of ``accounts``).

Secrets never reach these functions: callers pass the Argon2 hash of a password and the SHA-256
digest of a session or API token (:mod:`seglens.web.users` makes both). Every change is written
to the audit log in the same transaction. Roles, the rule that one active admin must remain,
case-insensitive usernames (``username_key``), token scopes and expiry are enforced here, next
to the rows they protect. Ending a user's access is final for what they held: a new password
or deactivation ends every session and revokes every API token, so reactivating a user or
restoring a password never revives an old secret.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from seglens.errors import UsageError
from seglens.store.accounts import ROLES, SCOPES, ApiToken, User, WebSession
from seglens.store.core import Store, audit, utcnow
from seglens.store.models import AuditEntry

__all__ = [
    "ACCOUNT_ACTIONS",
    "ROLES",
    "SCOPES",
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
    "list_account_events",
    "list_api_tokens",
    "list_users",
    "record_login",
    "record_login_failure",
    "revoke_api_token",
    "set_password_hash",
    "update_user",
    "user_id_of",
    "username_key",
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
    must_change_password: bool = False


@dataclass(frozen=True)
class UserLogin:
    """What checking a password needs: the user, whether active, and the stored hash."""

    user_id: int
    username: str
    role: str
    active: bool
    password_hash: str
    must_change_password: bool = False


@dataclass(frozen=True)
class Account:
    """The active user behind a live session or API token.

    ``scope`` is the token's scope (``None`` for a session); ``must_change_password`` is set
    after an admin's reset until the user picks a new password.
    """

    user_id: int
    username: str
    role: str
    scope: str | None = None
    must_change_password: bool = False


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
    scope: str = "read"
    expires_at: datetime | None = None

    def live(self, now: datetime) -> bool:
        """Whether the token works at ``now`` (not revoked, not expired)."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


def _info(user: User) -> UserInfo:
    return UserInfo(
        user.id,
        user.username,
        user.role,
        user.active,
        user.created_at,
        user.last_login_at,
        user.must_change_password,
    )


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UsageError(f"unknown role {role!r}", hint=f"use one of {', '.join(ROLES)}")


def _check_username(username: str) -> str:
    name = username.strip()
    if not name or len(name) > 100 or any(c.isspace() for c in name):
        raise UsageError("a username is 1-100 characters without spaces")
    return name


def username_key(username: str) -> str:
    """The form usernames are compared in: surrounding spaces dropped, case folded.

    Examples
    --------
    >>> username_key(" Admin1 ") == username_key("ADMIN1") == "admin1"
    True
    """
    return username.strip().casefold()


def add_user(
    store: Store,
    username: str,
    password_hash: str,
    *,
    role: str = "viewer",
    actor: str = "system",
    must_change_password: bool = False,
) -> int:
    """Create an active user with an already hashed password; returns the user id.

    Names are unique ignoring case: ``Ana`` cannot be added when ``ana`` exists.

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
        existing = s.scalar(select(User.username).where(User.username_key == username_key(name)))
        if existing is not None:
            same = "" if existing == name else f" (as {existing!r}; names ignore case)"
            raise UsageError(f"a user named {name!r} already exists{same}")
        user = User(
            username=name,
            username_key=username_key(name),
            password_hash=password_hash,
            role=role,
            active=True,
            created_at=utcnow(),
            must_change_password=must_change_password,
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
        uid = s.scalar(select(User.id).where(User.username_key == username_key(username)))
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
    """Change a user's role or deactivate them (their sessions end, their tokens are revoked).

    The last active admin cannot be demoted or deactivated. Reactivating a user restores the
    account, not the sessions or tokens it had: those stay ended.
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
                changes["tokens_revoked"] = _end_access(s, user_id)
        if changes:
            audit(s, "user.update", actor=actor, details={"user_id": user_id, **changes})


def _end_access(s: Session, user_id: int) -> int:
    """End every session and revoke every live API token of a user; returns tokens revoked."""
    s.execute(delete(WebSession).where(WebSession.user_id == user_id))
    result = s.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)


def set_password_hash(
    store: Store,
    user_id: int,
    password_hash: str,
    *,
    actor: str = "system",
    must_change: bool = False,
) -> None:
    """Replace a user's password hash; every session ends and every API token is revoked.

    ``must_change`` marks the password as temporary (an admin's reset): it then only opens the
    change-password form. A password the user picks clears the mark.
    """
    with store.write() as s:
        user = s.get(User, user_id)
        if user is None:
            raise UsageError(f"no user with id {user_id}")
        user.password_hash = password_hash
        user.must_change_password = must_change
        revoked = _end_access(s, user_id)
        action = "user.password_reset" if must_change else "user.password"
        audit(s, action, actor=actor, details={"user_id": user_id, "tokens_revoked": revoked})


def find_login(store: Store, username: str) -> UserLogin | None:
    """The user called ``username`` (case and surrounding spaces ignored) with their hash."""
    with store.read() as s:
        user = s.scalar(select(User).where(User.username_key == username_key(username)))
        if user is None:
            return None
        return UserLogin(
            user.id,
            user.username,
            user.role,
            user.active,
            user.password_hash,
            user.must_change_password,
        )


def record_login_failure(
    store: Store, username: str, *, address: str, wait_s: float, refused: bool = False
) -> None:
    """Audit a failed or throttled login (``login.failed`` / ``login.throttled``).

    The typed name is stored only when it names a user (people type passwords into the name
    field); the entry then carries the user's id. ``wait_s`` is the backoff that starts (or, when
    ``refused``, that was still running).
    """
    with store.write() as s:
        user = s.scalar(select(User).where(User.username_key == username_key(username)))
        details: dict[str, object] = {
            "user_id": None if user is None else user.id,
            "address": address[:64],
            "wait_s": round(wait_s, 1),
        }
        actor = "anonymous" if user is None else user.username
        audit(s, "login.throttled" if refused else "login.failed", actor=actor, details=details)


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
        select(User.id, User.username, User.role, User.must_change_password)
        .join(WebSession, WebSession.user_id == User.id)
        .where(
            WebSession.token_hash == token_hash,
            WebSession.expires_at > utcnow(),
            User.active.is_(True),
        )
    )
    with store.read() as s:
        row = s.execute(stmt).first()
    return None if row is None else Account(row[0], row[1], row[2], None, bool(row[3]))


def add_api_token(
    store: Store,
    user_id: int,
    *,
    name: str,
    prefix: str,
    token_hash: str,
    scope: str = "read",
    ttl: timedelta = timedelta(days=90),
    actor: str = "system",
) -> int:
    """Store an API token's digest for a user, with its scope and lifetime; returns its id."""
    if scope not in SCOPES:
        raise UsageError(f"unknown token scope {scope!r}", hint=f"use one of {', '.join(SCOPES)}")
    if not timedelta(0) < ttl <= timedelta(days=366):
        raise UsageError("a token lasts between 1 day and 366 days")
    now = utcnow()
    with store.write() as s:
        if s.get(User, user_id) is None:
            raise UsageError(f"no user with id {user_id}")
        tok = ApiToken(
            user_id=user_id,
            name=name.strip()[:100] or "token",
            prefix=prefix,
            token_hash=token_hash,
            created_at=now,
            scope=scope,
            expires_at=now + ttl,
        )
        s.add(tok)
        s.flush()
        details = {"token_id": tok.id, "user_id": user_id, "scope": scope, "days": ttl.days}
        audit(s, "token.create", actor=actor, details=details)
        return tok.id


def revoke_api_token(
    store: Store, token_id: int, *, actor: str = "system", owner: int | None = None
) -> None:
    """Revoke an API token (it stops working at once); ``owner``: only if it is that user's."""
    with store.write() as s:
        tok = s.get(ApiToken, token_id)
        if tok is None or (owner is not None and tok.user_id != owner):
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
                t.id,
                t.user_id,
                u,
                t.name,
                t.prefix,
                t.created_at,
                t.last_used_at,
                t.revoked_at,
                t.scope,
                t.expires_at,
            )
            for t, u in s.execute(stmt)
        ]


def account_for_token(
    store: Store, token_hash: str, *, touch_after: timedelta = timedelta(minutes=5)
) -> Account | None:
    """The active user behind an unrevoked, unexpired API token with this digest.

    The token's ``last_used_at`` is refreshed when it is older than ``touch_after`` (so a busy
    client does not write on every request).
    """
    now = utcnow()
    stmt = (
        select(
            ApiToken.id,
            ApiToken.last_used_at,
            User.id,
            User.username,
            User.role,
            ApiToken.scope,
            User.must_change_password,
        )
        .join(User, User.id == ApiToken.user_id)
        .where(
            ApiToken.token_hash == token_hash,
            ApiToken.revoked_at.is_(None),
            (ApiToken.expires_at.is_(None)) | (ApiToken.expires_at > now),
            User.active.is_(True),
        )
    )
    with store.read() as s:
        row = s.execute(stmt).first()
    if row is None:
        return None
    if row[1] is None or now - row[1] > touch_after:
        with store.write() as s:
            s.execute(update(ApiToken).where(ApiToken.id == row[0]).values(last_used_at=now))
    return Account(row[2], row[3], row[4], row[5], bool(row[6]))


ACCOUNT_ACTIONS: tuple[str, ...] = ("login.", "session.", "user.", "token.")
"""Audit actions about accounts (prefixes): sign-ins and their failures, users, tokens."""


def list_account_events(store: Store, *, limit: int = 50) -> list[dict[str, object]]:
    """The newest audit entries about accounts, with their details (failed sign-ins, throttling,
    password changes and resets, token issue and revocation), newest first."""
    cond = or_(*(AuditEntry.action.like(f"{prefix}%") for prefix in ACCOUNT_ACTIONS))
    stmt = select(AuditEntry).where(cond).order_by(AuditEntry.id.desc()).limit(limit)
    with store.read() as s:
        return [
            {
                "id": e.id,
                "at": e.at,
                "actor": e.actor,
                "action": e.action,
                "details": dict(e.details or {}),
            }
            for e in s.scalars(stmt)
        ]
