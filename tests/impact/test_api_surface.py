"""The public surface of seglens.impact and seglens.export is pinned."""

from __future__ import annotations

import seglens.export
import seglens.impact


def test_impact_all() -> None:
    assert sorted(seglens.impact.__all__) == sorted(
        [
            "CDNOW_PARAMS", "Allocation", "BetaGeoModel", "ClvResult", "Condition", "Estimate",
            "FitAccuracy", "GammaGammaModel", "Proposal", "SimpleClv", "adopt", "allocate_budget",
            "arm_rates", "campaign_lift", "clv_summary", "customer_clv", "discover_segments",
            "fit_accuracy", "forecast_by_segment", "nps", "nps_by_segment", "out_of_time_check",
            "retention_by_cohort", "run_rate_forecast", "segment_clv", "segment_economics",
            "segment_retention", "simple_clv", "simulate_customers",
        ]
    )  # fmt: skip
    for name in seglens.impact.__all__:
        assert getattr(seglens.impact, name) is not None


def test_export_all() -> None:
    assert sorted(seglens.export.__all__) == [
        "ExportResult", "FORMATS", "escape_formula", "export_segments", "pseudonymize",
        "read_export", "unescape_formula",
    ]  # fmt: skip
    assert seglens.export.FORMATS == ("hubspot", "salesforce", "csv", "parquet", "db")
