"""Benchmark ingestion: ``load_transactions`` against a raw read of the same file, same run.

Run from the repository root:

    .venv/bin/python -m benchmarks.bench_ingest              # 10 M rows, 3 repetitions
    .venv/bin/python -m benchmarks.bench_ingest --quick      # 1 M rows, for a smoke test
    .venv/bin/python -m benchmarks.bench_ingest --rows 5000000 --repeat 5

The input is an Online Retail-shaped transactions file (InvoiceNo with 2 % ``C`` cancellations,
StockCode incl. POST, Description, Quantity, InvoiceDate, UnitPrice, CustomerID as ``17850.0``
with 25 % missing, Country; 1 % exact duplicate lines), written once as CSV and as Parquet
under ``benchmarks/.data/`` (git-ignored). Every measurement runs in a fresh subprocess, so peak
memory (``VmHWM``, the peak resident set) belongs to that job alone; time is the wall time of
the read inside the process (imports excluded), median of the repetitions.

Jobs, per format:

* ``polars``: ``pl.read_csv(path, schema_overrides={InvoiceNo, StockCode: String})`` /
  ``pl.read_parquet(path)`` (other types inferred, no cleaning);
* ``duckdb``: ``duckdb.sql("SELECT * FROM read_csv_auto(...)")`` / ``read_parquet`` to Arrow;
* ``floor``: the ``polars`` read plus the least an exact-duplicate rule does: a 64-bit hash of
  every line, sorted, repeats counted. No other cleaning: a lower bound for any loader that finds
  exact duplicate lines (seglens hashes and sorts the same way);
* ``seglens``: ``load_transactions(path, max_bytes=None)`` — sniffing, layout recognition, id /
  date / amount parsing, every cleaning rule and the report, down to the canonical table.

Target (issue 2): seglens within 2x of the raw Polars read.

``--compare DIR`` instead times seglens against another checkout of it (``DIR`` is that
checkout's root, e.g. a ``git worktree`` of an older commit): the ``seglens`` job runs
alternately from this tree and from ``DIR/src``, ``--repeat`` pairs per format, and the ratio
is taken pair by pair (pairing keeps it meaningful when a shared machine's speed drifts):

    git worktree add --detach /tmp/ingest-base <commit>
    .venv/bin/python -m benchmarks.bench_ingest --quick --compare /tmp/ingest-base --repeat 9
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import polars as pl

DATA = Path(__file__).resolve().parent / ".data"
JOBS = ("polars", "duckdb", "floor", "seglens")


def generate(rows: int) -> tuple[Path, Path]:
    """Write (once) the CSV and Parquet inputs with ``rows`` lines."""
    DATA.mkdir(parents=True, exist_ok=True)
    csv_path = DATA / f"ingest_{rows}.csv"
    pq_path = DATA / f"ingest_{rows}.parquet"
    if csv_path.exists() and pq_path.exists():
        return csv_path, pq_path
    rng = np.random.default_rng(20111209)
    n_orders = max(1, rows // 20)
    order = np.sort(rng.integers(0, n_orders, rows))
    cancel = rng.random(n_orders) < 0.02
    customers = rng.integers(12346, 18288, n_orders).astype(np.float64)
    customers[rng.random(n_orders) < 0.25] = np.nan
    start = np.datetime64("2010-12-01T08:00:00")
    order_time = start + np.sort(rng.integers(0, 374 * 86400, n_orders)).astype("timedelta64[s]")
    stock = rng.integers(10000, 14000, rows).astype(str)
    stock[rng.random(rows) < 0.003] = "POST"
    qty = rng.integers(1, 25, rows)
    qty = np.where(cancel[order], -qty, qty)
    frame = pl.DataFrame(
        {
            "InvoiceNo": pl.Series(
                np.char.add(np.where(cancel[order], "C", ""), (536365 + order).astype(str))
            ),
            "StockCode": stock,
            "Description": pl.Series(
                rng.choice(
                    [
                        "WHITE HANGING HEART T-LIGHT HOLDER",
                        "REGENCY CAKESTAND 3 TIER",
                        "JUMBO BAG RED RETROSPOT",
                        "PARTY BUNTING",
                        "POSTAGE",
                    ],
                    rows,
                )
            ),
            "Quantity": qty,
            "InvoiceDate": pl.Series(order_time[order].astype("datetime64[us]")),
            "UnitPrice": np.round(rng.gamma(2.0, 1.5, rows), 2),
            "CustomerID": pl.Series(customers[order]).fill_nan(None),
            "Country": pl.Series(
                rng.choice(
                    ["United Kingdom", "Germany", "France", "EIRE"],
                    rows,
                    p=[0.91, 0.03, 0.03, 0.03],
                )
            ),
        }
    )
    dup = rng.random(rows) < 0.01
    idx = np.arange(rows)
    idx[1:][dup[1:]] = idx[:-1][dup[1:]]  # a duplicate line repeats the line before it
    frame = frame[idx]
    frame.write_parquet(pq_path)
    frame.with_columns(
        pl.col("InvoiceDate").dt.strftime("%Y-%m-%d %H:%M:%S"),
        pl.col("CustomerID").cast(pl.Int64).cast(pl.String) + ".0",
    ).write_csv(csv_path)
    return csv_path, pq_path


def _peak_mib() -> float:
    """Peak resident memory of this process (VmHWM; ru_maxrss survives exec, VmHWM does not)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _raw_read(fmt: str, path: str) -> pl.DataFrame:
    """The raw Polars read: every column, types inferred, no cleaning."""
    if fmt == "csv":
        # the codes hold letters further down the file ("C536379", "POST"): a raw read must
        # be told, or Polars' type inference fails on them
        return pl.read_csv(path, schema_overrides={"InvoiceNo": pl.String, "StockCode": pl.String})
    return pl.read_parquet(path)


