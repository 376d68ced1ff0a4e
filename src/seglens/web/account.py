"""Signing in and out, and the Account page: change your password, see and revoke your tokens.

Login throttling (:class:`~seglens.web.security.LoginThrottle`) backs off per account and caps
the wait, so someone guessing a password cannot keep its owner out for longer than the cap;
every failed and every throttled attempt is written to the audit log.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from seglens.errors import UsageError
from seglens.store import record_login_failure
from seglens.web.deps import require_session, session_cookie_name, state_of
from seglens.web.pages import _render
from seglens.web.users import (
    SESSION_TTL,
    Principal,
    authenticate,
    change_own_password,
    create_session,
    end_session,
    list_tokens,
    revoke_token,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

SignedIn = Annotated[Principal, Depends(require_session("viewer"))]
MayBeTemporary = Annotated[Principal, Depends(require_session("viewer", allow_temporary=True))]

CHANGED = "Password changed. Your other sessions have ended and your API tokens are revoked."


def _safe_next(target: str | None) -> str:
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _client(request: Request) -> str:
    """The client address: the peer, or what a configured trusted proxy reported."""
    return request.client.host if request.client else "?"


def _start_session(request: Request, principal: Principal, target: str) -> Response:
    secret = create_session(state_of(request).store, principal)
    resp = RedirectResponse(target, status_code=303)
    resp.set_cookie(
        session_cookie_name(request),
        secret,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        max_age=int(SESSION_TTL.total_seconds()),
        path="/",
    )
    return resp


@router.get("/login")
def login_form(request: Request, next: str | None = None) -> Response:
    """The sign-in form."""
    return _render(request, "login.html", {"next": _safe_next(next), "error": None})


def _login_refused(request: Request, next: str, message: str, status: int) -> Response:
    return _render(request, "login.html", {"next": _safe_next(next), "error": message}, status)


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form(max_length=100)],
    password: Annotated[str, Form(max_length=1000)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Check the password (throttled, failures audited) and start a session."""
    st = state_of(request)
    client = _client(request)
    throttled = st.throttle.check(username, client)
    if throttled is not None:
        if throttled.first:  # one audit row per wait, however often the form is sent
            record_login_failure(
                st.store, username, address=client, wait_s=throttled.wait_s, refused=True
            )
        who = "this account" if throttled.scope == "account" else "this address"
        message = f"Too many failed sign-ins for {who}. Try again in {throttled.wait_s} s."
        resp = _login_refused(request, next, message, 429)
        resp.headers["Retry-After"] = str(throttled.wait_s)
        return resp
    principal = authenticate(st.store, username, password)
    if principal is None:
        wait = st.throttle.failed(username, client)
        record_login_failure(st.store, username, address=client, wait_s=wait)
        return _login_refused(request, next, "Wrong user name or password.", 401)
    st.throttle.succeeded(username)
    if principal.must_change_password:
        return _start_session(request, principal, "/account/password")
    return _start_session(request, principal, _safe_next(next))


@router.post("/logout")
def logout(request: Request, user: MayBeTemporary) -> Response:
    """End the session."""
    name = session_cookie_name(request)
    cookie = request.cookies.get(name)
    if cookie:
        end_session(state_of(request).store, cookie, actor=user.username)
    resp = RedirectResponse("/login", status_code=303)
    resp.delete_cookie(name, path="/", secure=request.url.scheme == "https", httponly=True)
    return resp


@router.get("/account")
def account_page(request: Request, user: SignedIn, changed: int = 0) -> Response:
    """Who you are, your API tokens, the link to change your password."""
    st = state_of(request)
    ctx: dict[str, Any] = {
        "tokens": list_tokens(st.store, user.user_id),
        "now": datetime.now(UTC).replace(tzinfo=None),
        "notice": CHANGED if changed else None,
    }
    return _render(request, "account.html", ctx)


@router.get("/account/password")
def password_form(request: Request, user: MayBeTemporary) -> Response:
    """The change-password form (the only page open after an admin's reset)."""
    return _render(request, "password_change.html", {"error": None})


@router.post("/account/password")
def change_password(
    request: Request,
    user: MayBeTemporary,
    current: Annotated[str, Form(max_length=1000)],
    new: Annotated[str, Form(max_length=1000)],
    repeat: Annotated[str, Form(max_length=1000)],
) -> Response:
    """Change your own password: every session and token of yours ends; this browser stays in."""
    st = state_of(request)
    try:
        if new != repeat:
            raise UsageError("the two new passwords differ")
        change_own_password(st.store, user, current, new)
    except UsageError as err:
        return _render(request, "password_change.html", {"error": err.message}, 422)
    fresh = Principal(user.user_id, user.username, user.role, "session")
    return _start_session(request, fresh, "/account?changed=1")


@router.post("/account/tokens/{token_id}/revoke")
def revoke_own_token(request: Request, token_id: int, user: SignedIn) -> Response:
    """Revoke one of your own API tokens."""
    revoke_token(state_of(request).store, token_id, actor=user.username, owner=user.user_id)
    return RedirectResponse("/account", status_code=303)
