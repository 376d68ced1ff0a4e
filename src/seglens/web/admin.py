"""The Admin page: users, roles, API tokens and the recent audit log (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from seglens.store import ROLES, list_audit
from seglens.web.deps import require, state_of
from seglens.web.pages import _render
from seglens.web.users import (
    Principal,
    create_token,
    create_user,
    list_tokens,
    list_users,
    revoke_token,
    set_password,
    update_user,
)

__all__ = ["router"]

router = APIRouter(prefix="/admin", include_in_schema=False)

Admin = Annotated[Principal, Depends(require("admin"))]


def _page(request: Request, *, new_token: str | None = None, status: int = 200) -> Response:
    store = state_of(request).store
    ctx = {
        "users": list_users(store),
        "tokens": list_tokens(store),
        "roles": ROLES,
        "audit": list_audit(store, limit=50).to_dicts(),
        "new_token": new_token,
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
    """Create a user."""
    create_user(state_of(request).store, username, password, role=role, actor=admin.username)
    return RedirectResponse("/admin", status_code=303)


@router.post("/users/{user_id}")
def change_user(
    request: Request,
    user_id: int,
    admin: Admin,
    role: Annotated[str | None, Form(max_length=20)] = None,
    active: Annotated[str | None, Form(max_length=5)] = None,
) -> Response:
    """Change a user's role, or (de)activate them."""
    flag = None if active is None else active == "true"
    update_user(state_of(request).store, user_id, role=role, active=flag, actor=admin.username)
    return RedirectResponse("/admin", status_code=303)


@router.post("/users/{user_id}/password")
def change_password(
    request: Request,
    user_id: int,
    admin: Admin,
    password: Annotated[str, Form(min_length=1, max_length=1000)],
) -> Response:
    """Set a new password (ends the user's sessions)."""
    set_password(state_of(request).store, user_id, password, actor=admin.username)
    return RedirectResponse("/admin", status_code=303)


@router.post("/tokens")
def add_token(
    request: Request,
    admin: Admin,
    user_id: Annotated[int, Form()],
    name: Annotated[str, Form(max_length=100)] = "api",
) -> Response:
    """Issue an API token; the secret is shown once on the page that answers."""
    secret = create_token(state_of(request).store, user_id, name, actor=admin.username)
    return _page(request, new_token=secret, status=201)


@router.post("/tokens/{token_id}/revoke")
def drop_token(request: Request, token_id: int, admin: Admin) -> Response:
    """Revoke an API token."""
    revoke_token(state_of(request).store, token_id, actor=admin.username)
    return RedirectResponse("/admin", status_code=303)
