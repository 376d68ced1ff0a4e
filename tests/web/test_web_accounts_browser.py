"""The account lifecycle in Debian's Chromium: an admin adds a user with a temporary password,
the user must replace it (the policy refuses a common one), tokens die with the password,
throttling, an admin reset, deactivation and reactivation, revoking one's own token."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from seglens.web import Settings, create_app
from seglens.web.security import LoginThrottle
from tests.web.conftest import PASSWORD, Seeded, Users
from tests.web.test_web_browser import (  # noqa: F401  (the browser fixture)
    Watch,
    _shot,
    browser,
    serve,
)

TEMPORARY = "tulip anchor meadow"
BACKOFF_S = 5.0
"""The first wait after five failures, stretched from 1 s so a slow machine cannot outrun it."""


@pytest.fixture
def server(seeded: Seeded, users: Users) -> Iterator[str]:
    """A real uvicorn server on 127.0.0.1 whose login throttle starts at ``BACKOFF_S``."""
    app = create_app(seeded.store, settings=Settings(margin_pts=10.0, min_per_segment=3))
    app.state.seglens.throttle = LoginThrottle(base_s=BACKOFF_S, cap_s=4 * BACKOFF_S)
    with serve(app) as base:
        yield base


OWN = "granite lantern orbit"


def _sign_in(page: Any, base: str, user: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.click("form[action='/login'] button[type=submit]")


def _issue_token(admin: Any, base: str, user: str, scope: str) -> str:
    admin.goto(f"{base}/admin")
    form = admin.locator("form[action='/admin/tokens']")
    form.locator("select[name=user_id]").select_option(label=user)
    form.locator("select[name=scope]").select_option(scope)
    with admin.expect_navigation():
        form.locator("button[type=submit]").click()
    token: str = admin.inner_text("[data-testid=new-token]")
    return token


def _me(base: str, token: str) -> int:
    return httpx.get(f"{base}/api/me", headers={"Authorization": f"Bearer {token}"}).status_code


def _change_password(page: Any, current: str, new: str) -> None:
    page.fill("input[name=current]", current)
    page.fill("input[name=new]", new)
    page.fill("input[name=repeat]", new)
    with page.expect_navigation():
        page.click("form[action='/account/password'] button[type=submit]")


@pytest.mark.browser
def test_the_account_lifecycle_in_a_browser(browser: Any, server: str) -> None:  # noqa: F811
    admin_ctx, dana_ctx = browser.new_context(), browser.new_context()
    admin, dana = admin_ctx.new_page(), dana_ctx.new_page()
    watches = [Watch(admin, server), Watch(dana, server)]
    _sign_in(admin, server, "admin", PASSWORD)
    admin.wait_for_url(f"{server}/")

    # The admin adds Dana with a temporary password and issues her a labelling token.
    admin.goto(f"{server}/admin")
    add = admin.locator("form[action='/admin/users']")
    add.locator("input[name=username]").fill("Dana")
    add.locator("input[name=password]").fill(TEMPORARY)
    add.locator("select[name=role]").select_option("reviewer")
    add.locator("button[type=submit]").click()
    assert "(temporary password)" in admin.inner_text("[data-testid=user-Dana]")
    token = _issue_token(admin, server, "Dana", "label")
    assert _me(server, token) == 403  # nothing works for her until she picks her own password

    # Dana signs in (any case) and is sent to choose her own password; other pages send her back.
    _sign_in(dana, server, "dana", TEMPORARY)
    dana.wait_for_url(f"{server}/account/password")
    assert "reset by an admin" in dana.inner_text("[data-testid=must-change]")
    dana.goto(f"{server}/review")
    dana.wait_for_url(f"{server}/account/password")
    _change_password(dana, TEMPORARY, "password123")
    assert "20,000 most common passwords" in dana.inner_text("[role=alert]")
    _change_password(dana, TEMPORARY, OWN)
    dana.wait_for_url(f"{server}/account?changed=1")
    assert "API tokens are revoked" in dana.inner_text("[data-testid=notice]")
    assert _me(server, token) == 401  # the token died with the old password
    cookie = next(c for c in dana_ctx.cookies() if c["name"] == "seglens_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"  # plain http: no __Host- prefix
    _shot(dana, "account")

    # Someone guesses Dana's password: five failures are free, the sixth starts the stated wait.
    guesser = browser.new_context().new_page()
    for _ in range(6):
        _sign_in(guesser, server, "dana", "not her password")
    _sign_in(dana, server, "dana", OWN)
    alert = dana.inner_text("[role=alert]")
    match = re.fullmatch(
        r"Too many failed sign-ins for this account\. Try again in (\d) s\.", alert
    )
    assert match is not None, alert
    wait = int(match[1])
    assert 1 <= wait <= BACKOFF_S
    time.sleep(wait + 0.1)
    _sign_in(dana, server, "dana", OWN)  # right after the stated wait: in
    dana.wait_for_url(f"{server}/")
    admin.goto(f"{server}/admin")
    events = admin.inner_text("[data-testid=account-events]")
    assert "login.failed" in events and "login.throttled" in events

    # An admin reset ends Dana's session and hands out a one-time temporary password.
    admin.locator("[data-testid=user-Dana] form[action$='/reset'] button").click()
    temporary = admin.inner_text("[data-testid=temporary-password]")
    dana.goto(f"{server}/review")
    dana.wait_for_url(f"{server}/login?next=%2Freview")
    _sign_in(dana, server, "Dana", temporary)
    dana.wait_for_url(f"{server}/account/password")
    _change_password(dana, temporary, OWN + " again")
    dana.wait_for_url(f"{server}/account?changed=1")

    # Deactivated, Dana cannot sign in; reactivated, she can, and no old token revives.
    fresh = _issue_token(admin, server, "Dana", "read")
    admin.goto(f"{server}/admin")
    admin.locator("[data-testid=user-Dana] button", has_text="Deactivate").click()
    assert _me(server, fresh) == 401
    _sign_in(dana, server, "Dana", OWN + " again")
    assert "Wrong user name or password" in dana.inner_text("[role=alert]")
    admin.locator("[data-testid=user-Dana] button", has_text="Activate").click()
    assert _me(server, fresh) == 401
    _sign_in(dana, server, "Dana", OWN + " again")
    dana.wait_for_url(f"{server}/")

    # Dana revokes a token of her own from the Account page (its scope and expiry are shown).
    own = _issue_token(admin, server, "Dana", "read")
    assert _me(server, own) == 200
    answer = dana.goto(f"{server}/account")
    assert "camera=()" in answer.headers["permissions-policy"]
    listed = dana.inner_text("ul.tokens")
    shown = re.escape(own[:10]) + r"… api · scope read · expires \d{4}-\d\d-\d\d \d\d:\d\d UTC"
    assert re.search(shown, listed), listed
    dana.locator("ul.tokens li", has_text=own[:10]).locator("button").click()
    dana.wait_for_url(f"{server}/account")
    assert _me(server, own) == 401
    assert "revoked" in dana.inner_text("ul.tokens")
    # The refusals the test provoked (wrong password 401, policy 422, throttled 429) are logged
    # by Chromium as failed loads; nothing else may be.
    expected = tuple(f"status of {code} " for code in (401, 422, 429))
    health = dana.goto(f"{server}/healthz")
    assert health.status == 200 and health.json()["status"] == "ok"
    for w in watches:
        assert [p for p in w.problems if not any(e in p for e in expected)] == []
    admin_ctx.close()
    dana_ctx.close()
