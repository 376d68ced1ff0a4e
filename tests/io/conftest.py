"""Shared fixtures of the loader tests."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from types import FrameType

import pytest

DEADLINE = 60
"""Seconds a single file may take to load or be refused before the case counts as a hang."""


@pytest.fixture
def deadline() -> Iterator[None]:
    """Fail a case that takes over a minute (a hang on a pipe, a device or a loop) instead of
    waiting for CI's own limit; modules opt in with ``pytestmark = usefixtures("deadline")``."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise TimeoutError(f"over {DEADLINE} s: the loader hangs")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(DEADLINE)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
