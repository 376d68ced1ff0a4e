"""What the pages and the API show about segments and customers, from the store (no HTTP).

The KPI is in :mod:`seglens.web.kpi` (the stored measurement) and the review queue in
:mod:`seglens.web.queue` (the stored audit design).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from seglens.settings import Settings
from seglens.store import Store, customer_record, run_segment_names

__all__ = ["CustomerView", "Settings", "customer_view", "segment_names"]

_names_cache: dict[tuple[str, int], list[str]] = {}


def segment_names(store: Store, run_id: int) -> list[str]:
    """The segments a run uses, sorted (cached: a recorded run never changes)."""
    key = (store.url, run_id)
    hit = _names_cache.get(key)
    if hit is None:
        hit = run_segment_names(store, run_id)
        if hit:
            _names_cache[key] = hit
    return list(hit)


@dataclass(frozen=True)
class CustomerView:
    """Everything the store knows about one customer."""

    customer_id: str
    features: dict[str, Any]
    features_run: int | None
    segments: list[dict[str, Any]]  # per run: run_id, as_of, segment, revenue
    labels: list[dict[str, Any]]
    current_label: str | None


def customer_view(store: Store, customer_id: str) -> CustomerView | None:
    """The customer's features, segments across runs and label history; ``None`` if unknown."""
    record = customer_record(store, customer_id)
    if record is None:
        return None
    history = record.labels
    # Same rule as current_labels(policy="latest"): latest labeled_at, then arrival order.
    ordered = history.sort("labeled_at", "id")
    current = str(ordered["segment"][-1]) if ordered.height else None
    return CustomerView(
        customer_id,
        record.features,
        record.features_run,
        record.segments.to_dicts(),
        history.drop("customer_id").to_dicts(),
        current,
    )
