"""Audit sampling: the fewest labels that pin the accuracy down.

Customers are sampled *within* each segment (strata = assigned segments) so every segment gets
enough labels for its own precision, and the overall accuracy is then estimated with the stratum
weights (:func:`seglens.audit.stratified_accuracy`).

Allocation
    ``"proportional"``: ``n_h ∝ N_h``; ``"neyman"``: ``n_h ∝ N_h·sqrt(p_h(1-p_h))``, which minimises
    the variance for a given total when the expected accuracies ``p_h`` differ. With one expected
    accuracy for all segments (the default, 50 % = worst case) the two coincide. Every segment
    gets at least ``min_per_segment`` (capped at its size).

Expected margin
    ``z * sqrt(sum_h W_h^2 (1 - n_h/N_h) p_h (1-p_h) / n_h)``, ``W_h = N_h/N``: the half-width of
    the interval the audit will give if accuracies are as expected.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import polars as pl

from seglens import _html
from seglens.errors import DataError, UsageError
from seglens.settings import DEFAULT_SETTINGS
from seglens.stats import z_value

__all__ = [
    "MEASUREMENT_MARGINS",
    "AuditPlan",
    "PlanRow",
    "StratumPlan",
    "audit_sheet",
    "draw_audit_sample",
    "draw_positions",
    "expected_margin",
    "plan_audit",
    "plan_rows",
    "plans_for_margins",
]

MEASUREMENT_MARGINS: tuple[float, ...] = (5.0, 3.0)
"""The margins (± points) shown when the KPI is not measured yet: what ±5 and ±3 would cost."""

Allocation = Literal["proportional", "neyman"]


@dataclass(frozen=True)
class StratumPlan:
    """One segment of an audit plan."""

    segment: str
    population: int
    sample: int
    expected_accuracy_pct: float

    @property
    def weight(self) -> float:
        """Customers each audited customer stands for (``N_h / n_h``)."""
        return self.population / self.sample if self.sample else math.inf


@dataclass(frozen=True)
class AuditPlan:
    """How many customers to audit in each segment, and the margin to expect."""

    strata: tuple[StratumPlan, ...]
    allocation: str
    confidence: float
    target_margin_pct: float | None
    expected_margin_pct: float

    @property
    def total(self) -> int:
        """Customers to audit."""
        return sum(s.sample for s in self.strata)

    @property
    def population(self) -> int:
        """Customers in the segmentation."""
        return sum(s.population for s in self.strata)

    def _repr_html_(self) -> str:
        """Notebook view: customers to audit, expected margin, population and sample per segment."""
        facts: list[tuple[str, object]] = [
            ("n", f"{self.total:,} of {self.population:,} customers"),
            (
                "expected margin",
                f"±{self.expected_margin_pct:.1f} pts at {round(self.confidence * 100)} %",
            ),
            ("allocation", self.allocation),
        ]
        if self.target_margin_pct is not None:
            facts.append(("target margin", f"±{self.target_margin_pct:g} pts"))
        rows = [(s.segment, s.population, s.sample) for s in self.strata]
        body = _html.table(["segment", "population", "sample"], rows, total=len(rows))
        return _html.card(f"AuditPlan: audit {self.total:,} customers", facts, body)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form."""
        return {
            "total": self.total,
            "population": self.population,
            "allocation": self.allocation,
            "confidence": self.confidence,
            "target_margin_pct": self.target_margin_pct,
            "expected_margin_pct": self.expected_margin_pct,
            "strata": [
                {
                    "segment": s.segment,
                    "population": s.population,
                    "sample": s.sample,
                    "weight": s.weight,
                    "expected_accuracy_pct": s.expected_accuracy_pct,
                }
                for s in self.strata
            ],
        }


