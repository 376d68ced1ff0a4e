"""CSRF, cookies, login rate limiting, security headers, audit entries and PII-free logs."""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI

from seglens.store import label_history, list_audit, pseudonym, run_assignments
from seglens.web import create_user
from tests.web.conftest import ORIGIN, PASSWORD, Client, Seeded, Users, login


def _label(seeded: Seeded, row: int = 3) -> dict[str, str]:
    cid, seg = run_assignments(seeded.store, seeded.runs[1]).row(row)[:2]
    return {"customer_id": cid, "segment": seg}


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Sec-Fetch-Site": "same-site"},  # a sibling subdomain is not this origin
        {"Origin": "https://evil.example"},
        {},  # neither header: refused too
    ],
    ids=["both", "fetch-site", "same-site", "origin", "none"],
)
def test_a_cross_site_form_post_is_refused(
    app: FastAPI, seeded: Seeded, headers: dict[str, str]
) -> None:
    c = Client(app)
    login(c, "reviewer")
    before = label_history(seeded.store).height
    resp = c.post("/review/label", data=_label(seeded), headers=headers)
    assert resp.status_code == 403
    assert label_history(seeded.store).height == before  # nothing written
    # The same form from this site goes through.
    ok = c.post("/review/label", data=_label(seeded), headers={"Sec-Fetch-Site": "same-origin"})
    assert ok.status_code == 303
    assert label_history(seeded.store).height == before + 1
    c.close()


def test_a_cross_site_login_is_refused(app: FastAPI) -> None:
    c = Client(app)
    resp = c.post(
        "/login",
        data={"username": "viewer", "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert resp.status_code == 403 and "seglens_session" not in resp.headers.get("set-cookie", "")
    c.close()


def test_a_refused_form_post_gets_the_branded_page_in_a_browser(app: FastAPI) -> None:
    c = Client(app)
    form = {"username": "viewer", "password": PASSWORD}
    browser = {"Origin": "https://evil.example", "Accept": "text/html,application/xhtml+xml"}
    page = c.post("/login", data=form, headers=browser)
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
    assert "Request refused" in page.text
    assert "This form was refused: cross-origin request (Origin https://evil.example" in page.text
    assert "Reload the page and try again." in page.text and "ForbiddenError" not in page.text
    # a script that does not ask for HTML keeps the short plain answer
    plain = c.post("/login", data=form, headers={"Origin": "https://evil.example"})
    assert plain.status_code == 403 and plain.text.startswith("ForbiddenError: cross-origin")
    c.close()


def test_a_bearer_token_call_is_not_affected(app: FastAPI, seeded: Seeded, users: Users) -> None:
    c = Client(app)
    headers = {
        "Authorization": f"Bearer {users.tokens['reviewer']}",
        "Origin": "https://evil.example",  # ignored: no cookie authority is used
        "Sec-Fetch-Site": "cross-site",
    }
    resp = c.post("/api/labels", json=_label(seeded), headers=headers)
    assert resp.status_code == 201
    plain = c.post(
        "/api/labels",
        json=_label(seeded),
        headers={"Authorization": f"Bearer {users.tokens['reviewer']}"},
    )
    assert plain.status_code == 201
    c.close()


def test_a_cookie_session_cannot_post_to_the_api_cross_site(app: FastAPI, seeded: Seeded) -> None:
    c = Client(app)
    login(c, "reviewer")
    resp = c.post("/api/labels", json=_label(seeded), headers={"Sec-Fetch-Site": "cross-site"})
    assert resp.status_code == 403
    same = c.post("/api/labels", json=_label(seeded), headers={"Origin": ORIGIN})
    assert same.status_code == 201
    c.close()


def test_session_cookie_flags(app: FastAPI) -> None:
    c = Client(app)
    resp = c.post(
        "/login",
        data={"username": "viewer", "password": PASSWORD},
        headers={"Origin": ORIGIN},
    )
    cookie = resp.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "secure" not in cookie  # plain http here
    c.close()


def test_session_cookie_is_secure_behind_https(app: FastAPI) -> None:
    import asyncio

    import httpx

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://seglens.test") as ac:
            return await ac.post(
                "/login",
                data={"username": "viewer", "password": PASSWORD},
                headers={"Origin": "https://seglens.test"},
            )

    resp = asyncio.run(go())
    assert resp.status_code == 303
    assert "; secure" in resp.headers["set-cookie"].lower()
    assert resp.headers["strict-transport-security"].startswith("max-age=")


def test_login_is_throttled_per_account_with_a_capped_backoff(app: FastAPI) -> None:
    c = Client(app)
    codes = [
        c.post(
            "/login",
            data={"username": "viewer", "password": "wrong password!"},
            headers={"Origin": ORIGIN},
        ).status_code
        for _ in range(7)
    ]
    # Five failures are free; the sixth starts a 1 s wait, during which attempts are refused.
    assert codes == [401] * 6 + [429]
    resp = c.post(
        "/login", data={"username": "viewer", "password": PASSWORD}, headers={"Origin": ORIGIN}
    )
    assert resp.status_code == 429 and resp.headers["retry-after"] == "1"
    assert "Try again in 1 s" in resp.text
    # Other users are not slowed down by someone guessing the viewer's password.
    login(c, "reviewer")
    c.close()


def test_security_headers(client: Client) -> None:
    resp = client.get("/login")
    csp = resp.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert resp.headers["x-frame-options"] == "DENY"


def test_passwords_and_tokens_are_stored_hashed(seeded: Seeded, users: Users) -> None:
    from sqlalchemy import select

    from seglens.store.accounts import ApiToken, User

    with seeded.store.read() as s:
        hashes = list(s.scalars(select(User.password_hash)))
        token_hashes = list(s.scalars(select(ApiToken.token_hash)))
    assert all(h.startswith("$argon2id$") for h in hashes) and PASSWORD not in "".join(hashes)
    assert not set(users.tokens.values()) & set(token_hashes)
    assert all(len(h) == 64 for h in token_hashes)


def test_every_write_is_audited_and_no_pii_reaches_the_log(
    app: FastAPI, seeded: Seeded, users: Users, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    create_user(seeded.store, "ursula.k", PASSWORD, role="reviewer")
    before = list_audit(seeded.store).height
    r = Client(app)
    login(r, "ursula.k")
    label = _label(seeded, 11)
    r.post("/review/label", data=label, headers={"Origin": ORIGIN})
    r.close()
    c = Client(app)
    login(c, "admin")
    c.get(f"/customers/{label['customer_id']}")
    c.get(f"/api/customers/{label['customer_id']}?x={label['customer_id']}")
    c.post(
        "/admin/users",
        data={"username": "new.person", "password": PASSWORD, "role": "viewer"},
        headers={"Origin": ORIGIN},
    )
    c.post("/admin/tokens", data={"user_id": str(users.ids["viewer"])}, headers={"Origin": ORIGIN})
    audit = list_audit(seeded.store)
    actions = audit.head(audit.height - before)["action"].to_list()
    assert sorted(actions) == sorted(
        ["session.login", "label.add", "session.login", "user.create", "token.create"]
    )
    # The label's audit entry names the customer by pseudonym only.
    assert pseudonym(label["customer_id"]) in audit["subject"].to_list()
    assert label["customer_id"] not in audit["subject"].to_list()
    # Everything the server side logged (the test's own HTTP client logs its URLs: not ours).
    server = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
    text = "\n".join(r.getMessage() for r in server)
    assert "GET /customers/{customer_id} 200" in text
    for secret in (label["customer_id"], "new.person", "ursula.k", PASSWORD, "testserver"):
        assert secret not in text, secret
    c.close()
