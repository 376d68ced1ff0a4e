"""Labels: the append-only feedback history and the current truth derived from it.

Every confirmation or correction from sales, customer service or an audit is one row in
``labels``; nothing is ever updated. Each label is bound to what it judged: the segmentation run
(``run_id``) and the segment that run showed for the customer (``judged_segment``). Which labels
count for a run's KPI is decided by :mod:`seglens.tracking.labels` (fresh, carried, expired).
The *current* segment of a customer (across all runs) is derived by a policy:

``latest`` (default)
    the most recent label wins (by ``labeled_at``, then by arrival order); the history is kept.
``majority``
    the segment named most often wins; ties go to the most recent of the tied segments.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import polars as pl
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from seglens.db_guard import check_values
from seglens.errors import UsageError
from seglens.store.core import Store, audit, current_user, pseudonym, pseudonym_key, utcnow
from seglens.store.id_padding import lost_zeros, lost_zeros_error
from seglens.store.models import Assignment, Base, Import, Label, Run

_TEXT_LIMITS = {
    c: getattr(Label.__table__.c[c].type, "length", None)
    for c in ("customer_id", "segment", "judged_segment", "labeled_by")
}
"""The label columns a file fills, with the characters the database allows in each."""

__all__ = [
    "POLICIES",
    "LabelImportResult",
    "Policy",
    "RunBinding",
    "add_label",
    "current_labels",
    "label_events",
    "label_history",
    "label_warnings",
    "resolve_binding",
    "store_labels",
]

log = logging.getLogger(__name__)

Policy = Literal["latest", "majority"]
POLICIES: tuple[Policy, ...] = ("latest", "majority")
_CHUNK = 2_000
_LABEL_COLUMNS = ("customer_id", "segment", "labeled_by", "labeled_at", "source", "note")


@dataclass
class LabelImportResult:
    """What one labels import did. Customer ids here are for the user's eyes, not stored."""

    source: str
    file_hash: str
    rows_read: int
    added: int = 0
    import_id: int | None = None
    duplicate_file: bool = False
    previous_import_at: datetime | None = None
    already_present: int = 0
    duplicate_rows: int = 0
    invalid_lines: list[int] = field(default_factory=list)
    unknown_customers: list[str] = field(default_factory=list)
    unknown_segments: dict[str, list[int]] = field(default_factory=dict)
    conflicting_customers: list[str] = field(default_factory=list)
    checked_against_run: int | None = None
    bound_to_run: int | None = None
    """The run the imported labels judged (``None``: no run yet, the labels are unbound)."""
    not_in_bound_run: list[str] = field(default_factory=list)
    """Labelled customers the bound run does not segment (kept; they judge no segment)."""
    purpose: str = "kpi"
    """``kpi`` or ``teach`` (teaching labels never count in a KPI)."""
    padded_ids: dict[str, str] = field(default_factory=dict)
    """Ids written without their leading zeros, restored on request (as written -> stored)."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (customer ids reduced to counts, so it is safe to store)."""
        return {
            "source": self.source,
            "file_hash": self.file_hash,
            "rows_read": self.rows_read,
            "added": self.added,
            "duplicate_file": self.duplicate_file,
            "already_present": self.already_present,
            "duplicate_rows": self.duplicate_rows,
            "invalid_lines": self.invalid_lines[:100],
            "n_unknown_customers": len(self.unknown_customers),
            "unknown_segments": {k: v[:100] for k, v in self.unknown_segments.items()},
            "n_conflicting_customers": len(self.conflicting_customers),
            "checked_against_run": self.checked_against_run,
            "bound_to_run": self.bound_to_run,
            "n_not_in_bound_run": len(self.not_in_bound_run),
            "purpose": self.purpose,
            "n_padded_ids": len(self.padded_ids),
        }


def _canonical(table: pl.DataFrame) -> pl.DataFrame:
    """The LABELS columns, ids and segments as trimmed text, missing optional columns null."""
    exprs = []
    for name in _LABEL_COLUMNS:
        if name not in table.columns:
            dtype = pl.Datetime("us") if name == "labeled_at" else pl.String()
            exprs.append(pl.lit(None, dtype).alias(name))
        elif name == "labeled_at":
            col = pl.col(name)
            if table.schema[name] == pl.String:
                col = col.str.to_datetime(strict=False, time_unit="us")
            exprs.append(col.cast(pl.Datetime("us")).alias(name))
        else:
            col = pl.col(name).cast(pl.String)
            if name in ("customer_id", "segment"):
                col = col.str.strip_chars()
            exprs.append(col.alias(name))
    return table.select(exprs)


