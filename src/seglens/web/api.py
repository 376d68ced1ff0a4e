"""The REST API (``/api/...``): KPI, segments, customers, labels, scoring and runs.

Authenticate with ``Authorization: Bearer slt_...`` (a token from the Admin page, acting with at
most its scope: ``read``, ``label`` or ``admin``, until it expires) or a browser session. The
schema is served at ``/openapi.json``, interactive docs at ``/api/docs``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, Field

from seglens.errors import UsageError
from seglens.store import (
    RunInfo,
    label_history,
    latest_run,
    list_alerts,
    list_runs,
    run_assignments,
    run_info,
)
from seglens.tracking import kpi_history
from seglens.web.deps import require_api, state_of
from seglens.web.kpi import RunKpi, run_kpi
from seglens.web.labels import LabelInput, submit_labels
from seglens.web.learning import MIN_LABELS as LEARNING_MIN_LABELS
from seglens.web.learning import run_learning
from seglens.web.segments import score_customers, segment_profiles
from seglens.web.service import customer_view
from seglens.web.users import Principal

__all__ = ["router"]

router = APIRouter(prefix="/api", tags=["api"])

Viewer = Annotated[Principal, Depends(require_api("viewer"))]
Reviewer = Annotated[Principal, Depends(require_api("reviewer"))]
Analyst = Annotated[Principal, Depends(require_api("analyst"))]
IdemKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Send the same key to retry safely: the first answer is replayed.",
    ),
]
CustomerId = Annotated[str, Path(min_length=1, max_length=200)]


def _aware(value: datetime) -> datetime:
    """The store keeps naive UTC; the API says so (RFC 3339 with an offset)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


UtcDateTime = Annotated[datetime, AfterValidator(_aware)]


def _utc_values(row: dict[str, Any]) -> dict[str, Any]:
    return {k: _aware(v) if isinstance(v, datetime) else v for k, v in row.items()}


class Problem(BaseModel):
    """An error the client can fix."""

    detail: str
    hint: str | None = None


class InvalidItem(BaseModel):
    """One reason a request was refused."""

    loc: list[str | int]
    msg: str
    type: str | None = None


class Unprocessable(BaseModel):
    """Refused input: malformed (a list of reasons) or naming what the store does not know."""

    detail: str | list[InvalidItem]
    hint: str | None = None


class EstimateOut(BaseModel):
    """A percentage with its n and confidence interval (``None``: a stored row without one)."""

    value_pct: float
    n: int
    ci_low_pct: float | None
    ci_high_pct: float | None
    confidence: float
    method: str


class SegmentKpi(BaseModel):
    """Precision of one segment against the labels."""

    segment: str
    matched_label: str | None
    size: int
    correct: int
    precision: EstimateOut
    accurate: bool


class PlanRowOut(BaseModel):
    """Labels a stratified audit needs per segment (``segment`` null: the total)."""

    segment: str | None
    customers: int
    labels_for_5_points: int
    labels_for_3_points: int


class KpiCurrent(BaseModel):
    """The latest run's stored KPI measurement (as ``seglens history`` shows its period).

    ``accuracy`` is the stored headline (``metric``: the audit estimate ``accuracy_audit`` when
    the run has one, else the labelled share ``accuracy``); the change is the stored comparison
    with the previous period. ``segment_level`` and ``per_segment`` are a detail view over the
    same labels (fresh and carried).
    """

    run_id: int | None
    target_pct: float
    accuracy: EstimateOut | None = Field(
        description="The stored headline measurement (None: not measured, no label counts)."
    )
    segment_level: EstimateOut | None
    per_segment: list[SegmentKpi]
    n_labelled_customers: int = Field(description="Customers whose label counts for the run.")
    period: str | None = None
    metric: str | None = None
    method: str | None = None
    n_fresh: int = Field(default=0, description="Labels that judged this run.")
    n_carried: int = Field(
        default=0, description="Labels carried from an earlier run (unchanged segment)."
    )
    n_expired: int = Field(
        default=0, description="Earlier labels that do not count (moved, too old)."
    )
    change_pts: float | None = Field(
        default=None, description="Stored change vs the previous period."
    )
    change_p_value: float | None = None
    significant_drop: bool | None = None
    audit_plan: list[PlanRowOut] = Field(
        default_factory=list,
        description="Not measured yet: labels needed for ±5 and ±3 points, per segment and total.",
    )


