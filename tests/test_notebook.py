"""Notebook conventions (issue 21): results feed each other, render as HTML, and score."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sklearn.model_selection import GridSearchCV

from seglens.accuracy import accuracy_report, customer_accuracy
from seglens.audit import plan_audit
from seglens.errors import UsageError
from seglens.features import customer_features
from seglens.io import load_transactions
from seglens.report import ReviewSnapshot, SegmentStat
from seglens.segmenters import GaussianMixtureSegmenter, KMeansSegmenter, RFMSegmenter
from seglens.stats import Estimate

EVIL = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture
def tx_path(tmp_path: Path) -> Path:
    path = tmp_path / "<script>.csv"
    path.write_text(
        "customer_id,order_id,timestamp,amount\n"
        "a,1,2024-01-01,10\n"
        "a,2,2024-01-11,30\n"
        "b,3,2024-01-05,5\n"
        ",4,2024-01-07,12\n",
        encoding="utf-8",
    )
    return path


def test_customer_features_takes_a_loaded_table(tx_path: Path) -> None:
    loaded = load_transactions(tx_path)
    got = customer_features(loaded, as_of="2024-01-31")
    want = customer_features(loaded.table, as_of="2024-01-31")
    assert_frame_equal(got.table, want.table)
    assert got.as_of == want.as_of


def test_customers_may_be_a_loaded_table(tx_path: Path, tmp_path: Path) -> None:
    from seglens.io import load_table
    from seglens.tables import CUSTOMERS

    customers = tmp_path / "customers.csv"
    customers.write_text("customer_id,age\na,40\nb,30\n", encoding="utf-8")
    loaded = load_table(customers, CUSTOMERS)
    got = customer_features(load_transactions(tx_path), customers=loaded)
    assert got.table.get_column("age").to_list() == [40.0, 30.0]


def _assert_safe(html: str, escaped: str = ESCAPED) -> None:
    assert "<script>" not in html
    assert escaped in html


def test_loaded_table_html(tx_path: Path) -> None:
    html = load_transactions(tx_path)._repr_html_()
    assert "3 rows kept of 4 read" in html
    assert "missing_customer_id" in html
    _assert_safe(html, "&lt;script&gt;.csv")


def test_feature_table_html() -> None:
    lines = pl.DataFrame(
        {
            "customer_id": [EVIL, "b"],
            "order_id": ["1", "2"],
            "timestamp": pl.Series(["2024-01-01", "2024-01-05"]).str.to_datetime(),
            "amount": [10.0, 5.0],
        }
    )
    html = customer_features(lines, feature_set="lifetimes")._repr_html_()
    assert "2 customers" in html
    assert "monetary_value" in html
    _assert_safe(html)


def test_accuracy_report_html() -> None:
    y_true = ["x"] * 40 + ["y"] * 40
    y_pred = [EVIL] * 36 + ["b"] * 4 + ["b"] * 38 + [EVIL] * 2
    rep = accuracy_report(y_true, y_pred, match="names", n_permutations=0)
    html = rep._repr_html_()
    acc = rep.accuracy
    assert f"n=80, 95 % CI {acc.ci_low_pct:.1f}–{acc.ci_high_pct:.1f}" in html
    assert acc.method in html
    seg = next(r for r in rep.per_segment if r.segment == EVIL)
    assert f"{seg.precision.ci_low_pct:.1f}–{seg.precision.ci_high_pct:.1f}" in html
    _assert_safe(html)


def test_audit_plan_html() -> None:
    plan = plan_audit({EVIL: 600, "b": 400}, margin_pct=5.0)
    html = plan._repr_html_()
    assert f"{plan.total:,} of 1,000 customers" in html
    assert f"±{plan.expected_margin_pct:.1f} pts at 95 %" in html
    assert "600" in html
    _assert_safe(html)


def test_review_snapshot_html() -> None:
    snap = ReviewSnapshot(
        period=EVIL,
        accuracy=Estimate.from_counts(90, 100),
        segments=(SegmentStat(EVIL, 60), SegmentStat("New", 40)),
    )
    html = snap._repr_html_()
    assert "90.0 % (n=100, 95 % CI 82.6–94.5)" in html
    assert "amber" in html
    _assert_safe(html)


def test_review_snapshot_html_unmeasured() -> None:
    snap = ReviewSnapshot("2011Q3", None, (SegmentStat("Loyal", 60),), method="unmeasured")
    assert "not measured (n = 0)" in snap._repr_html_()


def _blobs() -> tuple[np.ndarray, list[str]]:
    """Three separated groups of 30, rows shuffled so that every CV fold holds all three."""
    rng = np.random.default_rng(0)
    centres = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    x = np.vstack([c + rng.normal(size=(30, 2)) for c in centres])
    y = np.repeat(["new", "loyal", "lapsed"], 30)
    order = rng.permutation(len(y))
    return x[order], y[order].tolist()


@pytest.mark.parametrize(
    "seg",
    [
        KMeansSegmenter(n_clusters=3, random_state=0),
        GaussianMixtureSegmenter(n_components=3, random_state=0),
    ],
    ids=["kmeans", "gmm"],
)
def test_score_is_cross_fitted_accuracy(seg: KMeansSegmenter | GaussianMixtureSegmenter) -> None:
    x, y = _blobs()
    seg.fit(x)
    want = customer_accuracy(y, seg.predict(x), match="hungarian").value_pct / 100
    assert seg.score(x, y) == pytest.approx(want)
    assert seg.score(x, y) > 0.95


def test_rfm_score() -> None:
    df = pl.DataFrame(
        {
            "days_since_last_purchase": [5, 9, 400, 300] * 5,
            "n_orders": [12, 10, 1, 2] * 5,
            "total_spend": [900.0, 800.0, 20.0, 30.0] * 5,
        }
    )
    y = ["loyal", "loyal", "lapsed", "lapsed"] * 5
    assert RFMSegmenter(n_bins=2).fit(df).score(df, y) == 1.0


def test_score_needs_labels() -> None:
    x, _ = _blobs()
    with pytest.raises(UsageError, match="needs the labels"):
        KMeansSegmenter(n_clusters=3, random_state=0).fit(x).score(x, None)


def test_grid_search_without_a_custom_scorer() -> None:
    x, y = _blobs()
    grid = GridSearchCV(KMeansSegmenter(random_state=0), {"n_clusters": [2, 3]}, cv=3)
    grid.fit(x, y)
    assert grid.best_params_ == {"n_clusters": 3}
    assert grid.best_score_ > 0.95


def test_results_flow_into_the_accuracy_report_and_the_segmenters(
    tx_path: Path, tmp_path: Path
) -> None:
    """A loaded assignments table goes into the accuracy report; a feature table into a
    segmenter, as the frames inside them would."""
    from seglens.accuracy import accuracy_report_from_tables
    from seglens.io import load_table
    from seglens.tables import ASSIGNMENTS

    seg_file = tmp_path / "segments.csv"
    seg_file.write_text("customer_id,segment\na,x\nb,y\nc,x\nd,y\n", encoding="utf-8")
    loaded = load_table(seg_file, ASSIGNMENTS)
    labels = pl.DataFrame({"customer_id": ["a", "b", "c", "d"], "segment": ["x", "y", "y", "y"]})
    got = accuracy_report_from_tables(loaded, labels, match="names")
    want = accuracy_report_from_tables(loaded.table, labels, match="names")
    assert got.accuracy == want.accuracy and got.accuracy.n == 4
    features = customer_features(load_transactions(tx_path), as_of="2024-01-31")
    from_result = RFMSegmenter().fit(features).assign(features)
    from_frame = RFMSegmenter().fit(features.table).assign(features.table)
    assert_frame_equal(from_result, from_frame)
    kmeans = KMeansSegmenter(n_clusters=2, random_state=0)
    assert (
        kmeans.fit(features).predict(features).tolist()
        == kmeans.fit(features.table).predict(features.table).tolist()
    )
