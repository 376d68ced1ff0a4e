"""The Admin page: users, roles, password resets, API tokens and the recent audit log.

Admins only, and only from a signed-in browser: an API token (even one of an admin) can neither
manage users nor issue tokens, so a leaked token cannot mint a successor that outlives it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from seglens.store import ROLES, SCOPES, get_user, list_account_events
from seglens.store.queries import recent_audit
from seglens.web.deps import require_session, state_of
from seglens.web.pages import _render
from seglens.web.users import (
    TOKEN_TTL,
    Principal,
    create_token,
    create_user,
    list_tokens,
    list_users,
    reset_password,
    revoke_token,
    update_user,
)

__all__ = ["router"]

router = APIRouter(prefix="/admin", include_in_schema=False)

Admin = Annotated[Principal, Depends(require_session("admin"))]


def _page(
    request: Request,
    *,
    new_token: str | None = None,
    temporary: tuple[str, str] | None = None,
    status: int = 200,
) -> Response:
    store = state_of(request).store
    ctx = {
        "users": list_users(store),
        "tokens": list_tokens(store),
        "roles": ROLES,
        "scopes": list(SCOPES),
        "token_days": TOKEN_TTL.days,
        "audit": recent_audit(store, limit=50),
        "account_events": list_account_events(store, limit=50),
        "new_token": new_token,
        "temporary": temporary,
    }
    return _render(request, "admin.html", ctx, status=status)


@router.get("")
def admin_page(request: Request, _: Admin) -> Response:
    """Users, their roles, API tokens, recent audit entries."""
    return _page(request)


@router.post("/users")
def add_user(
    request: Request,
    admin: Admin,
    username: Annotated[str, Form(min_length=1, max_length=100)],
    password: Annotated[str, Form(min_length=1, max_length=1000)],
    role: Annotated[str, Form(max_length=20)] = "viewer",
) -> Response:
    """Create a user; the password given is temporary (changed at first sign-in)."""
    create_user(
        state_of(request).store,
        username,
        password,
        role=role,
        actor=admin.username,
        temporary=True,
    )
    return RedirectResponse("/admin", status_code=303)


@router.post("/users/{user_id}")
def change_user(
    request: Request,
    user_id: int,
    admin: Admin,
    role: Annotated[str | None, Form(max_length=20)] = None,
    active: Annotated[str | None, Form(max_length=5)] = None,
) -> Response:
    """Change a user's role, or (de)activate them (deactivation revokes their tokens)."""
    flag = None if active is None else active == "true"
    update_user(state_of(request).store, user_id, role=role, active=flag, actor=admin.username)
    return RedirectResponse("/admin", status_code=303)


@router.post("/users/{user_id}/reset")
def reset(request: Request, user_id: int, admin: Admin) -> Response:
    """Reset a password: a temporary one, shown once here, that must be changed at sign-in."""
    store = state_of(request).store
    temporary = reset_password(store, user_id, actor=admin.username)
    user = get_user(store, user_id)
    name = user.username if user is not None else str(user_id)
    return _page(request, temporary=(name, temporary), status=201)


@router.post("/tokens")
def add_token(
    request: Request,
    admin: Admin,
    user_id: Annotated[int, Form()],
    name: Annotated[str, Form(max_length=100)] = "api",
    scope: Annotated[str, Form(max_length=10)] = "read",
    days: Annotated[int, Form(ge=1, le=366)] = TOKEN_TTL.days,
) -> Response:
    """Issue an API token with a scope and a lifetime; the secret is shown once."""
    secret = create_token(
        state_of(request).store,
        user_id,
        name,
        scope=scope,
        ttl=timedelta(days=days),
        actor=admin.username,
    )
    return _page(request, new_token=secret, status=201)


@router.post("/tokens/{token_id}/revoke")
def drop_token(request: Request, token_id: int, admin: Admin) -> Response:
    """Revoke an API token."""
    revoke_token(state_of(request).store, token_id, actor=admin.username)
    return RedirectResponse("/admin", status_code=303)
