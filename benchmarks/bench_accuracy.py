"""Benchmark the accuracy engine against the plain scikit-learn way, in the same run.

Run from the repository root:

    .venv/bin/python -m benchmarks.bench_accuracy            # full sizes (about 2 minutes)
    .venv/bin/python -m benchmarks.bench_accuracy --quick    # 10x smaller, for a smoke test

Three jobs, each timed as the median of several repetitions with its peak traced memory:

1. labelled report, 1 M customers: accuracy + Wilson CI + confusion + per-segment precision /
   recall / F1 (+ kappa, ARI, NMI) — ``seglens.accuracy.accuracy_report`` vs
   ``sklearn.metrics.confusion_matrix`` + Hungarian + ``binomtest`` + ``precision_recall_fscore_
   support``; and ARI alone vs ``sklearn.metrics.adjusted_rand_score``;
2. bootstrap stability, 20 resamples x 100 k customers, per-segment Jaccard + ARI —
   ``bootstrap_stability`` vs a loop of k-means refits scored with sklearn's confusion matrix and
   ARI (refitting dominates both);
3. separation, 1 M customers — ``separation`` (silhouette on a 10 k sample, Davies–Bouldin on all)
   vs ``silhouette_score(sample_size=10_000)`` + ``davies_bouldin_score``.

Targets (issue 4): job 1 <= 0.1 s, job 2 <= 5 s, job 3 <= 5 s.

Both sides run under the same ``threadpoolctl`` limit (``--threads``, default 1): the benchmark
machine is shared by several jobs, and OpenMP/BLAS threads that spin-wait on busy cores make k-means
and matrix products several times slower and the medians meaningless.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.stats import binomtest
from sklearn import metrics as skm
from sklearn.cluster import KMeans
from threadpoolctl import threadpool_limits

from seglens.accuracy import accuracy_report, adjusted_rand_score, bootstrap_stability, separation
from seglens.synthetic import make_population


def measure(fn: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """Median wall time (s) over ``repeats`` runs and peak traced memory (MB) of one run."""
    fn()  # warm-up (imports, caches)
    times = []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    gc.collect()
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1] / 1e6
    tracemalloc.stop()
    return statistics.median(times), peak


def sklearn_report(y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    """The same report the plain scikit-learn way."""
    cm = skm.confusion_matrix(y, p)
    rows, cols = linear_sum_assignment(cm, maximize=True)
    correct = int(cm[rows, cols].sum())
    ci = binomtest(correct, y.size).proportion_ci(method="wilson")
    mapping = dict(zip(cols, rows, strict=True))
    mapped = np.array([mapping.get(c, -1) for c in range(cm.shape[1])])[p]
    prf = skm.precision_recall_fscore_support(y, mapped, labels=np.unique(y), zero_division=0)
    return {"acc": correct / y.size, "ci": ci, "prf": prf}


def sklearn_stability(x: np.ndarray, k: int, resamples: int, seed: int) -> float:
    """Bootstrap Jaccard + ARI with k-means refits, scored with scikit-learn functions."""
    ref = KMeans(k, n_init=1, random_state=seed).fit_predict(x)
    rng = np.random.default_rng(seed)
    jac = []
    for _ in range(resamples):
        idx = rng.integers(0, x.shape[0], x.shape[0])
        uniq = np.unique(idx)
        km = KMeans(k, n_init=1, random_state=int(rng.integers(2**31 - 1))).fit(x[idx])
        new = km.predict(x[uniq])
        c = skm.confusion_matrix(ref[uniq], new, labels=np.arange(k))
        union = c.sum(1)[:, None] + c.sum(0)[None, :] - c
        jac.append((c / np.maximum(union, 1)).max(axis=1))
        skm.adjusted_rand_score(ref[uniq], new)
    return float(np.mean(jac))


def row(job: str, way: str, t: float, mb: float, base: float | None, target: str = "") -> str:
    ratio = f"{base / t:8.1f}x" if base else "        —"
    return f"{job:<44} {way:<34} {t * 1000:10.1f} {mb:9.1f} {ratio}  {target}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="10x smaller inputs")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads for both sides")
    args = ap.parse_args(argv)
    with threadpool_limits(args.threads):
        return run(args)


def run(args: argparse.Namespace) -> int:
    """Run the three jobs and print the table."""
    scale = 10 if args.quick else 1
    n_big, n_boot = 1_000_000 // scale, 100_000 // scale
    rng = np.random.default_rng(0)

    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} cores, load average {load:.1f}, {args.threads} thread(s)")
    print(
        f"seglens accuracy benchmark — {n_big:,} customers (labelled / separation), "
        f"{n_boot:,} x 20 (bootstrap); median of {args.repeats}; peak = tracemalloc"
    )
    print(f"{'job':<44} {'way':<34} {'median ms':>10} {'peak MB':>9} {'vs sklearn':>9}")
    lines = []

    y = rng.integers(0, 6, n_big)
    p = np.where(rng.random(n_big) < 0.8, (y + 2) % 6, rng.integers(0, 8, n_big))
    t_sk, m_sk = measure(lambda: sklearn_report(y, p), args.repeats)
    t_us, m_us = measure(lambda: accuracy_report(y, p), args.repeats)
    job = f"1. report, {n_big:,} customers (int codes)"
    lines += [
        row(job, "sklearn confusion_matrix+Hungarian", t_sk, m_sk, None),
        row(job, "seglens accuracy_report", t_us, m_us, t_sk, "target <= 100 ms"),
    ]
    ys = np.array(["ABCDEF"[v] for v in range(6)], dtype=object)[y]
    ps = np.array([f"cluster {v}" for v in range(8)], dtype=object)[p]
    t_str, m_str = measure(lambda: accuracy_report(ys, ps), max(1, args.repeats // 2))
    lines.append(
        row("   same, string labels / segment names", "seglens accuracy_report", t_str, m_str, t_sk)
    )
    t_ask, m_ask = measure(lambda: skm.adjusted_rand_score(y, p), args.repeats)
    t_aus, m_aus = measure(lambda: adjusted_rand_score(y, p), args.repeats)
    lines += [
        row(f"   ARI, {n_big:,} customers", "sklearn adjusted_rand_score", t_ask, m_ask, None),
        row(f"   ARI, {n_big:,} customers", "seglens adjusted_rand_score", t_aus, m_aus, t_ask),
    ]

    pop = make_population(n_boot, n_segments=5, separation=3.0, seed=1)
    reps = max(1, args.repeats // 2)
    t_sk2, m_sk2 = measure(lambda: sklearn_stability(pop.features, 5, 20, 0), reps)
    t_us2, m_us2 = measure(
        lambda: bootstrap_stability(pop.features, n_segments=5, n_resamples=20), reps
    )

    def refits_alone() -> None:
        r = np.random.default_rng(0)
        for _ in range(20):
            idx = r.integers(0, n_boot, n_boot)
            KMeans(5, n_init=1, random_state=int(r.integers(2**31 - 1))).fit(pop.features[idx])

    t_fit, m_fit = measure(refits_alone, reps)
    job = f"2. bootstrap, 20 x {n_boot:,} customers"
    lines.append(row(job, "(k-means refits alone, reference)", t_fit, m_fit, None))
    lines += [
        row(job, "KMeans refits + sklearn scoring", t_sk2, m_sk2, None),
        row(job, "seglens bootstrap_stability", t_us2, m_us2, t_sk2, "target <= 5000 ms"),
    ]

    big = make_population(n_big, n_segments=5, separation=3.0, seed=2)
    x, lab = big.features, big.truth

    def sk_sep() -> None:
        skm.silhouette_score(x, lab, sample_size=10_000, random_state=0)
        skm.davies_bouldin_score(x, lab)

    t_sk3, m_sk3 = measure(sk_sep, reps)
    t_us3, m_us3 = measure(lambda: separation(x, lab, sample_size=10_000), reps)
    job = f"3. separation, {n_big:,} customers"
    lines += [
        row(job, "sklearn silhouette(10k)+DB", t_sk3, m_sk3, None),
        row(job, "seglens separation (10k sample)", t_us3, m_us3, t_sk3, "target <= 5000 ms"),
    ]
    res = separation(x, lab, sample_size=10_000)
    print("\n".join(lines))
    print(
        f"\nseparation figure: silhouette {res.silhouette:.3f} on a sample of "
        f"{res.silhouette_sample_size:,} of {res.n:,}; Davies–Bouldin {res.davies_bouldin:.3f} "
        "on all customers"
    )
    for name, t, target in (
        ("1. report", t_us, 0.1),
        ("2. bootstrap", t_us2, 5.0),
        ("3. separation", t_us3, 5.0),
    ):
        verdict = "met" if t <= target else "MISSED"
        print(f"target {name}: {t:.3f} s vs <= {target:g} s: {verdict}")
    print(
        f"(same-run references: sklearn report {t_sk:.3f} s, k-means refits alone {t_fit:.2f} s; "
        f"load average now {os.getloadavg()[0]:.1f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