def _fingerprints(frame: pl.DataFrame) -> list[str]:
    """SHA-256 of each row's label content (who, when, what, where, why) and the run it judged.

    The same verdict about another run is another label: a reviewer who confirms a customer's
    segment again in next quarter's audit adds evidence about the new run. Unbound labels keep
    the content-only fingerprint they always had.
    """
    parts = [
        (
            pl.col(c).dt.strftime("%Y-%m-%dT%H:%M:%S%.6f") if c == "labeled_at" else pl.col(c)
        ).fill_null("\x00")
        for c in _LABEL_COLUMNS
    ]
    key = pl.concat_str(parts, separator="\x1f")
    if "run_id" in frame.columns:
        run = pl.lit("\x1frun=") + pl.col("run_id").cast(pl.String)
        key = pl.when(pl.col("run_id").is_null()).then(key).otherwise(key + run)
    keys = frame.select(key.alias("k"))["k"].to_list()
    return [hashlib.sha256(k.encode()).hexdigest() for k in keys]


@dataclass(frozen=True)
class RunBinding:
    """The run labels are bound to, its assignment per customer, and every customer seen."""

    run_id: int | None
    assigned: dict[str, str]
    seen_customers: set[str]

    @property
    def segments(self) -> set[str]:
        """The segment names the run uses."""
        return set(self.assigned.values())


def resolve_binding(store: Store, run_id: int | None = None) -> RunBinding:
    """The run labels judge: ``run_id`` when given (it must exist), else the latest run.

    Without any run the binding is empty (``run_id`` ``None``): labels stay unbound.
    """
    with store.read() as s:
        if run_id is None:
            run_id = s.scalar(select(Run.id).order_by(Run.as_of.desc(), Run.id.desc()).limit(1))
            if run_id is None:
                return RunBinding(None, {}, set())
        elif s.get(Run, run_id) is None:
            raise UsageError(
                f"no segmentation run {run_id} in the store", hint="see `seglens history`"
            )
        stmt = select(Assignment.customer_id, Assignment.segment)
        assigned = {c: g for c, g in s.execute(stmt.where(Assignment.run_id == run_id))}
        customers = set(s.scalars(select(Assignment.customer_id).distinct()))
    return RunBinding(run_id, assigned, customers)


def _existing_fingerprints(store: Store, fingerprints: Sequence[str]) -> set[str]:
    found: set[str] = set()
    with store.read() as s:
        for i in range(0, len(fingerprints), _CHUNK):
            chunk = fingerprints[i : i + _CHUNK]
            found.update(s.scalars(select(Label.fingerprint).where(Label.fingerprint.in_(chunk))))
    return found