class KpiPoint(BaseModel):
    """One period of the stored KPI history, with the comparison stored against the previous."""

    metric: str
    period: str
    value: float
    ci_low: float | None
    ci_high: float | None
    n: int
    se: float | None
    method: str
    run_id: int | None
    n_fresh: int | None
    n_carried: int | None
    n_expired: int | None
    change_pts: float | None
    change_ci_low: float | None
    change_ci_high: float | None
    p_value: float | None
    n_paired: int | None
    significant_drop: bool | None


class SegmentOut(BaseModel):
    """A segment of the current run."""

    segment: str
    size: int
    share: float
    revenue_share: float | None
    medians: dict[str, float | None]
    rule: str | None


class SegmentsOut(BaseModel):
    """Segments of the current run."""

    run_id: int | None
    segments: list[SegmentOut]


class LabelIn(BaseModel):
    """A confirmation or correction of the segment a run gave a customer."""

    customer_id: str = Field(min_length=1, max_length=200)
    segment: str = Field(min_length=1, max_length=200)
    note: str | None = Field(default=None, max_length=2000)
    run_id: int | None = Field(
        default=None,
        ge=1,
        le=2**31 - 1,
        description="The run whose segment the reviewer judged (default: the latest run).",
    )
    purpose: Literal["kpi", "teach"] = Field(
        default="kpi",
        description=(
            "Why the label was asked for: `kpi` (a random audit or feedback; counts for the KPI) "
            "or `teach` (the model is least sure about the customer, as in the review page's "
            "teach queue; teaches models, never counted in the KPI)."
        ),
    )


class LabelOut(BaseModel):
    """A stored label."""

    id: int
    customer_id: str
    segment: str
    note: str | None
    labeled_by: str | None
    labeled_at: UtcDateTime
    source: str | None
    run_id: int | None = Field(description="The run the label judged.")
    judged_segment: str | None = Field(description="The segment that run gave the customer.")
    purpose: Literal["kpi", "teach"] | None = Field(
        default=None,
        description="`kpi` (counts for the KPI) or `teach` (never counted); in submission answers.",
    )


class LabelsOut(BaseModel):
    """Labels, oldest first."""

    labels: list[LabelOut]


class BatchIn(BaseModel):
    """Several labels stored together (all or none)."""

    labels: list[LabelIn] = Field(min_length=1, max_length=5000)


class CustomerOut(BaseModel):
    """What the store knows about a customer."""

    customer_id: str
    features: dict[str, Any]
    segments: list[dict[str, Any]]
    labels: list[dict[str, Any]]
    current_label: str | None


class ScoreIn(BaseModel):
    """Feature rows (``customer_id`` plus the model's feature columns) to segment."""

    customers: list[dict[str, float | str | None]] = Field(max_length=100_000)


class Scored(BaseModel):
    """A customer's segment under the current model."""

    customer_id: str | None
    segment: str


class ScoreOut(BaseModel):
    """Segments assigned by the current run's model."""

    run_id: int
    assignments: list[Scored]


class RunOut(BaseModel):
    """A segmentation run."""

    id: int
    segmenter: str
    parameters: dict[str, Any]
    as_of: UtcDateTime
    n_customers: int
    created_at: UtcDateTime
    seglens_version: str


class AlertOut(BaseModel):
    """An alert raised by tracking."""

    id: int
    created_at: UtcDateTime
    rule: str
    severity: str
    period: str | None
    metric: str | None
    segment: str | None
    message: str
    acknowledged_at: UtcDateTime | None


class Me(BaseModel):
    """The authenticated user, and the role this request acts with."""

    username: str
    role: str = Field(description="The user's role, capped by the token's scope.")
    scope: str | None = Field(
        default=None,
        description="The API token's scope: read, label or admin (none for a session).",
    )


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": Problem, "description": "not authenticated"},
    403: {"model": Problem, "description": "role not allowed"},
    422: {"model": Unprocessable, "description": "invalid input"},
}


