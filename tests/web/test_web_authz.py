"""Authorization matrix: every route x every role (and anonymous) gets the expected status."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from seglens.store import list_alerts, open_store, run_assignments, run_info
from seglens.web import Settings, create_app, create_token, create_user, revoke_token, update_user
from seglens.web.queue import ensure_audit_design
from seglens.web.users import list_tokens
from tests.web.conftest import (
    ORIGIN,
    PASSWORD,
    ROLES,
    Client,
    Seeded,
    Users,
    login,
    make_users,
    seed,
)

ORDER = ("anonymous", *ROLES)
SETTINGS = Settings(margin_pts=10.0, min_per_segment=3)


@dataclass
class Route:
    """One route: how to call it, the least role it needs, and the status on success."""

    method: str
    path: str  # the route template, as registered
    url: str
    need: str | None  # None: public
    ok: int
    kw: dict[str, Any] = field(default_factory=dict)

    @property
    def api(self) -> bool:
        return self.url.startswith("/api/")

    def expected(self, who: str) -> int:
        if self.need is None:
            return self.ok
        if who == "anonymous":
            if self.api:
                return 401
            return 303 if self.method == "GET" else 401
        return self.ok if ROLES.index(who) >= ROLES.index(self.need) else 403


@dataclass
class World:
    app: FastAPI
    seeded: Seeded
    tokens: dict[str, str]
    clients: dict[str, Client]
    routes: list[Route]


def _routes(seeded: Seeded, target_id: int, target_token: int) -> list[Route]:
    latest = run_assignments(seeded.store, seeded.runs[1])
    cid, seg = latest.row(5)[:2]
    alert = int(list_alerts(seeded.store)["id"][0])
    label = {"customer_id": cid, "segment": seg}
    design = ensure_audit_design(
        seeded.store, run_info(seeded.store, seeded.runs[1]), SETTINGS, actor="test"
    )
    mark = {"customer_id": design.members["customer_id"][0], "kind": "skip"}
    score = {
        "customers": [
            {
                "customer_id": "n1",
                "days_since_last_purchase": 3.0,
                "n_orders": 9.0,
                "total_spend": 500.0,
            }
        ]
    }
    r = Route
    return [
        r("GET", "/login", "/login", None, 200),
        r("GET", "/api/docs", "/api/docs", None, 200),
        r(
            "POST",
            "/login",
            "/login",
            None,
            401,
            {"data": {"username": "nobody", "password": "wrong password"}},
        ),
        r("GET", "/openapi.json", "/openapi.json", None, 200),
        r("GET", "/", "/", "viewer", 200),
        r("GET", "/fragments/kpi", "/fragments/kpi", "viewer", 200),
        r("GET", "/segments", "/segments", "viewer", 200),
        r("GET", "/customers", "/customers", "viewer", 200),
        r("GET", "/customers/{customer_id}", f"/customers/{cid}", "viewer", 200),
        r("GET", "/review", "/review", "viewer", 200),
        r("GET", "/export/assignments.csv", "/export/assignments.csv", "analyst", 200),
        r("GET", "/admin", "/admin", "admin", 200),
        r("POST", "/review/label", "/review/label", "reviewer", 303, {"data": label}),
        r("POST", "/review/mark", "/review/mark", "reviewer", 303, {"data": mark}),
        r("POST", "/review/undo", "/review/undo", "reviewer", 303),
        r("GET", "/fragments/progress", "/fragments/progress", "viewer", 200),
        r("POST", "/alerts/{alert_id}/ack", f"/alerts/{alert}/ack", "analyst", 303),
        r(
            "POST",
            "/admin/users",
            "/admin/users",
            "admin",
            303,
            {"data": {"username": "newbie", "password": PASSWORD, "role": "viewer"}},
        ),
        r(
            "POST",
            "/admin/users/{user_id}",
            f"/admin/users/{target_id}",
            "admin",
            303,
            {"data": {"role": "reviewer"}},
        ),
        r("POST", "/admin/users/{user_id}/reset", f"/admin/users/{target_id}/reset", "admin", 201),
        r("GET", "/healthz", "/healthz", None, 200),
        r("GET", "/favicon.ico", "/favicon.ico", None, 200),
        r("GET", "/account", "/account", "viewer", 200),
        r("GET", "/account/password", "/account/password", "viewer", 200),
        r(
            "POST",
            "/account/password",
            "/account/password",
            "viewer",
            422,  # reached the form's check: the current password given is wrong
            {"data": {"current": "not my password", "new": "x" * 12, "repeat": "x" * 12}},
        ),
        r(
            "POST",
            "/account/tokens/{token_id}/revoke",
            f"/account/tokens/{target_token}/revoke",
            "viewer",
            422,  # someone else's token: refused as unknown
        ),
        r(
            "POST",
            "/admin/tokens",
            "/admin/tokens",
            "admin",
            201,
            {"data": {"user_id": str(target_id), "name": "t"}},
        ),
        r(
            "POST",
            "/admin/tokens/{token_id}/revoke",
            f"/admin/tokens/{target_token}/revoke",
            "admin",
            303,
        ),
        r("GET", "/api/me", "/api/me", "viewer", 200),
        r("GET", "/api/kpi", "/api/kpi", "viewer", 200),
        r("GET", "/api/kpi/history", "/api/kpi/history", "viewer", 200),
        r("GET", "/api/learning", "/api/learning", "viewer", 200),
        r("GET", "/api/segments", "/api/segments", "viewer", 200),
        r("GET", "/api/customers/{customer_id}", f"/api/customers/{cid}", "viewer", 200),
        r("GET", "/api/labels", "/api/labels", "viewer", 200),
        r("GET", "/api/runs", "/api/runs", "viewer", 200),
        r("GET", "/api/runs/{run_id}", f"/api/runs/{seeded.runs[0]}", "viewer", 200),
        r("GET", "/api/alerts", "/api/alerts", "viewer", 200),
        r("POST", "/api/labels", "/api/labels", "reviewer", 201, {"json": label}),
        r(
            "POST",
            "/api/labels/batch",
            "/api/labels/batch",
            "reviewer",
            201,
            {"json": {"labels": [label, label]}},
        ),
        r("POST", "/api/score", "/api/score", "analyst", 200, {"json": score}),
        r("POST", "/logout", "/logout", "viewer", 303),
    ]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    mp = pytest.MonkeyPatch()
    mp.setenv("SEGLENS_PSEUDONYM_KEY", "test-key")
    store = open_store(str(tmp_path_factory.mktemp("authz") / "web.db"))
    seeded = seed(store)
    users = make_users(store)
    target = create_user(store, "target", PASSWORD, role="viewer")
    create_token(store, target, "to-revoke")
    token_id = list_tokens(store, target)[0].id
    app = create_app(store, settings=SETTINGS)
    clients = {"anonymous": Client(app)}
    for role in ROLES:
        clients[role] = Client(app)
        login(clients[role], role)
    yield World(app, seeded, users.tokens, clients, _routes(seeded, target, token_id))
    for c in clients.values():
        c.close()
    store.close()
    mp.undo()


def _api_routes(routes: list[Any]) -> Iterator[APIRoute]:
    """Every endpoint, also inside included routers (FastAPI includes them lazily)."""
    for r in routes:
        if isinstance(r, APIRoute):
            yield r
        elif hasattr(r, "original_router"):
            yield from _api_routes(r.original_router.routes)


def test_the_matrix_covers_every_route_the_app_has(world: World) -> None:
    registered = {(m, r.path) for r in _api_routes(world.app.routes) for m in r.methods}
    listed = {(r.method, r.path) for r in world.routes}
    assert registered <= listed
    assert listed - registered == {("GET", "/openapi.json")}  # served by FastAPI itself


def _call(world: World, route: Route, who: str, *, token: bool) -> int:
    headers = {"Origin": ORIGIN}
    client = world.clients["anonymous" if token else who]
    if token and who != "anonymous":
        headers = {"Authorization": f"Bearer {world.tokens[who]}"}
    return client.request(route.method, route.url, headers=headers, **route.kw).status_code


ROUTE_KEYS = [
    ("GET", "/login"),
    ("POST", "/login"),
    ("GET", "/api/docs"),
    ("GET", "/openapi.json"),
    ("GET", "/"),
    ("GET", "/fragments/kpi"),
    ("GET", "/segments"),
    ("GET", "/customers"),
    ("GET", "/customers/{customer_id}"),
    ("GET", "/review"),
    ("GET", "/export/assignments.csv"),
    ("GET", "/admin"),
    ("POST", "/review/label"),
    ("POST", "/review/mark"),
    ("POST", "/review/undo"),
    ("GET", "/fragments/progress"),
    ("POST", "/alerts/{alert_id}/ack"),
    ("POST", "/admin/users"),
    ("POST", "/admin/users/{user_id}"),
    ("POST", "/admin/users/{user_id}/reset"),
    ("GET", "/healthz"),
    ("GET", "/favicon.ico"),
    ("GET", "/account"),
    ("GET", "/account/password"),
    ("POST", "/account/password"),
    ("POST", "/account/tokens/{token_id}/revoke"),
    ("POST", "/admin/tokens"),
    ("POST", "/admin/tokens/{token_id}/revoke"),
    ("GET", "/api/me"),
    ("GET", "/api/kpi"),
    ("GET", "/api/kpi/history"),
    ("GET", "/api/learning"),
    ("GET", "/api/segments"),
    ("GET", "/api/customers/{customer_id}"),
    ("GET", "/api/labels"),
    ("GET", "/api/runs"),
    ("GET", "/api/runs/{run_id}"),
    ("GET", "/api/alerts"),
    ("POST", "/api/labels"),
    ("POST", "/api/labels/batch"),
    ("POST", "/api/score"),
]


def test_the_matrix_lists_every_route_once(world: World) -> None:
    keys = [(r.method, r.path) for r in world.routes]
    assert sorted(keys) == sorted([*ROUTE_KEYS, ("POST", "/logout")])
    assert len(set(keys)) == len(keys)


@pytest.mark.parametrize("key", ROUTE_KEYS, ids=[f"{m} {p}" for m, p in ROUTE_KEYS])
def test_route_by_role(world: World, key: tuple[str, str]) -> None:
    route = next(r for r in world.routes if (r.method, r.path) == key)
    got = {who: _call(world, route, who, token=False) for who in ORDER}
    want = {who: route.expected(who) for who in ORDER}
    assert got == want, f"{route.method} {route.url}"
    if route.api:  # the same with bearer tokens instead of sessions
        got = {who: _call(world, route, who, token=True) for who in ORDER}
        assert got == want, f"{route.method} {route.url} (token)"


def test_logout_by_role(app: FastAPI) -> None:
    for role in ROLES:
        c = Client(app)
        login(c, role)
        assert c.get("/").status_code == 200
        resp = c.post("/logout", headers={"Origin": ORIGIN})
        assert resp.status_code == 303
        assert c.get("/").status_code == 303  # the session is gone
        c.close()
    anon = Client(app)
    assert anon.post("/logout", headers={"Origin": ORIGIN}).status_code == 401
    anon.close()


def test_an_inactive_user_and_a_revoked_token_lose_access(app: FastAPI, users: Users) -> None:
    store = app.state.seglens.store
    c, api = Client(app), Client(app)
    login(c, "viewer")
    assert c.get("/").status_code == 200
    update_user(store, users.ids["viewer"], active=False)
    assert c.get("/").status_code == 303  # the session died with the account
    assert api.get("/api/me", headers=_bearer(users, "viewer")).status_code == 401
    assert api.get("/api/me", headers=_bearer(users, "analyst")).status_code == 200
    tok = next(t for t in list_tokens(store, users.ids["analyst"]))
    revoke_token(store, tok.id)
    assert api.get("/api/me", headers=_bearer(users, "analyst")).status_code == 401
    assert api.get("/api/me", headers={"Authorization": "Bearer slt_guess"}).status_code == 401
    c.close()
    api.close()


def _bearer(users: Users, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {users.tokens[role]}"}


def test_the_last_admin_cannot_be_demoted(app: FastAPI, users: Users) -> None:
    c = Client(app)
    login(c, "admin")
    resp = c.post(
        f"/admin/users/{users.ids['admin']}", data={"role": "viewer"}, headers={"Origin": ORIGIN}
    )
    assert resp.status_code == 422 and "last active admin" in resp.text
    assert c.get("/admin").status_code == 200
    c.close()


def test_idempotency_keys_belong_to_their_user(app: FastAPI, users: Users, seeded: Seeded) -> None:
    cid, seg = run_assignments(seeded.store, seeded.runs[1]).row(7)[:2]
    api = Client(app)
    body = {"customer_id": cid, "segment": seg}
    first = api.post(
        "/api/labels", json=body, headers={**_bearer(users, "reviewer"), "Idempotency-Key": "k-1"}
    )
    other = api.post(
        "/api/labels",
        json={**body, "note": "x"},
        headers={**_bearer(users, "analyst"), "Idempotency-Key": "k-1"},
    )
    reuse = api.post(
        "/api/labels",
        json={**body, "note": "x"},
        headers={**_bearer(users, "reviewer"), "Idempotency-Key": "k-1"},
    )
    assert (first.status_code, other.status_code, reuse.status_code) == (201, 201, 409)
    assert other.json()["id"] != first.json()["id"]
    assert other.json()["labeled_by"] == "analyst"
    api.close()
