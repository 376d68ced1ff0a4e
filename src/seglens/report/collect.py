"""Collectors: assemble a :class:`ReviewSnapshot` from the accuracy engine's results.

:func:`collect_snapshot` takes what :mod:`seglens.accuracy` returns (the labelled
:class:`~seglens.accuracy.AccuracyReport`, the label-free proxies) plus the segment assignments,
and produces the frozen snapshot the report renders. The store collector
(:mod:`seglens.report.collect_store`) reads the same ingredients from the database.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime

import polars as pl

from seglens.accuracy import (
    AccuracyReport,
    OutOfTimeResult,
    SeparationResult,
    StabilityResult,
    proxy_caveat,
)
from seglens.accuracy.caveats import PROXY_MEANINGS
from seglens.errors import DataError, UsageError
from seglens.report.snapshot import (
    ConfusionTable,
    Estimate,
    Export,
    Finding,
    LabelCoverage,
    Method,
    MigrationTable,
    PeriodKPI,
    Profiles,
    ProxyValue,
    ReviewSnapshot,
    RunInfo,
    SegmentStat,
    SourceFile,
)
from seglens.settings import DEFAULT_SETTINGS

__all__ = [
    "collect_snapshot",
    "convert_estimate",
    "migration_table",
    "segment_profiles",
]

MAX_PROFILE_FEATURES = 8


def convert_estimate(est: Estimate, successes: float | None = None) -> Estimate | None:
    """The accuracy engine's estimate as a report :class:`Estimate` (``None`` when n is 0)."""
    if est.n == 0 or not math.isfinite(est.value_pct):
        return None
    return replace(est, successes=successes)


def _frame(df: object, what: str) -> pl.DataFrame:
    if isinstance(df, pl.DataFrame):
        return df
    try:
        import pandas as pd

        if isinstance(df, pd.DataFrame):
            return pl.from_pandas(df)
    except ImportError:  # pragma: no cover - pandas is a dependency
        pass
    raise DataError(f"{what} must be a Polars or pandas DataFrame, not {type(df).__name__}")


def _need(df: pl.DataFrame, cols: Sequence[str], what: str) -> pl.DataFrame:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataError(f"{what} lacks column(s) {missing}", hint="map them with --columns")
    return df.with_columns(pl.col("customer_id").cast(pl.String), pl.col("segment").cast(pl.String))


def migration_table(
    previous: object, current: object, *, from_period: str, to_period: str
) -> MigrationTable:
    """Customers (and revenue, when ``current`` has a ``revenue`` column) per segment move.

    Only customers present in both runs are counted.

    Examples
    --------
    >>> prev = pl.DataFrame({"customer_id": ["1", "2", "3"], "segment": ["a", "a", "b"]})
    >>> cur = pl.DataFrame({"customer_id": ["1", "2", "3"], "segment": ["a", "b", "b"]})
    >>> m = migration_table(prev, cur, from_period="Q1", to_period="Q2")
    >>> m.counts, m.moved
    (((1, 1), (0, 1)), 1)
    """
    prev = _need(_frame(previous, "previous assignments"), ["customer_id", "segment"], "previous")
    cur = _need(_frame(current, "assignments"), ["customer_id", "segment"], "assignments")
    has_rev = "revenue" in cur.columns
    right = cur.select("customer_id", "segment", *(["revenue"] if has_rev else []))
    joined = prev.select("customer_id", pl.col("segment").alias("from")).join(
        right.rename({"segment": "to"}), on="customer_id", how="inner"
    )
    froms = tuple(sorted(prev["segment"].unique().to_list()))
    tos = tuple(sorted(cur["segment"].unique().to_list()))
    aggs = [pl.len().alias("n")]
    if has_rev:
        aggs.append(pl.col("revenue").fill_null(0.0).sum().alias("rev"))
    cells = {(r["from"], r["to"]): r for r in joined.group_by("from", "to").agg(aggs).to_dicts()}
    counts = tuple(tuple(int(cells.get((a, b), {}).get("n", 0)) for b in tos) for a in froms)
    revenue = None
    if has_rev:
        revenue = tuple(
            tuple(float(cells.get((a, b), {}).get("rev", 0.0)) for b in tos) for a in froms
        )
    return MigrationTable(from_period, to_period, froms, tos, counts, revenue)


