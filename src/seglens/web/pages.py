"""Server-rendered pages: Overview, Segments, Customer, Review queue (HTMX-enhanced).

Every form also works without JavaScript (a normal POST and a redirect); with HTMX the review
queue swaps just the reviewed row and refreshes the KPI panel.
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from seglens.errors import UsageError
from seglens.store import (
    RunInfo,
    Store,
    acknowledge_alert,
    current_labels,
    latest_run,
    list_alerts,
    pseudonym,
    run_assignments,
    run_info,
)
from seglens.store.core import pseudonym_key
from seglens.store.web_labels import (
    MARK_KINDS,
    Undone,
    record_review_mark,
    review_marks,
    undo_last_review,
)
from seglens.tracking import latest_migration
from seglens.web import charts
from seglens.web.deps import optional_principal, require, state_of
from seglens.web.evidence import FEATURE_WORDS, evidence_for, segment_rules
from seglens.web.kpi import RunKpi, headline_history, p_text, run_kpi
from seglens.web.labels import LabelInput, submit_labels
from seglens.web.learning import run_learning
from seglens.web.queue import QueueItem, ReviewQueue, for_reviewer, review_queue, teach_queue
from seglens.web.segments import segment_profiles
from seglens.web.service import customer_view, segment_names
from seglens.web.users import Principal

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

Viewer = Annotated[Principal, Depends(require("viewer"))]
Reviewer = Annotated[Principal, Depends(require("reviewer"))]
Analyst = Annotated[Principal, Depends(require("analyst"))]


def _render(request: Request, name: str, ctx: dict[str, Any], status: int = 200) -> Response:
    st = state_of(request)
    base = {"user": optional_principal(request), "settings": st.settings, "path": request.url.path}
    resp: Response = st.templates.TemplateResponse(
        request, name, {**base, **ctx}, status_code=status
    )
    return resp


def _safe_next(target: str | None) -> str:
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _kpi_context(request: Request, kpi: RunKpi | None = None) -> dict[str, Any]:
    """What ``_kpi.html`` shows: the latest run's stored headline measurement."""
    st = state_of(request)
    kpi = kpi or run_kpi(st.store, st.settings, tracking=st.tracking)
    head = kpi.headline if kpi is not None else None
    ctx: dict[str, Any] = {
        "kpi": kpi,
        "head": head,
        "report": kpi.detail if kpi is not None else None,
        "run": kpi.run if kpi is not None else None,
        "p_text": p_text,
    }
    if head is not None and head["ci_low"] is not None and head["ci_high"] is not None:
        ctx["bullet"] = charts.bullet_spec(
            head["value"], head["ci_low"], head["ci_high"], head["n"], st.settings.target_pct
        )
    return ctx


@router.get("/")
def overview(request: Request, _: Viewer) -> Response:
    """KPI against target, trend, per-segment precision, confusion heatmap, open alerts."""
    st = state_of(request)
    ctx = _kpi_context(request)
    metric, hist, proxy_only = headline_history(st.store)
    rep = ctx["report"]
    ctx.update(
        history=hist.to_dicts(),
        history_metric=metric,
        proxy_only=proxy_only,
        trend=charts.trend_spec(hist, st.settings.target_pct) if hist.height else None,
        precision=charts.precision_spec(rep) if rep is not None else None,
        confusion=charts.confusion_spec(rep) if rep is not None else None,
        alerts=list_alerts(st.store, open_only=True).to_dicts(),
        learning=run_learning(st.store, st.settings),
    )
    return _render(request, "overview.html", ctx)


@router.get("/fragments/kpi")
def kpi_fragment(request: Request, _: Viewer) -> Response:
    """The KPI panel alone (HTMX refreshes it after a review)."""
    return _render(request, "_kpi.html", _kpi_context(request))


@router.post("/alerts/{alert_id}/ack")
def ack_alert(request: Request, alert_id: int, user: Analyst) -> Response:
    """Acknowledge an alert."""
    acknowledge_alert(state_of(request).store, alert_id, actor=user.username)
    return RedirectResponse("/", status_code=303)


