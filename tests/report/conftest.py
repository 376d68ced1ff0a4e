"""Fixtures of the report tests: real-data snapshots and a headless Chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.report.report_builders import (
    ARTIFACTS,
    CHROMIUM,
    LAUNCH_ARGS,
    Built,
    build_automobile,
    build_planted,
)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """``test-artifacts/report`` (git-ignored): screenshots and PNG pages land here."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def automobile(shared_data: Path) -> Built:
    """The automobile review (real sales-team labels, real models)."""
    return build_automobile(shared_data / "automobile-segmentation-labeled" / "Train.csv")


@pytest.fixture(scope="session")
def planted() -> Built:
    """A planted three-segment population (k-means finds it well)."""
    return build_planted(("Loyal", "Occasional", "Lapsed"))


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (never ``playwright install``).

    Module scope: Playwright's sync API keeps an event loop running in the main thread while it
    is open, which would break later tests that run their own loop.
    """
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: CI must run the browser tests")
        pytest.skip("Chromium is not installed (apt-get install -y chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    home = tmp_path_factory.mktemp("chromium-home")
    env = {**os.environ, "XDG_CONFIG_HOME": str(home), "XDG_CACHE_HOME": str(home)}
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS, env=env)
        yield b
        b.close()