def segment_profiles(
    assignments: object, features: object, columns: Sequence[str] | None = None
) -> Profiles | None:
    """Mean of each numeric feature per segment (``None`` when no numeric feature is shared).

    Examples
    --------
    >>> seg = pl.DataFrame({"customer_id": ["1", "2", "3"], "segment": ["a", "a", "b"]})
    >>> feat = pl.DataFrame({"customer_id": ["1", "2", "3"], "spend": [10.0, 30.0, 5.0]})
    >>> segment_profiles(seg, feat).means
    ((20.0,), (5.0,))
    """
    seg = _need(_frame(assignments, "assignments"), ["customer_id", "segment"], "assignments")
    feat = _frame(features, "features").with_columns(pl.col("customer_id").cast(pl.String))
    if columns is None:
        columns = [
            c
            for c, t in feat.schema.items()
            if c != "customer_id" and t.is_numeric() and c not in seg.columns
        ][:MAX_PROFILE_FEATURES]
    if not columns:
        return None
    missing = [c for c in columns if c not in feat.columns]
    if missing:
        raise DataError(f"profile features not found: {missing}")
    joined = seg.select("customer_id", "segment").join(
        feat.select("customer_id", *columns), on="customer_id", how="inner"
    )
    means = joined.group_by("segment").agg(pl.col(c).cast(pl.Float64).mean() for c in columns)
    means = means.sort("segment")
    rows = tuple(
        tuple(float(v) if v is not None else 0.0 for v in r[1:]) for r in means.iter_rows()
    )
    return Profiles(tuple(columns), tuple(means["segment"].to_list()), rows)


def _proxies(
    stability: StabilityResult | None,
    out_of_time: OutOfTimeResult | None,
    separation: SeparationResult | None,
) -> tuple[ProxyValue, ...]:
    out: list[ProxyValue] = []

    def add(key: str, value: float, n: int | None, label: str) -> None:
        out.append(ProxyValue(label, value, PROXY_MEANINGS[key], proxy_caveat(key), n))

    if stability is not None:
        add("stability_jaccard", stability.mean_jaccard, stability.n, "bootstrap Jaccard (mean)")
        add("stability_ari", stability.ari, stability.n, "bootstrap ARI")
    if out_of_time is not None:
        add("out_of_time_held", out_of_time.held.value_pct / 100, out_of_time.held.n, "held")
    if separation is not None:
        add("silhouette", separation.silhouette, separation.silhouette_sample_size, "silhouette")
        add("davies_bouldin", separation.davies_bouldin, separation.n, "Davies–Bouldin")
    return tuple(out)


def _segments(
    report: AccuracyReport | None,
    sizes: Mapping[str, int],
    revenue: Mapping[str, float],
    revenue_prev: Mapping[str, float],
    stability: StabilityResult | None,
    retention: Mapping[str, float],
) -> tuple[SegmentStat, ...]:
    jac = stability.jaccard if stability is not None else {}
    rows = {r.segment: r for r in report.per_segment} if report is not None else {}
    names = list(dict.fromkeys([*rows, *sizes] if rows or sizes else jac))
    out = []
    for name in names:
        r = rows.get(name)
        common = {
            "stability": jac.get(name),
            "revenue": revenue.get(name),
            "revenue_previous": revenue_prev.get(name),
            "retention_pct": retention.get(name),
        }
        if r is None:
            out.append(SegmentStat(name, sizes.get(name, 0), **common))  # type: ignore[arg-type]
            continue
        recall = Estimate.from_counts(r.correct, r.label_support) if r.label_support else None
        out.append(
            SegmentStat(
                name,
                sizes.get(name, r.size),
                precision=convert_estimate(r.precision, r.correct),
                recall=recall,
                f1=r.f1_pct / 100,
                support=r.label_support,
                accurate=r.accurate if r.size else None,
                reason=r.reason,
                matched_label=r.matched_label,
                **common,
            )
        )
    return tuple(out)


def _by_segment(df: pl.DataFrame | None, column: str) -> dict[str, float]:
    if df is None or column not in df.columns:
        return {}
    agg = df.group_by("segment").agg(pl.col(column).fill_null(0.0).sum())
    return {str(k): float(v) for k, v in agg.iter_rows()}


def _labelled_parts(report: AccuracyReport) -> dict[str, object]:
    seg = report.segment_level
    n_acc = sum(v.accurate for v in seg.verdicts if v.analysed)
    parts: dict[str, object] = {
        "accuracy": convert_estimate(
            report.accuracy, round(report.accuracy.value_pct * report.n / 100)
        ),
        "segment_accuracy": convert_estimate(seg.estimate, n_acc) if seg.estimate else None,
        "segment_rule": seg.rule,
        "confusion": ConfusionTable(
            report.labels,
            report.segments,
            tuple(tuple(int(c) for c in row) for row in report.confusion.tolist()),
        ),
        "target_pct": report.target_pct,
    }
    findings = [Finding("info", c, "accuracy") for c in report.caveats]
    cov = report.coverage
    if cov is not None:
        parts["labels"] = LabelCoverage(
            cov.n_labelled_customers, cov.n_matched, cov.n_labels_unknown_customer
        )
        if cov.n_blank_labels:
            findings.append(
                Finding("info", f"{cov.n_blank_labels:,} label rows are blank (not reviewed yet).")
            )
        if cov.n_superseded_labels:
            findings.append(
                Finding(
                    "info",
                    f"{cov.n_superseded_labels:,} earlier labels were superseded by a newer one "
                    "for the same customer (latest wins; history kept).",
                )
            )
    parts["findings"] = findings
    return parts


