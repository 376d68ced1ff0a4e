"""Measure one run's KPI from the store, compare it with the previous period, store both, alert.

:func:`measure_run` is the one computation behind every figure a user sees for a run: ``track``
calls it after storing the run, ``labels import``/``labels add`` and ``audit-estimate --db`` call
it again when labels arrive, and ``history``, ``alerts``, the report, the web app and the API only
read what it stored.

Which labels count is :func:`seglens.tracking.labels.select_labels` (fresh, carried, expired).
The metrics it stores for the run's period:

``accuracy_audit``
    the stratified estimate from the run's stored audit design (weights ``N_h / N`` from the
    design), when every stratum has at least one reviewed member; the headline when present.
``accuracy``
    the share of counted labels that agree with the run (Wilson interval).

Each is compared with the same metric's latest measurement of the previous period by a
difference test that uses both estimates' own standard errors and, for customers labelled in both
periods, their covariance (:func:`compare_measurements`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import polars as pl

from seglens.stats import (
    Estimate,
    comparison_se,
    difference_test,
    proportion,
    stratified_proportion,
)
from seglens.store import (
    AuditDesignRecord,
    KpiRecord,
    Store,
    audit_design,
    kpi_table,
    label_events,
    list_runs,
    record_alert,
    record_kpi,
    resolve_alerts,
    run_assignments,
)
from seglens.tracking.alerts import AlertEvent, AlertRules, KpiPoint, evaluate_alerts
from seglens.tracking.labels import CarryPolicy, LabelSelection, select_labels
from seglens.tracking.migration import migration_matrix
from seglens.tracking.periods import Period, period_of

__all__ = [
    "PROXY_METRICS",
    "AuditOutcome",
    "Change",
    "Measurement",
    "compare_measurements",
    "measure_configured",
    "measure_run",
    "run_labels",
]

if TYPE_CHECKING:
    from seglens.tracking.config import TrackingConfig

AUDIT_METRIC = "accuracy_audit"
LABELLED_METRIC = "accuracy"
PROXY_METRICS = {"segment_hold": "out_of_time_held"}
"""Stored label-free metrics, each with its proxy name in :data:`seglens.accuracy.PROXY_CAVEATS`:
monitoring signals, never the KPI."""


@dataclass(frozen=True)
class AuditOutcome:
    """How far the run's stored audit design has been reviewed."""

    design_id: int
    members: int
    reviewed: int
    missing_strata: tuple[str, ...]
    """Strata with no reviewed member: no design-based estimate until they have one."""
    estimate: Estimate | None


@dataclass(frozen=True)
class Change:
    """The difference between two periods' estimates of one metric, in points.

    ``se`` is ``sqrt(se_before² + se_after² − 2·cov)``, where ``cov`` comes from the customers
    whose labels count in both periods (``n_paired``); ``p_value`` is the two-sided normal test
    of no difference; ``significant_drop`` = a fall of at least the rule's ``drop_points`` with
    ``p_value < alpha``.
    """

    diff_pts: float
    se_pts: float
    ci_low_pts: float
    ci_high_pts: float
    p_value: float
    n_paired: int
    significant_drop: bool


@dataclass
class Measurement:
    """What :func:`measure_run` computed and stored for one run."""

    run_id: int
    period: Period
    selection: LabelSelection
    kpis: list[KpiRecord]
    kpi_ids: list[int]
    audit: AuditOutcome | None = None
    alerts: list[AlertEvent] = field(default_factory=list)
    resolved_alerts: list[int] = field(default_factory=list)

    @property
    def headline(self) -> KpiRecord | None:
        """The figure the period is judged by: the audit estimate, else the labelled one."""
        for metric in (AUDIT_METRIC, LABELLED_METRIC):
            for k in self.kpis:
                if k.metric == metric:
                    return k
        return None


