"""One RFM definition behind the impact figures; retention counts segments at the window's start.

The default segments of ``clv``, ``economics``, ``forecast`` and ``discover`` are
``RFMSegmenter`` fitted on ``customer_features`` at the same date, and retention/churn per
segment takes each customer's segment as of the day before its window starts.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from seglens.cli import app
from seglens.features import customer_features
from seglens.impact._inputs import DISCOVER_COLUMNS, customer_table, rfm_assignments, rfm_segments
from seglens.impact.economics import segment_retention
from seglens.impact.overlooked import discover_segments
from seglens.io import load_transactions
from seglens.segmenters import RFMSegmenter

SAMPLE = (
    Path(__file__).resolve().parents[2] / "src" / "seglens" / "data" / "online_retail_sample.csv.gz"
)

# Fixed cut points, so every score below is checkable by hand (bins are right-closed):
# recency <= 10 days R5, <= 30 R4, <= 60 R3, <= 120 R2, else R1;
# orders 1 F1, 2 F2, 3 F3, 4 F4, 5+ F5; spend <= 50 M1, <= 100 M2, <= 200 M3, <= 400 M4, else M5.
CUTS = RFMSegmenter(
    cut_points={
        "recency": [10, 30, 60, 120],
        "frequency": [1, 2, 3, 4],
        "monetary": [50, 100, 200, 400],
    }
)
_LINES = [
    # Loyal on 31 March (40 days, 5 orders, 500: R3 F5 M5) and buys in the window
    ("loyal_buys", ["2023-11-01", "2023-12-01", "2024-01-10", "2024-02-01", "2024-02-20"], 100.0),
    ("loyal_buys", ["2024-06-25"], 100.0),
    # Loyal on 31 March (50 days, 5 orders, 500: R3 F5 M5), no purchase in the window
    ("loyal_lapses", ["2023-10-01", "2023-11-01", "2023-12-01", "2024-01-15", "2024-02-10"], 100.0),
    # Champions on 31 March (6 days, 5 orders, 500: R5 F5 M5), no purchase in the window
    ("champ_lapses", ["2024-01-05", "2024-02-05", "2024-03-05", "2024-03-20", "2024-03-25"], 100.0),
    # New customers on 31 March (1 day, 1 order, 20: R5 F1 M1), no purchase in the window
    ("new_lapses", ["2024-03-30"], 20.0),
    # Promising on 31 March (16 days, 1 order, 30: R4 F1 M1), buys in the window
    ("promising_buys", ["2024-03-15", "2024-05-20"], 30.0),
    # Hibernating on 31 March (304 days: R1 F1 M2), buys in the window but not in the base quarter
    ("dormant", ["2023-06-01", "2024-05-01"], 100.0),
    # first purchase inside the window: not a customer at its start
    ("window_new", ["2024-04-15"], 100.0),
]  # fmt: skip
_ROWS = [(cid, day, amount) for cid, days, amount in _LINES for day in days]
TX = pl.DataFrame(
    {
        "customer_id": [r[0] for r in _ROWS],
        "order_id": [str(i) for i in range(len(_ROWS))],  # one order per line
        "timestamp": [dt.datetime.fromisoformat(r[1]) for r in _ROWS],
        "amount": [r[2] for r in _ROWS],
    }
)
AS_OF = dt.date(2024, 6, 30)  # window 2024Q2, base 2024Q1, segments as of 2024-03-31


def _rows(frame: pl.DataFrame) -> dict[str, dict[str, object]]:
    return {str(r["segment"]): r for r in frame.iter_rows(named=True)}


def test_segments_at_window_start_known_answer() -> None:
    r = segment_retention(TX, as_of=AS_OF, segmenter=CUTS)
    got = {s: (row["base_customers"], row["retained"]) for s, row in _rows(r).items()}
    # base = bought in 2024Q1; dormant (no Q1 purchase) and window_new are not in it
    assert got == {
        "(all)": (5, 2),
        "Champions": (1, 0),
        "Loyal": (2, 1),
        "New customers": (1, 0),
        "Promising": (1, 1),
    }
    loyal = _rows(r)["Loyal"]
    assert loyal["retention"] == 0.5 and loyal["churn"] == 0.5
    assert loyal["retention_low"] < 0.5 < loyal["retention_high"]  # type: ignore[operator]
    assert _rows(r)["(all)"]["retention"] == pytest.approx(2 / 5)
    assert set(r["segments_as_of"]) == {dt.date(2024, 3, 31)}
    assert set(r["base_period"]) == {dt.date(2024, 1, 1)}
    assert set(r["next_period"]) == {dt.date(2024, 4, 1)}


def test_segments_at_window_end_would_leak_the_outcome() -> None:
    """The old way: segments as of the window's end, decided partly by the window's purchases."""
    at_end = rfm_assignments(customer_table(TX, as_of=AS_OF, feature_set="rfm"), segmenter=CUTS)
    r = segment_retention(TX, at_end, as_of=AS_OF)
    got = {s: (row["base_customers"], row["retained"]) for s, row in _rows(r).items()}
    # loyal_buys became a Champion by buying in June, the lapsed Loyal/Champion slid to
    # "Can't lose them": no Loyal row at all, and Champions "retain" 100 %
    assert "Loyal" not in got
    assert got["Champions"] == (1, 1)
    assert got["Can't lose them"] == (2, 0)
    assert got["(all)"] == (5, 2)  # the overall figure does not depend on segments
    assert r["segments_as_of"].null_count() == r.height  # given assignments: date unknown


def test_default_segments_are_rfm_on_features_at_window_start() -> None:
    start = dt.date(2024, 3, 31)
    feats = customer_features(TX, as_of=start).table
    want = RFMSegmenter().fit(feats).assign(feats).select("customer_id", "segment")
    assert_frame_equal(rfm_segments(TX, as_of=start), want)
    assert_frame_equal(
        segment_retention(TX, as_of=AS_OF).drop("segments_as_of"),
        segment_retention(TX, want, as_of=AS_OF).drop("segments_as_of"),
    )


def test_retention_with_source_column_names() -> None:
    renamed = TX.rename({"customer_id": "cust", "timestamp": "when"})
    r = segment_retention(
        renamed, as_of=AS_OF, segmenter=CUTS, customer_col="cust", time_col="when"
    )
    assert_frame_equal(r, segment_retention(TX, as_of=AS_OF, segmenter=CUTS))


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


def test_economics_retention_is_rfm_at_its_window_start(
    sample: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame],
) -> None:
    """Recomputed from scratch: RFMSegmenter on the features as of the day before the window."""
    tx = sample[0]
    eco = _json("economics", str(SAMPLE), "--period", "quarter")
    ret = {r["segment"]: r for r in eco["retention"]}  # type: ignore[attr-defined]
    window = dt.date.fromisoformat(ret["(all)"]["next_period"])
    base_start = dt.date.fromisoformat(ret["(all)"]["base_period"])
    start = window - dt.timedelta(days=1)
    assert ret["(all)"]["segments_as_of"] == start.isoformat()
    assert (window, base_start) == (dt.date(2011, 7, 1), dt.date(2011, 4, 1))  # last day 12-08
    feats = customer_features(tx, as_of=start).table
    seg = RFMSegmenter().fit(feats).assign(feats).select("customer_id", "segment")
    day = pl.col("timestamp").cast(pl.Date)
    base = tx.filter(day >= base_start, day < window)["customer_id"].unique()
    kept = tx.filter(day >= window, day < dt.date(2011, 10, 1))["customer_id"].unique()
    want = (
        seg.filter(pl.col("customer_id").is_in(base.implode()))
        .group_by("segment")
        .agg(pl.len(), pl.col("customer_id").is_in(kept.implode()).sum())
    )
    expected = {s: (n, int(k)) for s, n, k in want.iter_rows()}
    got = {s: (r["base_customers"], r["retained"]) for s, r in ret.items() if s != "(all)"}
    assert got == expected
    assert "segments as of 2011-06-30" in str(eco["retention_segments"])


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


def test_economics_with_a_segments_file_uses_it_as_given(
    sample: tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame], tmp_path: Path
) -> None:
    _, _, seg = sample
    path = tmp_path / "seg.csv"
    seg.write_csv(path)
    eco = _json("economics", str(SAMPLE), "--segments", str(path))
    assert eco["segments_from"] == str(path)
    assert "used as given" in str(eco["retention_segments"])
    assert all(r["segments_as_of"] is None for r in eco["retention"])  # type: ignore[attr-defined]
