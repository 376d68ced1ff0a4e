"""Customer features from transactions: one definition, run on Polars, DuckDB or Spark."""

from __future__ import annotations

from seglens.features.api import FeatureTable, customer_features
from seglens.features.catalog import CATALOG, FeatureInfo, feature_names
from seglens.features.demographics import DemographicsReport, join_demographics
from seglens.features.periods import calibration_holdout, quarter_ends, quarterly_snapshots
from seglens.features.spark import spark_session

__all__ = [
    "CATALOG",
    "DemographicsReport",
    "FeatureInfo",
    "FeatureTable",
    "calibration_holdout",
    "customer_features",
    "feature_names",
    "join_demographics",
    "quarter_ends",
    "quarterly_snapshots",
    "spark_session",
]
