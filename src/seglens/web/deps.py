"""Request dependencies: the app's state, who is asking, and role checks.

Every route declares the least role it needs with :func:`require` (pages) or
:func:`require_api` (REST API); nothing is decided in templates alone. A request with an
``Authorization`` header is judged by that header only (never by a cookie sent alongside).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.templating import Jinja2Templates

from seglens.store import Store
from seglens.tracking.config import TrackingConfig
from seglens.web.security import LoginLimiter
from seglens.web.service import Settings
from seglens.web.users import Principal, principal_for_session, principal_for_token

__all__ = [
    "SESSION_COOKIE",
    "ForbiddenError",
    "NotAuthenticatedError",
    "WebState",
    "bearer",
    "optional_principal",
    "require",
    "require_api",
    "state_of",
]

SESSION_COOKIE = "seglens_session"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

bearer = HTTPBearer(auto_error=False, description="An API token (`slt_...`) from the Admin page")


@dataclass
class WebState:
    """What every request needs: the store, the settings, templates and the login limiter."""

    store: Store
    settings: Settings
    tracking: TrackingConfig = field(default_factory=TrackingConfig)
    """Label and carry-forward policy and alert rules: the ones ``seglens track`` uses."""
    templates: Jinja2Templates = field(
        default_factory=lambda: Jinja2Templates(directory=str(TEMPLATES_DIR))
    )
    limiter: LoginLimiter = field(default_factory=LoginLimiter)


class NotAuthenticatedError(Exception):
    """No valid session or token (pages redirect to the login form, the API answers 401)."""


class ForbiddenError(Exception):
    """Signed in, but the role does not allow this (403)."""

    def __init__(self, required: str) -> None:
        super().__init__(required)
        self.required = required


def state_of(request: Request) -> WebState:
    """The app's :class:`WebState`."""
    state: WebState = request.app.state.seglens
    return state


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
        cookie = request.cookies.get(SESSION_COOKIE)
        if cookie:
            principal = principal_for_session(store, cookie)
    request.state.principal = principal
    return principal


def require(role: str) -> Callable[[Request], Principal]:
    """A page dependency that demands ``role`` (or a higher one)."""

    def dependency(request: Request) -> Principal:
        principal = optional_principal(request)
        if principal is None:
            raise NotAuthenticatedError()
        if not principal.can(role):
            raise ForbiddenError(role)
        return principal

    dependency.__name__ = f"require_{role}"
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
