"""An audit whose answers are in another vocabulary (``--match hungarian``): the mapping is learnt
from the sheet, so its interval must carry that learning. Simulated: 200 stratified audits of 400
customers from a population with a known agreement; the stated 95 % interval must cover it."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from seglens.audit import draw_audit_sample, estimate_from_sheet, plan_audit

pytestmark = pytest.mark.slow


def _coverage(agree: float, seed: int, repeats: int = 200) -> tuple[float, float]:
    rng = np.random.default_rng(seed)
    sizes = [2400, 1800, 1200, 600]
    seg = np.repeat(np.arange(4), sizes)
    code = np.where(rng.random(seg.size) < agree, seg, (seg + rng.integers(1, 4, seg.size)) % 4)
    truth = 100 * float(np.mean(code == seg))  # the identity mapping is the population's best
    names = np.array(["Champions", "Loyal", "At risk", "Hibernating"])
    frame = pl.DataFrame({"customer_id": [str(i) for i in range(seg.size)], "segment": names[seg]})
    answer = dict(zip(frame["customer_id"].to_list(), np.array(list("ABCD"))[code], strict=True))
    plan = plan_audit(
        dict(frame.group_by("segment").len().iter_rows()), total=400, allocation="proportional"
    )
    covered = 0
    for r in range(repeats):
        sheet = draw_audit_sample(frame, plan, random_state=r)
        sheet = sheet.with_columns(
            pl.Series("reviewer_segment", [answer[c] for c in sheet["customer_id"]])
        )
        est = estimate_from_sheet(sheet, match="hungarian").estimate
        covered += est.ci_low_pct <= truth <= est.ci_high_pct
    return covered / repeats, truth


@pytest.mark.parametrize(("agree", "seed"), [(0.45, 0), (0.30, 1)])
def test_a_sheet_learnt_mapping_keeps_its_interval_honest(agree: float, seed: int) -> None:
    coverage, truth = _coverage(agree, seed)
    assert coverage >= 0.93, (coverage, truth)
