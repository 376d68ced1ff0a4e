"""The KPI trend per period, with the change against the previous period and its significance."""

from __future__ import annotations

from itertools import pairwise

import polars as pl

from seglens.store import Store, kpi_table, list_runs, run_assignments
from seglens.tracking.migration import MigrationMatrix, migration_matrix
from seglens.tracking.significance import two_proportion_test

__all__ = ["kpi_history", "latest_migration", "migration_between"]


def kpi_history(store: Store, metric: str | None = None, *, alpha: float = 0.05) -> pl.DataFrame:
    """One row per metric and period (the latest measurement of the period), oldest first.

    Columns: ``metric``, ``period``, ``value`` (percent), ``ci_low``, ``ci_high``, ``n``,
    ``method``, ``run_id``, ``change_pts`` (vs the previous period of the same metric),
    ``p_value`` (two-proportion test; null when a side is not a proportion) and
    ``significant``.
    """
    rows = kpi_table(store, metric)
    if rows.is_empty():
        return rows.select(
            "metric", "period", "value", "ci_low", "ci_high", "n", "method", "run_id"
        ).with_columns(
            pl.lit(None, pl.Float64).alias("change_pts"),
            pl.lit(None, pl.Float64).alias("p_value"),
            pl.lit(None, pl.Boolean).alias("significant"),
        )
    latest = (
        rows.sort("created_at", "id")
        .group_by("metric", "period", maintain_order=True)
        .last()
        .sort("metric", "period")
    )
    changes: list[tuple[float | None, float | None, bool | None]] = [(None, None, None)]
    data = latest.to_dicts()
    for prev, cur in pairwise(data):
        if prev["metric"] != cur["metric"]:
            changes.append((None, None, None))
            continue
        diff = cur["value"] - prev["value"]
        if prev["successes"] is None or cur["successes"] is None or not prev["n"] or not cur["n"]:
            changes.append((diff, None, None))
            continue
        test = two_proportion_test(
            prev["successes"], prev["n"], cur["successes"], cur["n"], alpha=alpha
        )
        changes.append((diff, test.p_value, test.significant))
    return latest.select(
        "metric", "period", "value", "ci_low", "ci_high", "n", "method", "run_id"
    ).with_columns(
        pl.Series("change_pts", [c[0] for c in changes], pl.Float64),
        pl.Series("p_value", [c[1] for c in changes], pl.Float64),
        pl.Series("significant", [c[2] for c in changes], pl.Boolean),
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
