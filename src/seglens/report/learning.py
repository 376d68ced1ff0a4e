"""Build the review's :class:`LearningSummary` from what learning from labels measured.

:func:`summarize_learning` copies the figures of :func:`seglens.segmenters.out_of_fold` (agreement,
confusions, input importance) and :func:`seglens.segmenters.learning_curve` (points, projection)
into the frozen snapshot type, with the before/after KPI estimates of the runs. It computes
nothing new: the improvement tips then quote these measurements.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from seglens.report.snapshot import (
    Estimate,
    LearningPoint,
    LearningSummary,
    LearntConfusion,
    LearntInput,
)

if TYPE_CHECKING:
    from seglens.segmenters.evaluation import OutOfFold
    from seglens.segmenters.learning import LearningCurve

__all__ = ["summarize_learning"]


def summarize_learning(
    oof: OutOfFold,
    curve: LearningCurve | None = None,
    *,
    n_labels: int | None = None,
    before: Estimate | None = None,
    before_run_id: str | None = None,
    before_metric: str = "",
    after: Estimate | None = None,
    after_run_id: str | None = None,
    after_metric: str = "",
    after_fresh: bool = False,
    overlap: int = 0,
    labels_source: str = "",
) -> LearningSummary:
    """The snapshot's record of a segmentation learnt from labels.

    ``after_fresh`` says ``after`` was measured on a fresh audit of customers the model did not
    learn from (``overlap`` = 0); only then do the tips quote it as the expected KPI.
    """
    points: tuple[LearningPoint, ...] = ()
    status: str = "too few points"
    message, ceiling = "", None
    gains: tuple[tuple[float, int | None], ...] = ()
    if curve is not None:
        points = tuple(
            LearningPoint(p.n_labels, p.n_train, p.accuracy, p.method) for p in curve.points
        )
        pr = curve.projection
        status, message, gains, ceiling = (
            pr.status,
            pr.message,
            pr.labels_for_gain,
            pr.ceiling_pct,
        )
    return LearningSummary(
        n_labels=oof.accuracy.n if n_labels is None else n_labels,
        agreement=oof.accuracy,
        curve=points,
        projection_status=status,  # type: ignore[arg-type]
        projection=message,
        labels_for_gain=tuple(gains),
        ceiling_pct=ceiling,
        inputs=tuple(LearntInput(i.column, i.kind, i.drop_pts) for i in oof.importance),
        confused=tuple(
            LearntConfusion(c.labelled, c.predicted, c.customers, c.share_pct) for c in oof.confused
        ),
        before=before,
        before_run_id=before_run_id,
        before_metric=before_metric,
        after=after,
        after_run_id=after_run_id,
        after_metric=after_metric,
        after_fresh=after_fresh,
        overlap=overlap,
        labels_source=labels_source,
    )