def _estimate(e: Any) -> EstimateOut:
    return EstimateOut(**e.to_dict())


@router.get("/me", response_model=Me, responses=ERRORS)
def me(principal: Viewer) -> Me:
    """Who the token or session belongs to."""
    return Me(username=principal.username, role=principal.role, scope=principal.scope)


@router.get("/kpi", response_model=KpiCurrent, responses=ERRORS)
def kpi_current(request: Request, _: Viewer) -> KpiCurrent:
    """The latest run's stored KPI with its n, CI, label counts and change; precision per segment.

    The figure is the stored measurement (measured again first when a label arrived since).
    """
    st = state_of(request)
    return _kpi_out(run_kpi(st.store, st.settings, tracking=st.tracking), st.settings.target_pct)


def _kpi_out(kpi: RunKpi | None, target_pct: float) -> KpiCurrent:
    if kpi is None:
        return KpiCurrent(
            run_id=None,
            target_pct=target_pct,
            accuracy=None,
            segment_level=None,
            per_segment=[],
            n_labelled_customers=0,
        )
    head, rep, counts = kpi.headline, kpi.detail, kpi.counts
    seg_level = rep.segment_level.estimate if rep is not None else None
    accuracy = None
    if head is not None:
        accuracy = EstimateOut(
            value_pct=head["value"],
            n=head["n"],
            ci_low_pct=head["ci_low"],
            ci_high_pct=head["ci_high"],
            confidence=kpi.confidence,
            method=head["method"],
        )
    return KpiCurrent(
        run_id=kpi.run.id,
        target_pct=target_pct,
        accuracy=accuracy,
        segment_level=_estimate(seg_level) if seg_level is not None else None,
        per_segment=[
            SegmentKpi(
                segment=r.segment,
                matched_label=r.matched_label,
                size=r.size,
                correct=r.correct,
                precision=_estimate(r.precision),
                accurate=r.accurate,
            )
            for r in (rep.per_segment if rep is not None else ())
        ],
        n_labelled_customers=kpi.selection.counted.height,
        period=head["period"] if head else None,
        metric=head["metric"] if head else None,
        method=head["method"] if head else None,
        n_fresh=counts["fresh"],
        n_carried=counts["carried"],
        n_expired=counts["expired"],
        change_pts=head["change_pts"] if head else None,
        change_p_value=head["change_p_value"] if head else None,
        significant_drop=head["significant_drop"] if head else None,
        audit_plan=[
            PlanRowOut(
                segment=r.segment,
                customers=r.customers,
                labels_for_5_points=r.labels[0],
                labels_for_3_points=r.labels[1],
            )
            for r in kpi.plan
        ],
    )


@router.get("/kpi/history", response_model=list[KpiPoint], responses=ERRORS)
def kpi_trend(
    request: Request,
    _: Viewer,
    metric: Annotated[str | None, Query(max_length=100)] = None,
) -> list[KpiPoint]:
    """The stored KPI per period, with the change vs the previous period and its p-value."""
    hist = kpi_history(state_of(request).store, metric)
    return [KpiPoint(**row) for row in hist.to_dicts()]


@router.get("/segments", response_model=SegmentsOut, responses=ERRORS)
def segments(request: Request, _: Viewer) -> SegmentsOut:
    """Profiles of the current run's segments (size, revenue share, medians, rule)."""
    store = state_of(request).store
    run = latest_run(store)
    if run is None:
        return SegmentsOut(run_id=None, segments=[])
    prof = segment_profiles(store, run.id)
    if prof is None:
        sizes = run_assignments(store, run.id).group_by("segment").len().sort("segment")
        total = max(run.n_customers, 1)
        out = [
            SegmentOut(
                segment=s, size=n, share=n / total, revenue_share=None, medians={}, rule=None
            )
            for s, n in sizes.iter_rows()
        ]
        return SegmentsOut(run_id=run.id, segments=out)
    return SegmentsOut(
        run_id=run.id,
        segments=[
            SegmentOut(
                segment=p.segment,
                size=p.size,
                share=p.share,
                revenue_share=p.revenue_share,
                medians={k: (v if v == v else None) for k, v in p.medians.items()},
                rule=p.rule,
            )
            for p in prof.profiles
        ],
    )