def _units(selection: LabelSelection, design: AuditDesignRecord | None) -> pl.DataFrame | None:
    """Per counted customer: ``y`` (correct), linear weight ``w`` and stratum mean ``ybar``.

    The estimate is ``sum(w * y)``; the same frame of two periods gives their covariance.
    """
    counted = selection.counted.select("customer_id", pl.col("correct").cast(pl.Float64).alias("y"))
    if design is None:
        if counted.is_empty():
            return None
        n = counted.height
        return counted.with_columns(
            pl.lit(1.0 / n).alias("w"), pl.lit(counted["y"].mean()).alias("ybar")
        )
    reviewed = design.members.join(counted, on="customer_id", how="inner")
    if reviewed.is_empty():
        return None
    total = float(sum(design.population.values()))
    sizes = pl.DataFrame(
        {"stratum": list(design.population), "N": [float(v) for v in design.population.values()]}
    )
    return (
        reviewed.join(sizes, on="stratum")
        .with_columns(
            (pl.col("N") / total / pl.len().over("stratum")).alias("w"),
            pl.col("y").mean().over("stratum").alias("ybar"),
        )
        .select("customer_id", "y", "w", "ybar")
    )


def _audit(selection: LabelSelection, design: AuditDesignRecord, confidence: float) -> AuditOutcome:
    counted = selection.counted.select("customer_id", "correct")
    reviewed = design.members.join(counted, on="customer_id", how="inner")
    per = reviewed.group_by("stratum").agg(pl.len().alias("n"), pl.col("correct").sum().alias("c"))
    done = dict(zip(per["stratum"].to_list(), zip(per["n"], per["c"], strict=True), strict=True))
    missing = tuple(s for s, big_n in design.population.items() if big_n > 0 and s not in done)
    est = None
    if not missing:
        strata = list(design.population)
        est, _ = stratified_proportion(
            [done[s][1] for s in strata],
            [done[s][0] for s in strata],
            [design.population[s] for s in strata],
            confidence=confidence,
        )
    return AuditOutcome(design.id, design.members.height, reviewed.height, missing, est)


def _se(record: KpiRecord | dict[str, Any], confidence: float) -> float:
    """The standard error a stored record is compared with (:func:`seglens.stats.comparison_se`)."""
    get = record.get if isinstance(record, dict) else lambda k: getattr(record, k)
    value = float(get("value") or 0.0)
    lo, hi = get("ci_low"), get("ci_high")
    return comparison_se(
        get("se"), value if lo is None else lo, value if hi is None else hi, confidence
    )


def compare_measurements(
    before: tuple[float, float],
    after: tuple[float, float],
    *,
    covariance: float = 0.0,
    n_paired: int = 0,
    rules: AlertRules | None = None,
) -> Change:
    """Test the change from ``before`` to ``after`` (each ``(value_pts, se_pts)``).

    The test is :func:`seglens.stats.difference_test` (variance ``se_before² + se_after² −
    2·covariance``, two-sided normal p-value). A *significant drop* needs both a fall of at least
    ``rules.drop_points`` and ``p < rules.alpha`` (so under no change its rate is at most
    ``alpha / 2`` per period).

    Examples
    --------
    >>> c = compare_measurements((90.0, 1.5), (60.0, 2.45))
    >>> round(c.diff_pts, 1), c.p_value < 1e-6, c.significant_drop
    (-30.0, True, True)
    >>> compare_measurements((80.0, 2.8), (78.0, 2.9)).significant_drop
    False
    """
    r = rules or AlertRules()
    t = difference_test(before, after, covariance=covariance, confidence=r.confidence)
    drop = t.diff_pts <= -r.drop_points and t.p_value < r.alpha
    return Change(t.diff_pts, t.se_pts, t.ci_low_pts, t.ci_high_pts, t.p_value, n_paired, drop)


def _covariance(a: pl.DataFrame | None, b: pl.DataFrame | None) -> tuple[float, int]:
    """Covariance (points²) of two linear estimates from their shared customers, and how many."""
    if a is None or b is None:
        return 0.0, 0
    both = a.join(b, on="customer_id", suffix="_b")
    if both.is_empty():
        return 0.0, 0
    cov = both.select(
        (
            pl.col("w")
            * pl.col("w_b")
            * (pl.col("y") - pl.col("ybar"))
            * (pl.col("y_b") - pl.col("ybar_b"))
        ).sum()
    ).item()
    return 1e4 * float(cov), both.height


