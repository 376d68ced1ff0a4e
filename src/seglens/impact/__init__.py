"""Segments that pay: CLV, churn, retention, NPS, campaign lift, forecasts, overlooked segments.

Every per-segment figure comes with its n and an uncertainty range.
"""

from __future__ import annotations

from seglens.impact.allocation import Allocation, allocate_budget
from seglens.impact.bgnbd import BetaGeoModel
from seglens.impact.clv import ClvResult, customer_clv, segment_clv
from seglens.impact.economics import (
    SimpleClv,
    retention_by_cohort,
    segment_economics,
    segment_retention,
    simple_clv,
)
from seglens.impact.forecast import forecast_by_segment, out_of_time_check, run_rate_forecast
from seglens.impact.gamma_gamma import GammaGammaModel
from seglens.impact.lift import arm_rates, campaign_lift
from seglens.impact.nps import nps, nps_by_segment
from seglens.impact.overlooked import (
    Condition,
    FitAccuracy,
    Proposal,
    adopt,
    discover_segments,
    fit_accuracy,
)
from seglens.impact.simulate import CDNOW_PARAMS, simulate_customers
from seglens.impact.summary import clv_summary
from seglens.stats import Estimate

__all__ = [
    "CDNOW_PARAMS",
    "Allocation",
    "BetaGeoModel",
    "ClvResult",
    "Condition",
    "Estimate",
    "FitAccuracy",
    "GammaGammaModel",
    "Proposal",
    "SimpleClv",
    "adopt",
    "allocate_budget",
    "arm_rates",
    "campaign_lift",
    "clv_summary",
    "customer_clv",
    "discover_segments",
    "fit_accuracy",
    "forecast_by_segment",
    "nps",
    "nps_by_segment",
    "out_of_time_check",
    "retention_by_cohort",
    "run_rate_forecast",
    "segment_clv",
    "segment_economics",
    "segment_retention",
    "simple_clv",
    "simulate_customers",
]
