"""Web app fixtures: a seeded store (two runs, labels, a stored KPI), users of every role."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import httpx
import numpy as np
import polars as pl
import pytest
from fastapi import FastAPI

from seglens.accuracy import customer_accuracy
from seglens.segmenters import RFMSegmenter
from seglens.store import (
    KpiRecord,
    Store,
    add_label,
    current_labels,
    open_store,
    record_alert,
    record_kpi,
    record_run,
    run_assignments,
)
from seglens.tracking import AlertRules, measure_run
from seglens.web import Settings, create_app, create_token, create_user
from seglens.web.users import set_password_hashing
from tests.postgres import fresh_schema, pg_schema_url

ROLES = ("viewer", "reviewer", "analyst", "admin")
PASSWORD = "a long test password"
ORIGIN = "http://testserver"


# Cheap Argon2 parameters keep the suite fast; the algorithm and code path are the real ones.
set_password_hashing(time_cost=1, memory_cost_kib=1024, parallelism=1)


@pytest.fixture(autouse=True)
def _private_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep keys and default databases of the tests out of the user's home."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("SEGLENS_PSEUDONYM_KEY", "test-key")
    monkeypatch.delenv("SEGLENS_DB", raising=False)


def rfm_features(n: int, seed: int) -> pl.DataFrame:
    """Hand-built RFM feature rows for ``n`` customers ``c000``... (reproducible)."""
    rng = np.random.default_rng(seed)
    return pl.DataFrame(
        {
            "customer_id": [f"c{i:03d}" for i in range(n)],
            "days_since_last_purchase": rng.integers(1, 365, n).astype(float),
            "n_orders": rng.integers(1, 30, n).astype(float),
            "total_spend": np.round(rng.gamma(2.0, 150.0, n), 2),
        }
    )


@dataclass
class Seeded:
    """What the seeded store holds."""

    store: Store
    runs: tuple[int, int]
    labelled: list[str]

    def expected_accuracy(self) -> tuple[float, int]:
        """The labelled share of the latest run, recomputed independently (value %, n).

        Every seeded label (and every label the tests add) judges the latest run, so all are
        fresh and the ``accuracy`` metric is the share of current labels that agree with it.
        """
        latest = run_assignments(self.store, self.runs[1])
        truth = current_labels(self.store).join(latest, on="customer_id", suffix="_run")
        est = customer_accuracy(truth["segment"], truth["segment_run"], match="names")
        return est.value_pct, est.n


def seed(store: Store, n: int = 120) -> Seeded:
    """Two RFM runs (Q2, Q3 2011) with features, 24 labels of run 2, a KPI per quarter, an alert."""
    runs = []
    for as_of, seed_ in ((date(2011, 6, 30), 1), (date(2011, 9, 30), 2)):
        feats = rfm_features(n, seed_)
        assigned = RFMSegmenter().fit(feats).assign(feats).select("customer_id", "segment")
        assigned = assigned.join(
            feats.select("customer_id", pl.col("total_spend").alias("revenue")), on="customer_id"
        )
        runs.append(
            record_run(
                store,
                assigned,
                segmenter="RFMSegmenter",
                parameters={},
                as_of=as_of,
                data_hash=f"hash{seed_}",
                features=feats,
            )
        )
    latest = run_assignments(store, runs[1])
    segs = sorted(set(latest["segment"].to_list()))
    labelled = []
    for i, (cid, seg) in enumerate(latest.select("customer_id", "segment").head(24).iter_rows()):
        truth = seg if i % 4 else segs[(segs.index(seg) + 1) % len(segs)]  # 1 in 4 wrong
        add_label(store, cid, truth, labeled_by="sales", source="crm-sheet")
        labelled.append(cid)
    seeded = Seeded(store, (runs[0], runs[1]), labelled)
    record_kpi(
        store,
        KpiRecord(
            period="2011Q2",
            metric="accuracy",
            value=88.0,
            n=50,
            method="labelled",
            successes=44,
            run_id=runs[0],
        ),
    )
    # 2011Q3 is measured from the labels, and compared with 2011Q2, as track does.
    measure_run(store, runs[1], rules=AlertRules(target_pct=85.0))
    record_alert(
        store,
        rule="below_target",
        severity="warning",
        message="accuracy below the 85 % target",
        details={},
        period="2011Q3",
        metric="accuracy",
    )
    return seeded


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[Seeded]:
    """A SQLite store in ``tmp_path`` with two runs, labels and a KPI."""
    store = open_store(str(tmp_path / "web.db"))
    try:
        yield seed(store)
    finally:
        store.close()


@dataclass
class Users:
    """One user and one API token per role."""

    ids: dict[str, int]
    tokens: dict[str, str]


def make_users(store: Store) -> Users:
    """Create ``viewer``/``reviewer``/``analyst``/``admin`` users, each with a token acting with
    the user's full role (scope ``admin``)."""
    ids = {r: create_user(store, r, PASSWORD, role=r) for r in ROLES}
    tokens = {r: create_token(store, ids[r], f"{r}-token", scope="admin") for r in ROLES}
    return Users(ids, tokens)