def run_labels(
    store: Store,
    run_id: int,
    *,
    policy: str = "latest",
    carry: CarryPolicy | None = None,
    runs: pl.DataFrame | None = None,
    events: pl.DataFrame | None = None,
) -> LabelSelection:
    """The labels that count (and those that do not) for one stored run."""
    runs = list_runs(store) if runs is None else runs
    row = runs.filter(pl.col("run_id") == run_id)
    if row.is_empty():
        from seglens.errors import UsageError

        raise UsageError(f"no segmentation run {run_id} in the store")
    as_of: datetime = row["as_of"][0]
    return select_labels(
        label_events(store) if events is None else events,
        run_id=run_id,
        run_as_of=as_of,
        assigned=run_assignments(store, run_id),
        runs=runs,
        policy=policy,
        carry=carry,
    )


def _record(est: Estimate, metric: str, method: str, base: dict[str, Any]) -> KpiRecord:
    return KpiRecord(
        metric=metric,
        value=float(est.value_pct),
        ci_low=float(est.ci_low_pct),
        ci_high=float(est.ci_high_pct),
        n=int(est.n),
        successes=None if est.successes is None else round(est.successes),
        se=est.se_pct,
        method=method,
        **base,
    )


def _previous(store: Store, metric: str, period: Period) -> dict[str, Any] | None:
    rows = kpi_table(store, metric).filter(
        (pl.col("period") < period.label) & (pl.col("period_kind") == period.kind)
    )
    if rows.is_empty():
        return None
    return rows.sort("period", "created_at", "id").row(-1, named=True)


def _with_change(
    store: Store,
    rec: KpiRecord,
    units: pl.DataFrame | None,
    period: Period,
    ctx: _Context,
) -> KpiRecord:
    prev = _previous(store, rec.metric, period)
    if prev is None:
        return rec
    cov, paired = 0.0, 0
    if rec.metric in (AUDIT_METRIC, LABELLED_METRIC) and prev["run_id"] is not None:
        prev_sel = run_labels(
            store,
            int(prev["run_id"]),
            policy=ctx.policy,
            carry=ctx.carry,
            runs=ctx.runs,
            events=ctx.events,
        )
        design = (
            audit_design(store, design_id=int(prev["design_id"]))
            if rec.metric == AUDIT_METRIC and prev["design_id"] is not None
            else None
        )
        cov, paired = _covariance(_units(prev_sel, design), units)
    change = compare_measurements(
        (prev["value"], _se(prev, ctx.rules.confidence)),
        (rec.value, _se(rec, ctx.rules.confidence)),
        covariance=cov,
        n_paired=paired,
        rules=ctx.rules,
    )
    return replace(
        rec,
        compared_to_id=int(prev["id"]),
        change_pts=change.diff_pts,
        change_se=change.se_pts,
        change_ci_low=change.ci_low_pts,
        change_ci_high=change.ci_high_pts,
        change_p_value=change.p_value,
        n_paired=change.n_paired,
        significant_drop=change.significant_drop,
    )


@dataclass(frozen=True)
class _Context:
    policy: str
    carry: CarryPolicy
    rules: AlertRules
    runs: pl.DataFrame
    events: pl.DataFrame


