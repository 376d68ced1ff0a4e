"""Shared numerics of the accuracy engine: the contingency table (via ``np.bincount``).

The interval statistics (``Estimate``, ``wilson_interval``, ``proportion``, ``z_value``) live in
:mod:`seglens.stats`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["contingency"]


def contingency(
    a: npt.NDArray[np.int64], ka: int, b: npt.NDArray[np.int64], kb: int
) -> npt.NDArray[np.int64]:
    """Counts ``C[i, j]`` of customers with code ``i`` in ``a`` and ``j`` in ``b``; ``O(n)``."""
    flat = np.bincount(a * kb + b, minlength=ka * kb)
    return flat.reshape(ka, kb).astype(np.int64, copy=False)