@router.get("/segments")
def segments_page(request: Request, _: Viewer) -> Response:
    """Profiles of the current segments and the migration between the last two runs."""
    store = state_of(request).store
    run = latest_run(store)
    prof = segment_profiles(store, run.id) if run else None
    mig = latest_migration(store)
    ctx: dict[str, Any] = {
        "run": run,
        "profiles": prof,
        "migration": None,
        "rules": segment_rules(store, run) if run else {},
    }
    if prof is None and run is not None:
        sizes = run_assignments(store, run.id).group_by("segment").len().sort("segment")
        ctx["sizes"] = sizes.rows()
    if mig is not None:
        a, b, matrix = mig
        wide = matrix.wide()
        ctx["migration"] = {
            "from_run": a,
            "to_run": b,
            "columns": wide.columns,
            "rows": wide.rows(),
            "stability": matrix.stability,
            "spec": charts.migration_spec(matrix.flows),
        }
    return _render(request, "segments.html", ctx)


@router.get("/customers")
def customer_lookup(
    request: Request, _: Viewer, id: Annotated[str | None, Query(max_length=200)] = None
) -> Response:
    """Look a customer up by id."""
    if id and id.strip():
        return RedirectResponse(f"/customers/{quote(id.strip(), safe='')}", status_code=303)
    return _render(request, "customer.html", {"view": None, "query": None})


@router.get("/customers/{customer_id}")
def customer_page(request: Request, customer_id: str, user: Viewer) -> Response:
    """A customer's features, segments across runs and label history."""
    store = state_of(request).store
    view = customer_view(store, customer_id)
    run = latest_run(store)
    # A label from this page judges the latest run: its segment for the customer is shown.
    shown = None
    if view is not None and run is not None:
        shown = next((s["segment"] for s in view.segments if s["run_id"] == run.id), None)
    ctx = {
        "view": view,
        "query": customer_id,
        "run": run,
        "judged": shown,
        "segments": segment_names(store, run.id) if run else [],
        "can_label": user.can("reviewer"),
        "feature_words": FEATURE_WORDS,
        "evidence": None,
        "rule": None,
    }
    if view is not None and run is not None and shown is not None:
        ctx["evidence"] = evidence_for(store, run, [view.customer_id])[view.customer_id]
        ctx["rule"] = segment_rules(store, run).get(shown)
    return _render(request, "customer.html", ctx, status=200 if view else 404)


QUEUES = {
    "audit": "Audit — counts for the KPI",
    "teach": "Teach — improves the model",
}
"""The review page's two queues, by their ``?queue=`` value."""


@router.get("/review")
def review_page(
    request: Request,
    user: Viewer,
    show: int = 50,
    queue: Literal["audit", "teach"] = "audit",
) -> Response:
    """The two review queues: the audit sample (counts for the KPI) and the teach queue.

    ``?queue=audit`` (default): the audit sample to check, in the design's seeded random order
    (this reviewer's skipped and unsure customers last), with the evidence per customer and
    progress toward the target margin. ``?queue=teach``: the customers the model is least sure
    about; their labels are stored with purpose ``teach`` and never count in the KPI.
    """
    st = state_of(request)
    audit = review_queue(st.store, st.settings, actor=user.username, tracking=st.tracking)
    teach = None
    if queue == "teach" and audit is not None:
        teach = teach_queue(st.store, st.settings, actor=user.username)
    mine = _reviewer_items(st.store, audit, user) if audit else []
    pending = mine[: max(1, min(show, 500))]
    if queue == "teach":
        pending = teach.items if teach else []
    ctx = {
        "queue": audit,
        "teach": teach,
        "active": queue,
        "queues": QUEUES,
        "purpose": "teach" if queue == "teach" else "kpi",
        "pending": pending,
        "can_label": user.can("reviewer"),
        "marks": _counts(mine),
    }
    if audit is not None:
        ctx.update(_row_context(st.store, audit.run, [i.customer_id for i in pending]))
    ctx.update(_kpi_context(request, audit.kpi if audit else None))
    return _render(request, "review.html", ctx)


