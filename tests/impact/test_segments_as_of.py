"""One RFM definition behind the impact figures.

The default segments of ``clv``, ``economics``, ``forecast`` and ``discover`` are
``RFMSegmenter`` fitted on ``customer_features`` at the same date.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from seglens.cli import app
from seglens.features import customer_features
from seglens.impact._inputs import DISCOVER_COLUMNS, customer_table, rfm_segments
from seglens.impact.overlooked import discover_segments
from seglens.io import load_transactions
from seglens.segmenters import RFMSegmenter

SAMPLE = (
    Path(__file__).resolve().parents[2] / "src" / "seglens" / "data" / "online_retail_sample.csv.gz"
)

# --- the commands: one definition of the default segments ------------------------------------

runner = CliRunner()


def _json(*args: str) -> dict[str, object]:
    res = runner.invoke(app, [*args, "--json"])
    assert res.exit_code == 0, res.output
    out: dict[str, object] = json.loads(res.stdout)
    return out


@pytest.fixture(scope="module")
def sample() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The sample's transactions, features and RFM segments as of its last day, built directly."""
    tx = load_transactions(SAMPLE).table
    end = tx["timestamp"].max().date()  # type: ignore[union-attr]
    feats = customer_features(tx, as_of=end).table
    seg = RFMSegmenter().fit(feats).assign(feats).select("customer_id", "segment")
    return tx, feats, seg


def test_rfm_segments_equal_the_segmenter_on_customer_features(
    sample: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame],
) -> None:
    tx, feats, seg = sample
    end = tx["timestamp"].max().date()  # type: ignore[union-attr]
    assert_frame_equal(rfm_segments(tx, as_of=end), seg)
    assert_frame_equal(customer_table(tx, as_of=end), feats)
    assert seg["segment"].n_unique() >= 5


def test_clv_and_economics_segments_are_the_rfm_segments(
    sample: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame],
) -> None:
    _, feats, seg = sample
    data = feats.join(seg, on="customer_id")
    sizes = dict(data.group_by("segment").len().iter_rows())
    revenue = dict(data.group_by("segment").agg(pl.col("total_spend").sum()).iter_rows())
    eco = _json("economics", str(SAMPLE))
    assert "RFMSegmenter" in str(eco["segments_from"])
    rows = {e["segment"]: e for e in eco["economics"]}  # type: ignore[attr-defined]
    assert {s: r["customers"] for s, r in rows.items()} == sizes
    for s, r in rows.items():
        assert r["revenue"] == pytest.approx(revenue[s])
    clv = _json("clv", str(SAMPLE), "--unit", "weeks")
    assert clv["segments_from"] == eco["segments_from"]
    got = {r["segment"]: r["customers"] for r in clv["segments"]}  # type: ignore[attr-defined]
    assert got.pop("(all)") == sum(sizes.values())
    assert got == sizes


def test_discover_uses_the_rfm_segments(
    sample: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame],
) -> None:
    """The command's proposals equal the library's on the directly built features and segments."""
    from seglens.cli.impact_cmd import _clean

    _, feats, seg = sample
    d = _json("discover", str(SAMPLE))
    assert "RFMSegmenter" in str(d["segments_from"])
    want = discover_segments(
        feats, seg, columns=list(DISCOVER_COLUMNS), revenue_col="total_spend", catch_all=["Others"]
    )
    assert want, "a candidate segment for the sample"
    assert d["proposals"] == json.loads(json.dumps(_clean([p.to_dict() for p in want])))
    for p in want:
        assert set(p.from_segments) <= set(seg["segment"])
        assert set(p.profile) == set(DISCOVER_COLUMNS)
