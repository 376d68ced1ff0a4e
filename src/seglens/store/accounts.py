"""Web accounts: users, login sessions, API tokens and idempotency keys (schema revision ``0003``).

These tables belong to the web app (:mod:`seglens.web`) and are created by migration
``0003_web_accounts``. They sit on the store's declarative base so one migration chain and one
model-versus-schema check cover them. Secrets are never stored: passwords as Argon2 hashes,
session and API tokens as SHA-256 digests of 256-bit random values.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from seglens.store.models import Base

__all__ = ["ROLES", "SCOPES", "ApiToken", "IdempotencyKey", "User", "WebSession"]

ROLES: tuple[str, ...] = ("viewer", "reviewer", "analyst", "admin")
"""Roles from least to most privileged; each role may do everything the ones before it may."""

SCOPES: dict[str, str] = {"read": "viewer", "label": "reviewer", "admin": "admin"}
"""API token scopes and the most privileged role each lets a token act with (its user's role
caps it further): ``read`` reads, ``label`` also posts labels, ``admin`` acts with the full role."""


class User(Base):
    """A person who signs in to the web app (staff, not customers)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    username_key: Mapped[str] = mapped_column(String(100), unique=True, index=True)
    """The case-folded username: names differing only in case are the same user (rev 0005)."""
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    """Set by an admin's reset: the temporary password only opens the change-password form."""


class WebSession(Base):
    """A signed-in browser: the SHA-256 of its cookie value, whose it is and until when."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class ApiToken(Base):
    """A bearer token for the REST API, acting as its user within its scope, until it expires."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    scope: Mapped[str] = mapped_column(String(10), default="read")
    """``read``, ``label`` or ``admin`` (each includes the ones before it; rev 0005)."""
    expires_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class IdempotencyKey(Base):
    """The stored answer to a label POST sent with an ``Idempotency-Key`` header."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("user_id", "key", name="uq_idempotency_keys_user_id_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime)
