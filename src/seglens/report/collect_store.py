"""Collect a review snapshot from the seglens store (``seglens report --db URL --period P``).

The headline is the KPI stored for the period by ``seglens track`` (preferring the stratified
audit estimate, then labelled accuracy), with its stored comparison and label counts; the earlier
periods of the same metric make the trend. A period with neither is *not measured* (n = 0): the
review then shows the audit plan, and the stored out-of-time hold rate (``segment_hold``) only as
a monitoring signal, never as the headline. The run behind
the period gives the segments, revenue and feature profiles; the labels that count for that run
(:func:`seglens.tracking.run_labels`: fresh and carried, the same selection the KPI used) give
per-segment precision and the confusion matrix; the previous run gives the migration; alerts and
imports become findings and provenance.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import polars as pl

from seglens.accuracy import (
    SeparationResult,
    StabilityResult,
    accuracy_report_from_tables,
    proxy_caveat,
)
from seglens.accuracy.caveats import PROXY_MEANINGS
from seglens.errors import DataError, UsageError
from seglens.report.collect import collect_snapshot
from seglens.report.snapshot import (
    Change,
    Estimate,
    Export,
    Finding,
    Method,
    PeriodKPI,
    ProxyValue,
    ReviewSnapshot,
    RunInfo,
    SourceFile,
)
from seglens.settings import DEFAULT_SETTINGS
from seglens.store import RunInfo as StoredRun
from seglens.store import (
    Store,
    kpi_table,
    list_alerts,
    list_imports,
    previous_run,
    run_assignments,
    run_features,
    run_info,
    safe_url,
)
from seglens.tracking import period_of, run_labels
from seglens.tracking.measure import PROXY_METRICS

__all__ = ["HEADLINE_METRICS", "collect_from_store", "safe_url"]

log = logging.getLogger(__name__)

COMPUTED_RULES = ("below_target", "significant_drop", "too_few_labels")
"""Alert rules the review computes itself (shown once, as its own risk warnings or, for the
labels a period lacks, as its own label shortfall or audit plan)."""

HEADLINE_METRICS: tuple[tuple[str, Method], ...] = (
    ("accuracy_audit", "stratified"),
    ("accuracy", "labelled"),
)
"""Stored KPI metrics that can head the review, in order of preference, with their method.
Label-free metrics (:data:`seglens.tracking.measure.PROXY_METRICS`) never do."""


def _latest_rows(store: Store) -> pl.DataFrame:
    rows = kpi_table(store)
    if rows.is_empty():
        raise DataError(
            "the store holds no KPI measurements",
            source=safe_url(store.url),
            hint="run `seglens track TRANSACTIONS --as-of DATE` first",
        )
    return (
        rows.sort("created_at", "id")
        .group_by("metric", "period", maintain_order=True)
        .last()
        .sort("period")
    )


def _estimate(row: dict[str, Any]) -> Estimate:
    value = float(row["value"])
    low = row["ci_low"] if row["ci_low"] is not None else value
    high = row["ci_high"] if row["ci_high"] is not None else value
    succ = row["successes"]
    return Estimate(value, int(row["n"]), float(low), float(high), se_pct=row["se"], successes=succ)


def _change(row: dict[str, Any], periods: dict[int, str]) -> Change | None:
    """The comparison stored with the measurement ``row`` (``None`` when there was none)."""
    if row["change_pts"] is None or row["compared_to_id"] is None:
        return None
    return Change(
        periods.get(int(row["compared_to_id"]), "previous period"),
        float(row["change_pts"]),
        float(row["change_p_value"]),
        row["change_se"],
        row["change_ci_low"],
        row["change_ci_high"],
        bool(row["significant_drop"]),
        int(row["n_paired"] or 0),
    )


def _period_kpi(row: dict[str, Any], method: Method, periods: dict[int, str]) -> PeriodKPI:
    return PeriodKPI(
        row["period"],
        _estimate(row),
        None,
        method,
        str(row["run_id"]),
        _change(row, periods),
        row["n_fresh"],
        row["n_carried"],
        row["n_expired"],
    )


def _pick(
    latest: pl.DataFrame, period: str | None, metric: str | None
) -> tuple[str, str | None, Method]:
    """The period, its headline metric (``None``: not measured) and that metric's method."""
    periods = latest["period"].unique().sort().to_list()
    if period is None:
        period = periods[-1]
    elif period not in periods:
        raise UsageError(
            f"no KPI stored for period {period!r}",
            hint=f"stored periods: {', '.join(periods)}",
        )
    have = set(latest.filter(pl.col("period") == period)["metric"].to_list())
    methods = dict(HEADLINE_METRICS)
    if metric in PROXY_METRICS:
        raise UsageError(
            f"{metric} is a label-free monitoring signal, not the Segmentation Accuracy KPI",
            hint="the review lists it under Monitoring; head it with "
            + " or ".join(name for name, _ in HEADLINE_METRICS),
        )
    if metric is not None:
        if metric not in have:
            raise UsageError(
                f"metric {metric!r} was not measured in {period}",
                hint=f"measured: {', '.join(sorted(have))}",
            )
        return period, metric, methods.get(metric, "labelled")
    for name, method in HEADLINE_METRICS:
        if name in have:
            return period, name, method
    return period, None, "unmeasured"


