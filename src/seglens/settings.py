"""The numbers seglens works to by default: KPI target, audit margin, confidence, segment floor.

Every default target, margin and confidence in the CLI, the web app, the report, the alert rules
and the audit planner is read from :data:`DEFAULT_SETTINGS`, so the issue's numbers are written
down once. Pass another :class:`Settings` (or a single option) to work to other numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_SETTINGS", "Settings"]


@dataclass(frozen=True)
class Settings:
    """The KPI target and the audit's wanted precision.

    Attributes
    ----------
    target_pct
        Accuracy the segmentation should reach, in percent.
    margin_pts
        Wanted half-width of the KPI's confidence interval, in points (the audit's ± margin).
    confidence
        Confidence level of every reported interval.
    min_per_segment
        Fewest customers an audit sample takes from each segment (capped at its size).

    Examples
    --------
    >>> DEFAULT_SETTINGS
    Settings(target_pct=85.0, margin_pts=5.0, confidence=0.95, min_per_segment=30)
    """

    target_pct: float = 85.0
    margin_pts: float = 5.0
    confidence: float = 0.95
    min_per_segment: int = 30


DEFAULT_SETTINGS = Settings()
"""The defaults: 85 % target, ± 5 points at 95 % confidence, 30 customers per segment."""