def _child(job: str, fmt: str, path: str) -> None:
    """Run one job in this (fresh) process and print its JSON result."""
    if job == "polars":
        t0 = time.perf_counter()
        rows = _raw_read(fmt, path).height
    elif job == "floor":
        t0 = time.perf_counter()
        out = _raw_read(fmt, path)
        line = pl.sum_horizontal(pl.col(c).hash(seed=i + 1) for i, c in enumerate(out.columns))
        hashes = out.lazy().select(line.sort().alias("h")).collect()
        repeats = hashes.select((pl.col("h") == pl.col("h").shift(1)).sum()).item()
        assert repeats > 0, "the input has planted duplicate lines"
        rows = out.height
    elif job == "duckdb":
        import duckdb

        fn = "read_csv_auto" if fmt == "csv" else "read_parquet"
        t0 = time.perf_counter()
        table = duckdb.sql(f"SELECT * FROM {fn}('{path}')").arrow()
        rows = table.num_rows if hasattr(table, "num_rows") else table.read_all().num_rows
    else:
        from seglens.io import load_transactions

        t0 = time.perf_counter()
        loaded = load_transactions(path, max_bytes=None)
        rows = loaded.report.rows_read
    seconds = time.perf_counter() - t0
    peak = _peak_mib()
    print(json.dumps({"seconds": seconds, "peak_mib": peak, "rows": rows}))


