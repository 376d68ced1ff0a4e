"""Every stage on Spark: reading, features, fitting on a sample, scoring, the KPI's counts.

The per-customer tables stay in Spark; only counts, the fit sample and the report reach the
driver, where the statistics are computed by the same code as on the embedded engine
(:mod:`seglens.stats`, :mod:`seglens.accuracy`, :mod:`seglens.tracking`). PySpark is imported
only when a function needs it. See docs/spark.md.
"""

from __future__ import annotations

from seglens.spark.connect import SparkSettings, open_spark, spark_settings
from seglens.spark.fit import sample_size

__all__ = ["SparkSettings", "open_spark", "sample_size", "spark_settings"]
