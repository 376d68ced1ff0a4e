"""Acceptance study: over many seeds and quarters with planted truth, the tracked KPI's interval
covers the truth and ``significant_drop`` keeps its false-alarm rate (see
``benchmarks/tracking_truth.py`` for the design; ``python -m benchmarks.tracking_truth`` runs it
at a larger size)."""

from __future__ import annotations

import pytest
from benchmarks.tracking_truth import CHANGE, NO_CHANGE, study

pytestmark = pytest.mark.slow


def test_the_tracked_kpi_covers_the_planted_truth_and_holds_its_false_alarm_rate() -> None:
    changing = study(CHANGE, seeds=50, quarters=4)
    steady = study(NO_CHANGE, seeds=50, quarters=4, first_seed=50)
    print(f"\n{changing.summary()}\n{steady.summary()}")
    assert len(changing.outcomes) == len(steady.outcomes) == 200
    assert changing.coverage >= 0.90
    assert steady.coverage >= 0.90
    assert steady.drop_rate <= 0.05
    # the planted falls (86 -> 78 -> 70 %) are seen: the alert is not simply silent
    assert changing.drop_rate >= 0.25
    # re-scoring every label against the newest run (what seglens did before) is biased
    assert steady.rescored_bias < -3.0