def collect_snapshot(
    report: AccuracyReport | None,
    *,
    period: str,
    assignments: object = None,
    previous_assignments: object = None,
    previous_period: str | None = None,
    features: object = None,
    profile_columns: Sequence[str] | None = None,
    stability: StabilityResult | None = None,
    out_of_time: OutOfTimeResult | None = None,
    separation: SeparationResult | None = None,
    history: Sequence[PeriodKPI] = (),
    retention_pct: Mapping[str, float] | None = None,
    run: RunInfo | None = None,
    findings: Sequence[Finding] = (),
    sources: Sequence[SourceFile] = (),
    notes: Sequence[str] = (),
    exports: Sequence[Export] = (),
    title: str | None = None,
    target_pct: float | None = None,
    margin_pct: float = DEFAULT_SETTINGS.margin_pts,
    currency: str = "",
    store_url: str | None = None,
    generated_at: datetime | None = None,
    headline: tuple[Estimate | None, Method] | None = None,
    extra_proxies: Sequence[ProxyValue] = (),
) -> ReviewSnapshot:
    """Assemble the review snapshot from accuracy results and assignments.

    Parameters
    ----------
    report
        The labelled accuracy report, or ``None`` when there are no labels: the accuracy is
        then *not measured* (``accuracy=None``, method ``"unmeasured"``, n = 0) and the review
        shows the audit plan that would measure it; proxies stay monitoring signals.
    period
        The period reviewed, e.g. ``"2011Q3"``.
    assignments
        ``customer_id, segment`` (optionally ``revenue``) of the run reviewed: segment sizes,
        revenue per segment and the migration's destination.
    previous_assignments, previous_period
        The previous run, for the migration matrix and revenue change.
    features
        ``customer_id`` plus numeric features, for the segment profiles.
    stability, out_of_time, separation
        Label-free proxies from :mod:`seglens.accuracy`, shown as monitoring signals with their
        calibrated caveats, never as the KPI.
    history
        Earlier periods' KPI, oldest first.
    headline
        An estimate and method to head the review instead of the report's accuracy (e.g. the
        KPI stored for the period, or a stratified audit estimate); ``(None, "unmeasured")``
        when the period's accuracy was not measured.
    extra_proxies
        Further proxy values to list (e.g. a stored out-of-time hold rate).

    Examples
    --------
    >>> from seglens.accuracy import accuracy_report
    >>> rep = accuracy_report(["a"] * 9 + ["b"] * 11, ["x"] * 8 + ["y"] * 12)
    >>> snap = collect_snapshot(rep, period="2011Q3")
    >>> round(snap.accuracy.value_pct, 1), snap.accuracy.n, snap.method
    (95.0, 20, 'labelled')
    """
    proxies_given = (stability, out_of_time, separation) != (None, None, None) or extra_proxies
    if report is None and headline is None and assignments is None and not proxies_given:
        raise UsageError(
            "no labels, no segments and no label-free proxy to report",
            hint="import labels (seglens labels import) or pass the assignments",
        )
    seg_df = cur_sizes = None
    sizes: dict[str, int] = {}
    if assignments is not None:
        seg_df = _need(
            _frame(assignments, "assignments"), ["customer_id", "segment"], "assignments"
        )
        cur_sizes = seg_df.group_by("segment").len()
        sizes = {str(k): int(v) for k, v in cur_sizes.iter_rows()}
    prev_df = None
    if previous_assignments is not None:
        prev_df = _need(
            _frame(previous_assignments, "previous"), ["customer_id", "segment"], "previous"
        )
    method: Method = "labelled" if report is not None else "unmeasured"
    parts: dict[str, object] = {}
    all_findings = list(findings)
    if report is not None:
        parts = _labelled_parts(report)
        all_findings = list(parts.pop("findings")) + all_findings  # type: ignore[call-overload]
        if parts["accuracy"] is None and headline is None:
            raise DataError("the accuracy report has no labelled customers")
    if headline is not None:
        parts["accuracy"], method = headline
    elif report is None:
        parts["accuracy"] = None  # not measured: no labels, and a proxy is not the KPI
    if target_pct is not None:
        parts["target_pct"] = target_pct
    migration = None
    if seg_df is not None and prev_df is not None:
        migration = migration_table(
            prev_df, seg_df, from_period=previous_period or "previous run", to_period=period
        )
    profiles = (
        segment_profiles(seg_df, features, profile_columns)
        if seg_df is not None and features is not None
        else None
    )
    segments = _segments(
        report,
        sizes,
        _by_segment(seg_df, "revenue"),
        _by_segment(prev_df, "revenue"),
        stability,
        retention_pct or {},
    )
    return ReviewSnapshot(
        period=period,
        segments=segments,
        title=title or ReviewSnapshot.title,
        generated_at=generated_at or datetime.now(UTC).replace(tzinfo=None, microsecond=0),
        margin_pct=margin_pct,
        method=method,
        population=seg_df.height if seg_df is not None else None,
        history=tuple(history),
        migration=migration,
        profiles=profiles,
        proxies=_proxies(stability, out_of_time, separation) + tuple(extra_proxies),
        findings=tuple(all_findings),
        sources=tuple(sources),
        run=run,
        notes=tuple(notes),
        exports=tuple(exports),
        currency=currency,
        store_url=store_url,
        **parts,  # type: ignore[arg-type]
    )
