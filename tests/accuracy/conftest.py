"""Fixtures for the accuracy tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from threadpoolctl import threadpool_limits


@pytest.fixture(autouse=True)
def _one_native_thread() -> Iterator[None]:
    """k-means and BLAS on one thread: on a busy 2-core runner, spinning OpenMP/BLAS threads make
    these small fits many times slower (measured: 5 s vs 60-85 s for one calibration scenario)."""
    with threadpool_limits(1):
        yield
