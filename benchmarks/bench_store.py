"""Benchmark the store's label import, current-truth derivation and forget, against named peers.

Run from the repository root:

    .venv/bin/python -m benchmarks.bench_store            # 50,000 labels (about a minute)
    .venv/bin/python -m benchmarks.bench_store --quick    # 5,000 labels, a smoke test

Jobs, each the median of ``--repeat`` runs with Python's peak traced memory (tracemalloc; the
database engines' own C memory is not traced), on SQLite and, when reachable, PostgreSQL:

1. import N labels: ``seglens.store.store_labels`` (idempotency checks, fingerprints, audit row,
   one transaction) vs ``pandas.DataFrame.to_sql`` (a plain bulk insert: no checks at all) vs
   the naive ORM way (``session.add`` per row, one commit);
2. current label per customer over N labels + N/2 corrections: ``current_labels`` (Polars) vs a
   SQL window query (``ROW_NUMBER() OVER (PARTITION BY customer_id ...)``) read with pandas;
3. ``forget_customer`` on that store (including the SQLite WAL checkpoint).

Ratios are against the first row of each job, measured in the same run (the machine is shared,
so absolute times are noisy).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import tracemalloc
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import polars as pl
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from seglens.store import current_labels, forget_customer, open_store, schema_url, store_labels
from seglens.store.models import Label

PG_URL = os.environ.get("SEGLENS_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _labels(n: int, seed: int = 0) -> pl.DataFrame:
    start = datetime(2011, 1, 1)
    return pl.DataFrame(
        {
            "customer_id": [f"c{(i * 7919 + seed) % (n // 2 + 1)}" for i in range(n)],
            "segment": [f"S{(i + seed) % 9}" for i in range(n)],
            "labeled_by": ["bench"] * n,
            "labeled_at": [start + timedelta(minutes=i + seed * n) for i in range(n)],
            "source": ["sales"] * n,
            "note": [f"row {i} seed {seed}" for i in range(n)],
        }
    )


def _measure(
    fn: Callable[[Any], Any], repeat: int, setup: Callable[[], Any] = lambda: None
) -> tuple[float, float]:
    """Median wall time over ``repeat`` runs (untraced), then one traced run for peak memory."""
    times = []
    for _ in range(repeat):
        arg = setup()
        t0 = time.perf_counter()
        fn(arg)
        times.append(time.perf_counter() - t0)
    arg = setup()
    tracemalloc.start()
    fn(arg)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return statistics.median(times), peak


class Databases:
    """Fresh databases per measurement: SQLite files in a temp dir, PostgreSQL schemas."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.schemas: list[str] = []
        self.pg_ok = self._pg_reachable()

    def _pg_reachable(self) -> bool:
        try:
            eng = create_engine(PG_URL)
            with eng.connect():
                pass
            eng.dispose()
            return True
        except Exception:  # any failure means "skip PostgreSQL"
            return False

    def fresh(self, engine: str) -> str:
        name = f"bench_{uuid.uuid4().hex[:10]}"
        if engine == "sqlite":
            return f"sqlite:///{self.root / (name + '.db')}"
        eng = create_engine(PG_URL)
        with eng.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{name}"'))
        eng.dispose()
        self.schemas.append(name)
        return schema_url(PG_URL, name)

    def drop_all(self) -> None:
        if not self.schemas:
            return
        eng = create_engine(PG_URL)
        with eng.begin() as conn:
            for name in self.schemas:
                conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        eng.dispose()


def job_import(dbs: Databases, engine: str, n: int, repeat: int) -> list[tuple[str, float, float]]:
    table = _labels(n)
    pdf = table.to_pandas()

    def new_store() -> Any:
        store = open_store(dbs.fresh(engine))  # schema created outside the timing
        return store

    def seglens_import(store: Any) -> None:
        res = store_labels(store, table, source="bench.csv", file_hash=uuid.uuid4().hex * 2)
        assert res.added == n
        store.close()

    def pandas_to_sql(store: Any) -> None:
        pdf.to_sql("labels_plain", store.engine, index=False, chunksize=2000)
        store.close()

    def naive_orm(store: Any) -> None:
        with Session(store.engine) as s:
            now = datetime(2011, 1, 1)
            for i, r in enumerate(table.iter_rows(named=True)):
                s.add(Label(**r, fingerprint=f"{i}", recorded_at=now))
            s.commit()
        store.close()

    return [
        (name, *_measure(fn, repeat, new_store))
        for name, fn in (
            ("seglens store_labels", seglens_import),
            ("pandas to_sql (no checks)", pandas_to_sql),
            ("ORM add per row", naive_orm),
        )
    ]


def job_current(dbs: Databases, engine: str, n: int, repeat: int) -> list[tuple[str, float, float]]:
    url = dbs.fresh(engine)
    with open_store(url) as store:
        store_labels(store, _labels(n), source="a", file_hash="a" * 64)
        store_labels(store, _labels(n // 2, seed=1), source="b", file_hash="b" * 64)
    sql = text(
        "SELECT customer_id, segment FROM (SELECT customer_id, segment, ROW_NUMBER() OVER "
        "(PARTITION BY customer_id ORDER BY labeled_at DESC, id DESC) AS rn FROM labels) t "
        "WHERE rn = 1"
    )
    store = open_store(url)
    expected = current_labels(store).height

    def polars_way(_: Any) -> None:
        assert current_labels(store).height == expected

    def sql_window(_: Any) -> None:
        with store.engine.connect() as conn:
            assert len(pd.read_sql(sql, conn)) == expected

    out = [
        ("seglens current_labels", *_measure(polars_way, repeat)),
        ("SQL window + pandas", *_measure(sql_window, repeat)),
    ]
    forget_times = []
    for i in range(repeat):
        t0 = time.perf_counter()
        forget_customer(store, f"c{i}")
        forget_times.append(time.perf_counter() - t0)
    store.close()
    out.append(("forget_customer (1 of ~N/2)", statistics.median(forget_times), float("nan")))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10x smaller")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n = 5_000 if args.quick else 50_000
    os.environ.setdefault("SEGLENS_PSEUDONYM_KEY", "benchmark")
    with tempfile.TemporaryDirectory() as tmp:
        dbs = Databases(Path(tmp))
        engines = ["sqlite", *(["postgresql"] if dbs.pg_ok else [])]
        print(f"labels: {n:,}; repeats: {args.repeat}; engines: {', '.join(engines)}")
        print(
            f"{'engine':<11} {'job':<7} {'method':<30} {'median s':>9} {'peak MiB':>9} {'ratio':>6}"
        )
        try:
            for engine in engines:
                for job, fn in (("import", job_import), ("current", job_current)):
                    rows = fn(dbs, engine, n, args.repeat)
                    base = rows[0][1]
                    for name, t, mem in rows:
                        ratio = f"{t / base:6.2f}" if "forget" not in name else "     -"
                        print(f"{engine:<11} {job:<7} {name:<30} {t:9.3f} {mem:9.1f} {ratio}")
        finally:
            dbs.drop_all()


if __name__ == "__main__":
    main()
