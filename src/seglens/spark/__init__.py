"""Every stage on Spark: reading, features, fitting on a sample, scoring, the KPI's counts.

The per-customer tables stay in Spark; only counts, the fit sample and the report reach the
driver, where the statistics are computed by the same code as on the embedded engine
(:mod:`seglens.stats`, :mod:`seglens.accuracy`, :mod:`seglens.tracking`). PySpark (and the
statistics stack) are imported only when a function needs them, so the CLI starts fast.
See docs/spark.md.
"""

from __future__ import annotations

from typing import Any

from seglens.spark.connect import SparkSettings, open_spark, spark_settings

__all__ = ["SparkSettings", "open_spark", "sample_size", "spark_settings"]


def __getattr__(name: str) -> Any:
    """``sample_size`` on first use (it needs :mod:`seglens.stats`, hence SciPy)."""
    if name == "sample_size":
        from seglens.spark.fit import sample_size

        return sample_size
    raise AttributeError(f"module 'seglens.spark' has no attribute {name!r}")
