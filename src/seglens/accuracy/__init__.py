"""Customer Segmentation Accuracy: against labels, and the label-free proxies.

With labels (customer level): :func:`customer_accuracy` / :func:`accuracy_report` — correctly
segmented / customers checked x 100 with a Wilson interval, the segment-to-label mapping, confusion
matrix, per-segment precision / recall / F1, kappa, ARI and NMI, and the segment-level accuracy
(:class:`SegmentRule`). Every labelled metric is listed in :data:`METRICS`.

Without labels: :func:`bootstrap_stability`, :func:`out_of_time_validity`,
:func:`behavioural_validity`, :func:`reproducibility_score`, :func:`separation`; how far each tracks
the true accuracy is in :data:`PROXY_CAVEATS` and the calibration table of ``docs/accuracy.md``.
"""

from __future__ import annotations

from seglens.accuracy.align import Aligned, Coverage, align_labels
from seglens.accuracy.caveats import PROXY_CAVEATS, proxy_caveat
from seglens.accuracy.matching import MATCH_METHODS, Matching
from seglens.accuracy.metrics import (
    accuracy_score,
    adjusted_rand_score,
    cohen_kappa_score,
    customer_accuracy,
    macro_f1_score,
    normalized_mutual_info_score,
)
from seglens.accuracy.registry import METRICS, MetricSpec, register_metric
from seglens.accuracy.report import (
    AccuracyReport,
    LabelRow,
    SegmentRow,
    accuracy_report,
    accuracy_report_from_tables,
)
from seglens.accuracy.segment_level import (
    SegmentLevelResult,
    SegmentRule,
    SegmentVerdict,
    judge_label_free,
    judge_labelled,
)
from seglens.accuracy.separation import SeparationResult, reproducibility_score, separation
from seglens.accuracy.stability import StabilityResult, bootstrap_stability
from seglens.accuracy.temporal import (
    BehaviouralResult,
    OutOfTimeResult,
    behaviour_from_transactions,
    behavioural_validity,
    out_of_time_validity,
)
from seglens.stats import Estimate, wilson_interval

__all__ = [
    "MATCH_METHODS",
    "METRICS",
    "PROXY_CAVEATS",
    "AccuracyReport",
    "Aligned",
    "BehaviouralResult",
    "Coverage",
    "Estimate",
    "LabelRow",
    "Matching",
    "MetricSpec",
    "OutOfTimeResult",
    "SegmentLevelResult",
    "SegmentRow",
    "SegmentRule",
    "SegmentVerdict",
    "SeparationResult",
    "StabilityResult",
    "accuracy_report",
    "accuracy_report_from_tables",
    "accuracy_score",
    "adjusted_rand_score",
    "align_labels",
    "behaviour_from_transactions",
    "behavioural_validity",
    "bootstrap_stability",
    "cohen_kappa_score",
    "customer_accuracy",
    "judge_label_free",
    "judge_labelled",
    "macro_f1_score",
    "normalized_mutual_info_score",
    "out_of_time_validity",
    "proxy_caveat",
    "register_metric",
    "reproducibility_score",
    "separation",
    "wilson_interval",
]
