"""Overlooked segments: a hidden group is found; the stated change in nearest-centre fit
agreement (not the accuracy KPI) holds when adopted."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl
import pytest

from seglens.errors import DataError
from seglens.impact._inputs import DISCOVER_COLUMNS, customer_table, rfm_segments
from seglens.impact.overlooked import Proposal, adopt, discover_segments, fit_accuracy


def _blobs(seed: int = 0) -> tuple[pl.DataFrame, pl.DataFrame]:
    rng = np.random.default_rng(seed)
    centres = {"A": (0.0, 0.0), "B": (6.0, 0.0), "hidden": (3.0, 8.0)}
    rows = []
    for name, (cx, cy) in centres.items():
        for i in range(150):
            rows.append((f"{name}{i}", cx + rng.normal(), cy + rng.normal(), name))
    f = pl.DataFrame(rows, schema=["customer_id", "x", "y", "truth"], orient="row")
    # the current segmentation knows A and B; the hidden group sits in the catch-all "Others",
    # together with a slice of A
    seg = f.select(
        "customer_id",
        pl.when(
            (pl.col("truth") == "hidden")
            | ((pl.col("truth") == "A") & pl.col("customer_id").str.contains(r"^A\d$|^A[1-5]\d$"))
        )
        .then(pl.lit("Others"))
        .otherwise(pl.col("truth"))
        .alias("segment"),
    )
    return f.with_columns(pl.col("x").abs().alias("spend")), seg


def _independent_adopt(features: pl.DataFrame, seg: pl.DataFrame, p: Proposal) -> list[str]:
    """Adopt a proposal from its published conditions, without the library's adopt()."""
    d = features.join(seg, on="customer_id").with_columns(pl.lit(True).alias("_m"))
    for c in p.to_dict()["conditions"]:  # type: ignore[attr-defined]
        col = pl.col(c["feature"])
        d = d.with_columns(
            pl.col("_m") & ((col <= c["threshold"]) if c["op"] == "<=" else (col > c["threshold"]))
        )
    d = d.with_columns(pl.col("_m") & pl.col("customer_id").is_in(list(p.eligible)))
    return d.select(pl.when("_m").then(pl.lit(p.name)).otherwise("segment")).to_series().to_list()


def test_finds_the_hidden_group() -> None:
    f, seg = _blobs()
    props = discover_segments(f, seg, columns=["x", "y"], revenue_col="spend", min_size=20)
    assert props
    data = f.join(seg, on="customer_id")
    hidden = set(f.filter(pl.col("truth") == "hidden")["customer_id"].to_list())

    def overlap(p: Proposal) -> tuple[float, float]:
        moved = np.array(adopt(data, data["segment"], p)) == p.name
        members = set(data.filter(pl.Series(moved))["customer_id"].to_list())
        return len(members & hidden) / len(hidden), len(members & hidden) / len(members)

    # one of the proposals is the hidden group, nearly exactly (a depth-2 rule)
    found = [p for p in props if overlap(p)[0] > 0.85 and overlap(p)[1] > 0.95]
    assert found
    assert found[0].from_segments == {"Others": found[0].size}
    # the best proposal gains fit agreement, and says that it is not the KPI
    assert props[0].fit_agreement_change > 0
    d = props[0].to_dict()
    assert d["fit_measure"] == "nearest-centre fit agreement (not the segmentation accuracy KPI)"
    assert not [k for k in d if "accuracy" in k]


def test_fit_accuracy_hand_computed() -> None:
    f = pl.DataFrame({"x": [0.0, 0.1, 0.2, 5.0, 5.1, 0.3]})
    a = fit_accuracy(f, ["a", "a", "a", "b", "b", "b"], columns=["x"])
    # b's centre is 3.47: 0.3 is nearer a's centre (0.1) -> 5 of 6 customers fit
    assert a.customer.value_pct == pytest.approx(100 * 5 / 6)
    assert a.per_segment == {"a": 1.0, "b": pytest.approx(2 / 3)}
    assert a.segment.value_pct == 50.0


def test_too_few_customers() -> None:
    f = pl.DataFrame({"customer_id": ["1", "2"], "x": [1.0, 2.0]})
    s = pl.DataFrame({"customer_id": ["1", "2"], "segment": ["a", "b"]})
    with pytest.raises(DataError, match="too few"):
        discover_segments(f, s, columns=["x"])


@pytest.mark.slow
def test_online_retail_proposal_adopted(online_retail_tx: pl.DataFrame) -> None:
    as_of = dt.date(2011, 12, 9)
    feats = customer_table(online_retail_tx, as_of=as_of)
    seg = rfm_segments(online_retail_tx, as_of=as_of)
    cols = list(DISCOVER_COLUMNS)
    props = discover_segments(feats, seg, columns=cols, revenue_col="total_spend")
    assert props, "at least one candidate segment"
    p = props[0]
    assert p.size >= 20 and p.revenue > 0 and 0 < p.revenue_share < 1
    assert set(p.profile) == set(cols)
    # adopt it from the published rule and recompute both fit agreements from scratch
    data = feats.join(seg, on="customer_id")
    new = _independent_adopt(feats, seg, p)
    assert sum(s == p.name for s in new) == p.size
    before = fit_accuracy(data, data["segment"], columns=cols)
    after = fit_accuracy(data, new, columns=cols)
    assert after.customer.value_pct - before.customer.value_pct == pytest.approx(
        p.fit_agreement_change
    )
    assert after.segment.value_pct - before.segment.value_pct == pytest.approx(
        p.segment_fit_agreement_change
    )
    assert p.fit_agreement_change > 0
