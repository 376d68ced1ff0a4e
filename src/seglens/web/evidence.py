"""What a reviewer sees about a customer before judging its segment, in words and figures.

The review queue shows, per customer, the evidence a sales rep checks: last order date, orders,
spend, categories (only counts and the top category's share are stored, not names), tenure,
the segment's rule in plain words and the age of the customer's latest label. The figures come
from the feature row the run stored (:func:`seglens.store.queries.features_of`); which feature
means what is the feature catalogue's (:mod:`seglens.features.catalog`). An RFM run's segment
rule is the segment map's own description and score boxes (the default map, or the map the run
recorded); any other segmenter's segment is described by its profile (the features that set it
apart, :func:`seglens.segmenters.profiles.profile_segments`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from seglens.errors import SeglensError
from seglens.segmenters.segment_map import SegmentMap
from seglens.store import RunInfo, Store
from seglens.store.queries import features_of, latest_label_of
from seglens.web.format import money, num, pct, when_date
from seglens.web.segments import segment_profiles

__all__ = ["FEATURE_WORDS", "Evidence", "evidence_for", "segment_rules"]

log = logging.getLogger(__name__)

FEATURE_WORDS: dict[str, str] = {
    "days_since_last_purchase": "days since the last order",
    "n_orders": "orders",
    "total_spend": "spend",
    "tenure_days": "tenure (days)",
    "avg_order_value": "average order",
    "frequency": "repeat purchase days",
    "recency": "days from first to last purchase",
    "T": "days since the first purchase",
    "monetary_value": "average repeat-day spend",
    "spend_last_90d": "spend in the last 90 days",
    "return_rate_count": "share of orders with a return",
    "return_rate_value": "share of value returned",
    "active_months_12m": "active months of the last 12",
    "n_categories": "categories bought",
    "top_category_share": "share in the top category",
}


@dataclass(frozen=True)
class Evidence:
    """One customer's evidence, every value already formatted for the page (``–``: unknown)."""

    last_order: str
    orders: str
    spend: str
    categories: str | None
    tenure: str
    label: str | None
    labeled_at: datetime | None


def _get(f: dict[str, Any], *names: str) -> float | None:
    for n in names:
        v = f.get(n)
        if isinstance(v, int | float):
            return float(v)
    return None


def _last_order(f: dict[str, Any], as_of: datetime) -> str:
    days = _get(f, "days_since_last_purchase")
    if days is None:
        t, r = _get(f, "T"), _get(f, "recency")
        days = t - r if t is not None and r is not None else None
    if days is None:
        return "–"
    return f"{when_date(as_of - timedelta(days=days))} ({num(days)} days before the run)"


def _categories(f: dict[str, Any]) -> str | None:
    n = _get(f, "n_categories")
    if n is None:
        return None
    share = _get(f, "top_category_share")
    top = f", {pct(share, 0, ratio=True)} of it in the top one" if share is not None else ""
    return f"{num(n)} categor{'y' if n == 1 else 'ies'}{top}"


def _evidence(f: dict[str, Any], as_of: datetime, label: tuple[str, datetime] | None) -> Evidence:
    orders = _get(f, "n_orders")
    if orders is None and _get(f, "frequency") is not None:
        orders_text = f"{num(_get(f, 'frequency'))} repeat purchase days"
    else:
        orders_text = num(orders)
    tenure = _get(f, "tenure_days", "T")
    return Evidence(
        last_order=_last_order(f, as_of),
        orders=orders_text,
        spend=money(_get(f, "total_spend")),
        categories=_categories(f),
        tenure="–" if tenure is None else f"{num(tenure)} days",
        label=label[0] if label else None,
        labeled_at=label[1] if label else None,
    )


def evidence_for(store: Store, run: RunInfo, customer_ids: list[str]) -> dict[str, Evidence]:
    """The evidence for each of ``customer_ids`` in ``run`` (two indexed queries)."""
    feats = features_of(store, run.id, customer_ids)
    labels = latest_label_of(store, customer_ids)
    return {c: _evidence(feats.get(c, {}), run.as_of, labels.get(c)) for c in customer_ids}


def _rfm_map(run: RunInfo) -> SegmentMap | None:
    given = run.parameters.get("segment_map")
    if given is None:
        return SegmentMap.default()
    if isinstance(given, str) and Path(given).is_file():
        try:
            return SegmentMap.from_toml(given)
        except SeglensError as err:
            log.warning("run %d: segment map %s unreadable: %s", run.id, given, err.message)
    if isinstance(given, dict):
        try:
            return SegmentMap.from_dict(given)
        except SeglensError as err:
            log.warning("run %d: recorded segment map unreadable: %s", run.id, err.message)
    return None


def _profile_words(store: Store, run: RunInfo) -> dict[str, str]:
    prof = segment_profiles(store, run.id)
    if prof is None:
        return {}
    out: dict[str, str] = {}
    for p in prof.profiles:
        parts = [
            f"{d.direction} {FEATURE_WORDS.get(d.feature, d.feature)} "
            f"(median {num(d.segment_median)} vs {num(d.rest_median)})"
            for d in p.distinguishing[:3]
        ]
        out[p.segment] = (
            f"{p.auto_name}: " + "; ".join(parts) + " than the other customers"
            if parts
            else p.auto_name
        )
    return out


def segment_rules(store: Store, run: RunInfo) -> dict[str, str]:
    """Each segment of ``run`` in plain words: the RFM map's description and score boxes, or
    the profile of a clustering or supervised segment (what sets it apart from the rest)."""
    if run.segmenter == "RFMSegmenter":
        seg_map = _rfm_map(run)
        if seg_map is not None:
            return {
                s.name: f"{s.description} (scores {s.describe_when()}; {seg_map.scale} = best)"
                for s in seg_map.segments
            }
    return _profile_words(store, run)
