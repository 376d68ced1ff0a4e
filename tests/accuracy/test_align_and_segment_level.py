"""Joining labels to segments (nothing dropped silently) and the segment-level rule."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import polars as pl
import pytest

from seglens.accuracy import (
    SegmentRule,
    accuracy_report,
    accuracy_report_from_tables,
    align_labels,
    judge_label_free,
)
from seglens.errors import DataError, UsageError

SEG = pl.DataFrame(
    {"customer_id": ["001", "002", "003", "004", "005"], "segment": ["a", "a", "b", "b", "b"]}
)


def test_coverage_counts_every_case() -> None:
    labels = pl.DataFrame(
        {
            "customer_id": ["001", "002", "002", "009", "003", "004", None],
            "segment": ["a", "b", "a", "b", " ", "b", "a"],
            "labeled_at": [
                datetime(2024, 1, 1),
                datetime(2024, 1, 1),
                datetime(2024, 2, 1),  # later correction wins
                datetime(2024, 1, 1),
                datetime(2024, 1, 1),
                datetime(2024, 1, 1),
                datetime(2024, 1, 1),
            ],
        }
    )
    al = align_labels(SEG, labels)
    cov = al.coverage
    assert cov.n_label_rows == 7
    assert cov.n_blank_labels == 2  # the blank segment and the row without a customer id
    assert cov.n_superseded_labels == 1
    assert cov.n_labelled_customers == 4  # 001, 002, 009, 004
    assert cov.n_matched == 3
    assert cov.n_labels_unknown_customer == 1
    assert cov.n_customers_without_label == 2  # 003 (blank label), 005
    assert cov.label_coverage_pct == pytest.approx(60.0)
    got = dict(zip(al.customer_id.tolist(), al.y_true.tolist(), strict=True))
    assert got == {"001": "a", "002": "a", "004": "b"}


def test_latest_row_wins_without_timestamps_and_pandas_input() -> None:
    labels = pd.DataFrame({"customer_id": ["001", "001"], "segment": ["b", "a"]})
    al = align_labels(SEG.to_pandas(), labels)
    assert al.y_true.tolist() == ["a"]
    assert al.coverage.n_superseded_labels == 1


def test_report_from_tables_carries_coverage() -> None:
    labels = pl.DataFrame({"customer_id": ["001", "003", "777"], "segment": ["a", "a", "b"]})
    rep = accuracy_report_from_tables(SEG, labels)
    assert rep.n == 2
    assert rep.apparent_accuracy.value_pct == 50.0
    # segment b is no label name, so the mapping is learnt (Hungarian) and cross-fitted: with two
    # customers each is scored by the mapping learnt from the other, which never saw its segment
    assert rep.accuracy.value_pct == 0.0 and rep.accuracy.ci_high_pct > 90
    assert rep.to_dict()["coverage"]["n_labels_unknown_customer"] == 1


@pytest.mark.parametrize(
    ("seg", "message"),
    [
        (pl.DataFrame({"customer_id": ["1", "1"], "segment": ["a", "b"]}), "more than once"),
        (pl.DataFrame({"customer_id": ["1", "2"], "segment": ["a", None]}), "no segment"),
        (pl.DataFrame({"customer_id": ["1", None], "segment": ["a", "b"]}), "without a customer"),
        (pl.DataFrame({"id": ["1"], "segment": ["a"]}), "lacks column"),
    ],
)
def test_bad_segmentations_are_explained(seg: pl.DataFrame, message: str) -> None:
    with pytest.raises(DataError, match=message):
        align_labels(seg, pl.DataFrame({"customer_id": ["1"], "segment": ["a"]}))


def test_no_overlap_is_an_error() -> None:
    with pytest.raises(DataError, match="same customer ids"):
        align_labels(SEG, pl.DataFrame({"customer_id": ["x"], "segment": ["a"]}))


def test_segment_rule_basis_changes_the_verdict() -> None:
    truth = ["a"] * 20 + ["b"] * 20
    pred = ["a"] * 18 + ["b"] * 2 + ["b"] * 20  # a: 18/18 precision; b: 20/22
    strict = accuracy_report(truth, pred)
    point = accuracy_report(truth, pred, rule=SegmentRule(basis="point"))
    # a: 18/18 -> Wilson 82.4-100 straddles 85; b: 20/22 = 90.9 % (72.2-97.5) straddles 85:
    # both undetermined, so no segment is decided (they used to count as not accurate: 0 %)
    assert strict.segment_level.value_pct is None
    assert [r.status for r in strict.per_segment] == ["undetermined", "undetermined"]
    assert [r.labels_to_decide for r in strict.per_segment] == [22, 141]
    assert point.segment_level.value_pct == 100.0
    assert "straddles 85: undetermined" in strict.per_segment[0].reason
    assert strict.segment_level.rule == (
        "95 % interval of precision vs 85 %: above accurate, below not, straddling undetermined"
    )
    # the customer level follows the same rule: 38/40 = 95.0 % (83.5-98.6) straddles 85 %
    assert strict.verdict == "undetermined" and point.verdict == "meets"


def test_segment_rule_validation() -> None:
    with pytest.raises(UsageError):
        SegmentRule(target_pct=120)
    with pytest.raises(UsageError):
        SegmentRule(basis="mean")  # type: ignore[arg-type]


def test_label_free_rule() -> None:
    res = judge_label_free({"a": 0.9, "b": 0.8, "c": 0.4}, {"a": 90.0, "b": 70.0})
    assert [v.accurate for v in res.verdicts] == [True, False, False]
    assert "no out-of-time check" in res.verdicts[2].reason
    assert res.value_pct == pytest.approx(100 / 3)
    only_stability = judge_label_free({"a": 0.9, "b": 0.8, "c": 0.4})
    assert only_stability.value_pct == pytest.approx(200 / 3)
