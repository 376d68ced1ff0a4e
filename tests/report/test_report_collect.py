"""collect_snapshot: from the accuracy engine's real results to the snapshot the review renders."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import pytest
from sklearn.cluster import KMeans

from seglens.accuracy import (
    accuracy_report_from_tables,
    bootstrap_stability,
    out_of_time_validity,
)
from seglens.errors import UsageError
from seglens.report import ATTRIBUTE_KEYS, compute_attributes, render_html
from seglens.report.collect import collect_snapshot, migration_table, segment_profiles
from seglens.report.diagnose import risks
from seglens.synthetic import make_population
from tests.report.label_free_checks import check_label_free_review


@pytest.fixture(scope="module")
def pop_run() -> dict[str, Any]:
    pop = make_population(1500, n_segments=3, separation=5.0, label_noise=0.05, seed=11)
    km = KMeans(3, n_init=3, random_state=0).fit(pop.features)
    seg = np.array([f"cluster {c}" for c in km.predict(pop.features)], dtype=object)
    seg_prev = np.array([f"cluster {c}" for c in km.predict(pop.holdout_features)], dtype=object)
    revenue = np.exp(pop.features[:, 1])
    assignments = pl.DataFrame(
        {"customer_id": pop.customer_id, "segment": seg, "revenue": revenue},
        schema={"customer_id": pl.String, "segment": pl.String, "revenue": pl.Float64},
    )
    previous = pl.DataFrame(
        {"customer_id": pop.customer_id, "segment": seg_prev},
        schema={"customer_id": pl.String, "segment": pl.String},
    )
    rng = np.random.default_rng(3)
    audit = rng.choice(pop.n_customers, size=400, replace=False)
    labels = pop.labels()[audit.tolist()]
    # Three labels for customers the segmentation does not know.
    labels = pl.concat(
        [
            labels,
            pl.DataFrame(
                {"customer_id": ["X1", "X2", "X3"], "segment": ["S1"] * 3, "source": ["sales"] * 3}
            ),
        ]
    )
    report = accuracy_report_from_tables(assignments, labels)
    stab = bootstrap_stability(pop.features, labels=seg, n_segments=3, n_resamples=5)
    return {
        "pop": pop,
        "assignments": assignments,
        "previous": previous,
        "report": report,
        "stability": stab,
        "seg": seg,
        "seg_prev": seg_prev,
        "labels": labels,
    }


def test_headline_and_segments_come_from_the_accuracy_report(pop_run: dict[str, Any]) -> None:
    report = pop_run["report"]
    assignments = pop_run["assignments"]
    features = pl.DataFrame(
        {"customer_id": assignments["customer_id"], "recency": pop_run["pop"].features[:, 0]}
    )
    snap = collect_snapshot(
        report,
        period="2011Q3",
        assignments=assignments,
        previous_assignments=pop_run["previous"],
        previous_period="2011Q2",
        features=features,
        stability=pop_run["stability"],
    )
    rep = report  # the engine's own numbers
    assert snap.accuracy.value_pct == rep.accuracy.value_pct
    assert snap.accuracy.n == rep.n == 400
    assert snap.labels is not None and snap.labels.unknown_customers == 3
    assert snap.population == 1500
    # Sizes are the whole population's, precision the labelled customers'.
    seg = pop_run["seg"]
    for s in snap.segments:
        assert s.customers == int((seg == s.name).sum())
        row = next(r for r in rep.per_segment if r.segment == s.name)
        assert s.precision is not None and s.precision.value_pct == row.precision.value_pct
        assert s.matched_label == row.matched_label
        assert s.stability == pop_run["stability"].jaccard[s.name]
        assert s.revenue == pytest.approx(
            float(assignments.filter(pl.col("segment") == s.name)["revenue"].sum())
        )
    assert snap.confusion is not None and snap.confusion.total == 400
    m = snap.migration
    assert m is not None and m.total == 1500
    moved = int((pop_run["seg"] != pop_run["seg_prev"]).sum())
    assert m.moved == moved
    assert snap.profiles is not None and snap.profiles.features == ("recency",)
    keys = [a.key for a in compute_attributes(snap)]
    assert keys == list(ATTRIBUTE_KEYS)
    html = render_html(snap)
    assert f"{rep.accuracy.value_pct:.1f} %" in html
    assert 'data-chart="migration"' in html and 'data-chart="profiles"' in html


def test_without_labels_the_accuracy_is_not_measured_and_the_proxy_is_monitoring() -> None:
    pop = make_population(600, n_segments=3, separation=6.0, seed=5)
    oot = out_of_time_validity(pop.features, pop.holdout_features, n_segments=3)
    assignments = pl.DataFrame(
        {"customer_id": pop.customer_id, "segment": [f"s{c}" for c in pop.truth]},
        schema={"customer_id": pl.String, "segment": pl.String},
    )
    snap = collect_snapshot(None, period="2011Q3", out_of_time=oot, assignments=assignments)
    assert snap.method == "unmeasured" and snap.accuracy is None and snap.status is None
    # The hold rate is listed with its caveat, as a monitoring signal only.
    assert [(p.name, p.value, p.n) for p in snap.proxies] == [
        ("held", oot.held.value_pct / 100, oot.held.n)
    ]
    assert "migrate" in snap.proxies[0].caveat
    assert "not-measured" in {r.kind for r in risks(snap)}
    sizes = {str(s): int(n) for s, n in assignments.group_by("segment").len().iter_rows()}
    check_label_free_review(render_html(snap), segment_sizes=sizes)


def test_nothing_to_report_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="no labels"):
        collect_snapshot(None, period="2011Q3")


def test_migration_table_counts_and_revenue_by_hand() -> None:
    prev = pl.DataFrame({"customer_id": ["1", "2", "3", "4"], "segment": ["a", "a", "b", "b"]})
    cur = pl.DataFrame(
        {
            "customer_id": ["1", "2", "3", "5"],
            "segment": ["a", "b", "b", "a"],
            "revenue": [10.0, 20.0, 5.0, 99.0],
        }
    )
    m = migration_table(prev, cur, from_period="Q1", to_period="Q2")
    assert m.from_segments == ("a", "b") and m.to_segments == ("a", "b")
    assert m.counts == ((1, 1), (0, 1))  # customer 4 left, 5 is new: neither counted
    assert m.revenue == ((10.0, 20.0), (0.0, 5.0))
    assert (m.total, m.moved) == (3, 1)


def test_profiles_pick_numeric_features() -> None:
    seg = pl.DataFrame({"customer_id": ["1", "2", "3"], "segment": ["x", "x", "y"]})
    feat = pl.DataFrame(
        {
            "customer_id": ["1", "2", "3"],
            "spend": [1.0, 3.0, 10.0],
            "city": ["a", "b", "c"],
            "orders": [1, 2, 5],
        }
    )
    p = segment_profiles(seg, feat)
    assert p is not None
    assert p.features == ("spend", "orders")
    assert p.means == ((2.0, 1.5), (10.0, 5.0))
