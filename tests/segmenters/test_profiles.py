"""Segment profiles: known answers on a hand-built table, rules, renaming."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from seglens.errors import DataError, UsageError
from seglens.segmenters.profiles import profile_segments

FEATURES = pl.DataFrame(
    {
        "customer_id": [f"c{i}" for i in range(8)],
        "n_orders": [1, 1, 2, 1, 9, 10, 12, 11],
        "total_spend": [50.0, 60.0, 40.0, 50.0, 50.0, 60.0, 40.0, 50.0],
        "region": ["n", "n", "n", "s", "s", "s", "s", "s"],
    }
)
LABELS = ["occasional"] * 4 + ["regular"] * 4


def test_known_answers() -> None:
    prof = profile_segments(FEATURES, LABELS, max_depth=2)
    reg, occ = prof["regular"], prof["occasional"]
    assert (reg.size, occ.size) == (4, 4)
    assert reg.share == occ.share == 0.5
    assert reg.revenue_share == pytest.approx(200 / 400)
    assert reg.medians == {"n_orders": 10.5, "total_spend": 50.0}
    assert occ.medians == {"n_orders": 1.0, "total_spend": 50.0}
    assert reg.modes == {"region": "s"} and occ.modes == {"region": "n"}
    # n_orders separates the two; spend does not (identical distributions)
    assert [d.feature for d in reg.distinguishing] == ["n_orders"]
    d = reg.distinguishing[0]
    assert d.effect_size > 2 and d.direction == "higher"
    assert (d.segment_median, d.rest_median) == (10.5, 1.0)
    assert occ.distinguishing[0].effect_size == pytest.approx(-d.effect_size)
    # an integer column gives whole-number conditions a CRM can paste into a filter
    assert reg.rule == "n_orders >= 6" and occ.rule == "n_orders <= 5"
    assert prof.rule_fidelity == 1.0
    assert (reg.rule_precision, reg.rule_recall) == (1.0, 1.0)
    assert reg.auto_name == "frequent buyers"
    assert occ.auto_name == "one-time buyers"


def test_rules_use_categories_when_they_separate() -> None:
    df = FEATURES.with_columns(pl.Series("n_orders", [3] * 8))
    prof = profile_segments(df, ["north"] * 3 + ["south"] * 5, max_depth=1)
    assert {prof["south"].rule, prof["north"].rule} in (
        {"region = 's'", "region != 's'"},
        {"region != 'n'", "region = 'n'"},
    )
    assert prof.rule_fidelity == 1.0


def test_segments_joined_by_customer_id_in_any_order() -> None:
    seg = pl.DataFrame({"customer_id": FEATURES["customer_id"][::-1], "segment": LABELS[::-1]})
    a = profile_segments(FEATURES, seg)
    b = profile_segments(FEATURES, LABELS)
    assert a.to_frame().equals(b.to_frame())
    with pytest.raises(DataError, match="2 customer"):
        profile_segments(FEATURES, seg.head(6))


def test_rename_and_export() -> None:
    prof = profile_segments(FEATURES, LABELS).rename({"regular": "VIP"})
    assert set(prof.segments) == {"VIP", "occasional"}
    frame = prof.to_frame()
    assert frame.columns[:5] == ["segment", "auto_name", "size", "share", "revenue_share"]
    assert prof.to_dict()["segments"][0]["segment"] in {"VIP", "occasional"}
    with pytest.raises(UsageError, match="no segment named"):
        prof.rename({"gold": "x"})
    with pytest.raises(UsageError, match="same name"):
        prof.rename({"VIP": "occasional"})


def test_tree_depth_grows_with_many_segments() -> None:
    rng = np.random.default_rng(0)
    n = 1100
    labels = np.repeat(np.arange(11), 100)
    df = pl.DataFrame(
        {"customer_id": [str(i) for i in range(n)], "x": labels + rng.uniform(0, 0.5, n)}
    )
    prof = profile_segments(df, [f"s{v:02d}" for v in labels])
    assert prof.rule_depth == 4
    assert prof.rule_fidelity > 0.9