def _trend_metric(latest: pl.DataFrame, period: str, metric: str | None) -> str | None:
    """The metric of the trend: the headline's, else that of the latest measured earlier period."""
    if metric is not None:
        return metric
    names = [name for name, _ in HEADLINE_METRICS]
    earlier = latest.filter((pl.col("period") < period) & pl.col("metric").is_in(names))
    if earlier.is_empty():
        return None
    last = set(earlier.filter(pl.col("period") == earlier["period"].max())["metric"].to_list())
    return next(name for name in names if name in last)


def _run_info(store: Store, run_id: int | None) -> tuple[RunInfo | None, StoredRun | None]:
    """The period's run as the snapshot shows it, and the run before it (for the migration)."""
    run = None if run_id is None else run_info(store, run_id)
    if run is None:
        return None, None
    params = tuple((str(k), str(v)) for k, v in sorted(run.parameters.items()))
    info = RunInfo(
        run.segmenter, params, run.as_of.date(), run.data_hash, run.seglens_version, str(run.id)
    )
    return info, previous_run(store, run.id)


def _features(store: Store, run_id: int) -> pl.DataFrame | None:
    frame = run_features(store, run_id)
    return None if frame.is_empty() else frame


def _sources(store: Store) -> tuple[SourceFile, ...]:
    imports = list_imports(store).select("source", "rows_loaded", "file_hash")
    return tuple(SourceFile(str(src), int(n), h) for src, n, h in imports.iter_rows())


def _alert_findings(store: Store, period: str) -> list[Finding]:
    alerts = list_alerts(store).filter(
        (pl.col("period") == period) & ~pl.col("rule").is_in(COMPUTED_RULES)
    )
    out = []
    for a in alerts.iter_rows(named=True):
        sev = "critical" if a["severity"] in ("critical", "error") else "warning"
        state = " (acknowledged)" if a["acknowledged_at"] is not None else ""
        message = f"{a['message']}{state}"
        if a["metric"] in PROXY_METRICS:
            # raised on a label-free signal: a monitoring note, never a KPI risk colour
            sev, message = "info", f"Monitoring (label-free, not the KPI): {message}"
        out.append(Finding(sev, message, f"alert {a['rule']}"))  # type: ignore[arg-type]
    return out


