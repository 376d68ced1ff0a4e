"""Benchmark: customer features from synthetic transactions, seglens against named peers.

Run (from the repository root)::

    .venv/bin/python -m benchmarks.bench_features                 # 10 M / 1 M and 50 M / 2 M
    .venv/bin/python -m benchmarks.bench_features --rows 1000000  # a quick small run

Every measurement is a fresh subprocess that reads the same Parquet files (fixed seed) and
computes a per-customer table; its wall time (read + compute, imports excluded) and peak resident
memory (``VmHWM`` of that process) are recorded. Medians over ``--repeat`` runs; ratios are
against seglens' lifetimes-compatible RFM measured in the same run. Peers run with a time cap
(``--peer-timeout``) and are reported as "> cap" when they do not finish.

The two ``floor_*`` tasks do the least an exact lifetimes computation does (per customer-day key
the day's purchases, then per id hash the purchase days, last day, first day with its purchases
and total) and stop there: no id text, no collision check, no sort. They show how much of
seglens' time is that irreducible work and how much is the rest.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2023-12-31"
COLS = ["customer_id", "timestamp", "amount", "is_return"]

# name -> (description, code run in the child; it must define `run(folder)` returning a frame)
TASKS: dict[str, tuple[str, str]] = {
    "scan": (
        "bare Parquet scan (4 columns, Polars)",
        "import polars as pl\n"
        "def run(folder):\n"
        f"    return pl.read_parquet(folder + '/*.parquet', columns={COLS!r})\n",
    ),
    "seglens_lifetimes": (
        "seglens lifetimes RFM (embedded: Polars fast path)",
        "from seglens.features import customer_features\n"
        "def run(folder):\n"
        f"    return customer_features(folder, as_of={AS_OF!r}, feature_set='lifetimes').table\n",
    ),
    "seglens_rfm": (
        "seglens lifetimes + marketer's RFM",
        "from seglens.features import customer_features\n"
        "def run(folder):\n"
        f"    return customer_features(folder, as_of={AS_OF!r}, feature_set='rfm').table\n",
    ),
    "seglens_all": (
        "seglens whole feature set",
        "from seglens.features import customer_features\n"
        "def run(folder):\n"
        f"    return customer_features(folder, as_of={AS_OF!r}).table\n",
    ),
    "definition_polars": (
        "seglens lifetimes, portable definition on Polars",
        "from seglens.features import customer_features\n"
        "def run(folder):\n"
        f"    return customer_features(folder, as_of={AS_OF!r}, feature_set='lifetimes',"
        " fast=False).table\n",
    ),
    "definition_duckdb": (
        "seglens lifetimes, portable definition on DuckDB",
        "from seglens.features import customer_features\n"
        "def run(folder):\n"
        f"    return customer_features(folder, as_of={AS_OF!r}, feature_set='lifetimes',"
        " engine='duckdb').table\n",
    ),
    "floor_polars": (
        "floor: lifetimes sums per id hash, no id text or check (Polars)",
        "import datetime as dt\n"
        "import polars as pl\n"
        "S = 1 << 17\n"
        "def run(folder):\n"
        f"    end = dt.datetime.fromisoformat({AS_OF!r}) + dt.timedelta(days=1)\n"
        "    lf = pl.scan_parquet(folder + '/*.parquet')\n"
        "    lf = lf.filter(~pl.col('is_return') & (pl.col('timestamp') < end))\n"
        "    day = pl.col('timestamp').dt.date().cast(pl.Int32).cast(pl.UInt64)\n"
        "    key = (pl.col('customer_id').hash() // S) * S + day\n"
        "    cents = (pl.col('amount') * 100).round().cast(pl.Int64)\n"
        "    days = lf.group_by(key.alias('k')).agg(cents.sum().alias('b'))\n"
        "    day_of = pl.col('k') % S\n"
        "    first = day_of * (1 << 46) + pl.col('b').cast(pl.UInt64)\n"
        "    per_id = days.group_by((pl.col('k') // S).alias('h')).agg(\n"
        "        pl.len(), day_of.max().alias('last'), first.min().alias('first'),\n"
        "        pl.col('b').sum(),\n"
        "    )\n"
        "    return per_id.collect(engine='streaming')\n",
    ),
    "floor_duckdb": (
        "floor: lifetimes sums per id hash, no id text or check (DuckDB)",
        "import duckdb\n"
        "def run(folder):\n"
        "    return duckdb.sql(f'''\n"
        "        WITH d AS (\n"
        "            SELECT hash(customer_id) AS h, epoch_us(timestamp) // 86400000000 AS day,\n"
        "                sum(amount) AS b\n"
        "            FROM read_parquet('{folder}/*.parquet')\n"
        f"            WHERE NOT is_return AND timestamp < TIMESTAMP '{AS_OF}' + INTERVAL 1 DAY\n"
        "            GROUP BY 1, 2)\n"
        "        SELECT h, count(*) AS n, max(day) AS last, arg_min(b, day) AS first, sum(b) AS b\n"
        "        FROM d GROUP BY h''').fetchnumpy()['h']\n",
    ),
    "pandas_groupby": (
        "plain pandas groupby (same lifetimes columns)",
        "import pandas as pd\n"
        "def run(folder):\n"
        f"    df = pd.read_parquet(folder, columns={COLS!r})\n"
        f"    end = pd.Timestamp({AS_OF!r}) + pd.Timedelta(days=1)\n"
        "    df = df[(~df.is_return) & (df.timestamp < end)]\n"
        "    df['day'] = df.timestamp.dt.floor('D')\n"
        "    d = df.groupby(['customer_id', 'day'], sort=True).amount.sum().reset_index()\n"
        "    g = d.groupby('customer_id')\n"
        "    out = g.day.agg(['min', 'max', 'count'])\n"
        "    first = g.amount.first()\n"
        "    out['frequency'] = out['count'] - 1\n"
        "    out['recency'] = (out['max'] - out['min']).dt.days\n"
        f"    out['T'] = (pd.Timestamp({AS_OF!r}) - out['min']).dt.days\n"
        "    rep = (g.amount.sum() - first) / out['frequency']\n"
        "    out['monetary_value'] = rep.where(out['frequency'] > 0, 0.0)\n"
        "    return out\n",
    ),
    "pymc_marketing": (
        "pymc-marketing rfm_summary",
        "import warnings\n"
        "warnings.simplefilter('ignore')\n"
        "import pandas as pd\n"
        "from pymc_marketing.clv.utils import rfm_summary\n"
        "def run(folder):\n"
        f"    df = pd.read_parquet(folder, columns={COLS!r})\n"
        "    df = df[~df.is_return]\n"
        "    return rfm_summary(df, 'customer_id', 'timestamp', 'amount',"
        f" observation_period_end={AS_OF!r})\n",
    ),
    "lifetimes": (
        "lifetimes summary_data_from_transaction_data",
        "import warnings\n"
        "warnings.simplefilter('ignore')\n"
        "import pandas as pd\n"
        "from lifetimes.utils import summary_data_from_transaction_data\n"
        "def run(folder):\n"
        f"    df = pd.read_parquet(folder, columns={COLS!r})\n"
        "    df = df[~df.is_return]\n"
        "    return summary_data_from_transaction_data(df, 'customer_id', 'timestamp',"
        f" monetary_value_col='amount', observation_period_end={AS_OF!r})\n",
    ),
}
PEERS = {"pandas_groupby", "pymc_marketing", "lifetimes"}

CHILD = """
import json, sys, time
sys.path.insert(0, {src!r})
{code}
folder = {folder!r}
t = time.perf_counter()
out = run(folder)
elapsed = time.perf_counter() - t
# this process's own peak: the parent's rusage would also count the parent's memory at fork time
peak = next(
    int(line.split()[1]) / 1024
    for line in open("/proc/self/status")
    if line.startswith("VmHWM:")
)
print(json.dumps({{"seconds": elapsed, "rows": len(out), "peak_mb": peak}}))
"""


def measure(task: str, folder: Path, timeout: float) -> dict[str, float | int | str]:
    """Run one task in a fresh process: seconds, output rows and peak RSS (MB)."""
    code = CHILD.format(src=str(ROOT / "src"), code=TASKS[task][1], folder=str(folder))
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=out, stderr=err, text=True)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)  # reaps the child and returns its own rusage
        timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    # ru_maxrss survives exec, so it includes the parent's peak at fork time (1.1 GB after the
    # parent generated the data); it serves only for a child that did not finish
    peak = usage.ru_maxrss / 1024
    if proc.returncode != 0:
        if proc.returncode == -signal.SIGKILL:
            return {"status": f"> {timeout:.0f} s cap", "peak_mb": peak}
        last = stderr.strip().splitlines()[-1][:80] if stderr.strip() else "no message"
        return {"status": f"failed: {last}", "peak_mb": peak}
    result = json.loads(stdout.strip().splitlines()[-1])
    return {
        "status": "ok",
        "seconds": result["seconds"],
        "rows": result["rows"],
        "peak_mb": result["peak_mb"],
    }


def run_size(rows: int, customers: int, tasks: list[str], repeat: int, cap: float) -> list[dict]:  # type: ignore[type-arg]
    from benchmarks._synthetic import synthetic_transactions

    folder = synthetic_transactions(rows, customers)
    results = []
    for task in tasks:
        runs = [measure(task, folder, cap) for _ in range(1 if task in PEERS else repeat)]
        ok = [r for r in runs if r["status"] == "ok"]
        entry: dict[str, object] = {"task": task, "what": TASKS[task][0], "runs": len(runs)}
        if ok:
            entry["median_s"] = statistics.median(float(r["seconds"]) for r in ok)
            entry["peak_mb"] = max(float(r["peak_mb"]) for r in ok)
            entry["rows_out"] = ok[0]["rows"]
        else:
            entry["status"] = runs[0]["status"]
            entry["peak_mb"] = runs[0].get("peak_mb")
        results.append(entry)
        print(f"  {task}: {entry}", file=sys.stderr, flush=True)
    return results


def table(rows: int, customers: int, results: list[dict]) -> str:  # type: ignore[type-arg]
    base = next((r.get("median_s") for r in results if r["task"] == "seglens_lifetimes"), None)
    lines = [
        f"\n{rows:,} transactions / {customers:,} customer ids (as_of {AS_OF})",
        f"{'task':<20} {'median s':>9} {'peak MB':>8} {'x seglens':>9}  what",
    ]
    for r in results:
        secs = r.get("median_s")
        ratio = f"{secs / base:.2f}" if secs and base else "-"
        shown = f"{secs:.2f}" if secs else str(r.get("status", "-"))
        peak = f"{r['peak_mb']:.0f}" if r.get("peak_mb") else "-"
        lines.append(f"{r['task']:<20} {shown:>9} {peak:>8} {ratio:>9}  {r['what']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="10000000,50000000", help="comma-separated sizes")
    parser.add_argument(
        "--customers", default="", help="customer ids per size (default rows/10, 2 M at 50 M)"
    )
    parser.add_argument("--tasks", default=",".join(TASKS), help="comma-separated task names")
    parser.add_argument("--repeat", type=int, default=3, help="runs per seglens task (median)")
    parser.add_argument("--peer-timeout", type=float, default=180.0, help="seconds per peer run")
    args = parser.parse_args(argv)
    sizes = [int(x) for x in args.rows.split(",")]
    customers = (
        [int(x) for x in args.customers.split(",")]
        if args.customers
        else [2_000_000 if n == 50_000_000 else max(n // 10, 1) for n in sizes]
    )
    tasks = [t for t in args.tasks.split(",") if t]
    unknown = set(tasks) - set(TASKS)
    if unknown:
        parser.error(f"unknown task(s) {sorted(unknown)}; known: {', '.join(TASKS)}")
    out_dir = ROOT / "benchmarks" / "results"
    out_dir.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    for n, c in zip(sizes, customers, strict=True):
        results = run_size(n, c, tasks, args.repeat, args.peer_timeout)
        print(table(n, c, results), flush=True)
        (out_dir / f"features-{n}.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