@router.get(
    "/customers/{customer_id}",
    response_model=CustomerOut,
    responses={**ERRORS, 404: {"model": Problem, "description": "unknown customer"}},
)
def customer(request: Request, customer_id: CustomerId, _: Viewer) -> Any:
    """A customer's features, segment in each run and label history."""
    view = customer_view(state_of(request).store, customer_id)
    if view is None:
        return JSONResponse({"detail": "no such customer"}, status_code=404)
    return CustomerOut(
        customer_id=view.customer_id,
        features=view.features,
        segments=[_utc_values(r) for r in view.segments],
        labels=[_utc_values(r) for r in view.labels],
        current_label=view.current_label,
    )


@router.get("/labels", response_model=LabelsOut, responses=ERRORS)
def labels(
    request: Request,
    _: Viewer,
    customer_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1)] = 0,
) -> LabelsOut:
    """Label history (optionally of one customer), oldest first, paged."""
    hist = label_history(state_of(request).store, customer_id).slice(offset, limit)
    return LabelsOut(labels=[LabelOut(**r) for r in hist.drop("import_id").to_dicts()])


_WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    409: {"model": Problem, "description": "idempotency key reused for another request"},
    422: {"model": Unprocessable, "description": "invalid input, unknown customer or segment"},
}


def _submit(request: Request, p: Principal, items: list[LabelIn], key: str | None) -> Any:
    done = submit_labels(
        state_of(request).store,
        p,
        [
            LabelInput(i.customer_id, i.segment, i.note, run_id=i.run_id, purpose=i.purpose)
            for i in items
        ],
        source="api",
        idempotency_key=key,
    )
    headers = {"Idempotent-Replayed": "true"} if done.replayed else {}
    return done.status_code, done.body, headers


@router.post("/labels", status_code=201, response_model=LabelOut, responses=_WRITE_ERRORS)
def post_label(request: Request, body: LabelIn, p: Reviewer, key: IdemKey = None) -> Any:
    """Record one confirmation or correction."""
    status, out, headers = _submit(request, p, [body], key)
    return JSONResponse(out["labels"][0], status_code=status, headers=headers)


@router.post("/labels/batch", status_code=201, response_model=LabelsOut, responses=_WRITE_ERRORS)
def post_labels(request: Request, body: BatchIn, p: Reviewer, key: IdemKey = None) -> Any:
    """Record several labels in one transaction."""
    status, out, headers = _submit(request, p, body.labels, key)
    return JSONResponse(out, status_code=status, headers=headers)


@router.post(
    "/score",
    response_model=ScoreOut,
    responses={**ERRORS, 409: {"model": Problem, "description": "no usable current model"}},
)
def score(request: Request, body: ScoreIn, _: Analyst) -> Any:
    """Assign segments to new customers with the current run's model."""
    store = state_of(request).store
    run = latest_run(store)
    if run is None:
        return JSONResponse({"detail": "there is no segmentation run yet"}, status_code=409)
    try:
        out = score_customers(store, run, body.customers)
    except UsageError as err:
        return JSONResponse({"detail": err.message, "hint": err.hint}, status_code=409)
    return ScoreOut(
        run_id=run.id,
        assignments=[Scored(customer_id=c, segment=s) for c, s in out.iter_rows()],
    )


def _run_out(info: RunInfo) -> RunOut:
    return RunOut(**{name: getattr(info, name) for name in RunOut.model_fields})


@router.get("/runs", response_model=list[RunOut], responses=ERRORS)
def runs(request: Request, _: Viewer) -> list[RunOut]:
    """Every segmentation run, oldest as-of first."""
    store = state_of(request).store
    out = []
    for rid in list_runs(store)["run_id"].to_list():
        info = run_info(store, int(rid))
        if info is not None:
            out.append(_run_out(info))
    return out