def expected_margin(
    population: npt.ArrayLike,
    sample: npt.ArrayLike,
    expected_accuracy: npt.ArrayLike,
    confidence: float = 0.95,
) -> float:
    """Half-width (fraction) of the stratified interval for given stratum and sample sizes.

    Examples
    --------
    >>> round(expected_margin([1000, 1000], [100, 100], [0.5, 0.5]), 4)
    0.0657
    """
    big_n = np.asarray(population, dtype=np.float64)
    n = np.asarray(sample, dtype=np.float64)
    p = np.broadcast_to(np.asarray(expected_accuracy, dtype=np.float64), big_n.shape)
    w = big_n / big_n.sum()
    fpc = 1.0 - np.divide(n, big_n, out=np.ones_like(n), where=big_n > 0)
    term = np.divide(w**2 * fpc * p * (1 - p), n, out=np.zeros_like(n), where=n > 0)
    if np.any((n == 0) & (big_n > 0)):
        return math.inf
    return z_value(confidence) * math.sqrt(float(term.sum()))


def _allocate(
    big_n: npt.NDArray[np.float64],
    weights: npt.NDArray[np.float64],
    floor: npt.NDArray[np.float64],
    total: int,
) -> npt.NDArray[np.int64]:
    """Integer sizes summing to ``total``: ``clip(lam * weights, floor, N)``, largest remainder."""
    total = int(min(max(total, floor.sum()), big_n.sum()))
    if weights.sum() <= 0:
        weights = big_n.copy()
    lo, hi = 0.0, float(total) / max(float(weights[weights > 0].min()), 1e-12) + 1.0
    for _ in range(100):
        lam = (lo + hi) / 2.0
        if np.clip(lam * weights, floor, big_n).sum() < total:
            lo = lam
        else:
            hi = lam
    raw = np.clip(hi * weights, floor, big_n)
    out = np.floor(raw).astype(np.int64)
    short = total - int(out.sum())
    room = np.flatnonzero(out < big_n)
    order = room[np.argsort(-(raw[room] - out[room]), kind="stable")]
    out[order[:short]] += 1
    return out


def plan_audit(
    segment_sizes: Mapping[str, int],
    *,
    margin_pct: float | None = DEFAULT_SETTINGS.margin_pts,
    total: int | None = None,
    confidence: float = DEFAULT_SETTINGS.confidence,
    allocation: Allocation = "neyman",
    min_per_segment: int = DEFAULT_SETTINGS.min_per_segment,
    expected_accuracy_pct: float | Mapping[str, float] = 50.0,
) -> AuditPlan:
    """Plan a stratified audit: sample size per segment and the margin it will give.

    Parameters
    ----------
    segment_sizes
        Customers per segment in the segmentation.
    margin_pct
        Target half-width of the accuracy interval in points (e.g. 3 for ±3 points; default
        ``DEFAULT_SETTINGS.margin_pts``, 5); the smallest total that reaches it is chosen.
        Ignored when ``total`` is given.
    total
        Audit exactly this many customers instead.
    confidence
        Level of the interval.
    allocation
        ``"neyman"`` or ``"proportional"``.
    min_per_segment
        Least customers per segment, so each segment's precision is estimable.
    expected_accuracy_pct
        Planning value(s) for the accuracy, overall or per segment; 50 % is the worst case.

    Examples
    --------
    >>> plan = plan_audit({"loyal": 6000, "new": 3000, "lapsed": 1000}, margin_pct=3.0)
    >>> plan.total, [s.sample for s in plan.strata], round(plan.expected_margin_pct, 2)
    (965, [579, 290, 96], 3.0)
    """
    if not segment_sizes:
        raise DataError("the segmentation has no segments")
    names = list(segment_sizes)
    big_n = np.array([segment_sizes[s] for s in names], dtype=np.float64)
    if np.any(big_n < 1):
        raise DataError("every segment must have at least one customer")
    if isinstance(expected_accuracy_pct, Mapping):
        missing = [s for s in names if s not in expected_accuracy_pct]
        if missing:
            raise UsageError(f"no expected accuracy for segment(s) {', '.join(missing)}")
        p = np.array([expected_accuracy_pct[s] for s in names], dtype=np.float64) / 100.0
    else:
        p = np.full(len(names), float(expected_accuracy_pct) / 100.0)
    if np.any((p < 0) | (p > 1)):
        raise UsageError("expected accuracy must be a percentage in 0-100")
    if allocation not in ("neyman", "proportional"):
        raise UsageError(f"unknown allocation {allocation!r}", hint="use neyman or proportional")
    if min_per_segment < 1:
        raise UsageError(f"min_per_segment must be at least 1, got {min_per_segment}")
    weights = big_n * np.sqrt(p * (1 - p)) if allocation == "neyman" else big_n.copy()
    floor = np.minimum(float(min_per_segment), big_n)
    target = margin_pct if total is None else None
    if total is None:
        if margin_pct is None or margin_pct <= 0:
            raise UsageError("give a positive margin_pct or a total sample size")
        lo, hi = int(floor.sum()), int(big_n.sum())
        while lo < hi:
            mid = (lo + hi) // 2
            n = _allocate(big_n, weights, floor, mid)
            if 100 * expected_margin(big_n, n, p, confidence) <= margin_pct:
                hi = mid
            else:
                lo = mid + 1
        total = lo
    sizes = _allocate(big_n, weights, floor, total)
    strata = tuple(
        StratumPlan(s, int(nn), int(k), float(100 * pp))
        for s, nn, k, pp in zip(names, big_n, sizes, p, strict=True)
    )
    return AuditPlan(
        strata,
        allocation,
        confidence,
        target,
        100 * expected_margin(big_n, sizes, p, confidence),
    )


