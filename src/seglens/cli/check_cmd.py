"""`seglens check`: the quality gate on the stored KPI (registered on import).

Reads the latest stored headline measurement (what `seglens history` shows, never a
recomputation) and exits 1 when it misses the target: a pipeline step that fails on the KPI.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from seglens.cli._app import (
    EXIT_CHECK_FAILED,
    FAIL_UNDER_HELP,
    REQUIRE_INTERVAL_HELP,
    app,
    check_options,
    console,
    emit_json,
    gate_verdict,
)
from seglens.errors import UsageError
from seglens.settings import DEFAULT_SETTINGS

__all__ = ["check"]


def _headline(trend: Any, period: str | None) -> tuple[str | None, dict[str, Any] | None]:
    """The period judged (given, else the latest with any stored row) and its headline row:
    the audit estimate when stored, else the labelled accuracy; ``None`` when not measured."""
    import polars as pl

    from seglens.tracking.measure import AUDIT_METRIC, LABELLED_METRIC

    if trend.is_empty():
        return period, None
    if period is None:
        period = str(trend["period"].max())
    rows = trend.filter(pl.col("period") == period)
    for metric in (AUDIT_METRIC, LABELLED_METRIC):
        found = rows.filter(pl.col("metric") == metric)
        if found.height:
            return period, found.row(0, named=True)
    return period, None


@app.command()
def check(
    db: Annotated[
        str | None,
        typer.Option("--db", help="Database URL or SQLite path (default: $SEGLENS_DB)."),
    ] = None,
    period: Annotated[
        str | None,
        typer.Option(help="The period to judge, e.g. 2011Q3 (default: the latest stored)."),
    ] = None,
    fail_under: Annotated[
        float | None,
        typer.Option(
            "--fail-under",
            help=FAIL_UNDER_HELP + f" Default: the target, {DEFAULT_SETTINGS.target_pct:g}.",
        ),
    ] = None,
    require_interval: Annotated[
        bool, typer.Option("--require-interval", help=REQUIRE_INTERVAL_HELP)
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON.")] = False,
) -> None:
    """Quality gate on the stored KPI: exit 1 when it (or its interval) misses the target."""
    from seglens.store import open_store
    from seglens.tracking import kpi_history

    threshold = DEFAULT_SETTINGS.target_pct if fail_under is None else fail_under
    check_options(threshold, require_interval)
    with open_store(db) as store:
        trend = kpi_history(store)
    if period is not None and period not in set(trend["period"].to_list()):
        known = ", ".join(sorted(set(trend["period"].to_list()))) or "none"
        raise UsageError(f"no stored measurement for period {period!r}", hint=f"periods: {known}")
    judged, row = _headline(trend, period)
    if row is None:
        passed, reason = False, "not measured (n = 0)"
    else:
        passed, reason = gate_verdict(
            row["value"], row["ci_low"], row["n"], threshold, require_interval
        )
    if as_json:
        emit_json(
            {
                "period": judged,
                "metric": None if row is None else row["metric"],
                "value": None if row is None else row["value"],
                "ci_low": None if row is None else row["ci_low"],
                "ci_high": None if row is None else row["ci_high"],
                "n": 0 if row is None else row["n"],
                "run_id": None if row is None else row["run_id"],
                "fail_under": threshold,
                "require_interval": require_interval,
                "passed": passed,
                "reason": reason,
            }
        )
    else:
        what = "no period" if judged is None else f"{judged}"
        if row is not None:
            what += f" {row['metric']} (run {row['run_id']}, n = {row['n']:,})"
        verdict = "passed" if passed else "[bold red]failed[/bold red]"
        console.print(f"check {verdict}: {what}: {reason}", highlight=False)
    if not passed:
        raise typer.Exit(EXIT_CHECK_FAILED)