def _reviewer_items(store: Store, audit: ReviewQueue, user: Principal) -> list[QueueItem]:
    marks = review_marks(store, actor=user.username, design_id=audit.design.id, run_id=audit.run.id)
    return for_reviewer(audit, marks)


def _counts(items: list[QueueItem]) -> dict[str, int]:
    """How many of a reviewer's open items they skipped and were unsure about."""
    return {k: sum(1 for i in items if i.mark == k) for k in MARK_KINDS}


def _row_context(store: Store, run: RunInfo, ids: list[str]) -> dict[str, Any]:
    """What ``_review_row.html`` needs besides the item: run, segments, evidence, rules."""
    return {
        "run_id": run.id,
        "segments": segment_names(store, run.id),
        "evidence": evidence_for(store, run, ids),
        "rules": segment_rules(store, run),
    }


@router.get("/fragments/progress")
def progress_fragment(request: Request, user: Viewer) -> Response:
    """The audit queue's progress panel alone (refreshed after every review action)."""
    st = state_of(request)
    audit = review_queue(st.store, st.settings, actor=user.username, tracking=st.tracking)
    mine = _reviewer_items(st.store, audit, user) if audit else []
    ctx = {"queue": audit, "marks": _counts(mine)}
    return _render(request, "_progress.html", ctx)


def _row_response(
    request: Request, item: QueueItem, *, done: bool, purpose: str, run: RunInfo
) -> Response:
    """One queue row (HTMX / review.js swap it in); the KPI and progress panels refresh."""
    ctx: dict[str, Any] = {
        "item": item,
        "done": done,
        "purpose": purpose,
        "can_label": True,
        **_row_context(state_of(request).store, run, [item.customer_id]),
    }
    resp = _render(request, "_review_row.html", ctx)
    resp.headers["HX-Trigger"] = "kpi-changed"
    return resp


@router.post("/review/label")
def review_label(
    request: Request,
    user: Reviewer,
    customer_id: Annotated[str, Form(min_length=1, max_length=200)],
    segment: Annotated[str, Form(min_length=1, max_length=200)],
    note: Annotated[str, Form(max_length=2000)] = "",
    assigned: Annotated[str, Form(max_length=200)] = "",
    run_id: Annotated[int | None, Form(ge=1, le=2**31 - 1)] = None,
    back: Annotated[str, Form(max_length=2000)] = "/review",
    purpose: Annotated[Literal["kpi", "teach"], Form()] = "kpi",
) -> Response:
    """Confirm or correct one customer's segment (from the review queues or customer page).

    The form says what the page showed: the run (``run_id``) and the segment it gave the
    customer (``assigned``); the label is bound to them (default: the latest run's segment).
    Rows of the teach queue send ``purpose=teach``: the label teaches, never counts.
    """
    st = state_of(request)
    given = LabelInput(
        customer_id.strip(),
        segment.strip(),
        note.strip() or None,
        run_id=run_id,
        judged_segment=assigned.strip() or None,
        purpose=purpose,
    )
    done = submit_labels(st.store, user, [given], source="web")
    if request.headers.get("hx-request") == "true":
        # The row shows the verdict just stored; the KPI panel re-reads the stored measurement.
        run = run_info(st.store, int(done.body["labels"][0]["run_id"]))
        assert run is not None  # the label was just bound to it
        item = QueueItem(given.customer_id, assigned, given.segment)
        return _row_response(request, item, done=True, purpose=purpose, run=run)
    return RedirectResponse(_safe_next(back), status_code=303)


