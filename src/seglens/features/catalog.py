"""The feature catalogue: every feature's name, unit, feature set and exact definition.

This is the single list the definition, the documentation and the tests agree on. The
definitions are written for a cut-off ``as_of``: only transaction lines at or before it count.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

__all__ = [
    "CATALOG",
    "FEATURE_SETS",
    "FeatureInfo",
    "FeatureSet",
    "feature_names",
]

FeatureSet = Literal["lifetimes", "rfm", "all"]
"""Which features to compute: the four lifetimes columns, plus the marketer's RFM, or all."""

FEATURE_SETS: Final[tuple[str, ...]] = ("lifetimes", "rfm", "all")


@dataclass(frozen=True)
class FeatureInfo:
    """One output column: name, unit, the smallest feature set that has it, and its meaning."""

    name: str
    unit: str
    feature_set: FeatureSet
    definition: str


CATALOG: Final[tuple[FeatureInfo, ...]] = (
    FeatureInfo(
        "frequency",
        "days (count)",
        "lifetimes",
        "number of distinct purchase days after the first one (repeat purchase days)",
    ),
    FeatureInfo("recency", "days", "lifetimes", "days between the first and the last purchase day"),
    FeatureInfo("T", "days", "lifetimes", "days between the first purchase day and as_of's day"),
    FeatureInfo(
        "monetary_value",
        "currency",
        "lifetimes",
        "mean, over repeat purchase days, of the day's purchase-line amounts; "
        "0 when frequency is 0",
    ),
    FeatureInfo(
        "days_since_last_purchase",
        "days",
        "rfm",
        "days between the last purchase day and as_of's day",
    ),
    FeatureInfo("n_orders", "orders", "rfm", "distinct order_id values among purchase lines"),
    FeatureInfo(
        "total_spend",
        "currency",
        "rfm",
        "sum of amount over all lines (purchases minus returns)",
    ),
    FeatureInfo(
        "tenure_days", "days", "all", "days between the first purchase day and as_of's day"
    ),
    FeatureInfo(
        "avg_order_value", "currency", "all", "total_spend / n_orders (net spend per order)"
    ),
    FeatureInfo(
        "interpurchase_mean_days",
        "days",
        "all",
        "mean gap between consecutive purchase days, recency / frequency; null if frequency is 0",
    ),
    FeatureInfo(
        "interpurchase_std_days",
        "days",
        "all",
        "sample standard deviation (ddof=1) of the gaps; null with fewer than two gaps",
    ),
    FeatureInfo(
        "active_months_12m",
        "months",
        "all",
        "calendar months with a purchase among as_of's month and the 11 months before it",
    ),
    FeatureInfo(
        "spend_last_90d",
        "currency",
        "all",
        "net amount of lines on the 90 days ending on as_of's day (as_of day - 89 .. as_of day)",
    ),
    FeatureInfo(
        "spend_prev_90d",
        "currency",
        "all",
        "net amount of lines on the 90 days before those (as_of day - 179 .. as_of day - 90)",
    ),
    FeatureInfo(
        "spend_trend",
        "ratio in [-1, 1] for non-negative windows",
        "all",
        "(spend_last_90d - spend_prev_90d) / (|spend_last_90d| + |spend_prev_90d|); "
        "null when both are 0",
    ),
    FeatureInfo(
        "return_rate_value",
        "ratio",
        "all",
        "returned value (-amount of return lines) / purchased value (amount of purchase lines); "
        "null when purchased value is 0",
    ),
    FeatureInfo(
        "return_rate_count",
        "ratio",
        "all",
        "distinct orders with a return line / n_orders",
    ),
    FeatureInfo(
        "n_products",
        "products",
        "all",
        "distinct non-null product_id among purchase lines (needs product_id)",
    ),
    FeatureInfo(
        "n_categories",
        "categories",
        "all",
        "distinct non-null category among purchase lines (needs category)",
    ),
    FeatureInfo(
        "top_category_share",
        "share in [0, 1] for non-negative lines",
        "all",
        "purchase amount in the customer's largest category / purchased value; a missing "
        "category counts as one category; null when purchased value is not > 0 (needs category)",
    ),
    FeatureInfo(
        "channel_share_<channel>",
        "share",
        "all",
        "purchase amount through that channel / purchased value, one column per channel "
        "(missing channel: 'unknown'); null when purchased value is not > 0 (needs channel)",
    ),
)

_ORDER: Final = {"lifetimes": 0, "rfm": 1, "all": 2}


def feature_names(feature_set: FeatureSet = "all") -> list[str]:
    """Names of the fixed features in ``feature_set`` (channel shares excluded), in output order.

    Examples
    --------
    >>> feature_names("lifetimes")
    ['frequency', 'recency', 'T', 'monetary_value']
    """
    level = _ORDER[feature_set]
    return [
        f.name
        for f in CATALOG
        if _ORDER[f.feature_set] <= level and not f.name.startswith("channel_share_")
    ]
