"""Accounts of the web app: users, passwords, login sessions and API tokens.

Passwords are hashed with Argon2id (``argon2-cffi`` defaults, rehashed when those change).
Session cookies and API tokens are 256-bit random values; only their SHA-256 digest is stored,
which is enough for values with that much entropy and keeps each request to one indexed lookup
(Argon2 exists to slow down guessing of *low*-entropy secrets). This module owns the secrets
and their hashing; the rows, the role rules and the audit entries are the store's
(:mod:`seglens.store.users`).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from seglens.errors import UsageError
from seglens.store import (
    ROLES,
    Account,
    Store,
    TokenInfo,
    account_for_session,
    account_for_token,
    add_api_token,
    add_session,
    add_user,
    drop_session,
    find_login,
    get_user,
    list_api_tokens,
    list_users,
    record_login,
    revoke_api_token,
    set_password_hash,
    update_user,
    user_id_of,
)

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


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"a password needs at least {MIN_PASSWORD} characters")


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
    _check_password(password)
    return add_user(store, username, _hasher.hash(password), role=role, actor=actor)


def set_password(store: Store, user_id: int, password: str, *, actor: str = "system") -> None:
    """Replace a user's password and end their sessions."""
    _check_password(password)
    set_password_hash(store, user_id, _hasher.hash(password), actor=actor)


def authenticate(store: Store, username: str, password: str) -> Principal | None:
    """The principal for a correct username and password of an active user, else ``None``."""
    login = find_login(store, username)
    if login is None or not login.active:
        # Spend the same time as a real check, so whether the user exists does not leak.
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        return None
    try:
        _hasher.verify(login.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    rehash = _hasher.hash(password) if _hasher.check_needs_rehash(login.password_hash) else None
    record_login(store, login.user_id, new_password_hash=rehash)
    return Principal(login.user_id, login.username, login.role, "session")


def create_session(store: Store, principal: Principal) -> str:
    """Start a login session; returns the secret cookie value."""
    secret = secrets.token_urlsafe(32)
    add_session(
        store, principal.user_id, _digest(secret), ttl=SESSION_TTL, actor=principal.username
    )
    return secret


def end_session(store: Store, secret: str, *, actor: str) -> None:
    """Log out: forget the session."""
    drop_session(store, _digest(secret), actor=actor)


def _principal(found: Account | None, via: str) -> Principal | None:
    return None if found is None else Principal(found.user_id, found.username, found.role, via)


def principal_for_session(store: Store, secret: str) -> Principal | None:
    """The signed-in user behind a session cookie, if the session is live and the user active."""
    return _principal(account_for_session(store, _digest(secret)), "session")


def create_token(store: Store, user_id: int, name: str, *, actor: str = "system") -> str:
    """Issue an API token for a user; returns the secret (shown once, stored only hashed)."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    add_api_token(
        store, user_id, name=name, prefix=secret[:10], token_hash=_digest(secret), actor=actor
    )
    return secret


def revoke_token(store: Store, token_id: int, *, actor: str = "system") -> None:
    """Revoke an API token (it stops working at once)."""
    revoke_api_token(store, token_id, actor=actor)


def list_tokens(store: Store, user_id: int | None = None) -> list[TokenInfo]:
    """API tokens (of one user, or all), newest first."""
    return list_api_tokens(store, user_id)


def principal_for_token(store: Store, secret: str) -> Principal | None:
    """The user behind a bearer token, if the token is live and the user active."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    return _principal(account_for_token(store, _digest(secret), touch_after=_TOKEN_TOUCH), "token")


def current_actor() -> str:
    """Who runs a CLI account command, for the audit log (``cli:<login>``)."""
    from seglens.store.core import current_user

    return f"cli:{current_user()}"
