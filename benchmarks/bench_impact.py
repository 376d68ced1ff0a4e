"""Benchmark the CLV models (BG/NBD + Gamma-Gamma) against lifetimes, in the same run.

Run from the repository root:

    .venv/bin/python -m benchmarks.bench_impact            # CDNOW + 100 k simulated customers
    .venv/bin/python -m benchmarks.bench_impact --quick    # 10 k simulated customers

Jobs (median wall time of several repetitions, peak traced memory of one run):

1. BG/NBD fit on the CDNOW sample (2,357 customers, weeks) — ``seglens.impact.BetaGeoModel``
   vs ``lifetimes.BetaGeoFitter``; both must land on the paper's parameters;
2. BG/NBD + Gamma-Gamma fit on customers simulated from the CDNOW parameters — seglens vs
   lifetimes, with the parameters each recovers;
3. 12-month CLV of every simulated customer — ``seglens.impact.clv.customer_clv`` vs
   ``lifetimes.GammaGammaFitter.customer_lifetime_value``.

lifetimes (0.11.3, the dev extra) is the peer because pymc-marketing's CLV models fit by MCMC or
compiled MAP, minutes where these take seconds; its numbers are not comparable in one table.
"""

from __future__ import annotations

import argparse
import gc
import importlib.util
import statistics
import time
import tracemalloc
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from seglens.impact.bgnbd import BetaGeoModel
from seglens.impact.clv import customer_clv
from seglens.impact.gamma_gamma import GammaGammaModel
from seglens.impact.simulate import simulate_customers

CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
GG = {"p": 6.25, "q": 3.74, "v": 15.44}


def measure(fn: Callable[[], Any], repeats: int) -> tuple[float, float]:
    """Median wall time (s) over ``repeats`` runs and peak traced memory (MB) of one run."""
    fn()
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


def simulate(n: int, seed: int = 0) -> pl.DataFrame:
    """Customers drawn from the BG/NBD and Gamma-Gamma with the CDNOW parameters."""
    return simulate_customers(n, seed=seed).drop("customer_id")


def _row(job: str, tool: str, t: float, mem: float, ref: float, extra: str) -> str:
    return f"| {job} | {tool} | {t:.3f} | {mem:.1f} | {t / ref:.2f} | {extra} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 k simulated customers")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or spec.origin is None:
        raise SystemExit("lifetimes is the peer: pip install -e '.[dev]'")
    import lifetimes

    cdnow = pl.read_csv(Path(spec.origin).parent / "datasets" / "cdnow_customers_summary.csv")
    cd_pd = cdnow.to_pandas()
    rows = [
        "| job | tool | median s | peak MB | ratio to seglens | parameters |",
        "|---|---|---|---|---|---|",
    ]

    def fmt(params: dict[str, float]) -> str:
        return ", ".join(f"{k}={v:.3f}" for k, v in params.items())

    # 1. CDNOW fit
    sl = BetaGeoModel()
    t1, m1 = measure(lambda: sl.fit(cdnow["frequency"], cdnow["recency"], cdnow["T"]), args.repeats)
    lt = lifetimes.BetaGeoFitter()
    t2, m2 = measure(lambda: lt.fit(cd_pd["frequency"], cd_pd["recency"], cd_pd["T"]), args.repeats)
    rows.append(_row("BG/NBD, CDNOW 2,357", "seglens", t1, m1, t1, fmt(sl.params_)))
    rows.append(_row("BG/NBD, CDNOW 2,357", "lifetimes", t2, m2, t1, fmt(dict(lt.params_))))

    # 2. simulated fit
    n = 10_000 if args.quick else 100_000
    sim = simulate(n)
    sim_pd = sim.to_pandas()
    rep = sim.filter(pl.col("frequency") > 0)
    rep_pd = rep.to_pandas()
    job = f"BG/NBD + GG, {n:,} simulated"

    def seg_fit() -> tuple[BetaGeoModel, GammaGammaModel]:
        b = BetaGeoModel().fit(sim["frequency"], sim["recency"], sim["T"])
        g = GammaGammaModel().fit(rep["frequency"], rep["monetary_value"])
        return b, g

    def lt_fit() -> tuple[Any, Any]:
        b = lifetimes.BetaGeoFitter().fit(sim_pd["frequency"], sim_pd["recency"], sim_pd["T"])
        g = lifetimes.GammaGammaFitter().fit(rep_pd["frequency"], rep_pd["monetary_value"])
        return b, g

    t1, m1 = measure(seg_fit, args.repeats)
    t2, m2 = measure(lt_fit, args.repeats)
    sb, sg = seg_fit()
    lb, lg = lt_fit()
    rows.append(_row(job, "seglens", t1, m1, t1, fmt({**sb.params_, **sg.params_})))
    rows.append(_row(job, "lifetimes", t2, m2, t1, fmt({**dict(lb.params_), **dict(lg.params_)})))

    # 3. CLV for every simulated customer
    job = f"12-month CLV, {n:,}"
    t1, m1 = measure(lambda: customer_clv(sb, sg, sim, unit="weeks", horizon_months=12,
                                          annual_discount_rate=0.12), args.repeats)  # fmt: skip

    def lt_clv() -> pd.Series:
        return lg.customer_lifetime_value(
            lb, sim_pd["frequency"], sim_pd["recency"], sim_pd["T"],
            sim_pd["monetary_value"], time=12, discount_rate=0.01, freq="W",
        )  # fmt: skip

    t2, m2 = measure(lt_clv, args.repeats)
    ours = customer_clv(sb, sg, sim, unit="weeks", horizon_months=12, annual_discount_rate=0.12)
    theirs = lt_clv().to_numpy()
    diff = float(np.median(np.abs(ours - theirs) / np.maximum(theirs, 1e-9)))
    rows.append(_row(job, "seglens", t1, m1, t1, f"mean CLV {ours.mean():.2f}"))
    rows.append(_row(job, "lifetimes", t2, m2, t1,
                     f"mean CLV {theirs.mean():.2f}; median rel. diff {diff:.1%}"))  # fmt: skip
    print("\n".join(rows))
    print(f"\nsimulated truth: {fmt({**CDNOW, **GG})}")


if __name__ == "__main__":
    main()
