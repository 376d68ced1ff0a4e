"""Audit designs: the stratified samples drawn from a run, kept so estimates use their weights."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import select

from seglens.errors import DataError, UsageError
from seglens.store.core import Store, audit, current_user, utcnow
from seglens.store.models import Assignment, AuditDesign, AuditMember, Base, Run

__all__ = ["AuditDesignRecord", "audit_design", "record_audit_design"]

_CHUNK = 2_000


@dataclass(frozen=True)
class AuditDesignRecord:
    """A stored audit design: per stratum its population and sample size, and the members."""

    id: int
    run_id: int
    strata: tuple[dict[str, Any], ...]
    """``{"segment", "population", "sample"}`` per stratum, as drawn."""
    seed: int
    allocation: str
    confidence: float
    margin_pts: float | None
    created_at: datetime
    members: pl.DataFrame
    """``customer_id``, ``stratum``: the customers drawn."""

    @property
    def population(self) -> dict[str, int]:
        """Customers per stratum in the run (``N_h``)."""
        return {str(s["segment"]): int(s["population"]) for s in self.strata}


def record_audit_design(
    store: Store,
    run_id: int,
    members: pl.DataFrame,
    strata: Sequence[Mapping[str, Any]],
    *,
    seed: int,
    allocation: str,
    confidence: float,
    margin_pts: float | None = None,
    actor: str | None = None,
) -> int:
    """Store the audit sample drawn from run ``run_id``; returns the design id.

    ``members`` has ``customer_id`` and ``stratum`` (the segment it was drawn from); ``strata``
    gives each stratum's ``segment``, ``population`` and ``sample``. The populations must be the
    run's segment sizes and every member must be assigned to its stratum in that run, so an
    estimate from this design is weighted by the segmentation it judged.
    """
    if not {"customer_id", "stratum"} <= set(members.columns):
        raise UsageError("audit members need columns customer_id and stratum")
    rows = members.select(pl.col("customer_id").cast(pl.String), pl.col("stratum").cast(pl.String))
    if rows["customer_id"].is_duplicated().any():
        raise DataError("the audit sample lists a customer more than once")
    with store.write() as s:
        if s.get(Run, run_id) is None:
            raise UsageError(f"no segmentation run {run_id} in the store")
        assigned = dict(
            s.execute(
                select(Assignment.customer_id, Assignment.segment).where(
                    Assignment.run_id == run_id
                )
            ).all()
        )
        sizes: dict[str, int] = {}
        for seg in assigned.values():
            sizes[seg] = sizes.get(seg, 0) + 1
        declared = {str(st["segment"]): int(st["population"]) for st in strata}
        if declared != sizes:
            raise DataError(
                f"the audit strata {declared} do not match run {run_id}'s segment sizes {sizes}",
                hint="draw the audit sample from the run it is recorded for",
            )
        wrong = [c for c, st in rows.iter_rows() if assigned.get(c) != st]
        if wrong:
            raise DataError(
                f"{len(wrong)} audited customer(s) are not in their stratum in run {run_id}, "
                f"e.g. {wrong[:5]}",
                hint="draw the audit sample from the run it is recorded for",
            )
        design = AuditDesign(
            run_id=run_id,
            strata=[
                {
                    "segment": str(st["segment"]),
                    "population": int(st["population"]),
                    "sample": int(st["sample"]),
                }
                for st in strata
            ],
            seed=seed,
            allocation=allocation,
            confidence=confidence,
            margin_pts=margin_pts,
            created_at=utcnow(),
            created_by=actor or current_user(),
        )
        s.add(design)
        s.flush()
        table = Base.metadata.tables["audit_members"]
        data = [{"design_id": design.id, "customer_id": c, "stratum": h} for c, h in rows.rows()]
        for i in range(0, len(data), _CHUNK):
            s.execute(table.insert(), data[i : i + _CHUNK])
        audit(
            s,
            "audit.design",
            actor=actor,
            details={"design_id": design.id, "run_id": run_id, "customers": len(data)},
        )
        return design.id


def audit_design(
    store: Store, *, design_id: int | None = None, run_id: int | None = None
) -> AuditDesignRecord | None:
    """A stored design by id, or the newest design of ``run_id``; ``None`` when there is none."""
    with store.read() as s:
        stmt = select(AuditDesign)
        if design_id is not None:
            stmt = stmt.where(AuditDesign.id == design_id)
        elif run_id is not None:
            stmt = stmt.where(AuditDesign.run_id == run_id)
        else:
            raise UsageError("give a design id or a run id")
        design = s.scalars(stmt.order_by(AuditDesign.id.desc()).limit(1)).first()
        if design is None:
            return None
        members = [
            tuple(r)
            for r in s.execute(
                select(AuditMember.customer_id, AuditMember.stratum)
                .where(AuditMember.design_id == design.id)
                .order_by(AuditMember.customer_id)
            )
        ]
        return AuditDesignRecord(
            id=design.id,
            run_id=design.run_id,
            strata=tuple(dict(st) for st in design.strata),
            seed=design.seed,
            allocation=design.allocation,
            confidence=design.confidence,
            margin_pts=design.margin_pts,
            created_at=design.created_at,
            members=pl.DataFrame(
                members, schema={"customer_id": pl.String, "stratum": pl.String}, orient="row"
            ),
        )