def plans_for_margins(
    segment_sizes: Mapping[str, int], margins: tuple[float, ...] = MEASUREMENT_MARGINS
) -> dict[float, AuditPlan]:
    """One :func:`plan_audit` per margin (widest first), segments sorted by name as
    ``seglens audit-sample --db`` plans them; empty when no segment has customers.

    This is the plan every surface shows beside an unmeasured KPI ("not measured (n = 0)").

    Examples
    --------
    >>> plans = plans_for_margins({"new": 3000, "loyal": 6000, "lapsed": 1000})
    >>> {m: p.total for m, p in plans.items()}
    {5.0: 370, 3.0: 965}
    """
    sizes = {k: int(v) for k, v in sorted(segment_sizes.items()) if v > 0}
    if not sizes:
        return {}
    return {m: plan_audit(sizes, margin_pct=m) for m in sorted(set(margins), reverse=True)}


@dataclass(frozen=True)
class PlanRow:
    """One row of a plan table: a segment (``None`` for the total) and labels per margin."""

    segment: str | None
    customers: int
    labels: tuple[int, ...]


def plan_rows(plans: Mapping[float, AuditPlan]) -> list[PlanRow]:
    """The plans as table rows (one per segment, then the total), labels in the plans' order."""
    if not plans:
        return []
    columns = list(plans.values())
    rows = [
        PlanRow(st.segment, st.population, tuple(p.strata[i].sample for p in columns))
        for i, st in enumerate(columns[0].strata)
    ]
    rows.append(PlanRow(None, columns[0].population, tuple(p.total for p in columns)))
    return rows