@router.post("/review/mark")
def review_mark(
    request: Request,
    user: Reviewer,
    customer_id: Annotated[str, Form(min_length=1, max_length=200)],
    kind: Annotated[Literal["skip", "unsure"], Form()],
    assigned: Annotated[str, Form(max_length=200)] = "",
    back: Annotated[str, Form(max_length=2000)] = "/review",
) -> Response:
    """Skip a customer of the audit queue, or say you cannot tell: no label, no KPI verdict.

    The mark moves the customer to the end of this reviewer's queue (unsure ones last); it is
    kept in the audit log (:func:`seglens.store.web_labels.record_review_mark`).
    """
    st = state_of(request)
    audit = review_queue(st.store, st.settings, actor=user.username, tracking=st.tracking)
    cid = customer_id.strip()
    members = set(audit.design.members["customer_id"].to_list()) if audit else set()
    if audit is None or cid not in members:
        raise UsageError(
            f"customer {cid!r} is not in the current audit sample",
            hint="reload the review queue: the run or its audit design changed",
        )
    record_review_mark(
        st.store, cid, kind, actor=user.username, run_id=audit.run.id, design_id=audit.design.id
    )
    if request.headers.get("hx-request") == "true":
        item = QueueItem(cid, assigned.strip(), None, mark=kind)
        return _row_response(request, item, done=True, purpose="kpi", run=audit.run)
    return RedirectResponse(_safe_next(back), status_code=303)


@router.post("/review/undo")
def review_undo(
    request: Request,
    user: Reviewer,
    back: Annotated[str, Form(max_length=2000)] = "/review",
) -> Response:
    """Take back this reviewer's last action (a label is deleted, a skip or unsure withdrawn).

    For review.js the answer is the customer's row, pending again, with the header
    ``X-Undone-Customer``; 204 when there is nothing to undo.
    """
    st = state_of(request)
    undone = undo_last_review(st.store, actor=user.username)
    if request.headers.get("hx-request") != "true":
        return RedirectResponse(_safe_next(back), status_code=303)
    audit = review_queue(st.store, st.settings, actor=user.username, tracking=st.tracking)
    if undone is None or audit is None:
        return Response(status_code=204)
    item = _undone_item(st.store, audit, undone)
    if item is None:  # a label of another run or customer: nothing on this page to restore
        resp = Response(status_code=204)
        resp.headers["HX-Trigger"] = "kpi-changed"
        return resp
    purpose = "kpi" if item.customer_id in set(audit.design.members["customer_id"]) else "teach"
    resp = _row_response(request, item, done=False, purpose=purpose, run=audit.run)
    resp.headers["X-Undone-Customer"] = quote(item.customer_id, safe="")
    resp.headers["X-Undone-Kind"] = undone.kind
    return resp


def _undone_item(store: Store, audit: ReviewQueue, undone: Undone) -> QueueItem | None:
    """The queue row an undo gives back (found by customer id, or by pseudonym for a mark)."""
    assigned = dict(audit.design.members.iter_rows())
    cid = undone.customer_id
    if cid is None and undone.subject is not None:
        key = pseudonym_key()
        cid = next((c for c in assigned if pseudonym(c, key) == undone.subject), None)
    if cid is None:
        return None
    if cid in assigned:
        return QueueItem(cid, assigned[cid], None)
    if undone.run_id != audit.run.id:
        return None
    run_rows = run_assignments(store, audit.run.id)
    shown = run_rows.filter(run_rows["customer_id"] == cid)["segment"].to_list()
    return QueueItem(cid, str(shown[0]), None) if shown else None


@router.get("/export/assignments.csv")
def export_assignments(request: Request, _: Analyst) -> Response:
    """The current run's assignments with each customer's current label (analysts)."""
    store = state_of(request).store
    run = latest_run(store)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["customer_id", "segment", "label"])
    if run is not None:
        table = run_assignments(store, run.id).join(
            current_labels(store).select("customer_id", pl_label()), on="customer_id", how="left"
        )
        for cid, seg, _rev, lab in table.iter_rows():
            writer.writerow([_cell(cid), _cell(seg), _cell(lab or "")])
    return StreamingResponse(
        iter([buf.getvalue()]),
        media_type="text/csv",
        headers={"Content-Disposition": 'attachment; filename="assignments.csv"'},
    )


def pl_label() -> Any:
    """The current-label column renamed for the export."""
    import polars as pl

    return pl.col("segment").alias("label")


def _cell(value: str) -> str:
    """Neutralise spreadsheet formulas (CSV injection) in exported text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
