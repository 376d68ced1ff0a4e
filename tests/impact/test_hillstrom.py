"""Real data: the Hillstrom randomized e-mail test (64,000 customers)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest

from seglens.impact.lift import arm_rates, campaign_lift

PUBLISHED = {"No E-Mail": 0.106, "Womens E-Mail": 0.151, "Mens E-Mail": 0.183}


@pytest.fixture(scope="module")
def hillstrom(shared_data: Path) -> pl.DataFrame:
    return pl.read_csv(
        shared_data / "hillstrom-email" / "hillstrom.csv.gz",
        schema_overrides={"history": pl.Float64, "spend": pl.Float64},
    ).rename({"segment": "arm"})


def test_arm_visit_rates_match_published(hillstrom: pl.DataFrame) -> None:
    rates = arm_rates(hillstrom, arm_col="arm", response_col="visit")
    assert rates["n"].sum() == 64_000
    for arm, want in PUBLISHED.items():
        row = rates.filter(pl.col("arm") == arm).row(0, named=True)
        assert abs(row["rate"] - want) <= 0.002, (arm, row["rate"])
        assert row["rate_low"] < row["rate"] < row["rate_high"]


def _kmeans_segments(frame: pl.DataFrame, k: int = 4) -> pl.Series:
    """A segmentation of the customers on their pre-period fields (k-means, standardized)."""
    from sklearn.cluster import KMeans

    x = np.column_stack(
        [
            frame["recency"].to_numpy().astype(float),
            np.log1p(frame["history"].to_numpy()),
            frame["newbie"].to_numpy().astype(float),
        ]
    )
    x = (x - x.mean(axis=0)) / x.std(axis=0)
    labels = KMeans(n_clusters=k, n_init=4, random_state=0).fit_predict(x)
    return pl.Series("segment", [f"cluster {int(c)}" for c in labels])


def test_lift_per_segment_with_ci(hillstrom: pl.DataFrame) -> None:
    data = hillstrom.with_columns(_kmeans_segments(hillstrom))
    lift = campaign_lift(
        data, arm_col="arm", control="No E-Mail", response_col="visit", spend_col="spend"
    )
    segs = sorted(set(lift["segment"].to_list()) - {"(all)"})
    assert len(segs) == 4
    assert lift.height == 2 * 5
    # every row has a proper interval around its estimate
    assert (lift["lift_low"] <= lift["lift"]).all() and (lift["lift"] <= lift["lift_high"]).all()
    overall = lift.filter(pl.col("segment") == "(all)").sort("arm")
    mens, womens = overall.row(0, named=True), overall.row(1, named=True)
    assert mens["lift"] == pytest.approx(0.183 - 0.106, abs=0.003)
    assert womens["lift"] == pytest.approx(0.151 - 0.106, abs=0.003)
    # per-segment n adds up to the whole test
    per_seg = lift.filter((pl.col("segment") != "(all)") & (pl.col("arm") == "Mens E-Mail"))
    assert int(per_seg["n_treated"].sum()) == mens["n_treated"]
    # the e-mail works in every segment: no segment's interval lies wholly below zero
    assert (lift["lift_high"] > 0).all()
