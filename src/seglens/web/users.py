"""Accounts of the web app: users, passwords, login sessions and API tokens.

Passwords are hashed with Argon2id (``argon2-cffi`` defaults, rehashed when those change) and
must pass :func:`password_problem` (length, not the username, not a common password).
Session cookies and API tokens are 256-bit random values; only their SHA-256 digest is stored,
which is enough for values with that much entropy and keeps each request to one indexed lookup
(Argon2 exists to slow down guessing of *low*-entropy secrets). This module owns the secrets
and their hashing; the rows, the role rules and the audit entries are the store's
(:mod:`seglens.store.users`).
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from seglens.errors import UsageError
from seglens.store import (
    ROLES,
    SCOPES,
    Account,
    Store,
    TokenInfo,
    UserLogin,
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
    username_key,
)

__all__ = [
    "ROLES",
    "SCOPES",
    "SESSION_TTL",
    "TOKEN_TTL",
    "Principal",
    "TokenInfo",
    "authenticate",
    "change_own_password",
    "create_session",
    "create_token",
    "create_user",
    "current_actor",
    "end_session",
    "get_user",
    "list_tokens",
    "list_users",
    "password_problem",
    "principal_for_session",
    "principal_for_token",
    "reset_password",
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

TOKEN_TTL = timedelta(days=90)
"""How long an API token lasts unless its issuer says otherwise (at most 366 days)."""

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
MAX_PASSWORD = 1000
COMMON_PASSWORDS = Path(__file__).resolve().parent / "data" / "common-passwords.txt.gz"
"""Django's list of the 20,000 most common passwords (BSD-3-Clause; see the LICENSE beside it)."""


@functools.cache
def _common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as fh:
        return frozenset(line.strip() for line in fh if line.strip())


def password_problem(password: str, username: str) -> str | None:
    """Why ``password`` is refused for ``username``, or ``None`` when it is acceptable.

    At least 10 characters that are not all the same, not the username (ignoring case, spaces
    and its appearance as the whole password), and not in the common-password list.

    Examples
    --------
    >>> password_problem("aaaaaaaaaa", "ana")
    'a password cannot be one character repeated'
    >>> password_problem("Ana.Lopez-1", "ana.lopez-1")
    'a password cannot be the username'
    >>> password_problem("password123", "ana")
    'that password is in a list of the 20,000 most common passwords'
    >>> password_problem("correct horse battery", "ana") is None
    True
    """
    if len(password) < MIN_PASSWORD:
        return f"a password needs at least {MIN_PASSWORD} characters"
    if len(password) > MAX_PASSWORD:
        return f"a password has at most {MAX_PASSWORD} characters"
    if len(set(password)) == 1:
        return "a password cannot be one character repeated"
    if not password.strip():
        return "a password cannot be only spaces"
    if username_key(password) == username_key(username):
        return "a password cannot be the username"
    if password.casefold() in _common_passwords():
        return "that password is in a list of the 20,000 most common passwords"
    return None


@dataclass(frozen=True)
class Principal:
    """Who is making a request: the user, the role they act with, and how they proved it.

    For a token, ``role`` is the user's role capped by the token's ``scope``.
    ``must_change_password``: a temporary password was used; only the change form is open.
    """

    user_id: int
    username: str
    role: str
    via: str  # "session" or "token"
    scope: str | None = None
    must_change_password: bool = False

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


def _check_password(password: str, username: str) -> None:
    problem = password_problem(password, username)
    if problem is not None:
        raise UsageError(problem, hint="choose a longer passphrase of unrelated words")


