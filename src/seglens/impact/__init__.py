"""Segments that pay: CLV, churn, retention, NPS and campaign lift per segment.

Every per-segment figure comes with its n and an uncertainty range.
"""

from __future__ import annotations

from seglens.impact.bgnbd import BetaGeoModel
from seglens.impact.gamma_gamma import GammaGammaModel
from seglens.impact.summary import clv_summary

__all__ = ["BetaGeoModel", "GammaGammaModel", "clv_summary"]
