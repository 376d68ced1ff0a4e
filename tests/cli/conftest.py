"""CLI test fixtures: every test starts with the ``seglens`` logger as an import leaves it."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from seglens.cli import _app


@pytest.fixture(autouse=True)
def _reset_cli_logging() -> Iterator[None]:
    yield
    logging.getLogger("seglens").setLevel(logging.NOTSET)
    _app._Quiet.on = False
