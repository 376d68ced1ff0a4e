"""What each label-free proxy means, and how far to trust it.

The wording is fixed here; the numbers come from the planted-truth calibration
(``benchmarks/calibrate_proxies.py`` writes ``calibration.json`` next to this module and the table
in ``docs/accuracy.md``), so the caveat shown next to a proxy quotes the measured Spearman
correlation and error against true accuracy.
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


def proxy_caveat(name: str) -> str:
    """The caveat to show next to a proxy, with its calibration figures when available.

    Examples
    --------
    >>> "not accuracy" in proxy_caveat("stability_jaccard")
    True
    """
    if name not in PROXY_CAVEATS:
        raise KeyError(f"unknown proxy {name!r}; known: {', '.join(PROXY_CAVEATS)}")
    text = PROXY_CAVEATS[name]
    row = calibration().get("proxies", {}).get(name)
    if row:
        n = calibration().get("n_scenarios")
        mae = row.get("mae_points")
        err = f", mean abs. error {mae:.0f} points" if mae is not None else ""
        text += (
            f" (over {n} planted-truth scenarios: Spearman {row['spearman']:+.2f} with true "
            f"accuracy{err})"
        )
    return text
