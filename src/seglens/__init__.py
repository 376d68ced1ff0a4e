"""seglens: customer segments and Customer Segmentation Accuracy, measured with confidence.

The top-level names below are the public API (pinned by a test). They are imported lazily, on
first use, so ``import seglens`` and the CLI start fast; each lives in one subpackage:

- loading: :func:`load_transactions`, :func:`load_table` (``seglens.io``)
- features: :func:`customer_features` (``seglens.features``)
- segmenters: :class:`RFMSegmenter`, :class:`KMeansSegmenter`, :class:`GaussianMixtureSegmenter`,
  :class:`MixedSegmenter` (``seglens.segmenters``)
- the KPI: :func:`accuracy_report`, :func:`customer_accuracy`, :func:`bootstrap_stability`
  (``seglens.accuracy``); audit samples: :func:`plan_audit`, :func:`stratified_accuracy`
  (``seglens.audit``)
- tracking: :func:`open_store` (``seglens.store``), :func:`track` (``seglens.tracking``)
- report: :func:`write_report` (``seglens.report``); CRM export: :func:`export_segments`
- synthetic populations with a planted truth: :func:`make_population`; the demo: :func:`run_demo`

>>> import seglens
>>> seglens.accuracy_report(["a", "a", "b"], ["a", "a", "b"]).accuracy.value_pct
100.0
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING, Any

from seglens.errors import DataError, SeglensError, UsageError

if TYPE_CHECKING:  # pragma: no cover - names for type checkers; runtime imports are lazy
    from seglens.accuracy import accuracy_report, bootstrap_stability, customer_accuracy
    from seglens.audit import plan_audit, stratified_accuracy
    from seglens.demo import run_demo
    from seglens.export import export_segments
    from seglens.features import customer_features
    from seglens.io import load_table, load_transactions
    from seglens.report import write_report
    from seglens.segmenters import (
        GaussianMixtureSegmenter,
        KMeansSegmenter,
        MixedSegmenter,
        RFMSegmenter,
    )
    from seglens.store import open_store
    from seglens.synthetic import make_population
    from seglens.tracking.track import track

try:
    __version__ = version("seglens")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

_LAZY: dict[str, str] = {
    "accuracy_report": "seglens.accuracy",
    "bootstrap_stability": "seglens.accuracy",
    "customer_accuracy": "seglens.accuracy",
    "plan_audit": "seglens.audit",
    "stratified_accuracy": "seglens.audit",
    "run_demo": "seglens.demo",
    "export_segments": "seglens.export",
    "customer_features": "seglens.features",
    "load_table": "seglens.io",
    "load_transactions": "seglens.io",
    "write_report": "seglens.report",
    "GaussianMixtureSegmenter": "seglens.segmenters",
    "KMeansSegmenter": "seglens.segmenters",
    "MixedSegmenter": "seglens.segmenters",
    "RFMSegmenter": "seglens.segmenters",
    "open_store": "seglens.store",
    "make_population": "seglens.synthetic",
    "track": "seglens.tracking",
}

__all__ = [
    "DataError",
    "GaussianMixtureSegmenter",
    "KMeansSegmenter",
    "MixedSegmenter",
    "RFMSegmenter",
    "SeglensError",
    "UsageError",
    "__version__",
    "accuracy_report",
    "bootstrap_stability",
    "customer_accuracy",
    "customer_features",
    "export_segments",
    "load_table",
    "load_transactions",
    "make_population",
    "open_store",
    "plan_audit",
    "run_demo",
    "stratified_accuracy",
    "track",
    "write_report",
]


def __getattr__(name: str) -> Any:
    """Import a public name from its subpackage on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'seglens' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
