"""Accounts with a lifecycle: throttling that cannot lock the owner out, password policy and
changes, admin resets, case-insensitive names, scoped expiring tokens, cookies and headers."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update

from seglens.errors import UsageError
from seglens.store import list_account_events, list_audit
from seglens.store.accounts import ApiToken
from seglens.web import Settings, create_app, create_token, create_user
from seglens.web.security import LoginThrottle
from seglens.web.users import list_tokens, password_problem, update_user
from tests.web.conftest import ORIGIN, PASSWORD, Client, Seeded, Users, login


def _login(c: Client, username: str, password: str, **headers: str) -> httpx.Response:
    return c.post(
        "/login",
        data={"username": username, "password": password},
        headers={"Origin": ORIGIN, **headers},
    )


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_five_wrong_passwords_do_not_stop_the_owner_beyond_the_stated_backoff(
    app: FastAPI,
) -> None:
    attacker, owner = Client(app), Client(app)
    assert [_login(attacker, "viewer", "guess number 1").status_code for _ in range(5)] == [401] * 5
    assert _login(owner, "viewer", PASSWORD).status_code == 303  # five failures cost nothing
    # More guessing: the sixth failure starts a 1 s wait, the seventh a 2 s wait ...
    assert _login(attacker, "viewer", "guess number 2").status_code == 401
    assert _login(attacker, "viewer", "guess number 2").status_code == 401  # success reset it
    for _ in range(4):
        _login(attacker, "viewer", "guess")
    refused = _login(owner, "viewer", PASSWORD)
    assert refused.status_code == 429
    wait = int(refused.headers["retry-after"])
    assert wait == 1  # failures 1-5 free, failure 6: 1 s
    time.sleep(wait + 0.1)
    assert _login(owner, "viewer", PASSWORD).status_code == 303  # right after the stated wait
    # The wait doubles per failure and never exceeds the cap, however long someone guesses.
    throttle = LoginThrottle()
    assert [throttle.account_wait(n) for n in (5, 6, 7, 8, 12, 100)] == [0, 1, 2, 4, 60, 60]
    attacker.close()
    owner.close()


def test_the_throttle_forgets_after_its_window_and_stays_bounded() -> None:
    throttle = LoginThrottle(free=1, window_s=0.3, max_tracked=50)
    assert throttle.failed("ana", "a") == 0 and throttle.failed("ana", "a") == 1
    assert throttle.check("ana", "b") is not None
    time.sleep(0.35)  # a quiet window: the count starts again
    assert throttle.check("ana", "b") is None and throttle.failed("ana", "a") == 0
    for i in range(200):  # made-up names from made-up addresses
        throttle.failed(f"name{i}", f"10.0.{i}.1")
    time.sleep(0.35)
    throttle.failed("last", "10.9.9.9")
    assert throttle.check("name3", "10.0.3.1") is None
    assert len(throttle._accounts) <= 51 and len(throttle._addresses) <= 51


def test_failed_and_throttled_logins_are_audited_without_the_typed_unknown_name(
    app: FastAPI, users: Users
) -> None:
    c = Client(app)
    for _ in range(6):
        _login(c, "viewer", "wrong password")
    _login(c, "viewer", "wrong password")  # during the wait: throttled (audited)
    _login(c, "viewer", "wrong password")  # still the same wait: refused, not audited again
    _login(c, "Correct-Horse-typed-in-the-name-field", "x")
    entries = list_account_events(app.state.seglens.store)
    failed = [e for e in entries if e["action"] == "login.failed"]
    throttled = [e for e in entries if e["action"] == "login.throttled"]
    assert len(failed) == 7 and len(throttled) == 1
    mine = [e for e in failed if e["actor"] == "viewer"]
    assert [e["details"]["wait_s"] for e in sorted(mine, key=lambda e: e["id"])] == [0] * 5 + [1]
    assert all(e["details"]["user_id"] == users.ids["viewer"] for e in mine)
    assert throttled[0]["details"]["address"] == "127.0.0.1"
    unknown = [e for e in failed if e["actor"] == "anonymous"]
    assert unknown[0]["details"]["user_id"] is None
    assert "Correct-Horse" not in str(entries)
    c.close()


def test_the_address_limit_ignores_forwarded_for_unless_from_a_trusted_proxy(
    seeded: Seeded, users: Users
) -> None:
    plain = create_app(seeded.store, settings=Settings())
    plain.state.seglens.throttle = LoginThrottle(max_per_address=3)
    c = Client(plain)
    codes = [
        _login(c, f"user{i}", "wrong password", **{"X-Forwarded-For": f"10.0.0.{i}"}).status_code
        for i in range(4)
    ]
    assert codes == [401, 401, 401, 429]  # counted against 127.0.0.1: the header is ignored
    refused = _login(c, "viewer", PASSWORD, **{"X-Forwarded-For": "10.9.9.9"})
    assert refused.status_code == 429 and "for this address" in refused.text
    c.close()
    behind = create_app(seeded.store, settings=Settings(), trusted_proxies=["127.0.0.1"])
    behind.state.seglens.throttle = LoginThrottle(max_per_address=3)
    p = Client(behind)
    codes = [
        _login(p, f"user{i}", "wrong password", **{"X-Forwarded-For": f"10.0.0.{i}"}).status_code
        for i in range(4)
    ]
    assert codes == [401] * 4  # four different clients behind the trusted proxy
    p.close()


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short one", "a password needs at least 10 characters"),
        ("aaaaaaaaaa", "a password cannot be one character repeated"),
        (" " * 10, "a password cannot be one character repeated"),
        ("Ana.Lopez-42", "a password cannot be the username"),
        ("  ana.lopez-42 ", "a password cannot be the username"),
        ("password123", "that password is in a list of the 20,000 most common passwords"),
        ("QWERTYUIOP", "that password is in a list of the 20,000 most common passwords"),
        ("iloveyou12", "that password is in a list of the 20,000 most common passwords"),
        ("x" * 1001, "a password has at most 1000 characters"),
        ("plum violin harbour", None),
    ],
)
def test_password_policy(password: str, problem: str | None) -> None:
    assert password_problem(password, "ana.lopez-42") == problem


def test_usernames_are_unique_ignoring_case(seeded: Seeded, users: Users, app: FastAPI) -> None:
    with pytest.raises(UsageError) as err:
        create_user(seeded.store, "ADMIN", "plum violin harbour", role="viewer")
    assert (
        err.value.message == "a user named 'ADMIN' already exists (as 'admin'; names ignore case)"
    )
    c = Client(app)
    assert _login(c, "  Reviewer ", PASSWORD).status_code == 303
    assert c.get("/api/me").json()["username"] == "reviewer"
    c.close()


def test_changing_your_password_ends_every_session_and_token_but_this_one(
    app: FastAPI, users: Users
) -> None:
    store = app.state.seglens.store
    me, other, api = Client(app), Client(app), Client(app)
    login(me, "reviewer")
    login(other, "reviewer")
    assert api.get("/api/me", headers=_bearer(users.tokens["reviewer"])).status_code == 200
    new = "plum violin harbour"
    form = {"current": PASSWORD, "new": new, "repeat": new}
    resp = me.post("/account/password", data=form, headers={"Origin": ORIGIN})
    assert resp.status_code == 303 and resp.headers["location"] == "/account?changed=1"
    page = me.get(resp.headers["location"])  # this browser is still signed in
    assert page.status_code == 200 and "Password changed" in page.text
    assert other.get("/").status_code == 303  # the other browser is signed out
    assert api.get("/api/me", headers=_bearer(users.tokens["reviewer"])).status_code == 401
    assert all(t.revoked_at is not None for t in list_tokens(store, users.ids["reviewer"]))
    fresh = Client(app)
    assert _login(fresh, "reviewer", PASSWORD).status_code == 401
    assert _login(fresh, "reviewer", new).status_code == 303
    entry = next(e for e in list_account_events(store) if e["action"] == "user.password")
    assert entry["actor"] == "reviewer" and entry["details"]["tokens_revoked"] == 1
    for c in (me, other, api, fresh):
        c.close()


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"current": "not it at all", "new": "plum violin harbour"}, "the current password is"),
        ({"current": PASSWORD, "new": "password123"}, "20,000 most common passwords"),
        ({"current": PASSWORD, "new": "analyst"}, "at least 10 characters"),
        ({"current": PASSWORD, "new": PASSWORD}, "the new password is the current one"),
    ],
)
def test_a_refused_password_change_says_why_and_changes_nothing(
    app: FastAPI, form: dict[str, str], error: str
) -> None:
    c = Client(app)
    login(c, "analyst")
    resp = c.post(
        "/account/password", data={**form, "repeat": form["new"]}, headers={"Origin": ORIGIN}
    )
    assert resp.status_code == 422 and error in resp.text
    assert c.get("/").status_code == 200  # still signed in
    assert _login(Client(app), "analyst", PASSWORD).status_code == 303
    c.close()


def test_an_admin_reset_gives_a_temporary_password_that_only_opens_the_change_form(
    app: FastAPI, users: Users
) -> None:
    admin, user = Client(app), Client(app)
    login(admin, "admin")
    login(user, "viewer")
    resp = admin.post(f"/admin/users/{users.ids['viewer']}/reset", headers={"Origin": ORIGIN})
    assert resp.status_code == 201
    temporary = resp.text.split('data-testid="temporary-password">')[1].split("<")[0]
    assert len(temporary) >= 20
    assert user.get("/").status_code == 303  # the user's session ended with the reset
    assert _login(user, "viewer", PASSWORD).status_code == 401  # the old password is gone
    signed = _login(user, "viewer", temporary)
    assert signed.status_code == 303 and signed.headers["location"] == "/account/password"
    for page in ("/", "/review", "/account"):
        resp = user.get(page)
        assert resp.status_code == 303 and resp.headers["location"] == "/account/password"
    api = user.get("/api/me")
    assert api.status_code == 403 and "temporary password" in api.json()["detail"]
    assert "reset by an admin" in user.get("/account/password").text
    new = "plum violin harbour"
    form = {"current": temporary, "new": new, "repeat": new}
    assert user.post("/account/password", data=form, headers={"Origin": ORIGIN}).status_code == 303
    assert user.get("/").status_code == 200
    actions = list_audit(app.state.seglens.store)["action"].to_list()
    assert "user.password_reset" in actions and "user.password" in actions
    admin.close()
    user.close()


def test_token_scopes_cap_the_role_and_expired_tokens_stop(
    app: FastAPI, users: Users, seeded: Seeded
) -> None:
    store = app.state.seglens.store
    uid = users.ids["analyst"]
    read = create_token(store, uid, "r", scope="read")
    label = create_token(store, uid, "l", scope="label")
    full = create_token(store, uid, "a", scope="admin", ttl=timedelta(days=1))
    c = Client(app)
    body = {"customer_id": seeded.labelled[0], "segment": "Champions"}
    score = {"customers": [{"customer_id": "n1", "days_since_last_purchase": 3.0,
                            "n_orders": 9.0, "total_spend": 500.0}]}  # fmt: skip
    assert c.get("/api/me", headers=_bearer(read)).json() == {
        "username": "analyst",
        "role": "viewer",
        "scope": "read",
    }
    assert c.post("/api/labels", json=body, headers=_bearer(read)).status_code == 403
    assert c.post("/api/labels", json=body, headers=_bearer(label)).status_code == 201
    assert c.post("/api/score", json=score, headers=_bearer(label)).status_code == 403
    assert c.post("/api/score", json=score, headers=_bearer(full)).status_code == 200
    # Scope never lifts a token above its user's role.
    viewer_admin = create_token(store, users.ids["viewer"], "v", scope="admin")
    assert c.post("/api/labels", json=body, headers=_bearer(viewer_admin)).status_code == 403
    with store.write() as s:  # one day later
        s.execute(
            update(ApiToken).where(ApiToken.name == "a").values(expires_at=ApiToken.created_at)
        )
    assert c.get("/api/me", headers=_bearer(full)).status_code == 401
    with pytest.raises(UsageError, match="unknown token scope 'write'"):
        create_token(store, uid, "w", scope="write")
    with pytest.raises(UsageError, match="between 1 day and 366 days"):
        create_token(store, uid, "w", ttl=timedelta(days=400))
    c.close()


def test_tokens_cannot_mint_tokens_or_manage_users(app: FastAPI, users: Users) -> None:
    c = Client(app)
    admin = _bearer(users.tokens["admin"])
    before = len(list_tokens(app.state.seglens.store))
    mint = c.post("/admin/tokens", data={"user_id": str(users.ids["admin"])}, headers=admin)
    assert mint.status_code == 403 and "browser session" in mint.text
    add = c.post(
        "/admin/users", data={"username": "x1", "password": "plum violin harbour"}, headers=admin
    )
    assert add.status_code == 403
    assert c.get("/admin", headers=admin).status_code == 403
    assert c.get("/account", headers=admin).status_code == 403
    assert len(list_tokens(app.state.seglens.store)) == before
    c.close()


def test_reactivating_a_user_does_not_revive_old_tokens_or_sessions(
    app: FastAPI, users: Users
) -> None:
    store = app.state.seglens.store
    c = Client(app)
    login(c, "reviewer")
    token = users.tokens["reviewer"]
    update_user(store, users.ids["reviewer"], active=False)
    update_user(store, users.ids["reviewer"], active=True)
    assert c.get("/").status_code == 303
    assert c.get("/api/me", headers=_bearer(token)).status_code == 401
    assert [t.revoked_at is not None for t in list_tokens(store, users.ids["reviewer"])] == [True]
    login(c, "reviewer")  # the account itself works again
    c.close()


def test_a_user_revokes_their_own_token_but_not_someone_elses(app: FastAPI, users: Users) -> None:
    store = app.state.seglens.store
    c = Client(app)
    login(c, "viewer")
    mine = list_tokens(store, users.ids["viewer"])[0]
    theirs = list_tokens(store, users.ids["admin"])[0]
    page = c.get("/account")
    assert f"{mine.prefix}…" in page.text and theirs.prefix not in page.text
    assert "scope <strong>admin</strong>" in page.text
    refused = c.post(f"/account/tokens/{theirs.id}/revoke", headers={"Origin": ORIGIN})
    assert refused.status_code == 422
    assert (
        c.post(f"/account/tokens/{mine.id}/revoke", headers={"Origin": ORIGIN}).status_code == 303
    )
    assert [t.revoked_at is not None for t in list_tokens(store)] == [
        t.id == mine.id for t in list_tokens(store)
    ]
    c.close()


def _https(
    app: FastAPI, method: str, url: str, cookies: dict[str, str] | None = None, **kw: object
) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="https://seglens.test", cookies=cookies
        ) as ac:
            return await ac.request(method, url, **kw)  # type: ignore[arg-type]

    return asyncio.run(go())


def test_the_session_cookie_is_host_prefixed_on_https_and_plain_on_http(app: FastAPI) -> None:
    resp = _https(
        app,
        "POST",
        "/login",
        data={"username": "viewer", "password": PASSWORD},
        headers={"Origin": "https://seglens.test"},
    )
    cookie = resp.headers["set-cookie"]
    assert cookie.startswith("__Host-seglens_session=")
    assert "; Secure" in cookie and "; Path=/" in cookie and "Domain" not in cookie
    secret = cookie.split("=", 1)[1].split(";")[0]
    ok = _https(app, "GET", "/api/me", cookies={"__Host-seglens_session": secret})
    assert ok.status_code == 200
    # The plain-http name is not read on https (nor the reverse).
    assert _https(app, "GET", "/api/me", cookies={"seglens_session": secret}).status_code == 401
    c = Client(app)
    c.cookies.set("__Host-seglens_session", secret)
    assert c.get("/api/me").status_code == 401
    c.close()


def test_an_https_origin_is_refused_on_the_http_server(app: FastAPI) -> None:
    c = Client(app)
    resp = _login(c, "viewer", PASSWORD, Origin="https://testserver")
    assert resp.status_code == 403
    assert "Origin https://testserver is not http://testserver" in resp.text
    assert _login(c, "viewer", PASSWORD).status_code == 303
    c.close()


def test_permissions_policy_and_healthz(client: Client) -> None:
    resp = client.get("/healthz")
    assert resp.status_code == 200
    assert resp.json()["status"] == "ok" and resp.json()["schema"] >= "0005"
    policy = client.get("/login").headers["permissions-policy"]
    assert "camera=()" in policy and "geolocation=()" in policy and "microphone=()" in policy


def test_the_favicon_is_served_to_anonymous_browsers(client: Client) -> None:
    # Chromium asks for /favicon.ico on JSON answers such as /healthz; a 404 there is a
    # console error in every browser test that visits one.
    resp = client.get("/favicon.ico")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "image/svg+xml"
    assert (
        resp.content.startswith(b"<svg")
        and resp.content == client.get("/static/favicon.svg").content
    )


def test_behind_a_trusted_https_proxy_the_cookie_is_host_prefixed(
    seeded: Seeded, users: Users
) -> None:
    behind = create_app(seeded.store, settings=Settings(), trusted_proxies=["127.0.0.1"])
    c = Client(behind)
    proxied = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    resp = _login(c, "viewer", PASSWORD, Origin="https://testserver", **proxied)
    assert resp.status_code == 303
    assert resp.headers["set-cookie"].startswith("__Host-seglens_session=")
    assert "; Secure" in resp.headers["set-cookie"]
    assert resp.headers["strict-transport-security"].startswith("max-age=")
    c.close()
    # The same headers from a client that is no trusted proxy change nothing.
    direct = Client(create_app(seeded.store, settings=Settings()))
    resp = _login(direct, "viewer", PASSWORD, **proxied)
    assert resp.headers["set-cookie"].startswith("seglens_session=")
    assert "secure" not in resp.headers["set-cookie"].lower()
    direct.close()
