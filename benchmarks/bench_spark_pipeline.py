"""The whole pipeline on the embedded engine and on Spark (local mode): time and driver memory.

    nice -n 10 .venv/bin/python -m benchmarks.bench_spark_pipeline                 # 10 M and 50 M
    .venv/bin/python -m benchmarks.bench_spark_pipeline --rows 1000000 --labels 500  # quick

Each engine runs in a fresh process on the same single Parquet file of synthetic canonical lines
(``benchmarks/_synthetic.py``; customers = rows / 10, 2 M at 50 M): ingest (the cleaning rules),
features (the whole set), segment (RFM: cut points from every customer, every customer scored
and written), accuracy (a labels file of ``--labels`` customers, names matched). Memory is the
peak resident set (``VmHWM``) of the Python process and, on Spark, of the JVM and its Python
workers (in local mode the JVM is driver and executors at once), plus the sampled peak of the
whole process tree.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2023-12-31"


def _hwm_mb(pid: int) -> float:
    try:
        with Path(f"/proc/{pid}/status").open() as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _rss_mb(pid: int) -> float:
    try:
        with Path(f"/proc/{pid}/statm").open() as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return 0.0


def _descendants(pid: int) -> list[int]:
    out: list[int] = []
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            kids = Path(f"/proc/{p}/task/{p}/children").read_text().split()
        except OSError:
            kids = []
        out += [int(k) for k in kids]
        todo += [int(k) for k in kids]
    return out


class TreeSampler(threading.Thread):
    """Samples the summed RSS of this process and its descendants every 0.2 s."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0.0
        self.children_hwm: dict[int, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        me = os.getpid()
        while not self.stop.is_set():
            kids = _descendants(me)
            for k in kids:
                self.children_hwm[k] = max(self.children_hwm.get(k, 0.0), _hwm_mb(k))
            self.peak = max(self.peak, _rss_mb(me) + sum(_rss_mb(k) for k in kids))
            time.sleep(0.2)


def _labels(lines: Path, n: int, out: Path) -> Path:
    """``n`` customers with a label drawn from the RFM segment names (seeded)."""
    import polars as pl

    from seglens.segmenters import SegmentMap

    names = sorted(set(SegmentMap.default().names))
    ids = (
        pl.scan_parquet(lines).select("customer_id").unique().sort("customer_id").collect()
    ).sample(n, seed=5)
    labels = ids.with_columns(
        pl.Series("segment", [names[i % len(names)] for i in range(ids.height)])
    )
    path = out / "labels.csv"
    labels.write_csv(path)
    return path


def run_embedded(lines: Path, labels: Path, out: Path) -> dict[str, float]:
    from seglens.accuracy import accuracy_report_from_tables
    from seglens.features import customer_features
    from seglens.io import load_table, load_transactions
    from seglens.segmenters import RFMSegmenter
    from seglens.tables import LABELS

    t: dict[str, float] = {}
    s = time.perf_counter()
    table = load_transactions(str(lines)).table
    t["ingest"] = time.perf_counter() - s
    s = time.perf_counter()
    feats = customer_features(table, as_of=AS_OF).table
    del table
    t["features"] = time.perf_counter() - s
    s = time.perf_counter()
    assigned = RFMSegmenter().fit(feats).assign(feats)
    assigned.write_parquet(out / "segments.parquet")
    t["segment"] = time.perf_counter() - s
    s = time.perf_counter()
    lab = load_table(str(labels), LABELS).table
    rep = accuracy_report_from_tables(assigned.select("customer_id", "segment"), lab, match="names")
    t["accuracy"] = time.perf_counter() - s
    t["kpi_pct"] = rep.accuracy.value_pct
    t["customers"] = feats.height
    return t


def run_spark(lines: Path, labels: Path, out: Path, driver_memory: str) -> dict[str, float]:
    from seglens.io import load_table
    from seglens.segmenters import RFMSegmenter
    from seglens.spark import open_spark, sample_size, spark_settings
    from seglens.spark.accuracy import spark_accuracy_report
    from seglens.spark.commands import read_lines, segment_on_spark
    from seglens.spark.features import spark_features
    from seglens.spark.sources import write_output
    from seglens.tables import LABELS

    settings = spark_settings(
        "local[2]",
        environ={
            "SEGLENS_SPARK_CONF_MEM": f"spark.driver.memory={driver_memory}",
            "SEGLENS_SPARK_CONF_SHUFFLE": "spark.sql.shuffle.partitions=16",
        },
    )
    t: dict[str, float] = {}
    s = time.perf_counter()
    session = open_spark(settings)
    t["start"] = time.perf_counter() - s
    s = time.perf_counter()
    cleaned = read_lines(session, str(lines), None)
    write_output(cleaned.table, str(out / "lines.parquet"))
    t["ingest"] = time.perf_counter() - s
    s = time.perf_counter()
    feats = spark_features(session.read.parquet(str(out / "lines.parquet")), as_of=AS_OF)
    write_output(feats.frame, str(out / "features.parquet"))
    t["features"] = time.perf_counter() - s
    s = time.perf_counter()
    stored = session.read.parquet(str(out / "features.parquet"))
    res = segment_on_spark(stored, RFMSegmenter(), sample_target=sample_size())
    write_output(res.assignments, str(out / "segments.parquet"))
    t["segment"] = time.perf_counter() - s
    s = time.perf_counter()
    lab = load_table(str(labels), LABELS).table
    segs = session.read.parquet(str(out / "segments.parquet"))
    rep = spark_accuracy_report(segs, lab, match="names")
    t["accuracy"] = time.perf_counter() - s
    t["kpi_pct"] = rep.accuracy.value_pct
    t["customers"] = res.sample.population
    return t


def child(engine: str, lines: Path, labels: Path, driver_memory: str) -> None:
    """One engine's pipeline in this (fresh) process; prints one JSON line."""
    sys.path.insert(0, str(ROOT / "src"))
    sampler = TreeSampler()
    sampler.start()
    with tempfile.TemporaryDirectory(dir=lines.parent, prefix=f"run-{engine}-") as tmp:
        s = time.perf_counter()
        if engine == "embedded":
            t = run_embedded(lines, labels, Path(tmp))
        else:
            t = run_spark(lines, labels, Path(tmp), driver_memory)
        t["total"] = time.perf_counter() - s
        time.sleep(0.5)  # one more sample while the JVM is alive
        sampler.stop.set()
        sampler.join()
    t["python_peak_mb"] = _hwm_mb(os.getpid())
    kids = sampler.children_hwm
    t["workers_peak_mb"] = max(kids.values(), default=0.0)
    t["tree_peak_mb"] = sampler.peak
    print(json.dumps(t))
    sys.stdout.flush()
    os._exit(0)  # no slow JVM shutdown in the timing process


def measure(engine: str, lines: Path, labels: Path, driver_memory: str, cap: float) -> dict:  # type: ignore[type-arg]
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.bench_spark_pipeline",
        "--child",
        engine,
        "--lines",
        str(lines),
        "--labels-file",
        str(labels),
        "--driver-memory",
        driver_memory,
    ]
    try:
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=cap)
    except subprocess.TimeoutExpired:
        return {"status": f"> {cap:.0f} s cap"}
    if done.returncode != 0:
        last = done.stderr.strip().splitlines()[-1][:100] if done.stderr.strip() else "?"
        return {"status": f"failed: {last}"}
    return {"status": "ok", **json.loads(done.stdout.strip().splitlines()[-1])}


