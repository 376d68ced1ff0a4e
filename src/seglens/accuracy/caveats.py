"""What each label-free proxy means, and how far to trust it.

The wording is fixed here; the numbers come from the calibration against known truth
(``benchmarks/calibrate_proxies.py`` writes ``calibration.json`` next to this module and the tables
in ``docs/accuracy.md``). The calibration has several *truth families* (k-means-shaped segments,
noisy human labels, truth in a subspace, quantiles of a latent score, real sales labels); the
caveat shown next to a proxy quotes its **worst** family — the lowest Spearman correlation and the
largest errors against true accuracy — because a user cannot tell which family their own
customers belong to.
"""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from typing import Any

__all__ = ["PROXY_CAVEATS", "PROXY_MEANINGS", "calibration", "proxy_caveat"]

PROXY_MEANINGS: dict[str, str] = {
    "stability_jaccard": "mean bootstrap Jaccard of each segment with its best match after "
    "re-fitting on resampled customers (x100)",
    "stability_ari": "mean adjusted Rand index between the segmentation and its re-fits on "
    "resampled customers (x100)",
    "out_of_time_held": "share of customers kept in the same segment when the fitted segmenter "
    "is applied to the following period",
    "behavioural_validity": "share of segment pairs whose order in purchase rate and spend holds "
    "in the following period",
    "reproducibility": "cross-validated accuracy of a 15-nearest-neighbour classifier predicting "
    "the segment from the features",
    "silhouette": "mean silhouette on a sample of customers (x100)",
    "davies_bouldin": "Davies–Bouldin index on all customers (lower is better)",
}

PROXY_CAVEATS: dict[str, str] = {
    "stability_jaccard": "stability is not accuracy: a segmenter can reproduce the same wrong "
    "boundaries on every resample",
    "stability_ari": "stability is not accuracy: consistent but wrong splits score high",
    "out_of_time_held": "customers really do migrate; and segments on slow-moving features hold "
    "even when wrong",
    "behavioural_validity": "checks that segments differ as promised, not that each customer is "
    "in the right one; coarse with few segments",
    "reproducibility": "any segmentation that is a function of the features is reproducible by "
    "construction: it measures crispness, not correctness",
    "silhouette": "rewards round, equal, far-apart groups; says nothing about whether they are "
    "the groups the business means",
    "davies_bouldin": "same bias as the silhouette; unbounded scale, so only its ranking is "
    "comparable",
}


@cache
def calibration() -> dict[str, Any]:
    """The packaged calibration summary (empty when it has not been generated)."""
    res = files("seglens.accuracy").joinpath("calibration.json")
    if not res.is_file():
        return {}
    data: dict[str, Any] = json.loads(res.read_text(encoding="utf-8"))
    return data


def _calibration_note(name: str) -> str:
    """The family-wise worst calibration figures of a proxy, in words ('' when not calibrated)."""
    cal = calibration()
    worst = cal.get("worst", {}).get(name)
    if not worst or "spearman" not in worst:
        return ""
    fams = cal.get("families", {})

    def label(key: str) -> str:
        return str(fams.get(worst[key], {}).get("label", worst[key]))

    rho, down = worst["spearman"], worst.get("direction", 1) < 0
    poor = (-rho if down else rho) < 0.5
    parts = [
        f"Spearman ρ with true accuracy as {'high' if down else 'low'} as {rho:+.2f} "
        f"({label('spearman_family')}{'; lower should mean better' if down else ''})"
    ]
    if "mae_points" in worst:
        parts.append(
            f"mean abs. error up to {worst['mae_points']:.0f} points ({label('mae_family')})"
        )
    if "max_error_points" in worst:
        parts.append(f"single errors up to {worst['max_error_points']:.0f} points")
    return (
        f"; it tracks true accuracy {'poorly' if poor else 'only roughly'}: across "
        f"{len(fams)} truth families ({cal.get('n_scenarios')} scenarios) "
        + ", ".join(parts)
        + "; a proxy is a monitoring signal, not the KPI"
    )


def proxy_caveat(name: str) -> str:
    """The caveat to show next to a proxy, with its worst-case calibration figures.

    The figures are the least favourable over the calibration's truth families (lowest Spearman
    correlation, largest mean and single errors), not the best.

    Examples
    --------
    >>> "not accuracy" in proxy_caveat("stability_jaccard")
    True
    """
    if name not in PROXY_CAVEATS:
        raise KeyError(f"unknown proxy {name!r}; known: {', '.join(PROXY_CAVEATS)}")
    return PROXY_CAVEATS[name] + _calibration_note(name)
