"""Automatic choice of the number of segments, with the evidence behind it.

For every candidate k, on a random sample of the (preprocessed) customers:

* **silhouette** on a smaller sub-sample (higher = tighter, better separated segments);
* **stability**: mean adjusted Rand index between the reference clustering and clusterings of
  bootstrap resamples, compared on the same customers (1 = the segments reappear every time);
* **BIC** for Gaussian mixtures (lower is better);
* the within-segment cost (inertia) for reference (it always falls with k).

Rule: Gaussian mixtures take the lowest BIC; k-means and k-prototypes take the highest
silhouette among the k whose stability reaches ``stability_threshold`` (the highest silhouette
overall when none does). The table and the reason are kept on the fitted model.
"""

# ruff: noqa: N803, N806  (X / Z for data matrices, the scikit-learn convention)

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import polars as pl
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, silhouette_score
from sklearn.mixture import GaussianMixture
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from seglens.errors import UsageError
from seglens.segmenters.kprototypes import kprototypes, mixed_distances

__all__ = ["KSelection", "choose_k"]

log = logging.getLogger(__name__)
FloatArray = np.ndarray[Any, np.dtype[np.float64]]
Method = Literal["kmeans", "gmm", "mixed"]


@dataclass(frozen=True)
class KSelection:
    """The chosen k and the evidence: one row per candidate k."""

    k: int
    method: str
    criterion: str
    reason: str
    table: pl.DataFrame
    n_sample: int
    n_silhouette: int
    n_bootstrap: int

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python form (for JSON and the saved model's metadata)."""
        return {
            "k": self.k,
            "method": self.method,
            "criterion": self.criterion,
            "reason": self.reason,
            "n_sample": self.n_sample,
            "n_silhouette": self.n_silhouette,
            "n_bootstrap": self.n_bootstrap,
            "table": self.table.to_dicts(),
        }


class _Fitter:
    """Fit one method at a given k on a sample and label other rows."""

    def __init__(
        self, method: Method, codes: FloatArray | None, gamma: float, covariance_type: str
    ) -> None:
        self.method = method
        self.codes = codes
        self.gamma = gamma
        self.covariance_type = covariance_type

    def fit_predict(
        self, Z: FloatArray, idx: Any, k: int, seed: int, eval_idx: Any, n_init: int
    ) -> tuple[Any, Any, float | None, float]:
        """Labels of ``eval_idx`` rows for a model fitted on ``idx`` rows, plus BIC and cost."""
        X = Z[idx]
        if self.method == "kmeans":
            km = KMeans(k, n_init=n_init, random_state=seed).fit(X)
            return km.predict(Z[eval_idx]), km.labels_, None, float(km.inertia_)
        if self.method == "gmm":
            start = KMeans(k, n_init=n_init, random_state=seed).fit(X).cluster_centers_
            gm = GaussianMixture(
                k,
                means_init=start,
                covariance_type=self.covariance_type,
                n_init=1,
                random_state=seed,
                reg_covar=1e-4,
                max_iter=200,
            ).fit(X)
            return gm.predict(Z[eval_idx]), gm.predict(X), float(gm.bic(X)), float(-gm.score(X))
        assert self.codes is not None
        C = self.codes
        res = kprototypes(X, C[idx], k, gamma=self.gamma, n_init=n_init, random_state=seed)
        d = mixed_distances(Z[eval_idx], C[eval_idx], res.means, res.modes, self.gamma)
        return d.argmin(1), res.labels, None, res.cost


def choose_k(
    Z: FloatArray,
    *,
    method: Method = "kmeans",
    k_values: Sequence[int] = range(2, 13),
    codes: Any = None,
    gamma: float = 0.5,
    covariance_type: str = "full",
    sample_size: int = 20_000,
    silhouette_size: int = 3_000,
    n_bootstrap: int = 4,
    stability_threshold: float = 0.75,
    random_state: int | None = 0,
) -> KSelection:
    """Evaluate each k and pick one; see the module docstring for the rule.

    Parameters
    ----------
    Z : ndarray (n × p)
        Preprocessed numeric features (see :class:`FeaturePreprocessor`).
    method : {"kmeans", "gmm", "mixed"}
        Model family being sized.
    k_values : sequence of int
        Candidates (default 2-12).
    codes : ndarray, optional
        Category codes (n × q), required for ``"mixed"``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> Z = np.vstack([rng.normal(c, 0.3, size=(200, 2)) for c in (0, 5, 10)])
    >>> choose_k(Z, k_values=range(2, 6), random_state=0).k
    3
    """
    ks = sorted({int(k) for k in k_values})
    n = Z.shape[0]
    if not ks or ks[0] < 2 or ks[-1] >= n:
        raise UsageError(f"k candidates must be between 2 and n_customers - 1 ({n - 1}), got {ks}")
    if method == "mixed" and codes is None:
        raise UsageError("method 'mixed' needs the categorical codes")
    rng = np.random.default_rng(random_state)
    sample = np.sort(rng.choice(n, min(n, sample_size), replace=False))
    sil = sample[np.sort(rng.choice(sample.size, min(sample.size, silhouette_size), replace=False))]
    fitter = _Fitter(method, codes, gamma, covariance_type)
    sil_dist = None
    if method == "mixed":
        Zs, Cs = Z[sil], codes[sil]
        sil_dist = np.vstack(
            [
                mixed_distances(Zs, Cs, Zs[i : i + 500], Cs[i : i + 500], gamma).T
                for i in range(0, len(sil), 500)
            ]
        ).T
        sil_dist = (sil_dist + sil_dist.T) / 2
        np.fill_diagonal(sil_dist, 0.0)
    rows = []
    # Sample-sized fits are faster on one thread: OpenMP start-up and spinning dominate them.
    with threadpool_limits(limits=1):
        for k in ks:
            rows.append(_evaluate(fitter, Z, sample, sil, sil_dist, k, n_bootstrap, rng))
    table = pl.DataFrame(
        rows,
        schema={
            "k": pl.Int64,
            "silhouette": pl.Float64,
            "stability": pl.Float64,
            "bic": pl.Float64,
            "cost": pl.Float64,
        },
    )
    chosen, criterion, reason = _decide(table, method, stability_threshold)
    table = table.with_columns((pl.col("k") == chosen).alias("chosen"))
    return KSelection(
        k=chosen,
        method=method,
        criterion=criterion,
        reason=reason,
        table=table,
        n_sample=int(sample.size),
        n_silhouette=int(sil.size),
        n_bootstrap=n_bootstrap,
    )


def _evaluate(
    fitter: _Fitter,
    Z: FloatArray,
    sample: Any,
    sil: Any,
    sil_dist: Any,
    k: int,
    n_bootstrap: int,
    rng: np.random.Generator,
) -> dict[str, Any]:
    """Silhouette, bootstrap stability, BIC and cost of one candidate k."""
    seed = int(rng.integers(2**31 - 1))
    ref, _, bic, cost = fitter.fit_predict(Z, sample, k, seed, sil, n_init=3)
    if len(np.unique(ref)) < 2:
        s = float("nan")
    elif sil_dist is not None:
        s = float(silhouette_score(sil_dist, ref, metric="precomputed"))
    else:
        s = float(silhouette_score(Z[sil], ref))
    aris = []
    boot_n = min(sample.size, 5_000)
    for _ in range(n_bootstrap):
        b = rng.choice(sample, boot_n, replace=True)
        lab, _, _, _ = fitter.fit_predict(Z, b, k, int(rng.integers(2**31 - 1)), sil, 1)
        aris.append(adjusted_rand_score(ref, lab))
    stab = float(np.mean(aris)) if aris else float("nan")
    row = {"k": k, "silhouette": s, "stability": stab, "bic": bic, "cost": cost}
    log.info("k=%d silhouette=%.3f stability=%.3f bic=%s", k, s, stab, bic)
    return row


def _decide(table: pl.DataFrame, method: str, threshold: float) -> tuple[int, str, str]:
    if method == "gmm":
        best = table.sort("bic").row(0, named=True)
        return (
            int(best["k"]),
            "bic",
            (
                f"k={best['k']} has the lowest BIC ({best['bic']:,.0f}); "
                f"stability there is {best['stability']:.2f}"
            ),
        )
    stable = table.filter(pl.col("stability") >= threshold)
    pool = stable if stable.height else table
    best = pool.sort("silhouette", descending=True, nulls_last=True).row(0, named=True)
    if stable.height:
        why = (
            f"k={best['k']} has the highest silhouette ({best['silhouette']:.3f}) among the k "
            f"whose bootstrap stability is at least {threshold:.2f} (it is {best['stability']:.2f})"
        )
    else:
        why = (
            f"no k reached bootstrap stability {threshold:.2f}; k={best['k']} has the highest "
            f"silhouette ({best['silhouette']:.3f}) - treat the segments as tentative"
        )
    return int(best["k"]), "silhouette", why