def collect_from_store(
    store: Store,
    *,
    period: str | None = None,
    metric: str | None = None,
    policy: str = "latest",
    target_pct: float | None = None,
    margin_pct: float = DEFAULT_SETTINGS.margin_pts,
    title: str | None = None,
    stability: StabilityResult | None = None,
    separation: SeparationResult | None = None,
) -> ReviewSnapshot:
    """The review snapshot of ``period`` (default: the latest stored) from an open store.

    ``stability`` / ``separation`` (from :mod:`seglens.accuracy`, computed on the period's run)
    add per-segment bootstrap Jaccard and the label-free proxies, which the store does not keep.

    Raises
    ------
    DataError
        If the store holds no KPI yet.
    UsageError
        If the period or metric asked for was not measured.
    """
    latest = _latest_rows(store)
    period, metric, method = _pick(latest, period, metric)
    periods = dict(kpi_table(store).select("id", "period").iter_rows())
    here = latest.filter(pl.col("period") == period)
    # Not measured: the period's run and label counts come from its label-free row.
    current = (here if metric is None else here.filter(pl.col("metric") == metric)).row(
        0, named=True
    )
    trend_metric = _trend_metric(latest, period, metric)
    trend_method = dict(HEADLINE_METRICS).get(trend_metric or "", "labelled")
    earlier = (
        latest.filter((pl.col("metric") == trend_metric) & (pl.col("period") < period))
        if trend_metric is not None
        else latest.clear()
    )
    history = tuple(_period_kpi(r, trend_method, periods) for r in earlier.iter_rows(named=True))
    run_id = current["run_id"]
    run, prev = _run_info(store, run_id)
    assignments = run_assignments(store, run_id) if run_id is not None else None
    report = None
    findings = _alert_findings(store, period)
    if assignments is not None:
        counted = run_labels(store, run_id, policy=policy).counted
        if counted.height and metric is not None:
            # per-segment detail from the same labels the stored KPI counted, matched by name
            report = accuracy_report_from_tables(
                assignments, counted.select("customer_id", "segment"), match="names"
            )
        elif counted.height:
            findings.append(
                Finding(
                    "warning",
                    f"{counted.height:,} labels now count for this run, but no accuracy was "
                    f"stored for {period}: measure the run again before reading this review.",
                    "store",
                )
            )
    features = _features(store, run_id) if run_id is not None else None
    url = safe_url(store.url)
    snap = collect_snapshot(
        report,
        period=period,
        assignments=assignments,
        previous_assignments=run_assignments(store, prev.id) if prev else None,
        previous_period=period_of(prev.as_of).label if prev else None,
        features=features,
        stability=stability,
        separation=separation,
        history=history,
        run=run,
        findings=findings,
        sources=_sources(store),
        exports=(
            Export("KPI history", "database", f"{url} (table kpi_measurements)"),
            Export("seglens history", "CLI", "trend, significance and migration in the terminal"),
        ),
        title=title,
        target_pct=target_pct,
        margin_pct=margin_pct,
        store_url=url,
        # The stored KPI heads the review: it is what the history and the alerts used.
        headline=(None if metric is None else _estimate(current), method),
        extra_proxies=_hold_proxy(latest, period),
    )
    counts = (current["n_fresh"], current["n_carried"], current["n_expired"])
    return replace(
        snap,
        current_change=None if metric is None else _change(current, periods),
        label_counts=None
        if counts[0] is None
        else (int(counts[0]), int(counts[1]), int(counts[2])),
    )


def _hold_proxy(latest: pl.DataFrame, period: str) -> tuple[ProxyValue, ...]:
    """The stored label-free metrics of ``period``, as monitoring signals with their caveats."""
    out = []
    for metric, key in PROXY_METRICS.items():
        rows = latest.filter((pl.col("metric") == metric) & (pl.col("period") == period))
        if rows.is_empty():
            continue
        r = rows.row(0, named=True)
        name = "held (out of time)" if key == "out_of_time_held" else metric
        out.append(
            ProxyValue(
                name, float(r["value"]) / 100, PROXY_MEANINGS[key], proxy_caveat(key), int(r["n"])
            )
        )
    return tuple(out)
