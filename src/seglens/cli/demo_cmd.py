"""`seglens demo`: the main job on the embedded data (registered on import)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from seglens.cli._app import app, check_output, console

if TYPE_CHECKING:
    from seglens.demo import DemoResult

__all__ = ["demo"]


@app.command()
def demo(
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder for every output of the demo.")
    ] = Path("seglens-output"),
    pdf: Annotated[
        bool, typer.Option("--pdf/--no-pdf", help="Also write the review as PDF.")
    ] = True,
) -> None:
    """Run the whole pipeline on the embedded data and say where the outputs are.

    Ingests the bundled UCI Online Retail sample (cleaning report), builds customer features,
    segments them (RFM), checks clustering against a planted truth, tracks 2011Q2 and 2011Q3 in a
    fresh store, then shows the feedback loop with simulated reviewers (audit, measured KPI,
    a segmentation learnt from the labels, re-measured on a fresh audit) and writes the quarterly
    review (HTML, PDF).
    """
    from seglens.cli.ingest_cmd import print_report
    from seglens.demo import run_demo, sample_data_path
    from seglens.io import load_transactions

    if not output.is_dir():  # the folder is made by the demo; its parent must exist
        check_output(output, "-o/--output")
    print_report(load_transactions(sample_data_path()))
    with console.status("starting") as status:

        def on_step(message: str) -> None:
            status.update(message)
            console.log(message)

        result = run_demo(output, pdf=pdf, on_step=on_step)

    low, high = result.planted_ci_pct
    console.print(
        f"\n[bold]{result.n_customers:,}[/bold] real customers in "
        f"[bold]{result.n_segments}[/bold] RFM segments.\n"
        f"Planted-truth check: k-means finds the true segments of "
        f"{result.planted_n:,} synthetic customers with accuracy "
        f"[bold]{result.planted_accuracy_pct:.1f} %[/bold] (95 % CI {low:.1f}-{high:.1f})."
    )
    _print_kpi(result)
    _print_loop(result)
    where = Table("output", "path", title=f"Outputs in {result.output_dir}")
    for name, path in result.files.items():
        where.add_row(name, str(path))
    console.print(where)
    console.print(f"Open the quarterly review: [bold]{result.files['report_html']}[/bold]")


def _print_kpi(result: DemoResult) -> None:
    """Segmentation Accuracy per tracked quarter (or "not measured"), then monitoring apart."""
    from seglens.accuracy import proxy_caveat
    from seglens.report.plan import audit_plans
    from seglens.tracking.measure import PROXY_METRICS

    periods = sorted({str(k["period"]) for k in result.kpis})
    measured = result.measured
    kpi = Table("period", "metric", "value", "95 % CI", "n", title="Segmentation accuracy (KPI)")
    for period in periods:
        rows = [k for k in measured if k["period"] == period]
        for k in rows:
            kpi.add_row(
                period,
                str(k["metric"]),
                f"{k['value']:.1f} %",
                f"{k['ci_low']:.1f}-{k['ci_high']:.1f}",
                f"{k['n']:,}",
            )
        if not rows:
            kpi.add_row(period, "accuracy", "not measured", "-", "0")
    console.print(kpi)
    if not measured:
        console.print(
            "Segmentation accuracy of the real sample: not measured (n = 0) - no labels ship "
            "with it.",
            highlight=False,
        )
    if result.review is not None and result.review.accuracy is None:
        plans = audit_plans(result.review)
        plan = ", ".join(f"{p.total:,} labels for ±{m:g} points" for m, p in plans.items())
        if plan:
            console.print(
                f"To measure {result.review.period}: a stratified audit of {plan} "
                "(seglens audit-sample --db ... ; seglens audit-estimate SHEET --db ...).",
                highlight=False,
            )
    monitoring = result.monitoring
    if not monitoring:
        return
    table = Table("period", "signal", "value", "n", title="monitoring (not the KPI)")
    for k in monitoring:
        table.add_row(str(k["period"]), str(k["metric"]), f"{k['value'] / 100:.3f}", f"{k['n']:,}")
    console.print(table)
    for metric in sorted({str(k["metric"]) for k in monitoring}):
        console.print(
            f"{metric}: label-free, not the KPI - {proxy_caveat(PROXY_METRICS[metric])}",
            highlight=False,
        )


def _print_loop(result: DemoResult) -> None:
    """The simulated feedback loop: who the reviewers are, before and after with n and CI."""
    if result.loop is None:
        return
    console.print()
    for line in result.loop.story():
        console.print(line, highlight=False)
    learning = result.review.learning if result.review is not None else None
    if learning is None or not learning.curve:
        return
    table = Table(
        "labels", "seen per model", "agreement", "95 % CI", "scored",
        title="Learning curve (agreement with unseen labels, not the KPI)",
    )  # fmt: skip
    for p in learning.curve:
        a = p.agreement
        table.add_row(
            f"{p.n_labels:,}", f"{p.n_train:,}", f"{a.value_pct:.1f} %",
            f"{a.ci_low_pct:.1f}-{a.ci_high_pct:.1f}", p.method,
        )  # fmt: skip
    console.print(table)
    console.print(f"Projection: {learning.projection}", highlight=False)
