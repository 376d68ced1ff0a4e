"""Fixtures for the impact tests: the CDNOW files shipped in the lifetimes wheel."""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
from pathlib import Path

import polars as pl
import pytest

from seglens.io import LoadedTable


@pytest.fixture(scope="session")
def cdnow_dir() -> Path:
    """``lifetimes/datasets`` located without importing lifetimes (a dev-extra dependency)."""
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or spec.origin is None:
        if os.environ.get("CI"):
            pytest.fail("the dev extra must install lifetimes (CDNOW known-answer data)")
        pytest.skip("lifetimes is not installed: pip install -e '.[dev]'")
    return Path(spec.origin).parent / "datasets"


@pytest.fixture(scope="session")
def cdnow_transactions(cdnow_dir: Path) -> pl.DataFrame:
    """CDNOW_sample.txt (2,357 customers, 1997-01 .. 1998-06) as canonical-ish transactions."""
    rows = [line.split() for line in (cdnow_dir / "CDNOW_sample.txt").read_text().splitlines()]
    rows = [r for r in rows if r]
    return pl.DataFrame(
        {
            "customer_id": [str(int(r[1])) for r in rows],
            "order_id": [f"{r[1]}-{i}" for i, r in enumerate(rows)],
            "timestamp": [dt.datetime.strptime(r[2], "%Y%m%d") for r in rows],
            "amount": [float(r[4]) for r in rows],
        }
    )


@pytest.fixture(scope="session")
def online_retail_tx(online_retail_loaded: LoadedTable) -> pl.DataFrame:
    """UCI Online Retail as canonical transactions (customers with an id only)."""
    return online_retail_loaded.table
