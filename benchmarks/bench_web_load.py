"""Load benchmark of the web app: 50 concurrent reviewers x 20 corrections through the HTTP API.

Starts a real uvicorn server on 127.0.0.1 over a fresh store (SQLite file under
``benchmarks/.data/``, then a fresh PostgreSQL schema on 127.0.0.1:5432), gives each reviewer
an API token with the ``label`` scope, and has all of them POST corrections at once (each with
its own ``Idempotency-Key``). The server runs as ``seglens serve`` runs it (the body limits, the
header deadline and the connection limits). Afterwards it counts the stored labels and audit
entries: ``lost`` is corrections answered or sent but not stored.

Run: ``.venv/bin/python -m benchmarks.bench_web_load [--reviewers 50] [--corrections 20]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import polars as pl
from sqlalchemy import create_engine, text

from seglens.store import (
    Store,
    label_history,
    list_audit,
    open_store,
    record_run,
    schema_url,
)
from seglens.web import create_token, create_user
from seglens.web.users import set_password_hashing

PG_URL = os.environ.get("SEGLENS_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
DATA = Path(__file__).resolve().parent / ".data"
SEGMENTS = ["Champions", "Loyal", "At risk", "Lost"]


def _seed(store: Store, customers: int) -> list[str]:
    ids = [f"c{i:05d}" for i in range(customers)]
    run = pl.DataFrame({"customer_id": ids, "segment": [SEGMENTS[i % 4] for i in range(customers)]})
    record_run(
        store, run, segmenter="bench", parameters={}, as_of=date(2011, 9, 30), data_hash="bench"
    )
    return ids


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


async def _reviewer(
    client: httpx.AsyncClient,
    token: str,
    ids: list[str],
    n: int,
    lat: list[float],
    codes: list[int],
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    for k in range(n):
        cid = ids[k]
        body = {"customer_id": cid, "segment": SEGMENTS[(k + 1) % 4], "note": "load test"}
        t = time.perf_counter()
        try:
            resp = await client.post(
                "/api/labels", json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex}
            )
        except httpx.TransportError:
            codes.append(0)  # no answer at all: counted as an error, never retried
            continue
        lat.append(time.perf_counter() - t)
        codes.append(resp.status_code)


async def _drive(
    base: str, tokens: list[str], ids: list[str], n: int
) -> tuple[list[float], list[int], float]:
    lat: list[float] = []
    codes: list[int] = []
    limits = httpx.Limits(max_connections=len(tokens), max_keepalive_connections=len(tokens))
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        t = time.perf_counter()
        await asyncio.gather(
            *(
                _reviewer(client, tok, ids[i * n : (i + 1) * n], n, lat, codes)
                for i, tok in enumerate(tokens)
            )
        )
        wall = time.perf_counter() - t
    return lat, codes, wall


def run_one(engine: str, url: str, reviewers: int, corrections: int) -> dict[str, Any]:
    """One engine: start the server, drive the load, count what was stored."""
    store = open_store(url)
    ids = _seed(store, reviewers * corrections)
    tokens = []
    for i in range(reviewers):
        uid = create_user(store, f"rev{i:02d}", "load test password", role="reviewer")
        tokens.append(create_token(store, uid, "load", scope="label"))
    labels_before = label_history(store).height
    audit_before = list_audit(store).height
    port = _free_port()
    # The server runs in its own process, as `seglens serve` would (one uvicorn worker).
    code = (
        "import uvicorn; from seglens.web import create_app; "
        "from seglens.web.server import MAX_CONNECTIONS, MAX_HEADER_BYTES, "
        "header_timeout_protocol; "
        f"uvicorn.run(create_app({url!r}), host='127.0.0.1', port={port}, "
        "log_level='warning', access_log=False, timeout_keep_alive=60, proxy_headers=False, "
        "http=header_timeout_protocol(), h11_max_incomplete_event_size=MAX_HEADER_BYTES, "
        "limit_concurrency=MAX_CONNECTIONS)"
    )
    proc = subprocess.Popen([sys.executable, "-c", code])
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the server did not start")
            time.sleep(0.2)
        lat, codes, wall = asyncio.run(_drive(base, tokens, ids, corrections))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    stored = label_history(store).height - labels_before
    audited = int(
        (
            list_audit(store).head(list_audit(store).height - audit_before)["action"] == "label.add"
        ).sum()
    )
    store.close()
    ms = sorted(x * 1000 for x in lat)
    return {
        "engine": engine,
        "requests": len(codes),
        "stored": stored,
        "audit": audited,
        "lost": reviewers * corrections - stored,
        "5xx": sum(c >= 500 for c in codes),
        "non_201": sum(c != 201 for c in codes),
        "p50_ms": statistics.median(ms),
        "p95_ms": ms[int(0.95 * (len(ms) - 1))],
        "max_ms": ms[-1],
        "req_per_s": len(codes) / wall,
    }


def _pg_schema() -> tuple[str, str] | None:
    schema = f"seglens_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as err:
        print(f"PostgreSQL unavailable ({err.__class__.__name__}): skipped", file=sys.stderr)
        return None
    finally:
        admin.dispose()
    return schema, schema_url(PG_URL, schema)


def _drop_schema(schema: str) -> None:
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def main() -> None:
    """Run both engines and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviewers", type=int, default=50)
    parser.add_argument("--corrections", type=int, default=20)
    args = parser.parse_args()
    os.environ.setdefault("SEGLENS_PSEUDONYM_KEY", "bench-key")
    set_password_hashing(time_cost=1, memory_cost_kib=1024, parallelism=1)  # setup only
    DATA.mkdir(parents=True, exist_ok=True)
    rows = []
    db = DATA / f"web-load-{uuid.uuid4().hex[:8]}.db"
    try:
        rows.append(run_one("sqlite", f"sqlite:///{db}", args.reviewers, args.corrections))
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    pg = _pg_schema()
    if pg is not None:
        try:
            rows.append(run_one("postgresql", pg[1], args.reviewers, args.corrections))
        finally:
            _drop_schema(pg[0])
    table = pl.DataFrame(rows)
    with pl.Config(tbl_cols=-1, tbl_width_chars=200, float_precision=1):
        print(f"{args.reviewers} reviewers x {args.corrections} corrections via POST /api/labels")
        print(table)
    bad = table.filter((pl.col("lost") != 0) | (pl.col("5xx") != 0) | (pl.col("non_201") != 0))
    if bad.height:
        sys.exit(1)


if __name__ == "__main__":
    main()
