"""RFM scores and segment names: known answers on hand-built tables, map validation."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from sklearn.exceptions import NotFittedError

from seglens.errors import DataError, UsageError
from seglens.segmenters import RFMSegmenter, SegmentMap

# customer, days since last purchase, orders, spend -> expected R, F, M, segment
# cut points: recency 30/90/180/365 days, orders 1/2/4/8, spend 100/250/500/1000
CASES = [
    ("a", 10, 12, 2000.0, 5, 5, 5, "Champions"),
    ("b", 60, 6, 800.0, 4, 4, 4, "Loyal"),
    ("c", 20, 3, 300.0, 5, 3, 3, "Potential loyalists"),
    ("d", 5, 1, 50.0, 5, 1, 1, "New customers"),
    ("e", 45, 1, 90.0, 4, 1, 1, "Promising"),
    ("f", 120, 3, 400.0, 3, 3, 3, "Need attention"),
    ("g", 150, 2, 150.0, 3, 2, 2, "About to sleep"),
    ("h", 300, 4, 600.0, 2, 3, 4, "At risk"),
    ("i", 400, 10, 3000.0, 1, 5, 5, "Can't lose them"),
    ("j", 250, 2, 80.0, 2, 2, 1, "Hibernating"),
    ("k", 500, 1, 30.0, 1, 1, 1, "Lost"),
    # values equal to a cut point fall in the lower bin (right-closed)
    ("l", 30, 1, 100.0, 5, 1, 1, "New customers"),
    ("m", 90, 2, 250.0, 4, 2, 2, "Potential loyalists"),
]
CUTS = {
    "recency": [30, 90, 180, 365],
    "frequency": [1, 2, 4, 8],
    "monetary": [100, 250, 500, 1000],
}


def _table(cases: list[tuple[object, ...]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "customer_id": [c[0] for c in cases],
            "days_since_last_purchase": [c[1] for c in cases],
            "n_orders": [c[2] for c in cases],
            "total_spend": [c[3] for c in cases],
        }
    )


def test_scores_and_names_with_given_cut_points() -> None:
    df = _table(CASES)
    out = RFMSegmenter(cut_points=CUTS).fit(df).assign(df)
    expected = pl.DataFrame(
        {
            "customer_id": [c[0] for c in CASES],
            "segment": [c[7] for c in CASES],
            "r_score": [c[4] for c in CASES],
            "f_score": [c[5] for c in CASES],
            "m_score": [c[6] for c in CASES],
            "rfm_code": [f"{c[4]}{c[5]}{c[6]}" for c in CASES],
        },
        schema_overrides={"r_score": pl.Int8, "f_score": pl.Int8, "m_score": pl.Int8},
    )
    assert_frame_equal(out.select(expected.columns), expected)
    assert set(out["segment"]) == set(SegmentMap.default().names)  # every segment reached


def test_quantile_cut_points_known_answer() -> None:
    # recency quantiles (linear) of these 10 values at 0.2/0.4/0.6/0.8: 27, 54, 102, 198
    df = _table(
        [
            (f"c{i}", d, o, s, 0, 0, 0, "")
            for i, (d, o, s) in enumerate(
                zip(
                    [5, 15, 30, 45, 60, 90, 120, 180, 270, 365],
                    [20, 12, 9, 7, 5, 4, 3, 2, 1, 1],
                    [5000, 2500, 1200, 900, 600, 400, 250, 120, 60, 20],
                    strict=True,
                )
            )
        ]
    )
    seg = RFMSegmenter().fit(df)
    assert seg.edges_["recency"] == pytest.approx([27, 54, 102, 198])
    assert seg.edges_["frequency"] == pytest.approx([1.8, 3.6, 5.8, 9.6])
    assert seg.edges_["monetary"] == pytest.approx([108, 340, 720, 1460])
    out = seg.assign(df)
    codes = ["555", "555", "444", "444", "333", "333", "222", "222", "111", "111"]
    assert out["rfm_code"].to_list() == codes
    assert out["segment"].to_list() == [
        "Champions",
        "Champions",
        "Loyal",
        "Loyal",
        "Need attention",
        "Need attention",
        "Hibernating",
        "Hibernating",
        "Lost",
        "Lost",
    ]
    # new customers are scored with the learned cut points
    new = _table([("n", 26, 10, 1461.0, 0, 0, 0, "")])
    assert seg.assign(new)["rfm_code"].item() == "555"


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.integers(0, 30), min_size=5, max_size=40),
    st.randoms(use_true_random=False),
)
def test_ties_get_equal_scores_whatever_the_row_order(values: list[int], rnd: object) -> None:
    n = len(values)
    df = pl.DataFrame(
        {
            "customer_id": [str(i) for i in range(n)],
            "days_since_last_purchase": values,
            "n_orders": values,
            "total_spend": [float(v) for v in values],
        }
    )
    perm = list(range(n))
    rnd.shuffle(perm)  # type: ignore[attr-defined]
    a = RFMSegmenter().fit(df).assign(df).with_columns(v=pl.Series(values))
    b = RFMSegmenter().fit(df[perm]).assign(df[perm])
    assert_frame_equal(a.drop("v").sort("customer_id"), b.sort("customer_id"))
    by_value = a.group_by("v").agg(pl.col("f_score", "r_score", "m_score").n_unique())
    assert by_value.select(pl.max_horizontal(pl.all().exclude("v")).max()).item() == 1
    # higher value -> score never lower (frequency), never higher (recency)
    s = a.sort("v")
    assert (np.diff(s["f_score"].to_numpy()) >= 0).all()
    assert (np.diff(s["r_score"].to_numpy()) <= 0).all()


def test_three_bins_spread_over_the_default_map() -> None:
    df = _table([("a", 5, 12, 900.0, 0, 0, 0, ""), ("b", 200, 3, 150.0, 0, 0, 0, "")])
    df = pl.concat([df, _table([("c", 400, 1, 20.0, 0, 0, 0, "")])])
    out = RFMSegmenter(n_bins=3).fit(df).assign(df)
    assert out["segment"].to_list() == ["Champions", "Need attention", "Lost"]


def test_default_map_has_no_gaps_or_overlaps() -> None:
    smap = SegmentMap.default()
    assert len(smap.segments) == 11
    for r, f, m in smap.combinations():
        hits = [s.name for s in smap.segments if s.matches(r, f, m)]
        assert len(hits) == 1, (r, f, m, hits)
    # the lookup table agrees with the boxes and uses every segment
    table = smap.lookup_table()
    assert set(np.unique(table).tolist()) == set(range(11))


BROKEN = """
scale = 3
[[segments]]
name = "Best"
when = [{ r = [2, 3], fm = [2, 3] }]
[[segments]]
name = "Recent"
when = [{ r = 3, fm = [1, 2] }]
[[segments]]
name = "Rest"
when = [{ r = 1 }]
"""


def test_broken_map_lists_the_offending_combinations(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(BROKEN)
    with pytest.raises(DataError) as err:
        SegmentMap.from_toml(path)
    text = str(err.value)
    assert str(path) in text
    assert "1 score combination(s) map to no segment:\n  R=2 FM=1" in text
    assert "1 score combination(s) map to more than one segment:" in text
    assert "R=3 FM=2 -> Best, Recent" in text
    assert err.value.values == ("R=2 FM=1", "R=3 FM=2")


@pytest.mark.parametrize(
    ("segments", "message"),
    [
        ('[[segments]]\nname = "A"\nwhen = [{ x = 1 }]', "unknown score(s) x"),
        ('[[segments]]\nname = "A"\nwhen = [{ r = [0, 3] }]', "outside 1-3"),
        ('[[segments]]\nname = "A"\nwhen = [{ r = "high" }]', "must be a score or a [low, high]"),
        ("[[segments]]\nwhen = [{ r = 1 }]", "needs a non-empty `name`"),
        ('[[segments]]\nname = "A"\nwhen = [{ r = [1, 3] }]\n' * 2, "duplicate segment names"),
        ("scale = 3\n[[segments", "not valid TOML"),
    ],
)
def test_malformed_map_is_refused(tmp_path: Path, segments: str, message: str) -> None:
    path = tmp_path / "m.toml"
    path.write_text(segments if segments.startswith("scale") else "scale = 3\n" + segments)
    with pytest.raises(DataError, match=None) as err:
        SegmentMap.from_toml(path)
    assert message in str(err.value)


def test_custom_map_from_toml_replaces_the_default(tmp_path: Path) -> None:
    path = tmp_path / "three.toml"
    path.write_text(
        "scale = 3\n"
        '[[segments]]\nname = "VIP"\nwhen = [{ r = [2, 3], fm = 3 }]\n'
        '[[segments]]\nname = "Active"\nwhen = [{ r = [2, 3], fm = [1, 2] }]\n'
        '[[segments]]\nname = "Dormant"\nwhen = [{ r = 1 }]\n'
    )
    df = _table([("a", 5, 12, 900.0, 0, 0, 0, ""), ("b", 200, 3, 150.0, 0, 0, 0, "")])
    df = pl.concat([df, _table([("c", 400, 1, 20.0, 0, 0, 0, "")])])
    seg = RFMSegmenter(n_bins=3, segment_map=path).fit(df)
    assert seg.segment_names_ == ["VIP", "Active", "Dormant"]
    assert seg.assign(df)["segment"].to_list() == ["VIP", "Active", "Dormant"]
    with pytest.raises(UsageError, match="1-3 scale but n_bins is 5"):
        RFMSegmenter(segment_map=path).fit(df)
    # the map round-trips through TOML text
    assert SegmentMap.from_dict(__import__("tomllib").loads(seg.segment_map_.to_toml())) == (
        SegmentMap.from_toml(path).__class__(3, seg.segment_map_.segments, "<dict>")
    )


def test_user_errors_are_clear() -> None:
    df = _table(CASES)
    with pytest.raises(DataError, match="needs the column"):
        RFMSegmenter(recency="recency_days").fit(df)
    with pytest.raises(UsageError, match="3 strictly increasing"):
        RFMSegmenter(n_bins=4, cut_points={"recency": [30, 90]}).fit(df)
    with pytest.raises(UsageError, match="unknown cut_points key"):
        RFMSegmenter(cut_points={"loyalty": [1, 2, 3, 4]}).fit(df)
    bad = df.with_columns(
        pl.when(pl.col("customer_id") == "c")
        .then(None)
        .otherwise(pl.col("total_spend"))
        .alias("total_spend")
    )
    with pytest.raises(DataError, match="missing or infinite") as err:
        RFMSegmenter().fit(bad)
    assert err.value.lines == (4,)
    with pytest.raises(NotFittedError):
        RFMSegmenter().predict(df)


def test_score_rules_are_filters_on_the_columns() -> None:
    seg = RFMSegmenter(cut_points=CUTS).fit(_table(CASES))
    rules = {(r["dimension"], r["score"]): r["rule"] for r in seg.score_rules()}
    assert rules[("recency", 5)] == "days_since_last_purchase <= 30"
    assert rules[("recency", 1)] == "days_since_last_purchase > 365"
    assert rules[("monetary", 3)] == "total_spend > 250 and total_spend <= 500"
