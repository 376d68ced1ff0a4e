"""SIGKILL a `seglens labels import` at random points: the database stays whole and atomic."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest

ROWS = 3_000
KILLS = 20
CLI = [sys.executable, "-c", "from seglens.cli import app; app()"]


def _write_batch(path: Path, batch: int) -> None:
    pl.DataFrame(
        {
            "customer_id": [f"c{batch}-{i}" for i in range(ROWS)],
            "segment": [f"S{i % 7}" for i in range(ROWS)],
            "labeled_by": ["crash-test"] * ROWS,
            "note": [f"batch-{batch}"] * ROWS,
        }
    ).write_csv(path)


def _import(path: Path, db: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.Popen(
        [*CLI, "labels", "import", str(path), "--db", str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )


def _batch_counts(db: Path) -> tuple[str, dict[str, int], int]:
    con = sqlite3.connect(db)
    try:
        integrity = con.execute("PRAGMA integrity_check").fetchone()[0]
        counts = dict(con.execute("SELECT note, count(*) FROM labels GROUP BY note").fetchall())
        imports = con.execute("SELECT count(*) FROM imports").fetchone()[0]
    finally:
        con.close()
    return integrity, counts, imports


@pytest.mark.slow
def test_killed_imports_leave_none_or_all_and_keep_acknowledged_labels(tmp_path: Path) -> None:
    rng = random.Random(20111231)
    db = tmp_path / "crash.db"
    acknowledged: list[int] = []
    batch = 0

    def run_to_completion() -> float:
        nonlocal batch
        path = tmp_path / f"b{batch}.csv"
        _write_batch(path, batch)
        t0 = time.perf_counter()
        proc = _import(path, db)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
        assert b"labels added" in out
        acknowledged.append(batch)
        batch += 1
        return time.perf_counter() - t0

    full = run_to_completion()  # also measures how long one import takes here
    print(f"one import of {ROWS} labels: {full:.2f} s")
    outcomes = {"none": 0, "all": 0}
    for k in range(KILLS):
        path = tmp_path / f"b{batch}.csv"
        _write_batch(path, batch)
        proc = _import(path, db)
        time.sleep(rng.uniform(0.3 * full, 1.05 * full))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)  # reaps it and closes the pipes
        integrity, counts, imports = _batch_counts(db)
        assert integrity == "ok"
        got = counts.get(f"batch-{batch}", 0)
        assert got in (0, ROWS), f"kill {k}: batch {batch} holds {got} of {ROWS} labels"
        outcomes["all" if got else "none"] += 1
        for done in acknowledged:
            assert counts.get(f"batch-{done}") == ROWS, f"acknowledged batch {done} lost"
        assert imports == len(acknowledged) + outcomes["all"]
        batch += 1
        if k % 5 == 4:
            run_to_completion()  # the store keeps working after a crash
    assert outcomes["none"] >= 1  # kills did land before the commit
    assert sum(outcomes.values()) == KILLS