@router.get(
    "/runs/{run_id}",
    response_model=RunOut,
    responses={**ERRORS, 404: {"model": Problem, "description": "unknown run"}},
)
def run(request: Request, run_id: Annotated[int, Path(ge=1, le=2**31 - 1)], _: Viewer) -> Any:
    """One segmentation run."""
    info = run_info(state_of(request).store, run_id)
    if info is None:
        return JSONResponse({"detail": "no such run"}, status_code=404)
    return _run_out(info)


@router.get("/alerts", response_model=list[AlertOut], responses=ERRORS)
def alerts(request: Request, _: Viewer, open_only: bool = False) -> list[AlertOut]:
    """Alerts raised by tracking, newest first."""
    rows = list_alerts(state_of(request).store, open_only=open_only)
    return [
        AlertOut(**{k: v for k, v in r.items() if k != "acknowledged_by"}) for r in rows.to_dicts()
    ]


class LearningPointOut(BaseModel):
    """One point of the learning curve: agreement with labels the model did not see."""

    n_labels: int = Field(description="Labels the point is drawn from.")
    n_train: int = Field(description="Labels each model saw (fewer than n_labels out of fold).")
    agreement: EstimateOut = Field(description="Agreement with the unseen labels, with its CI.")
    draws: int = Field(description="Random draws averaged (1 for the out-of-fold point).")
    method: Literal["held-out", "out-of-fold"]


class LabelsForGainOut(BaseModel):
    """Total labels the fitted curve needs for a gain (None: beyond its ceiling)."""

    gain_pts: float
    labels: int | None


class LearningOut(BaseModel):
    """What more labels buy for the latest run: learning curve and projection.

    Every figure is the model's out-of-fold agreement with the labels — not the KPI. The model is
    fitted on the run's stored features and the KPI-purpose labels that count for the run.
    ``ready`` is false (with ``reason``) while the curve cannot be drawn, e.g. too few labels.
    """

    run_id: int | None
    ready: bool
    reason: str
    n_labels: int = Field(description="Labels that count for the run and have stored features.")
    min_labels: int = Field(description="Fewest labels the curve is drawn from.")
    what: str = Field(
        default="the model's out-of-fold agreement with the labels — not the KPI",
        description="What the figures measure.",
    )
    points: list[LearningPointOut] = Field(default_factory=list)
    projection_status: Literal["rising", "flat", "too few points"] | None = None
    projection: str | None = Field(default=None, description="What more labels would buy.")
    projection_method: str | None = None
    ceiling_pct: float | None = None
    current_pct: float | None = None
    labels_for_gain: list[LabelsForGainOut] = Field(default_factory=list)


@router.get("/learning", response_model=LearningOut, responses=ERRORS)
def learning(request: Request, _: Viewer) -> LearningOut:
    """The latest run's learning curve: agreement vs number of labels, and what more would buy.

    Cached per run and label state (recomputed once a label is stored).
    """
    st = state_of(request)
    got = run_learning(st.store, st.settings)
    if got is None:
        return LearningOut(
            run_id=None,
            ready=False,
            reason="No segmentation run stored yet.",
            n_labels=0,
            min_labels=LEARNING_MIN_LABELS,
        )
    out = LearningOut(
        run_id=got.run.id,
        ready=got.curve is not None,
        reason=got.reason,
        n_labels=got.n_labels,
        min_labels=LEARNING_MIN_LABELS,
    )
    if got.curve is None:
        return out
    pr = got.curve.projection
    return out.model_copy(
        update={
            "points": [
                LearningPointOut(
                    n_labels=p.n_labels,
                    n_train=p.n_train,
                    agreement=_estimate(p.accuracy),
                    draws=len(p.draws_pct),
                    method=p.method,
                )
                for p in got.curve.points
            ],
            "projection_status": pr.status,
            "projection": pr.message,
            "projection_method": pr.method,
            "ceiling_pct": pr.ceiling_pct,
            "current_pct": pr.current_pct,
            "labels_for_gain": [
                LabelsForGainOut(gain_pts=g, labels=n) for g, n in pr.labels_for_gain
            ],
        }
    )
