"""`seglens report`: the quarterly Segmentation Accuracy review as HTML (and PDF)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from seglens.cli._app import app, check_output, console
from seglens.errors import UsageError
from seglens.settings import DEFAULT_SETTINGS

if TYPE_CHECKING:
    from seglens.report import ReviewSnapshot

__all__ = ["report"]


@app.command()
def report(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="HTML file to write (self-contained).")
    ],
    db: Annotated[
        str | None,
        typer.Option(
            "--db", help="Store URL or SQLite path (default: $SEGLENS_DB, then the default store)."
        ),
    ] = None,
    period: Annotated[
        str | None,
        typer.Option("--period", help="Period to review, e.g. 2011Q3 (default: the latest)."),
    ] = None,
    pdf: Annotated[Path | None, typer.Option("--pdf", help="Also write the review as PDF.")] = None,
    metric: Annotated[
        str | None,
        typer.Option(
            "--metric",
            help="Stored KPI to head the review (default: accuracy_audit, then accuracy; "
            "without either the KPI is shown as not measured). Label-free signals such as "
            "segment_hold are monitoring, never the headline.",
        ),
    ] = None,
    snapshot: Annotated[
        Path | None,
        typer.Option("--snapshot", help="Render a snapshot JSON instead of reading the store."),
    ] = None,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the snapshot as JSON.")
    ] = None,
    target: Annotated[
        float | None,
        typer.Option(
            "--target", help=f"Target in percent (default {DEFAULT_SETTINGS.target_pct:g})."
        ),
    ] = None,
    policy: Annotated[
        str, typer.Option("--policy", help="Label conflicts: latest or majority.")
    ] = "latest",
    title: Annotated[str | None, typer.Option("--title", help="Report title.")] = None,
    pdf_engine: Annotated[
        str,
        typer.Option(
            "--pdf-engine",
            help="auto (Chromium if installed, else WeasyPrint), chromium (headless "
            "print-to-PDF) or weasyprint (pure Python, no browser).",
        ),
    ] = "auto",
) -> None:
    """Write the quarterly review: headline KPI, twelve attributes, charts; HTML and PDF."""
    from dataclasses import replace

    from seglens.report import read_snapshot, write_report, write_snapshot

    if pdf_engine not in ("auto", "weasyprint", "chromium"):
        raise UsageError(
            f"unknown PDF engine {pdf_engine!r}",
            hint="use --pdf-engine auto, weasyprint or chromium",
        )
    check_output(output, "-o/--output")
    check_output(pdf, "--pdf")
    check_output(json_out, "--json")
    if snapshot is not None:
        if db is not None or period is not None or metric is not None:
            raise UsageError(
                "--snapshot renders a saved review; it cannot be combined with --db, "
                "--period or --metric"
            )
        snap = read_snapshot(snapshot)
        if title is not None:
            snap = replace(snap, title=title)
        if target is not None:
            snap = replace(snap, target_pct=target)
    else:
        from seglens.report.collect_store import collect_from_store
        from seglens.store import open_store

        with open_store(db) as store:
            snap = collect_from_store(
                store, period=period, metric=metric, policy=policy, target_pct=target, title=title
            )
    files = write_report(snap, output, pdf_path=pdf, pdf_engine=pdf_engine)  # type: ignore[arg-type]
    if json_out is not None:
        write_snapshot(snap, json_out)
    _print_headline(snap)
    console.print(f"report: {files.html}", highlight=False, markup=False)
    if files.pdf is not None:
        engine = {"chromium": "Chromium", "weasyprint": "WeasyPrint"}.get(
            files.pdf_engine or "", "?"
        )
        why = f"; Chromium failed: {files.pdf_fallback}" if files.pdf_fallback else ""
        console.print(f"pdf: {files.pdf} ({engine}{why})", highlight=False, markup=False)
    if json_out is not None:
        console.print(f"snapshot: {json_out}", highlight=False, markup=False)


def _print_headline(snap: ReviewSnapshot) -> None:
    """The KPI line: the measured figure with its CI, n and light, or "not measured (n = 0)"."""
    from seglens.report.plan import audit_plans

    acc = snap.accuracy
    if acc is None:
        plans = audit_plans(snap)
        plan = ", ".join(f"{p.total:,} labels for ±{m:g} points" for m, p in plans.items())
        console.print(
            f"{snap.period}: Segmentation accuracy not measured (n = 0): no labelled customer "
            "judged this run" + (f"; audit plan: {plan}" if plan else ""),
            highlight=False,
            markup=False,
        )
        for p in snap.proxies:
            console.print(
                f"monitoring (label-free, not the KPI): {p.name} {p.value:.3f}"
                + (f" (n={p.n:,})" if p.n else ""),
                highlight=False,
                markup=False,
            )
        return
    console.print(
        f"{snap.period}: Segmentation Accuracy {acc.value_pct:.1f} % "
        f"(95 % CI {acc.ci_low_pct:.1f}–{acc.ci_high_pct:.1f}, n={acc.n:,}) — "
        f"{(snap.status or '').upper()}",
        highlight=False,
        markup=False,
    )
