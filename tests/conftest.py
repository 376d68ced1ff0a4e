"""Fixtures shared by the whole test suite."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from threadpoolctl import threadpool_limits

if TYPE_CHECKING:
    from seglens.io import LoadedTable

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True, scope="session")
def _one_native_thread_per_worker() -> Iterator[None]:
    """OpenMP/BLAS on one thread per test worker: pytest runs two workers on two cores, and
    oversubscribed native threads make small k-means fits many times slower."""
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path to ``../shared/data`` (real public datasets).

    Skipped with a reason when the folder is absent on a developer machine; in CI (``CI`` set)
    its absence is a failure, because the real-data tests must run there.
    """
    if not SHARED_DATA.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{SHARED_DATA} is missing: CI must run the real-data tests")
        pytest.skip(f"real datasets not available: {SHARED_DATA} does not exist")
    return SHARED_DATA


@pytest.fixture(scope="session")
def online_retail_csv(shared_data: Path) -> Path:
    """The UCI Online Retail file (541,909 invoice lines)."""
    return shared_data / "uci-online-retail" / "online_retail_2010-12-01_2011-12-09.csv.gz"


@pytest.fixture(scope="session")
def online_retail_loaded(online_retail_csv: Path) -> LoadedTable:
    """The raw Online Retail file loaded and cleaned with the default options, once per worker.

    Several areas (features, impact, segmenters, io, the Spark parity) need the same canonical
    table; each used to load the 541,909 lines itself (about 3 s each, more on a loaded
    machine). Treat it as read-only: the table is an immutable Polars frame, and no test may
    change the report.
    """
    from seglens.io import load_transactions

    return load_transactions(online_retail_csv)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep every Spark test on one xdist worker so a run starts a single JVM."""
    for item in items:
        if item.get_closest_marker("spark") is not None:
            item.add_marker(pytest.mark.xdist_group("spark"))


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One local Spark session for the whole run, shared by every area's Spark tests.

    Quiet, UTC, a private temp folder, and Python workers on this interpreter (settings from
    ``seglens.features.spark.spark_session``).
    """
    pytest.importorskip("pyspark")
    from seglens.features.spark import spark_session

    tmp = tmp_path_factory.mktemp("spark")
    session = spark_session(
        "local[2]",
        conf={
            "spark.driver.extraJavaOptions": f"-Djava.io.tmpdir={tmp} -XX:-UsePerfData",
            "spark.local.dir": str(tmp),
            "spark.sql.shuffle.partitions": "4",
        },
    )
    yield session
    session.stop()