def _run_child(job: str, fmt: str, path: Path, src: Path | None = None) -> dict[str, float]:
    """One fresh-process run of ``job``; ``src``: import seglens from that source folder."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    res = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_ingest", "--child", job, fmt, str(path)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    return dict(json.loads(res.stdout.strip().splitlines()[-1]))


def measure(job: str, fmt: str, path: Path, repeat: int) -> dict[str, float]:
    """Median seconds and peak memory of ``repeat`` fresh-process runs."""
    runs = [_run_child(job, fmt, path) for _ in range(repeat)]
    return {
        "seconds": statistics.median(r["seconds"] for r in runs),
        "peak_mib": statistics.median(r["peak_mib"] for r in runs),
        "rows": runs[0]["rows"],
    }


def compare(other: Path, fmt: str, path: Path, pairs: int) -> None:
    """Print this tree's and ``other``'s median load time and the median paired ratio."""
    here = Path(__file__).resolve().parent.parent / "src"
    _run_child("seglens", fmt, path, here)  # warm-up: file cache, compiled bytecode
    _run_child("seglens", fmt, path, other / "src")
    mine, theirs = [], []
    for _ in range(pairs):
        mine.append(_run_child("seglens", fmt, path, here)["seconds"])
        theirs.append(_run_child("seglens", fmt, path, other / "src")["seconds"])
    ratios = [a / b for a, b in zip(mine, theirs, strict=True)]
    print(
        f"{fmt:8} this tree {statistics.median(mine):6.2f} s   {other}: "
        f"{statistics.median(theirs):6.2f} s   paired ratio median {statistics.median(ratios):.3f}"
        f" (min {min(ratios):.3f}, max {max(ratios):.3f}, {pairs} pairs)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="1 M rows, 1 repetition")
    parser.add_argument("--format", choices=["parquet", "csv", "both"], default="both")
    parser.add_argument(
        "--compare",
        type=Path,
        metavar="DIR",
        help="time seglens against the checkout at DIR (paired, --repeat pairs per format)",
    )
    parser.add_argument(
        "--child", nargs=3, metavar=("JOB", "FORMAT", "PATH"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child:
        _child(*args.child)
        return
    rows, repeat = (1_000_000, 1) if args.quick else (args.rows, args.repeat)
    t0 = time.perf_counter()
    csv_path, pq_path = generate(rows)
    if args.compare is not None:
        for fmt, path in (("parquet", pq_path), ("csv", csv_path)):
            if args.format in {fmt, "both"}:
                compare(args.compare.resolve(), fmt, path, max(args.repeat, 3))
        return
    print(
        f"inputs: {csv_path.name} ({csv_path.stat().st_size / 1e6:,.0f} MB), "
        f"{pq_path.name} ({pq_path.stat().st_size / 1e6:,.0f} MB); "
        f"ready in {time.perf_counter() - t0:.1f} s; median of {repeat} fresh-process runs"
    )
    header = (
        f"{'format':8} {'job':8} {'rows':>11} {'median s':>9} {'rows/s':>12} "
        f"{'peak MiB':>9} {'x polars':>9} {'x duckdb':>9}"
    )
    print(header)
    print("-" * len(header))
    worst = floor = 0.0
    for fmt, path in (("parquet", pq_path), ("csv", csv_path)):
        if args.format not in {fmt, "both"}:
            continue
        results = {job: measure(job, fmt, path, repeat) for job in JOBS}
        for job, r in results.items():
            ratio_pl = r["seconds"] / results["polars"]["seconds"]
            ratio_dd = r["seconds"] / results["duckdb"]["seconds"]
            print(
                f"{fmt:8} {job:8} {int(r['rows']):>11,} {r['seconds']:>9.2f} "
                f"{r['rows'] / r['seconds']:>12,.0f} {r['peak_mib']:>9,.0f} "
                f"{ratio_pl:>9.2f} {ratio_dd:>9.2f}"
            )
        worst = max(worst, results["seglens"]["seconds"] / results["polars"]["seconds"])
        floor = max(floor, results["floor"]["seconds"] / results["polars"]["seconds"])
    verdict = "within" if worst <= 2 else "NOT within"
    print(f"\nseglens ingestion is {verdict} 2x of the raw Polars read (worst ratio {worst:.2f})")
    print(f"duplicate detection alone (floor) takes up to {floor:.2f}x the raw Polars read")


if __name__ == "__main__":
    main()