def _store_labels_once(
    store: Store,
    table: pl.DataFrame,
    *,
    source: str,
    file_hash: str,
    lines: Sequence[int] | None = None,
    report: dict[str, Any] | None = None,
    known_segments: Iterable[str] | None = None,
    allow_unknown_segments: bool = False,
    actor: str | None = None,
    run_id: int | None = None,
    purpose: str | None = None,
    pad_ids: bool | None = None,
) -> LabelImportResult:
    """One attempt of :func:`store_labels`."""
    missing = {"customer_id", "segment"} - set(table.columns)
    if missing:
        raise UsageError(f"labels table lacks column(s) {sorted(missing)}", source=source)
    purpose = _import_purpose(purpose, _file_purpose(table, source), source)
    result = LabelImportResult(
        source=source, file_hash=file_hash, rows_read=table.height, purpose=purpose
    )
    with store.read() as s:
        prev = s.scalar(
            select(Import.created_at).where(Import.kind == "labels", Import.file_hash == file_hash)
        )
    if prev is not None:
        result.duplicate_file, result.previous_import_at = True, prev
        return result
    binding = resolve_binding(store, run_id if run_id is not None else _file_run(table, source))
    seen_customers = binding.seen_customers
    result.checked_against_run = result.bound_to_run = binding.run_id
    segments_ok = binding.segments | set(known_segments or ())
    now = utcnow()
    line_numbers = list(lines) if lines is not None else list(range(2, table.height + 2))
    table, result.padded_ids = _restore_zeros(table, seen_customers, line_numbers, source, pad_ids)
    frame = _canonical(table).with_columns(pl.Series("_line", line_numbers, pl.Int64))
    frame = _bind(frame, table, binding).with_columns(pl.lit(_purpose(purpose)).alias("purpose"))
    valid = (pl.col("customer_id").str.len_chars() > 0) & (pl.col("segment").str.len_chars() > 0)
    result.invalid_lines = frame.filter(~valid.fill_null(False))["_line"].to_list()
    frame = frame.filter(valid.fill_null(False))
    if segments_ok and not allow_unknown_segments:
        known_mask = pl.col("segment").is_in(sorted(segments_ok))
        for seg, seg_lines in (
            frame.filter(~known_mask)
            .group_by("segment", maintain_order=True)
            .agg(pl.col("_line"))
            .iter_rows()
        ):
            result.unknown_segments[seg] = list(seg_lines)
        frame = frame.filter(known_mask)
    frame = frame.with_columns(pl.Series("fingerprint", _fingerprints(frame), pl.String))
    deduped = frame.unique(subset="fingerprint", keep="first", maintain_order=True)
    result.duplicate_rows = frame.height - deduped.height
    conflicts = deduped.group_by("customer_id").agg(pl.col("segment").n_unique().alias("k"))
    result.conflicting_customers = sorted(conflicts.filter(pl.col("k") > 1)["customer_id"])
    existing = _existing_fingerprints(store, deduped["fingerprint"].to_list())
    fresh = deduped.filter(~pl.col("fingerprint").is_in(sorted(existing)))
    result.already_present = deduped.height - fresh.height
    rows = fresh.drop("_line").with_columns(pl.col("labeled_at").fill_null(now)).to_dicts()
    if seen_customers:
        result.unknown_customers = sorted(set(fresh["customer_id"].to_list()) - seen_customers)
    if binding.run_id is not None:
        result.not_in_bound_run = sorted(
            set(fresh["customer_id"].to_list()) - set(binding.assigned)
        )
    with store.write() as s:
        imp = Import(
            kind="labels",
            source=source,
            file_hash=file_hash,
            rows_read=table.height,
            rows_loaded=len(rows),
            report={"cleaning": report or {}, "labels": result.to_dict()},
            created_at=now,
            created_by=actor or current_user(),
        )
        s.add(imp)
        s.flush()
        for i in range(0, len(rows), _CHUNK):
            chunk = [{**r, "import_id": imp.id, "recorded_at": now} for r in rows[i : i + _CHUNK]]
            s.execute(Base.metadata.tables["labels"].insert(), chunk)
        audit(
            s,
            "labels.import",
            actor=actor,
            details={
                "import_id": imp.id,
                "source": source,
                "rows": len(rows),
                "run_id": binding.run_id,
            },
        )
        result.import_id = imp.id
    result.added = len(rows)
    log.info("imported %d labels from %s", result.added, source)
    return result


def _restore_zeros(
    table: pl.DataFrame, known: set[str], lines: list[int], source: str, pad_ids: bool | None
) -> tuple[pl.DataFrame, dict[str, str]]:
    """Ids that lost their leading zeros: refused until ``pad_ids`` says restore or keep."""
    ids = table["customer_id"].cast(pl.String).to_list()
    restored = lost_zeros(ids, known)
    if not restored or pad_ids is False:
        return table, {}
    if pad_ids is None:
        raise lost_zeros_error(restored, ids, lines, source)
    padded = pl.col("customer_id").cast(pl.String).replace(restored)
    return table.with_columns(padded.alias("customer_id")), restored


PURPOSES = ("kpi", "teach")


def _purpose(purpose: str) -> str:
    if purpose not in PURPOSES:
        raise UsageError(f"unknown label purpose {purpose!r}", hint=f"use one of {PURPOSES}")
    return purpose


def _file_purpose(table: pl.DataFrame, source: str) -> str | None:
    """The purpose named by the file's ``purpose`` column (one per file), if it has one."""
    if "purpose" not in table.columns:
        return None
    values = table["purpose"].cast(pl.String).str.strip_chars().str.to_lowercase()
    named = sorted(v for v in values.drop_nulls().unique().to_list() if v)
    if len(named) > 1:
        raise UsageError(
            f"the labels name {len(named)} purposes ({', '.join(named)})",
            source=source,
            column="purpose",
            hint="import teaching labels (purpose teach) and KPI labels in separate files",
        )
    return _purpose(named[0]) if named else None


