"""seglens: customer segments and Customer Segmentation Accuracy, measured with confidence.

The public API is listed in ``__all__`` (pinned by a test).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from seglens.errors import DataError, SeglensError, UsageError

try:
    __version__ = version("seglens")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["DataError", "SeglensError", "UsageError", "__version__"]
