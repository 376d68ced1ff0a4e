"""Benchmark: seglens segmenters beside plain scikit-learn on 1 M customers × 10 features.

Run from the repository root::

    .venv/bin/python -m benchmarks.bench_segmenters            # 1 M customers, 3 repeats
    .venv/bin/python -m benchmarks.bench_segmenters --n 200000 --repeat 1   # quick look

Measured (median wall time of ``--repeat`` runs, peak memory from ``tracemalloc`` in a
separate traced run, which sees NumPy buffers but not Polars/Arrow ones):

* seglens ``KMeansSegmenter(8)`` fit, preprocessing (impute, log of skewed columns, scaling)
  included, from the Polars table;
* assignment of every customer: ``predict`` from the raw table (preprocessing included) and
  the bare nearest-centre step on preprocessed data;
* automatic k over 2-12 with its evidence (silhouette, bootstrap stability);
* scikit-learn on the same (preprocessed) matrix: ``KMeans`` Lloyd ``n_init=1``,
  ``MiniBatchKMeans`` with defaults, ``KMeans.predict``.

Targets (issue 5): fit <= 2 s, assignment of 1 M <= 0.1 s, automatic k <= 30 s. The machine
has 2 shared cores; compare the same-run ratios rather than absolute numbers.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sklearn.cluster import KMeans, MiniBatchKMeans

from seglens.segmenters import KMeansSegmenter
from seglens.segmenters.clustering import nearest_centers

DATA_DIR = Path(__file__).resolve().parent / ".data"
N_FEATURES = 10
K = 8


def make_data(n: int, seed: int = 0) -> pl.DataFrame:
    """``n`` customers from 8 planted segments; 4 of the 10 columns are skewed like money."""
    path = DATA_DIR / f"segmenters_{n}x{N_FEATURES}_seed{seed}.parquet"
    if path.exists():
        return pl.read_parquet(path)
    rng = np.random.default_rng(seed)
    centers = rng.normal(0, 2.5, size=(K, N_FEATURES))
    y = rng.integers(0, K, n)
    z = centers[y] + rng.normal(0, 1.0, size=(n, N_FEATURES))
    cols: dict[str, Any] = {"customer_id": pl.int_range(n, eager=True).cast(pl.String)}
    for j in range(N_FEATURES):
        cols[f"f{j}"] = np.exp(3 + 0.5 * z[:, j]) if j < 4 else z[:, j]
    df = pl.DataFrame(cols)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    df.write_parquet(path)
    return df


def measure(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """Median seconds over ``repeat`` runs and peak traced MiB of one more run."""
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return statistics.median(times), peak / 2**20, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="customers (default 1 M)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per row (median)")
    parser.add_argument("--skip-auto", action="store_true", help="skip the automatic-k row")
    args = parser.parse_args(argv)

    df = make_data(args.n)
    rows: list[tuple[str, float, float, str]] = []

    fit_t, fit_m, seg = measure(lambda: KMeansSegmenter(K, random_state=0).fit(df), args.repeat)
    rows.append(("seglens KMeansSegmenter fit (preprocessing incl.)", fit_t, fit_m, "<= 2 s"))
    z = seg.preprocessor_.transform(df)
    centers = seg.cluster_centers_
    near_t, near_m, _ = measure(lambda: seg.kmeans_.predict(z), args.repeat)
    rows.append(("seglens assignment (nearest centre, preprocessed)", near_t, near_m, "<= 0.1 s"))
    pred_t, pred_m, _ = measure(lambda: seg.predict(df), args.repeat)
    rows.append(("seglens predict from the raw table (prep. incl.)", pred_t, pred_m, ""))
    det_t, det_m, _ = measure(lambda: nearest_centers(z, centers), args.repeat)
    rows.append(("seglens distance + margin to centres (for assign)", det_t, det_m, ""))
    mb_note = "peer"
    if not args.skip_auto:
        auto_t, auto_m, auto = measure(
            lambda: KMeansSegmenter("auto", k_range=(2, 12), random_state=0).fit(df), 1
        )
        rows.append(
            (f"seglens automatic k 2-12 (chose {auto.n_clusters_})", auto_t, auto_m, "<= 30 s")
        )

    km_t, km_m, km = measure(
        lambda: KMeans(K, algorithm="lloyd", n_init=1, random_state=0).fit(z), args.repeat
    )
    rows.append(("scikit-learn KMeans lloyd n_init=1 fit", km_t, km_m, "peer"))
    mb_t, mb_m, _ = measure(
        lambda: MiniBatchKMeans(K, random_state=0).fit(z), 1 if args.repeat else 0
    )
    rows.append(("scikit-learn MiniBatchKMeans (defaults) fit, 1 run", mb_t, mb_m, mb_note))
    kp_t, kp_m, _ = measure(lambda: km.predict(z), args.repeat)
    rows.append(("scikit-learn KMeans.predict", kp_t, kp_m, "peer"))

    agree = float(np.mean(seg.predict(df) == seg.labels_))
    inertia_ours = float(((z - centers[seg.labels_]) ** 2).sum())
    print(f"\n{args.n:,} customers × {N_FEATURES} features, k = {K}; median of {args.repeat}")
    print(f"{'operation':<55} {'median s':>9} {'peak MiB':>9} {'target':>9}")
    for name, t, m, target in rows:
        print(f"{name:<55} {t:>9.3f} {m:>9.0f} {target:>9}")
    print("\nratios (same run)")
    print(f"  fit: seglens / sklearn KMeans lloyd            {fit_t / km_t:6.2f}")
    print(f"  fit: seglens / sklearn MiniBatchKMeans         {fit_t / mb_t:6.2f}")
    print(f"  assignment: seglens / sklearn predict          {near_t / kp_t:6.2f}")
    print(f"  predict from raw table / sklearn predict       {pred_t / kp_t:6.2f}")
    print(f"  inertia: seglens / sklearn lloyd               {inertia_ours / km.inertia_:6.3f}")
    print(f"  predict reproduces training labels             {agree:6.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
