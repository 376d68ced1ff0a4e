"""Regenerate the proxy-calibration table (issue 4, item 4) — one command:

    .venv/bin/python -m benchmarks.calibrate_proxies

Runs 60 planted-truth scenarios (about 5 minutes on one core) and writes

* ``docs/data/proxy_calibration.csv`` — one row per scenario: parameters, true accuracy, proxies;
* ``src/seglens/accuracy/calibration.json`` — the summary the product quotes next to a proxy
  (:func:`seglens.accuracy.proxy_caveat`);
* the table in ``docs/accuracy.md`` between the ``calibration:start`` / ``calibration:end`` markers.

``--scenarios N`` changes the count, ``--check`` recomputes a few scenarios and compares them with
the CSV without writing anything.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import polars as pl
from threadpoolctl import threadpool_limits

from seglens.accuracy.calibration import PROXIES, make_scenarios, run_scenario, summarise
from seglens.accuracy.caveats import PROXY_CAVEATS, PROXY_MEANINGS

ROOT = Path(__file__).resolve().parent.parent
CSV = ROOT / "docs" / "data" / "proxy_calibration.csv"
JSON = ROOT / "src" / "seglens" / "accuracy" / "calibration.json"
DOC = ROOT / "docs" / "accuracy.md"
START, END = "<!-- calibration:start -->", "<!-- calibration:end -->"

_LABELS = {
    **{p: p.replace("_", " ") for p in PROXIES},
    "audit_400_stratified": "*reference, uses labels:* stratified estimate from 400 audited",
}


def table_markdown(summary: dict[str, Any]) -> str:
    """The calibration table as Markdown."""
    lines = [
        f"{summary['n_scenarios']} scenarios; true accuracy of the k-means segmentations ranged "
        f"{summary['true_accuracy_min']:.1f}–{summary['true_accuracy_max']:.1f} % (median "
        f"{summary['true_accuracy_median']:.1f} %).",
        "",
        "| proxy | Spearman ρ with true accuracy | mean abs. error (points) | bias (points) "
        "| caveat |",
        "|---|---:|---:|---:|---|",
    ]
    for p in PROXIES:
        row = summary["proxies"][p]
        mae = "—" if row["mae_points"] is None else f"{row['mae_points']:.1f}"
        bias = "—" if row["bias_points"] is None else f"{row['bias_points']:+.1f}"
        caveat = PROXY_CAVEATS.get(p, "labels cost money; this is what 400 of them buy")
        lines.append(f"| {_LABELS[p]} | {row['spearman']:+.2f} | {mae} | {bias} | {caveat} |")
    lines += [
        "",
        "What each proxy is: "
        + "; ".join(f"**{p.replace('_', ' ')}** = {m}" for p, m in PROXY_MEANINGS.items())
        + ".",
    ]
    return "\n".join(lines)


def write_docs(summary: dict[str, Any]) -> None:
    """Replace the table between the markers in docs/accuracy.md."""
    text = DOC.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{DOC} lacks the {START} / {END} markers")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{START}\n{table_markdown(summary)}\n{END}{tail}", encoding="utf-8")


def check(n: int) -> int:
    """Recompute the first ``n`` scenarios and compare with the CSV (tolerance 0.5 points)."""
    stored = pl.read_csv(CSV).head(n).to_dicts()
    bad = 0
    for sc, row in zip(make_scenarios(len(stored)), stored, strict=True):
        got = run_scenario(sc)
        for key in ("true_accuracy", *PROXIES):
            if abs(got[key] - row[key]) > 0.5:
                print(f"scenario {sc.scenario}: {key} {got[key]:.2f} != stored {row[key]:.2f}")
                bad += 1
    print("calibration CSV reproduces" if not bad else f"{bad} mismatches")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--scenarios", type=int, default=60)
    ap.add_argument("--check", type=int, default=0, metavar="N", help="verify N stored rows")
    ap.add_argument("--docs-only", action="store_true", help="rewrite the docs table from JSON")
    args = ap.parse_args(argv)
    if args.docs_only:
        write_docs(json.loads(JSON.read_text(encoding="utf-8")))
        return 0
    with threadpool_limits(1):
        if args.check:
            return check(args.check)
        rows = []
        for sc in make_scenarios(args.scenarios):
            rows.append(run_scenario(sc))
            print(
                f"scenario {sc.scenario:2d}: true {rows[-1]['true_accuracy']:5.1f} %",
                file=sys.stderr,
            )
    CSV.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame(rows).write_csv(CSV, float_precision=4)
    summary = summarise(rows)
    JSON.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    write_docs(summary)
    print(table_markdown(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
