"""UCI Online Retail: RFM segments, profiles and CRM rules print readably, fidelity reported."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from seglens.cli import app
from seglens.io import LoadedTable
from seglens.segmenters import RFMSegmenter, SegmentMap
from seglens.segmenters.profiles import profile_segments

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def retail_features(online_retail_loaded: LoadedTable) -> pl.DataFrame:
    from seglens.features import customer_features

    return customer_features(online_retail_loaded.table, feature_set="all").table


def test_rfm_profiles_and_rules(retail_features: pl.DataFrame) -> None:
    f = retail_features
    seg = RFMSegmenter().fit(f)
    out = seg.assign(f)
    assert out.height == f.height > 4000
    assert set(out["segment"]) == set(SegmentMap.default().names)
    prof = profile_segments(f, out)
    assert prof.rule_depth == 4  # 11 segments need more than the 8 leaves of depth 3
    assert 0.6 <= prof.rule_fidelity <= 1.0
    assert sum(p.size for p in prof.profiles) == f.height
    assert sum(p.revenue_share or 0 for p in prof.profiles) == pytest.approx(1.0)
    champions = prof["Champions"]
    # Champions are recent, frequent, big spenders: the profile says so in numbers
    top = {d.feature: d for d in champions.distinguishing}
    assert top["n_orders"].effect_size > 0.5 or top["total_spend"].effect_size > 0.5
    assert (
        champions.medians["days_since_last_purchase"]
        < prof["Lost"].medians["days_since_last_purchase"]
    )
    assert champions.revenue_share is not None and champions.revenue_share > champions.share
    assert "days_since_last_purchase" in champions.rule


def test_profile_command_prints_readably(tmp_path: Path, retail_features: pl.DataFrame) -> None:
    feats = tmp_path / "features.parquet"
    retail_features.write_parquet(feats)
    segs = tmp_path / "segments.parquet"
    runner = CliRunner()
    res = runner.invoke(app, ["segment", str(feats), "--method", "rfm", "-o", str(segs)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["profile", str(feats), str(segs)])
    assert res.exit_code == 0, res.output
    text = res.output
    for name in SegmentMap.default().names:
        assert name in text
    assert "rule:" in text and "Rule fidelity:" in text
    assert "effect size d" in text
    # piped (not a terminal): plain lines, nothing wrapped mid-word or cut with an ellipsis
    assert "…" not in text