@pytest.fixture
def users(seeded: Seeded) -> Users:
    """Users of every role on the seeded store."""
    return make_users(seeded.store)


@pytest.fixture
def app(seeded: Seeded, users: Users) -> FastAPI:
    """The app over the seeded store (a 5-point target margin keeps the sample small)."""
    return create_app(seeded.store, settings=Settings(margin_pts=10.0, min_per_segment=3))


T = TypeVar("T")


class Client:
    """A synchronous face on ``httpx.AsyncClient(transport=ASGITransport(app))`` (in-process).

    Keeps cookies between calls like a browser; app exceptions propagate (a 500 fails the test).
    """

    def __init__(self, app: FastAPI) -> None:
        # The loop runs in its own thread: another fixture (Playwright's sync API) may keep an
        # event loop running in the main thread, where run_until_complete would then refuse.
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=ORIGIN, follow_redirects=False
        )
        self.cookies = self._client.cookies

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def request(self, method: str, url: str, **kw: object) -> httpx.Response:
        """Send one request and wait for the answer."""
        return self._run(self._client.request(method, url, **kw))  # type: ignore[arg-type]

    def get(self, url: str, **kw: object) -> httpx.Response:
        """GET ``url``."""
        return self.request("GET", url, **kw)

    def post(self, url: str, **kw: object) -> httpx.Response:
        """POST to ``url``."""
        return self.request("POST", url, **kw)

    def close(self) -> None:
        """Close the client and its event loop."""
        self._run(self._client.aclose())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()


def login(client: Client, username: str, password: str = PASSWORD) -> None:
    """Sign ``client`` in through the login form (as a same-origin browser would)."""
    resp = client.post(
        "/login",
        data={"username": username, "password": password, "next": "/"},
        headers={"Origin": ORIGIN},
    )
    assert resp.status_code == 303, resp.text


@pytest.fixture
def client(app: FastAPI) -> Iterator[Client]:
    """An anonymous in-process client."""
    c = Client(app)
    try:
        yield c
    finally:
        c.close()


@pytest.fixture
def clients(app: FastAPI) -> Iterator[dict[str, Client]]:
    """A signed-in client per role, plus ``"anonymous"``."""
    made = {"anonymous": Client(app)}
    for role in ROLES:
        made[role] = Client(app)
        login(made[role], role)
    try:
        yield made
    finally:
        for c in made.values():
            c.close()


@pytest.fixture
def pg_store_url() -> Iterator[str]:
    """A fresh PostgreSQL schema (dropped afterwards), as a store URL."""
    with fresh_schema("seglens_web") as schema:
        yield pg_schema_url(schema)