def one_file(rows: int, customers: int) -> Path:
    """The synthetic lines as one Parquet file (the embedded loader reads one file)."""
    import polars as pl
    from benchmarks._synthetic import synthetic_transactions

    folder = synthetic_transactions(rows, customers)
    path = folder.parent / f"{folder.name}.parquet"
    if not path.exists():  # written aside and renamed: an interrupted run leaves no half file
        partial = path.with_name(path.name + ".partial")
        pl.scan_parquet(folder / "*.parquet").sink_parquet(partial, row_group_size=1_000_000)
        partial.rename(path)
    return path


def table(rows: int, results: dict[str, dict]) -> str:  # type: ignore[type-arg]
    stages = ["start", "ingest", "features", "segment", "accuracy", "total"]
    mems = ["python_peak_mb", "workers_peak_mb", "tree_peak_mb"]
    head = (
        "| engine | "
        + " | ".join(f"{s} s" for s in stages)
        + " | Python MB | JVM/worker MB | tree MB |"
    )
    out = [f"\n{rows:,} lines", head, "|" + "---|" * (len(stages) + 4)]
    for engine, r in results.items():
        if r.get("status") != "ok":
            out.append(f"| {engine} | {r.get('status')} |")
            continue
        cells = [f"{r[s]:.1f}" if s in r else "-" for s in stages]
        out.append(
            f"| {engine} | "
            + " | ".join(cells)
            + " | "
            + " | ".join(f"{r[m]:,.0f}" for m in mems)
            + " |"
        )
    e, s = results.get("embedded", {}), results.get("spark", {})
    if e.get("status") == s.get("status") == "ok":
        out.append(
            f"spark / embedded: time {s['total'] / e['total']:.2f}x, Python driver peak "
            f"{s['python_peak_mb'] / e['python_peak_mb']:.2f}x, tree peak "
            f"{s['tree_peak_mb'] / e['tree_peak_mb']:.2f}x; KPI {e['kpi_pct']:.3f} % vs "
            f"{s['kpi_pct']:.3f} %, customers {e['customers']:,} vs {s['customers']:,}"
        )
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="10000000,50000000", help="comma-separated sizes")
    parser.add_argument("--labels", type=int, default=2000, help="labelled customers")
    parser.add_argument("--engines", default="embedded,spark")
    parser.add_argument("--driver-memory", default="4g", help="spark.driver.memory")
    parser.add_argument("--cap", type=float, default=1800, help="seconds per engine run")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--lines", help=argparse.SUPPRESS)
    parser.add_argument("--labels-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, Path(args.lines), Path(args.labels_file), args.driver_memory)
        return
    sys.path.insert(0, str(ROOT / "src"))
    for rows in (int(x) for x in args.rows.split(",")):
        customers = 2_000_000 if rows >= 50_000_000 else max(rows // 10, 1000)
        lines = one_file(rows, customers)
        labels = _labels(lines, args.labels, lines.parent)
        results = {
            engine: measure(engine, lines, labels, args.driver_memory, args.cap)
            for engine in args.engines.split(",")
        }
        print(table(rows, results), flush=True)
        print(json.dumps({"rows": rows, "results": results}), flush=True)


if __name__ == "__main__":
    main()
