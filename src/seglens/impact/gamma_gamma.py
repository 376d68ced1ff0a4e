"""Gamma-Gamma model of spend per transaction, fitted by maximum likelihood.

Fader, Hardie & Lee (2005), "RFM and CLV: using iso-value curves for customer base analysis",
*Journal of Marketing Research* 42(4), and the note "The Gamma-Gamma model of monetary value"
(Fader & Hardie 2013). Each transaction's value is ``Gamma(p, nu)`` with ``nu ~ Gamma(q, gamma)``
across customers; it is fitted on repeat buyers only (``frequency > 0``), from their number of
repeat transactions and mean repeat-transaction value.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Self

import numpy as np
from scipy.special import digamma, gammaln

from seglens.errors import DataError, UsageError
from seglens.impact._mle import FloatArray, MleResult, as_float_array, fit_log_params
from seglens.impact._mle import param_intervals as _intervals

__all__ = ["GammaGammaModel"]

_NAMES = ("p", "q", "v")


def _log_likelihood(params: FloatArray, x: FloatArray, m: FloatArray) -> FloatArray:
    p, q, v = params
    px = p * x
    return np.asarray(
        gammaln(px + q)
        - gammaln(px)
        - gammaln(q)
        + q * np.log(v)
        + (px - 1) * np.log(m)
        + px * np.log(x)
        - (px + q) * np.log(v + x * m),
        dtype=np.float64,
    )


@dataclass
class GammaGammaModel:
    """Gamma-Gamma spend model (parameters ``p``, ``q`` and ``v``, the paper's gamma).

    Parameters
    ----------
    penalizer
        L2 penalty on the parameters (0 = plain maximum likelihood).

    Examples
    --------
    >>> m = GammaGammaModel().fit([1, 2, 3, 1, 4, 2], [10.0, 12.0, 30.0, 8.0, 15.0, 22.0])
    >>> sorted(m.params_)
    ['p', 'q', 'v']
    >>> bool(m.expected_spend([0], [0.0])[0] > 0)
    True
    """

    penalizer: float = 0.0
    params_: dict[str, float] = field(default_factory=dict, init=False)
    param_ci_: dict[str, tuple[float, float]] = field(default_factory=dict, init=False)
    log_likelihood_: float = field(default=float("nan"), init=False)
    n_customers_: int = field(default=0, init=False)
    _result: MleResult | None = field(default=None, init=False, repr=False)

    def fit(self, frequency: object, monetary_value: object) -> Self:
        """Fit on customers with ``frequency > 0`` and positive ``monetary_value``."""
        x = as_float_array(frequency, "frequency")
        m = np.asarray(monetary_value, dtype=np.float64).ravel()
        if x.size != m.size:
            raise DataError("frequency and monetary_value must have the same length")
        keep = (x > 0) & np.isfinite(m) & (m > 0)
        if keep.sum() < 3:
            raise DataError(
                "fewer than 3 repeat buyers with positive spend: Gamma-Gamma cannot be fitted",
                column="monetary_value",
            )
        x, m = x[keep], m[keep]
        pen = self.penalizer

        def neg_ll(params: FloatArray) -> float:
            ll = float(np.sum(_log_likelihood(params, x, m)))
            return -ll + pen * float(np.sum(params**2))

        log_m, log_x = np.log(m), np.log(x)

        def grad(params: FloatArray) -> FloatArray:
            p, q, v = params
            px = p * x
            log_vxm = np.log(v + x * m)
            d_pxq = digamma(px + q)
            gp = np.sum(x * (d_pxq - digamma(px) + log_m + log_x - log_vxm))
            gq = np.sum(d_pxq - digamma(q) + np.log(v) - log_vxm)
            gv = np.sum(q / v - (px + q) / (v + x * m))
            return np.asarray(-np.array([gp, gq, gv]) + 2 * pen * params, dtype=np.float64)

        x0 = np.array([1.0, 1.0, float(np.mean(m))])
        self._result = fit_log_params(neg_ll, x0, what="Gamma-Gamma", grad=grad)
        self.params_ = dict(zip(_NAMES, map(float, self._result.params), strict=True))
        ci = _intervals(self._result)
        self.param_ci_ = {k: (float(lo), float(hi)) for k, (lo, hi) in zip(_NAMES, ci, strict=True)}
        self.log_likelihood_ = self._result.log_likelihood
        self.n_customers_ = int(x.size)
        return self

    def _params(self) -> tuple[float, float, float]:
        if not self.params_:
            raise UsageError("the Gamma-Gamma model is not fitted yet", hint="call fit() first")
        return self.params_["p"], self.params_["q"], self.params_["v"]

    def log_cov_(self) -> FloatArray:
        """Covariance of the log-parameters."""
        self._params()
        assert self._result is not None
        return self._result.log_cov

    def expected_spend(self, frequency: object, monetary_value: object) -> FloatArray:
        """Expected value of a customer's future transaction, given their history.

        Customers without repeat purchases get the population mean ``p v / (q - 1)``.
        """
        p, q, v = self._params()
        x = as_float_array(frequency, "frequency")
        m = np.nan_to_num(np.asarray(monetary_value, dtype=np.float64).ravel(), nan=0.0)
        m = np.where(x > 0, np.maximum(m, 0.0), 0.0)
        return np.asarray((v + x * m) * p / (p * x + q - 1), dtype=np.float64)

    def sample_spend_rate(
        self, frequency: object, monetary_value: object, *, n_draws: int, rng: np.random.Generator
    ) -> FloatArray:
        """Posterior draws of each customer's ``nu`` (spend rate): ``(n_draws, n)``."""
        p, q, v = self._params()
        x = as_float_array(frequency, "frequency")
        m = np.nan_to_num(np.asarray(monetary_value, dtype=np.float64).ravel(), nan=0.0)
        m = np.where(x > 0, np.maximum(m, 0.0), 0.0)
        shape = p * x + q
        rate = v + x * m
        return rng.gamma(shape, 1.0 / rate, size=(n_draws, x.size))

    @property
    def p(self) -> float:
        """Shape of the per-transaction spend distribution."""
        return self._params()[0]