def measure_run(
    store: Store,
    run_id: int,
    *,
    period_kind: str = "quarter",
    policy: str = "latest",
    carry: CarryPolicy | None = None,
    rules: AlertRules | None = None,
    extra: Sequence[KpiRecord] = (),
) -> Measurement:
    """Measure run ``run_id`` from the store, store the KPI with its comparison, and alert.

    Parameters
    ----------
    store
        The open store.
    run_id
        The stored run; its as-of date picks the period.
    period_kind
        ``"quarter"`` or ``"month"``.
    policy
        How several fresh labels of one customer decide (``latest`` or ``majority``).
    carry
        The carry-forward policy for labels of earlier runs (default :class:`CarryPolicy`).
    rules
        Alert thresholds and the confidence of the intervals.
    extra
        Further records to store and compare for the period (``track``'s label-free proxy).
    """
    rules = rules or AlertRules()
    carry = carry or CarryPolicy()
    runs = list_runs(store)
    ctx = _Context(policy, carry, rules, runs, label_events(store))
    selection = run_labels(store, run_id, policy=policy, carry=carry, runs=runs, events=ctx.events)
    as_of: datetime = runs.filter(pl.col("run_id") == run_id)["as_of"][0]
    period = period_of(as_of, period_kind)
    counts = selection.counts
    base: dict[str, Any] = {
        "period": period.label,
        "period_kind": period.kind,
        "run_id": run_id,
        "n_fresh": counts["fresh"],
        "n_carried": counts["carried"],
        "n_expired": counts["expired"],
    }
    records: list[tuple[KpiRecord, pl.DataFrame | None]] = []
    design = audit_design(store, run_id=run_id)
    outcome = None
    if design is not None:
        outcome = _audit(selection, design, rules.confidence)
        if outcome.estimate is not None:
            rec = _record(outcome.estimate, AUDIT_METRIC, "stratified audit estimate", base)
            records.append((replace(rec, design_id=design.id), _units(selection, design)))
    counted = selection.counted
    if counted.height:
        hits = int(counted["correct"].sum())
        est = proportion(hits, counted.height, rules.confidence)
        rec = _record(est, LABELLED_METRIC, f"labelled ({policy} label)", base)
        records.append((replace(rec, successes=hits), _units(selection, None)))
    records.extend((replace(r, **base), None) for r in extra)
    stored: list[KpiRecord] = []
    ids: list[int] = []
    for rec, units in records:
        rec = _with_change(store, rec, units, period, ctx)
        ids.append(record_kpi(store, rec))
        stored.append(rec)
    result = Measurement(run_id, period, selection, stored, ids, outcome)
    result.alerts = _alerts(store, result, runs, rules)
    keep = {(a.rule, a.metric, a.segment) for a in result.alerts}
    result.resolved_alerts = resolve_alerts(store, period=period.label, keep=keep)
    return result


def measure_configured(
    store: Store, run_id: int, config: TrackingConfig | None = None
) -> Measurement:
    """:func:`measure_run` with the tracking settings (default: the tracking config file)."""
    from seglens.tracking.config import load_tracking_config

    c = config or load_tracking_config()
    return measure_run(
        store,
        run_id,
        period_kind=c.period,
        policy=c.policy,
        carry=c.carry,
        rules=c.rules,
    )


def _stability(
    store: Store, run_id: int, runs: pl.DataFrame
) -> tuple[dict[str, float], dict[str, int]]:
    ids = runs.sort("as_of", "run_id")["run_id"].to_list()
    pos = ids.index(run_id)
    if pos == 0:
        return {}, {}
    earlier = run_assignments(store, ids[pos - 1])
    sizes = dict(earlier.group_by("segment").len().iter_rows())
    return migration_matrix(earlier, run_assignments(store, run_id)).stability, sizes


def _alerts(
    store: Store, result: Measurement, runs: pl.DataFrame, rules: AlertRules
) -> list[AlertEvent]:
    main = result.headline or (result.kpis[0] if result.kpis else None)
    if main is None:
        return []
    prev = None
    if main.compared_to_id is not None:
        table = kpi_table(store, main.metric).filter(pl.col("id") == main.compared_to_id)
        prev = table["period"][0] if table.height else None
    point = KpiPoint(
        main.period,
        main.metric,
        main.value,
        main.n,
        main.successes,
        change_pts=main.change_pts,
        change_p_value=main.change_p_value,
        significant_drop=main.significant_drop,
        compared_period=prev,
    )
    stability, sizes = _stability(store, result.run_id, runs)
    events = evaluate_alerts(
        point,
        stability=stability,
        segment_sizes=sizes,
        n_labels=main.n if main.metric.startswith("accuracy") else result.selection.counted.height,
        accuracy_metric=main.metric.startswith("accuracy"),
        rules=rules,
    )
    for e in events:
        record_alert(
            store,
            rule=e.rule,
            severity=e.severity,
            message=e.message,
            details=e.details,
            period=e.period,
            metric=e.metric,
            segment=e.segment,
            run_id=result.run_id,
        )
    return events
