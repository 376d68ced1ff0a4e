"""The metric registry: every labelled metric, with the properties the shared tests check.

Each entry says what a metric's range is, what value means "perfect", whether that value is reached
*only* for partitions identical after matching, and which scikit-learn function computes the same
number (if any). ``tests/accuracy/test_registry.py`` runs the same invariance checks over every
entry, so a metric added here is tested the moment it is registered.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

from seglens.accuracy import metrics

__all__ = ["METRICS", "MetricSpec", "register_metric"]

ScoreFn = Callable[[object, object], float]


@dataclass(frozen=True)
class MetricSpec:
    """What the registry knows about one metric.

    Attributes
    ----------
    name
        Registry key (the function name without ``_score``).
    func
        ``func(y_true, y_pred) -> float``.
    lower, upper
        Range of the value (percent metrics: 0 and 100).
    perfect
        Value reached exactly when segments reproduce the labels (after matching).
    unit
        ``"percent"`` or ``"coefficient"``.
    uses_matching
        Whether segments are matched to labels first (else a partition comparison).
    symmetric
        Whether swapping ``y_true`` and ``y_pred`` leaves the value unchanged.
    sklearn
        Dotted name of the scikit-learn function computing the same number, if any.
    """

    name: str
    func: ScoreFn
    lower: float
    upper: float
    perfect: float
    unit: str
    uses_matching: bool
    symmetric: bool
    sklearn: str | None = None


_REGISTRY: dict[str, MetricSpec] = {}
METRICS: Mapping[str, MetricSpec] = MappingProxyType(_REGISTRY)
"""Read-only view of all registered metrics, by name."""


def register_metric(spec: MetricSpec) -> MetricSpec:
    """Add a metric to :data:`METRICS` (names are unique)."""
    if spec.name in _REGISTRY:
        raise ValueError(f"metric {spec.name!r} is already registered")
    _REGISTRY[spec.name] = spec
    return spec


register_metric(
    MetricSpec("accuracy", metrics.accuracy_score, 0.0, 100.0, 100.0, "percent", True, False)
)
register_metric(
    MetricSpec("macro_f1", metrics.macro_f1_score, 0.0, 100.0, 100.0, "percent", True, False)
)
register_metric(
    MetricSpec(
        "cohen_kappa",
        metrics.cohen_kappa_score,
        -1.0,
        1.0,
        1.0,
        "coefficient",
        True,
        False,
        "sklearn.metrics.cohen_kappa_score",
    )
)
register_metric(
    MetricSpec(
        "adjusted_rand",
        metrics.adjusted_rand_score,
        -0.5,
        1.0,
        1.0,
        "coefficient",
        False,
        True,
        "sklearn.metrics.adjusted_rand_score",
    )
)
register_metric(
    MetricSpec(
        "normalized_mutual_info",
        metrics.normalized_mutual_info_score,
        0.0,
        1.0,
        1.0,
        "coefficient",
        False,
        True,
        "sklearn.metrics.normalized_mutual_info_score",
    )
)