def _import_purpose(given: str | None, in_file: str | None, source: str) -> str:
    """The explicit purpose, else the file's, else ``kpi``; a contradiction is refused."""
    if given is not None and in_file is not None and _purpose(given) != in_file:
        raise UsageError(
            f"the file says purpose {in_file!r} but the import asks for {given!r}",
            source=source,
            column="purpose",
            hint="teaching labels were picked because a model was unsure: they never count "
            "in the KPI; fix the file's purpose column if it is wrong",
        )
    return _purpose(given or in_file or "kpi")


def _file_run(table: pl.DataFrame, source: str) -> int | None:
    """The run named by the file's ``run_id`` column (one run per file), if it has one."""
    if "run_id" not in table.columns:
        return None
    runs = table["run_id"].drop_nulls().unique().to_list()
    if len(runs) > 1:
        raise UsageError(
            f"the labels name {len(runs)} different runs ({sorted(runs)[:5]})",
            source=source,
            column="run_id",
            hint="import one file per segmentation run",
        )
    return int(runs[0]) if runs else None


def _bind(frame: pl.DataFrame, table: pl.DataFrame, binding: RunBinding) -> pl.DataFrame:
    """Add ``run_id`` and ``judged_segment``: the bound run, and the segment the reviewer saw.

    A ``judged_segment`` column in the file (or an audit sheet's ``assigned_segment``) says what
    the reviewer was shown; otherwise it is the bound run's segment for the customer.
    """
    shown = next((c for c in ("judged_segment", "assigned_segment") if c in table.columns), None)
    run_segment = pl.col("customer_id").replace_strict(
        binding.assigned, default=None, return_dtype=pl.String
    )
    judged = run_segment
    if shown is not None:
        given = pl.Series("_shown", table[shown].cast(pl.String).str.strip_chars())
        frame = frame.with_columns(given)
        judged = pl.when(pl.col("_shown").str.len_chars() > 0).then("_shown").otherwise(judged)
    if binding.run_id is None:
        judged = pl.lit(None, pl.String)
    out = frame.with_columns(
        pl.lit(binding.run_id, pl.Int64).alias("run_id"), judged.alias("judged_segment")
    )
    return out.drop("_shown", strict=False)


def store_labels(
    store: Store,
    table: pl.DataFrame,
    *,
    source: str,
    file_hash: str,
    lines: Sequence[int] | None = None,
    report: dict[str, Any] | None = None,
    known_segments: Iterable[str] | None = None,
    allow_unknown_segments: bool = False,
    actor: str | None = None,
    run_id: int | None = None,
    purpose: str | None = None,
    pad_ids: bool | None = None,
) -> LabelImportResult:
    """Append the labels in ``table`` (canonical LABELS columns) as one atomic import.

    The labels are bound to ``run_id`` (default: the latest run), the segmentation the reviewers
    judged; ``judged_segment`` comes from the table when it has that column (or an audit
    sheet's ``assigned_segment``), else from the run. Without any run they stay unbound.
    ``purpose`` is ``"kpi"`` (evidence for the KPI) or ``"teach"`` (labels asked for to teach a
    model, e.g. by ``seglens labels suggest``; they never count in the KPI); default: the
    table's ``purpose`` column (one purpose per file, like ``run_id``), else ``"kpi"``. A
    ``purpose`` that contradicts the table's is refused.

    Importing the same file (same ``file_hash``) twice adds nothing; rows already in the store
    (same customer, segment, reviewer, time, source and note) are skipped, so overlapping
    exports can be imported safely. Rows naming a segment that the latest run does not use
    (nor ``known_segments``) are reported and skipped unless ``allow_unknown_segments``.
    Customers no run has seen are reported but kept: they count once a run includes them.
    Ids that match stored customers only with leading zeros restored (``461`` for ``00461``,
    as Excel writes them) are refused unless ``pad_ids`` is ``True`` (restore them, to the
    width of the stored id each matches) or ``False`` (keep them as written); never guessed.
    The whole import commits or nothing does.

    Examples
    --------
    >>> import tempfile, pathlib, polars as pl
    >>> from seglens.store import open_store
    >>> t = pl.DataFrame({"customer_id": ["1", "2"], "segment": ["Loyal", "At risk"]})
    >>> with tempfile.TemporaryDirectory() as d, open_store(f"{d}/s.db") as st:
    ...     first = store_labels(st, t, source="x.csv", file_hash="ab" * 32).added
    ...     again = store_labels(st, t, source="x.csv", file_hash="ab" * 32).duplicate_file
    >>> first, again
    (2, True)
    """
    known = list(known_segments or ())
    # a value the database would refuse is named, with its line, before anything is written
    # (SQLite would store a NUL or an over-long id that PostgreSQL refuses)
    check_values(table, _TEXT_LIMITS, source=source, lines=lines, rows_of="the labels")
    for attempt in range(3):
        try:
            return _store_labels_once(
                store,
                table,
                source=source,
                file_hash=file_hash,
                lines=lines,
                report=report,
                known_segments=known,
                allow_unknown_segments=allow_unknown_segments,
                actor=actor,
                run_id=run_id,
                purpose=purpose,
                pad_ids=pad_ids,
            )
        except IntegrityError:
            # Another import of the same file or of overlapping rows committed first.
            if attempt == 2:
                raise
            log.info("a concurrent import overlapped %s; retrying", source)
    raise AssertionError("unreachable")


