"""Regenerate the proxy calibration, per truth family (issue 17 item 4) — one command:

    nice -n 10 .venv/bin/python -m benchmarks.calibrate_proxies

Runs 60 scenarios in each synthetic truth family (k-means-shaped, noisy labels, truth in a
subspace, quantiles of a latent score; 2,000 customers each) and 20 on the automobile data
(seglens' KMeansSegmenter at k = 2, 4, 6, 8, five seeds each), single-threaded, and writes

* ``docs/data/proxy_calibration.csv`` — one row per scenario: family, parameters, true accuracy,
  proxies;
* ``src/seglens/accuracy/calibration.json`` — per-family summaries and the worst case per proxy,
  which the product quotes next to a proxy (:func:`seglens.accuracy.proxy_caveat`);
* the tables in ``docs/accuracy.md`` between the ``calibration:start`` / ``calibration:end``
  markers.

``--quick`` runs a small version of every family (8 scenarios of 600 customers per synthetic
family, automobile k = 2 and 4 with one seed) and only prints the tables; ``--scenarios N`` and
``--automobile-seeds S`` change the full run's size; ``--check N`` recomputes the first N rows of
every family and compares them with the CSV without writing anything; ``--docs-only`` rewrites the
docs tables from the JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl
from benchmarks.automobile_accuracy import DATA, load
from threadpoolctl import threadpool_limits

from seglens.accuracy.calibration import (
    FAMILIES,
    PROXIES,
    SYNTHETIC_FAMILIES,
    make_scenarios,
    run_labelled_table,
    run_scenario,
    summarise_families,
)
from seglens.accuracy.caveats import PROXY_CAVEATS, PROXY_MEANINGS

ROOT = Path(__file__).resolve().parent.parent
CSV = ROOT / "docs" / "data" / "proxy_calibration.csv"
JSON = ROOT / "src" / "seglens" / "accuracy" / "calibration.json"
DOC = ROOT / "docs" / "accuracy.md"
START, END = "<!-- calibration:start -->", "<!-- calibration:end -->"
AUTOMOBILE_K = (2, 4, 6, 8)
QUICK = {"scenarios": 8, "n_customers": 600, "automobile_k": (2, 4), "automobile_seeds": 1,
         "n_resamples": 3}  # fmt: skip

_LABELS = {
    **{p: p.replace("_", " ") for p in PROXIES},
    "audit_400_stratified": "*reference, uses labels:* stratified estimate from 400 audited",
}


def automobile_rows(
    ks: tuple[int, ...] = AUTOMOBILE_K, seeds: int = 5, *, n_resamples: int = 10, data: Path = DATA
) -> Iterator[dict[str, Any]]:
    """The automobile family: every k with seeds ``0 .. seeds-1``; truth = the sales labels."""
    customers, labels, _ = load(data)
    lab = dict(labels.iter_rows())
    truth = [lab.get(c) for c in customers["customer_id"]]
    frame = customers.drop("customer_id", "ID", strict=False)
    for i, (k, seed) in enumerate((k, s) for k in ks for s in range(seeds)):
        yield run_labelled_table(frame, truth, k=k, seed=seed, scenario=i, n_resamples=n_resamples)


def all_rows(
    scenarios: int = 60,
    *,
    n_customers: int = 2000,
    automobile_k: tuple[int, ...] = AUTOMOBILE_K,
    automobile_seeds: int = 5,
    n_resamples: int = 10,
) -> Iterator[dict[str, Any]]:
    """Every scenario of every family, in :data:`FAMILIES` order."""
    for fam in SYNTHETIC_FAMILIES:
        for sc in make_scenarios(scenarios, family=fam, n_customers=n_customers):
            yield run_scenario(sc, n_resamples=n_resamples)
    if automobile_seeds:
        yield from automobile_rows(automobile_k, automobile_seeds, n_resamples=n_resamples)


def _fmt(v: float | None, spec: str) -> str:
    return "—" if v is None else format(v, spec)


def _worst_table(summary: dict[str, Any]) -> list[str]:
    fams = summary["families"]
    lines = [
        "| proxy | lowest Spearman ρ (family) | largest mean abs. error, points (family) "
        "| largest single error, points (family) | caveat |",
        "|---|---|---|---|---|",
    ]
    for p in PROXIES:
        w = summary["worst"][p]

        def cell(key: str, fam_key: str, spec: str, w: dict[str, Any] = w) -> str:
            if key not in w:
                return "—"
            return f"{format(w[key], spec)} ({fams[w[fam_key]]['label']})"

        rho = cell("spearman", "spearman_family", "+.2f")
        if w.get("direction", 1) < 0 and "spearman" in w:
            rho += "; highest, as lower is better"
        caveat = PROXY_CAVEATS.get(p, "labels cost money; this is what 400 of them buy")
        lines.append(
            f"| {_LABELS[p]} | {rho} | {cell('mae_points', 'mae_family', '.1f')} "
            f"| {cell('max_error_points', 'max_error_family', '.1f')} | {caveat} |"
        )
    return lines


def _family_table(fam: dict[str, Any]) -> list[str]:
    lines = [
        f"**{fam['label'][0].upper()}{fam['label'][1:]}** — {fam['description']}. "
        f"{fam['n_scenarios']} scenarios; true accuracy {fam['true_accuracy_min']:.1f}–"
        f"{fam['true_accuracy_max']:.1f} % (median {fam['true_accuracy_median']:.1f} %).",
        "",
        "| proxy | Spearman ρ | mean abs. error | bias | largest error |",
        "|---|---:|---:|---:|---:|",
    ]
    for p in PROXIES:
        r = fam["proxies"][p]
        if r["n"] == 0:
            lines.append(f"| {_LABELS[p]} | not measurable here (one period only) | | | |")
            continue
        lines.append(
            f"| {_LABELS[p]} | {_fmt(r['spearman'], '+.2f')} | {_fmt(r['mae_points'], '.1f')} "
            f"| {_fmt(r['bias_points'], '+.1f')} | {_fmt(r['max_error_points'], '.1f')} |"
        )
    return lines


def table_markdown(summary: dict[str, Any]) -> str:
    """The calibration tables as Markdown: run line, worst case, one table per family."""
    run = summary.get("run", {})
    lines = []
    if run:
        lines += [
            f"Generated {run['date']} by `{run['command']}`: {summary['n_scenarios']} scenarios "
            f"in {run['minutes']:.1f} min on a {run['cpus']}-core machine shared with other work "
            f"(load average {run['load_average']:.2f} at the start; one thread, nice 10).",
            "",
        ]
    lines += [
        f"**Worst case over the {len(summary['families'])} truth families** — the figures "
        "`proxy_caveat(name)` quotes next to a proxy:",
        "",
        *_worst_table(summary),
    ]
    for fam in summary["families"].values():
        lines += ["", *_family_table(fam)]
    lines += [
        "",
        "What each proxy is: "
        + "; ".join(f"**{p.replace('_', ' ')}** = {m}" for p, m in PROXY_MEANINGS.items())
        + ".",
    ]
    return "\n".join(lines)


def write_docs(summary: dict[str, Any]) -> None:
    """Replace the tables between the markers in docs/accuracy.md."""
    text = DOC.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{DOC} lacks the {START} / {END} markers")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{START}\n{table_markdown(summary)}\n{END}{tail}", encoding="utf-8")


def check(n: int) -> int:
    """Recompute the first ``n`` rows of every family and compare with the CSV (±0.5 points)."""
    stored = pl.read_csv(CSV)
    bad = 0
    for fam in FAMILIES:
        want = stored.filter(pl.col("family") == fam).head(n).to_dicts()
        if fam == "automobile":
            got = list(automobile_rows(AUTOMOBILE_K[:1], n))[: len(want)]
        else:
            got = [run_scenario(sc) for sc in make_scenarios(len(want), family=fam)]
        for g, w in zip(got, want, strict=True):
            for key in ("true_accuracy", *PROXIES):
                if math.isfinite(g[key]) and abs(g[key] - w[key]) > 0.5:
                    print(f"{fam} {g['scenario']}: {key} {g[key]:.2f} != stored {w[key]:.2f}")
                    bad += 1
    print("calibration CSV reproduces" if not bad else f"{bad} mismatches")
    return 1 if bad else 0


def _run(kwargs: dict[str, Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    load_avg, t0 = os.getloadavg()[0], time.monotonic()
    rows = []
    with threadpool_limits(1):
        for row in all_rows(**kwargs):
            rows.append(row)
            print(f"{row['family']:>16} {row['scenario']:2d}: true {row['true_accuracy']:5.1f} %",
                  file=sys.stderr)  # fmt: skip
    run = {
        "date": datetime.now(UTC).date().isoformat(),
        "command": "nice -n 10 .venv/bin/python -m benchmarks.calibrate_proxies",
        "minutes": round((time.monotonic() - t0) / 60, 1),
        "cpus": os.cpu_count(),
        "load_average": round(load_avg, 2),
    }
    return rows, run


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scenarios", type=int, default=60, help="per synthetic family")
    ap.add_argument("--automobile-seeds", type=int, default=5, help="seeds per k")
    ap.add_argument("--quick", action="store_true", help="small run of every family; prints only")
    ap.add_argument("--check", type=int, default=0, metavar="N", help="verify N rows per family")
    ap.add_argument("--docs-only", action="store_true", help="rewrite the docs tables from JSON")
    args = ap.parse_args(argv)
    if args.docs_only:
        write_docs(json.loads(JSON.read_text(encoding="utf-8")))
        return 0
    if args.check:
        with threadpool_limits(1):
            return check(args.check)
    if args.quick:
        rows, run = _run(QUICK)
        print(table_markdown({**summarise_families(rows), "run": run | {"command": "--quick"}}))
        return 0
    rows, run = _run({"scenarios": args.scenarios, "automobile_seeds": args.automobile_seeds})
    CSV.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(rows).write_csv(CSV, float_precision=4)
    # summarise what was published (4 decimals), so the JSON can be re-derived from the CSV
    summary = {**summarise_families(pl.read_csv(CSV).to_dicts()), "run": run}
    JSON.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    write_docs(summary)
    print(table_markdown(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
