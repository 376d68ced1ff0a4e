"""The KPI trend per period, with the stored change against the previous period."""

from __future__ import annotations

import polars as pl

from seglens.store import Store, kpi_table, list_runs, run_assignments
from seglens.tracking.migration import MigrationMatrix, migration_matrix

__all__ = ["kpi_history", "latest_migration", "migration_between"]


_HISTORY_COLUMNS = (
    "metric",
    "period",
    "value",
    "ci_low",
    "ci_high",
    "n",
    "se",
    "method",
    "run_id",
    "n_fresh",
    "n_carried",
    "n_expired",
)


def kpi_history(store: Store, metric: str | None = None) -> pl.DataFrame:
    """One row per metric and period (the latest measurement of the period), oldest first.

    Columns: ``metric``, ``period``, ``value`` (percent), ``ci_low``, ``ci_high``, ``n``, ``se``,
    ``method``, ``run_id``, the label counts ``n_fresh``/``n_carried``/``n_expired``, and the
    comparison stored with the measurement (:func:`seglens.tracking.measure.measure_run`):
    ``change_pts`` (vs the previous period of the same metric), ``change_ci_low``,
    ``change_ci_high``, ``p_value``, ``n_paired`` and ``significant_drop``. Nothing is
    recomputed here, so every view shows the figures the alerts were raised on.
    """
    rows = kpi_table(store, metric)
    latest = (
        rows.sort("created_at", "id")
        .group_by("metric", "period", maintain_order=True)
        .last()
        .sort("metric", "period")
    )
    return latest.select(
        *_HISTORY_COLUMNS,
        "change_pts",
        "change_ci_low",
        "change_ci_high",
        pl.col("change_p_value").alias("p_value"),
        "n_paired",
        "significant_drop",
    )


def migration_between(store: Store, earlier_run: int, later_run: int) -> MigrationMatrix:
    """The segment migration matrix between two stored runs."""
    return migration_matrix(run_assignments(store, earlier_run), run_assignments(store, later_run))


def latest_migration(store: Store) -> tuple[int, int, MigrationMatrix] | None:
    """Migration between the two most recent runs (by as-of date), or ``None`` with fewer."""
    runs = list_runs(store)
    if runs.height < 2:
        return None
    a, b = runs["run_id"][-2], runs["run_id"][-1]
    return int(a), int(b), migration_between(store, int(a), int(b))