def add_label(
    store: Store,
    customer_id: str,
    segment: str,
    *,
    labeled_by: str | None = None,
    source: str | None = None,
    note: str | None = None,
    labeled_at: datetime | None = None,
    actor: str | None = None,
    run_id: int | None = None,
    judged_segment: str | None = None,
    purpose: str = "kpi",
) -> int:
    """Record one confirmation or correction (and its audit entry) in one transaction.

    The label judges ``run_id`` (default: the latest run) and ``judged_segment`` (default: that
    run's segment for the customer). Returns the new label's id.

    Examples
    --------
    >>> import tempfile
    >>> from seglens.store import open_store
    >>> with tempfile.TemporaryDirectory() as d, open_store(f"{d}/s.db") as st:
    ...     _ = add_label(st, "42", "Loyal", labeled_by="ana")
    ...     _ = add_label(st, "42", "At risk", labeled_by="ben", note="moved away")
    ...     current_labels(st)["segment"].to_list()
    ['At risk']
    """
    now = utcnow()
    with store.read() as s:
        if run_id is None:
            run_id = s.scalar(select(Run.id).order_by(Run.as_of.desc(), Run.id.desc()).limit(1))
        elif s.get(Run, run_id) is None:
            raise UsageError(f"no segmentation run {run_id} in the store")
        if judged_segment is None and run_id is not None:
            judged_segment = s.scalar(
                select(Assignment.segment).where(
                    Assignment.run_id == run_id, Assignment.customer_id == customer_id
                )
            )
    row: dict[str, Any] = {
        "customer_id": customer_id,
        "segment": segment,
        "run_id": run_id,
        "judged_segment": judged_segment,
        "purpose": _purpose(purpose),
        "labeled_by": labeled_by,
        "labeled_at": labeled_at or now,
        "source": source,
        "note": note,
    }
    # A manual entry is a distinct event even when its content repeats an earlier one.
    fp = hashlib.sha256(f"manual|{uuid.uuid4().hex}".encode()).hexdigest()
    key = pseudonym_key()
    with store.write() as s:
        label = Label(**row, fingerprint=fp, recorded_at=now)
        s.add(label)
        s.flush()
        audit(
            s,
            "label.add",
            actor=actor,
            subject=pseudonym(customer_id, key),
            details={
                "label_id": label.id,
                "segment": segment,
                "source": source,
                "run_id": run_id,
            },
        )
        return label.id


def label_warnings(
    store: Store, customer_id: str, segment: str, run_id: int | None = None
) -> list[str]:
    """What looks wrong about one label for ``run_id`` (default: the latest run): a customer no
    run has seen (a typo, or lost leading zeros) or that run does not segment, a segment the run
    does not use. Empty without any run (nothing to check against)."""
    binding = resolve_binding(store, run_id)
    if binding.run_id is None:
        return []
    out: list[str] = []
    if customer_id not in binding.seen_customers:
        padded = lost_zeros([customer_id], binding.seen_customers).get(customer_id)
        out.append(
            f"unknown customer {customer_id!r}: no segmentation run has it"
            + (f" (did you mean {padded!r}? leading zeros)" if padded else "")
            + "; the label is kept and counts once a run includes the customer"
        )
    elif customer_id not in binding.assigned:
        out.append(
            f"customer {customer_id!r} is not in run {binding.run_id}: the label judges no "
            "segment of that run"
        )
    if segment not in binding.segments:
        known = ", ".join(sorted(binding.segments)[:12])
        out.append(
            f"unknown segment {segment!r}: run {binding.run_id} uses {known}; check the "
            "spelling (the label is kept)"
        )
    return out


