"""The public surface is deliberate: this test pins ``seglens.__all__``."""

from __future__ import annotations

import subprocess
import sys

import pytest

import seglens

EXPECTED = {
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
}


def test_public_api_is_pinned() -> None:
    assert set(seglens.__all__) == EXPECTED
    for name in seglens.__all__:
        assert getattr(seglens, name) is not None, name


def test_unknown_attribute_raises() -> None:
    with pytest.raises(AttributeError, match="no_such_thing"):
        _ = seglens.no_such_thing  # type: ignore[attr-defined]


def test_import_seglens_stays_light() -> None:
    """``import seglens`` must not pull in the heavy numeric stack (CLI start-up time)."""
    code = (
        "import sys, seglens; "
        "heavy = [m for m in ('sklearn', 'scipy', 'polars', 'pandas', 'sqlalchemy') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
