"""The quarterly Segmentation Accuracy review: one self-contained HTML file, and its PDF.

A :class:`ReviewSnapshot` holds every number the review shows; collectors build it from the
accuracy engine or the tracking store; :func:`render_html` / :func:`render_pdf` turn it into the
report, with the twelve KPI attributes written from the numbers (:func:`compute_attributes`).
"""

from __future__ import annotations

from seglens.report.attributes import ATTRIBUTE_KEYS, compute_attributes
from seglens.report.learning import summarize_learning
from seglens.report.render import ReportFiles, render_html, render_pdf, write_report
from seglens.report.serialize import (
    read_snapshot,
    snapshot_from_dict,
    snapshot_to_dict,
    write_snapshot,
)
from seglens.report.snapshot import (
    Change,
    ConfusionTable,
    Estimate,
    Export,
    Finding,
    LabelCoverage,
    LearningPoint,
    LearningSummary,
    LearntConfusion,
    LearntInput,
    MigrationTable,
    PeriodKPI,
    Profiles,
    ProxyValue,
    ReviewSnapshot,
    RunInfo,
    SegmentStat,
    SourceFile,
)
from seglens.report.text import Attribute, Item

__all__ = [
    "ATTRIBUTE_KEYS",
    "Attribute",
    "Change",
    "ConfusionTable",
    "Estimate",
    "Export",
    "Finding",
    "Item",
    "LabelCoverage",
    "LearningPoint",
    "LearningSummary",
    "LearntConfusion",
    "LearntInput",
    "MigrationTable",
    "PeriodKPI",
    "Profiles",
    "ProxyValue",
    "ReportFiles",
    "ReviewSnapshot",
    "RunInfo",
    "SegmentStat",
    "SourceFile",
    "compute_attributes",
    "read_snapshot",
    "render_html",
    "render_pdf",
    "snapshot_from_dict",
    "snapshot_to_dict",
    "summarize_learning",
    "write_report",
    "write_snapshot",
]