def draw_positions(plan: AuditPlan, random_state: int = 0) -> list[npt.NDArray[np.int64]]:
    """The draw's one definition: which customers of each stratum are audited, as positions.

    Stratum by stratum in the plan's order, ``numpy.random.default_rng(random_state).choice(
    population, sample, replace=False)``, sorted. Position *k* is the customer with the *k*-th
    smallest ``customer_id`` (as text, in code-point order, which is the UTF-8 byte order Polars
    and Spark sort by) among the stratum's customers. Both engines apply these positions
    (:func:`draw_audit_sample`, :func:`seglens.spark.audit.spark_draw_audit_sample`), so one seed
    audits the same customers whatever the engine or the order of the rows.

    Examples
    --------
    >>> plan = plan_audit({"a": 10, "b": 5}, total=5, min_per_segment=2)
    >>> [p.tolist() for p in draw_positions(plan, 0)]
    [[5, 6, 9], [0, 4]]
    """
    rng = np.random.default_rng(random_state)
    return [
        np.sort(rng.choice(s.population, size=s.sample, replace=False)).astype(np.int64)
        for s in plan.strata
    ]


def audit_sheet(plan: AuditPlan, picked: list[npt.NDArray[Any]]) -> pl.DataFrame:
    """The reviewers' sheet of the customers ``picked`` in each stratum (plan order).

    Columns as :func:`draw_audit_sample` documents; the ids are written as text, in the given
    order (the drawn positions' order, i.e. ascending ``customer_id`` within each stratum).
    """
    parts = []
    for s, ids in zip(plan.strata, picked, strict=True):
        if len(ids) != s.sample:
            raise DataError(
                f"segment {s.segment!r}: {len(ids)} customers drawn but the plan says {s.sample}",
                hint="plan and draw from the same segmentation",
            )
        parts.append(
            pl.DataFrame(
                {
                    "customer_id": np.asarray(ids).astype(str),
                    "assigned_segment": [s.segment] * s.sample,
                    "stratum_size": [s.population] * s.sample,
                    "sample_weight": [s.weight] * s.sample,
                },
                schema={
                    "customer_id": pl.String,
                    "assigned_segment": pl.String,
                    "stratum_size": pl.Int64,
                    "sample_weight": pl.Float64,
                },
            )
        )
    return pl.concat(parts).with_columns(
        pl.lit(plan.population, dtype=pl.Int64).alias("population"),
        pl.lit(None, dtype=pl.String).alias("reviewer_segment"),
        pl.lit(None, dtype=pl.String).alias("note"),
    )


def draw_audit_sample(
    assignments: pl.DataFrame, plan: AuditPlan, *, random_state: int = 0
) -> pl.DataFrame:
    """Draw the planned customers: a sheet ready for reviewers.

    Which customers: :func:`draw_positions` among each segment's ids sorted by ``customer_id``,
    so the sheet depends on the seed and the segmentation, not on the order of its rows (and
    ``seglens audit-sample --engine spark`` draws the same customers).

    Columns: ``customer_id``, ``assigned_segment``, ``stratum_size`` (customers in that segment),
    ``sample_weight`` (customers each row stands for), ``population`` (customers in the whole
    segmentation, so a sheet that lost a segment's rows is recognised), and blank
    ``reviewer_segment`` and ``note`` for the reviewer to fill in.

    Examples
    --------
    >>> import polars as pl
    >>> seg = pl.DataFrame({"customer_id": [str(i) for i in range(100)],
    ...                     "segment": ["a"] * 80 + ["b"] * 20})
    >>> plan = plan_audit({"a": 80, "b": 20}, total=20, min_per_segment=5)
    >>> sheet = draw_audit_sample(seg, plan)
    >>> sheet.group_by("assigned_segment").len().sort("assigned_segment").rows()
    [('a', 15), ('b', 5)]
    """
    seg = assignments.select(
        pl.col("customer_id").cast(pl.String), pl.col("segment").cast(pl.String)
    ).sort("customer_id")
    picked = []
    for s, pick in zip(plan.strata, draw_positions(plan, random_state), strict=True):
        ids = seg.filter(pl.col("segment") == s.segment)["customer_id"].to_numpy()
        if ids.size != s.population:
            raise DataError(
                f"segment {s.segment!r} has {ids.size} customers but the plan says {s.population}",
                hint="plan and draw from the same segmentation",
            )
        picked.append(ids[pick])
    return audit_sheet(plan, picked)
