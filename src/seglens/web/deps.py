"""Request dependencies: the app's state, who is asking, and role checks.

Every route declares the least role it needs with :func:`require` (pages) or
:func:`require_api` (REST API); nothing is decided in templates alone. A request with an
``Authorization`` header is judged by that header only (never by a cookie sent alongside).
Account pages (:func:`require_session`) accept only a signed-in browser, so a token can never
issue tokens or manage users. A user signed in with a temporary password (an admin's reset) may
only change it: every other page redirects to the form and the API answers 403.

The session cookie is ``__Host-seglens_session`` (``Secure``, ``Path=/``, no ``Domain``) on
HTTPS. Browsers refuse a ``Secure`` cookie from a plain-http page, so the http server (local
development, or a proxy that does not say ``X-Forwarded-Proto: https``) uses the plain name
``seglens_session`` without ``Secure``; each scheme reads only its own cookie.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.types import Scope

from seglens.store import Store
from seglens.tracking.config import TrackingConfig
from seglens.web.limits import Limits
from seglens.web.security import LoginThrottle
from seglens.web.service import Settings
from seglens.web.users import Principal, principal_for_session, principal_for_token

__all__ = [
    "SESSION_COOKIE",
    "SESSION_COOKIE_HTTPS",
    "ForbiddenError",
    "NotAuthenticatedError",
    "PasswordChangeRequiredError",
    "WebState",
    "bearer",
    "credential_is_valid",
    "optional_principal",
    "require",
    "require_api",
    "require_session",
    "session_cookie_name",
    "state_of",
]

SESSION_COOKIE = "seglens_session"
"""The session cookie on plain http (development)."""
SESSION_COOKIE_HTTPS = "__Host-seglens_session"
"""The session cookie on https: the ``__Host-`` prefix makes browsers insist on ``Secure``,
``Path=/`` and no ``Domain``, so no sibling site can plant or overwrite it."""
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

bearer = HTTPBearer(auto_error=False, description="An API token (`slt_...`) from the Admin page")


@dataclass
class WebState:
    """What every request needs: the store, settings, templates, login throttle and limits."""

    store: Store
    settings: Settings
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    """Label and carry-forward policy and alert rules: the ones ``seglens track`` uses."""
    templates: Jinja2Templates = field(
        default_factory=lambda: Jinja2Templates(directory=str(TEMPLATES_DIR))
    )
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    limits: Limits = field(default_factory=Limits)


class NotAuthenticatedError(Exception):
    """No valid session or token (pages redirect to the login form, the API answers 401)."""


class PasswordChangeRequiredError(Exception):
    """Signed in with a temporary password: only the change-password form is open."""


class ForbiddenError(Exception):
    """Signed in, but the role does not allow this (403)."""

    def __init__(self, required: str) -> None:
        super().__init__(required)
        self.required = required


def state_of(request: Request) -> WebState:
    """The app's :class:`WebState`."""
    state: WebState = request.app.state.seglens
    return state


def session_cookie_name(request: Request) -> str:
    """The session cookie's name for this request's scheme."""
    return SESSION_COOKIE_HTTPS if request.url.scheme == "https" else SESSION_COOKIE


def optional_principal(request: Request) -> Principal | None:
    """The authenticated principal, or ``None`` (cached on the request)."""
    if hasattr(request.state, "principal"):
        cached: Principal | None = request.state.principal
        return cached
    store = state_of(request).store
    principal: Principal | None = None
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, secret = header.partition(" ")
        if scheme.lower() == "bearer" and secret:
            principal = principal_for_token(store, secret.strip())
    else:
        cookie = request.cookies.get(session_cookie_name(request))
        if cookie:
            principal = principal_for_session(store, cookie)
    request.state.principal = principal
    return principal


async def credential_is_valid(scope: Scope) -> bool:
    """Whether the request in ``scope`` carries a live token or session (for the body limits)."""
    request = Request(scope)
    return await run_in_threadpool(optional_principal, request) is not None


def require(role: str) -> Callable[[Request], Principal]:
    """A page dependency that demands ``role`` (or a higher one)."""

    def dependency(request: Request) -> Principal:
        principal = optional_principal(request)
        if principal is None:
            raise NotAuthenticatedError()
        if principal.must_change_password:
            raise PasswordChangeRequiredError()
        if not principal.can(role):
            raise ForbiddenError(role)
        return principal

    dependency.__name__ = f"require_{role}"
    return dependency


def require_session(role: str = "viewer", *, allow_temporary: bool = False) -> Callable[..., Any]:
    """A page dependency for account pages: ``role`` *and* a browser session (never a token)."""

    def dependency(request: Request) -> Principal:
        principal = optional_principal(request)
        if principal is None:
            raise NotAuthenticatedError()
        if principal.via != "session":
            raise ForbiddenError("signed-in browser session (API tokens cannot manage accounts)")
        if principal.must_change_password and not allow_temporary:
            raise PasswordChangeRequiredError()
        if not principal.can(role):
            raise ForbiddenError(role)
        return principal

    dependency.__name__ = f"require_session_{role}"
    return dependency


def require_api(role: str) -> Callable[..., Principal]:
    """An API dependency that demands ``role``; documents bearer auth in the OpenAPI schema."""

    def dependency(
        request: Request,
        _credentials: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
    ) -> Principal:
        return require(role)(request)

    dependency.__name__ = f"require_api_{role}"
    return dependency