def create_user(
    store: Store,
    username: str,
    password: str,
    *,
    role: str = "viewer",
    actor: str = "system",
    temporary: bool = False,
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

    ``temporary``: the user must choose a new password at first sign-in.
    """
    _check_password(password, username)
    return add_user(
        store,
        username,
        _hasher.hash(password),
        role=role,
        actor=actor,
        must_change_password=temporary,
    )


def _user(store: Store, user_id: int) -> str:
    info = get_user(store, user_id)
    if info is None:
        raise UsageError(f"no user with id {user_id}")
    return info.username


def set_password(store: Store, user_id: int, password: str, *, actor: str = "system") -> None:
    """Replace a user's password; every session of theirs ends and every API token is revoked."""
    _check_password(password, _user(store, user_id))
    set_password_hash(store, user_id, _hasher.hash(password), actor=actor)


def change_own_password(store: Store, principal: Principal, current: str, new: str) -> None:
    """A signed-in user replaces their password, proving the current one first.

    All their sessions end and all their API tokens are revoked (the caller starts a new
    session for the browser that asked).
    """
    login = find_login(store, principal.username)
    if login is None or login.user_id != principal.user_id or not _verifies(login, current):
        raise UsageError("the current password is not right", hint="type your current password")
    if new == current:
        raise UsageError("the new password is the current one", hint="choose a different one")
    _check_password(new, principal.username)
    set_password_hash(store, principal.user_id, _hasher.hash(new), actor=principal.username)


def reset_password(store: Store, user_id: int, *, actor: str) -> str:
    """An admin's reset: a random temporary password (returned, shown once) that must be changed.

    The user's sessions end and tokens are revoked; signing in with the temporary password
    opens only the change-password form.
    """
    _user(store, user_id)
    temporary = "-".join(secrets.token_urlsafe(6) for _ in range(3))
    set_password_hash(store, user_id, _hasher.hash(temporary), actor=actor, must_change=True)
    return temporary


def _verifies(login: UserLogin, password: str) -> bool:
    try:
        return bool(_hasher.verify(login.password_hash, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def authenticate(store: Store, username: str, password: str) -> Principal | None:
    """The principal for a correct username and password of an active user, else ``None``."""
    login = find_login(store, username)
    if login is None or not login.active:
        # Spend the same time as a real check, so whether the user exists does not leak.
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        return None
    if not _verifies(login, password):
        return None
    rehash = _hasher.hash(password) if _hasher.check_needs_rehash(login.password_hash) else None
    record_login(store, login.user_id, new_password_hash=rehash)
    return Principal(
        login.user_id,
        login.username,
        login.role,
        "session",
        must_change_password=login.must_change_password,
    )


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
    if found is None:
        return None
    role = found.role
    if found.scope is not None:  # a token acts with at most its scope's role
        role = min(role, SCOPES.get(found.scope, "viewer"), key=ROLES.index)
    return Principal(
        found.user_id, found.username, role, via, found.scope, found.must_change_password
    )


def principal_for_session(store: Store, secret: str) -> Principal | None:
    """The signed-in user behind a session cookie, if the session is live and the user active."""
    return _principal(account_for_session(store, _digest(secret)), "session")


def create_token(
    store: Store,
    user_id: int,
    name: str,
    *,
    scope: str = "read",
    ttl: timedelta = TOKEN_TTL,
    actor: str = "system",
) -> str:
    """Issue an API token for a user; returns the secret (shown once, stored only hashed).

    ``scope`` (``read``, ``label`` or ``admin``) caps what the token may do below its user's
    role; the token stops working after ``ttl``. Tokens are issued from a signed-in browser or
    the CLI, never by another token (see :mod:`seglens.web.admin`).
    """
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    add_api_token(
        store,
        user_id,
        name=name,
        prefix=secret[:10],
        token_hash=_digest(secret),
        scope=scope,
        ttl=ttl,
        actor=actor,
    )
    return secret


def revoke_token(
    store: Store, token_id: int, *, actor: str = "system", owner: int | None = None
) -> None:
    """Revoke an API token (it stops working at once); ``owner``: only one of that user's."""
    revoke_api_token(store, token_id, actor=actor, owner=owner)


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