def label_history(store: Store, customer_id: str | None = None) -> pl.DataFrame:
    """Every label (optionally of one customer), oldest first."""
    stmt = select(
        Label.id,
        Label.customer_id,
        Label.segment,
        Label.labeled_by,
        Label.labeled_at,
        Label.source,
        Label.note,
        Label.import_id,
        Label.run_id,
        Label.judged_segment,
    ).order_by(Label.labeled_at, Label.id)
    if customer_id is not None:
        stmt = stmt.where(Label.customer_id == customer_id)
    with store.read() as s:
        data = [tuple(r) for r in s.execute(stmt)]
    schema: dict[str, pl.DataType] = {
        "id": pl.Int64(),
        "customer_id": pl.String(),
        "segment": pl.String(),
        "labeled_by": pl.String(),
        "labeled_at": pl.Datetime("us"),
        "source": pl.String(),
        "note": pl.String(),
        "import_id": pl.Int64(),
        "run_id": pl.Int64(),
        "judged_segment": pl.String(),
    }
    return pl.DataFrame(data, schema=schema, orient="row")


def label_events(store: Store) -> pl.DataFrame:
    """Every label, fetched in bulk: ``id, customer_id, segment, labeled_at, source, run_id,
    judged_segment, purpose``.

    Raw driver rows and one vectorised date parse: the ORM's per-row processing costs more
    than the whole derivation.
    """
    sql = (
        "SELECT id, customer_id, segment, labeled_at, source, run_id, judged_segment, purpose "
        "FROM labels"
    )
    with store.read_engine.connect() as conn:
        cursor = conn.connection.cursor()  # plain tuples, no Row objects
        try:
            cursor.execute(sql)
            rows = cursor.fetchall()
        finally:
            cursor.close()
    raw_dates = store.dialect == "sqlite"  # SQLite hands back ISO text
    schema: dict[str, pl.DataType] = {
        "id": pl.Int64(),
        "customer_id": pl.String(),
        "segment": pl.String(),
        "labeled_at": pl.String() if raw_dates else pl.Datetime("us"),
        "source": pl.String(),
        "run_id": pl.Int64(),
        "judged_segment": pl.String(),
        "purpose": pl.String(),
    }
    frame = pl.DataFrame(rows, schema=schema, orient="row")
    if raw_dates:
        frame = frame.with_columns(
            pl.col("labeled_at").str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us")
        )
    return frame


def current_labels(store: Store, policy: Policy = "latest") -> pl.DataFrame:
    """The current segment of every labelled customer under ``policy``.

    Columns: ``customer_id``, ``segment``, ``labeled_at`` and ``source`` (of the deciding
    label), ``n_labels`` (all labels of the customer), ``n_agreeing`` (labels naming that
    segment).
    """
    if policy not in POLICIES:
        raise UsageError(f"unknown label policy {policy!r}", hint=f"use one of {POLICIES}")
    hist = label_events(store).sort("labeled_at", "id")
    counts = hist.group_by("customer_id", "segment").agg(
        pl.len().alias("n_agreeing"),
        pl.col("labeled_at").last(),
        pl.col("id").last(),
        pl.col("source").last(),
    )
    totals = hist.group_by("customer_id").agg(pl.len().alias("n_labels"))
    keys = ["labeled_at", "id"] if policy == "latest" else ["n_agreeing", "labeled_at", "id"]
    chosen = (
        counts.sort([*keys], descending=True)
        .group_by("customer_id", maintain_order=True)
        .first()
        .join(totals, on="customer_id")
    )
    return chosen.select(
        "customer_id",
        "segment",
        "labeled_at",
        "source",
        pl.col("n_labels").cast(pl.Int64),
        pl.col("n_agreeing").cast(pl.Int64),
    ).sort("customer_id")
