# ruff: noqa: N803  (``T`` is the literature's name for the observation length)
"""BG/NBD ("buy till you die") model of purchase frequency, fitted by maximum likelihood.

Fader, Hardie & Lee (2005), "Counting your customers the easy way: an alternative to the
Pareto/NBD model", *Marketing Science* 24(2). While alive a customer buys as a Poisson process
with rate ``lambda ~ Gamma(r, alpha)``; after each purchase they drop out with probability
``p ~ Beta(a, b)``. The inputs per customer are the lifetimes-style summary: ``frequency`` (repeat
purchases), ``recency`` (first to last purchase) and ``T`` (first purchase to the end of the
observation period), all in one time unit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Self

import numpy as np
import numpy.typing as npt
import polars as pl
from scipy.special import betaln, digamma, gammaln, hyp2f1

from seglens.errors import DataError, UsageError
from seglens.impact._mle import FloatArray, MleResult, as_float_array, fit_log_params
from seglens.impact._mle import param_intervals as _intervals

__all__ = ["BetaGeoModel"]

logger = logging.getLogger(__name__)

_NAMES = ("r", "alpha", "a", "b")


def _check(frequency: object, recency: object, T: object) -> tuple[FloatArray, ...]:
    x = as_float_array(frequency, "frequency")
    t_x = as_float_array(recency, "recency")
    t = as_float_array(T, "T")
    if not (x.size == t_x.size == t.size):
        raise DataError("frequency, recency and T must have the same length")
    if np.any(t_x > t + 1e-9):
        raise DataError("recency is larger than T for some customers", column="recency")
    if np.any((x == 0) & (t_x > 0)):
        raise DataError("recency must be 0 for customers without repeat purchases")
    return x, t_x, t


def _parts(
    params: FloatArray, x: FloatArray, t_x: FloatArray, t: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, npt.NDArray[np.intp]]:
    """The log-likelihood's pieces A1, A2, A3 (FHL 2005) and the x values' index.

    Special functions of ``x`` are evaluated once per distinct frequency, then indexed.
    """
    r, alpha, a, b = params
    xu, inv = np.unique(x, return_inverse=True)
    xs = np.where(xu > 0, xu, 1.0)  # safe argument where x = 0 (the term is unused there)
    base = betaln(a, b)
    a1 = (gammaln(r + xu) - gammaln(r) + r * np.log(alpha))[inv]
    a2 = (betaln(a, b + xu) - base)[inv] - (r + x) * np.log(alpha + t)
    b3 = np.where(xu > 0, betaln(a + 1, b + xs - 1) - base, -np.inf)[inv]
    rep = x > 0
    a3 = np.where(rep, b3 - (r + x) * np.log(alpha + np.where(rep, t_x, t)), -np.inf)
    f64 = np.float64
    return a1.astype(f64), a2.astype(f64), a3.astype(f64), xu.astype(f64), inv.astype(np.intp)


def _log_likelihood(
    params: FloatArray, x: FloatArray, t_x: FloatArray, t: FloatArray
) -> FloatArray:
    a1, a2, a3, _, _ = _parts(params, x, t_x, t)
    return np.asarray(a1 + np.logaddexp(a2, a3), dtype=np.float64)


def _gradient(params: FloatArray, x: FloatArray, t_x: FloatArray, t: FloatArray) -> FloatArray:
    """d log-likelihood / d (r, alpha, a, b), one row per customer."""
    r, alpha, a, b = params
    _, a2, a3, xu, inv = _parts(params, x, t_x, t)
    total = np.logaddexp(a2, a3)
    w2, w3 = np.exp(a2 - total), np.exp(a3 - total)
    rep = x > 0
    log_t = np.log(alpha + t)
    log_tx = np.log(alpha + np.where(rep, t_x, t))
    xs = np.where(xu > 0, xu, 1.0)
    d_ab = digamma(a + b)
    d_abx = digamma(a + b + xu)[inv]
    d_rx = digamma(r + xu)[inv]
    d_bx = digamma(b + xu)[inv]
    d_bx1 = digamma(b + xs - 1)[inv]
    g = np.empty((x.size, 4))
    g[:, 0] = d_rx - digamma(r) + np.log(alpha) - w2 * log_t - w3 * log_tx
    g[:, 1] = r / alpha - (r + x) * (w2 / (alpha + t) + w3 / (alpha + np.where(rep, t_x, t)))
    g[:, 2] = w2 * (d_ab - d_abx) + w3 * (digamma(a + 1) - d_abx - digamma(a) + d_ab)
    g[:, 3] = w2 * (d_bx - d_abx - digamma(b) + d_ab) + w3 * (d_bx1 - d_abx - digamma(b) + d_ab)
    return g


@dataclass
class BetaGeoModel:
    """BG/NBD purchase-frequency model (Fader, Hardie & Lee 2005), fitted by maximum likelihood.

    Parameters
    ----------
    penalizer
        L2 penalty on the parameters (0 = plain maximum likelihood, as in the paper).

    Attributes
    ----------
    params_ : dict
        ``r``, ``alpha``, ``a``, ``b``.
    param_ci_ : dict
        95 % Wald intervals (computed on the log scale from the observed information).
    log_likelihood_ : float
    n_customers_ : int

    Examples
    --------
    >>> from seglens.impact.simulate import simulate_customers
    >>> s = simulate_customers(2000, seed=0)
    >>> m = BetaGeoModel().fit(s["frequency"], s["recency"], s["T"])
    >>> round(m.params_["r"], 2), round(m.params_["alpha"], 1)
    (0.25, 4.9)
    >>> float(m.prob_alive([0], [0], [38.9])[0])
    1.0
    """

    penalizer: float = 0.0
    params_: dict[str, float] = field(default_factory=dict, init=False)
    param_ci_: dict[str, tuple[float, float]] = field(default_factory=dict, init=False)
    log_likelihood_: float = field(default=float("nan"), init=False)
    n_customers_: int = field(default=0, init=False)
    _result: MleResult | None = field(default=None, init=False, repr=False)

    def fit(self, frequency: object, recency: object, T: object) -> Self:
        """Fit by maximum likelihood (L-BFGS-B on log-parameters); identical rows are pooled."""
        x, t_x, t = _check(frequency, recency, T)
        if x.size == 0:
            raise DataError("no customers to fit the BG/NBD model on")
        if not np.any(x > 0):
            raise DataError(
                "no customer has a repeat purchase: the BG/NBD model cannot be fitted",
                hint="use a longer observation period",
            )
        pooled = (
            pl.DataFrame({"x": x, "t_x": t_x, "t": t})
            .group_by("x", "t_x", "t")
            .agg(pl.len().cast(pl.Float64).alias("w"))
            .sort("x", "t_x", "t")
        )
        ux, utx, ut = (pooled[c].to_numpy() for c in ("x", "t_x", "t"))
        w = pooled["w"].to_numpy()
        pen = self.penalizer

        def neg_ll(params: FloatArray) -> float:
            ll = float(np.sum(w * _log_likelihood(params, ux, utx, ut)))
            return -ll + pen * float(np.sum(params**2))

        def grad(params: FloatArray) -> FloatArray:
            g = w @ _gradient(params, ux, utx, ut)
            return np.asarray(-g + 2 * pen * params, dtype=np.float64)

        scale = float(np.mean(t)) or 1.0
        self._result = fit_log_params(
            neg_ll, np.array([1.0, scale, 1.0, 1.0]), what="BG/NBD", grad=grad
        )
        self.params_ = dict(zip(_NAMES, map(float, self._result.params), strict=True))
        at_bound = [k for k, v in self.params_.items() if abs(np.log(v)) > 19.5]
        if at_bound:
            logger.warning(
                "BG/NBD: %s ran to the edge of the search range; the data do not identify the "
                "model (too few customers or repeat purchases?)",
                at_bound,
            )
        ci = _intervals(self._result)
        self.param_ci_ = {k: (float(lo), float(hi)) for k, (lo, hi) in zip(_NAMES, ci, strict=True)}
        self.log_likelihood_ = self._result.log_likelihood
        self.n_customers_ = int(x.size)
        return self

    def _params(self) -> tuple[float, float, float, float]:
        if not self.params_:
            raise UsageError("the BG/NBD model is not fitted yet", hint="call fit() first")
        p = self.params_
        return p["r"], p["alpha"], p["a"], p["b"]

    def log_cov_(self) -> FloatArray:
        """Covariance of the log-parameters (for parameter-uncertainty draws)."""
        self._params()
        assert self._result is not None
        return self._result.log_cov

    def prob_alive(self, frequency: object, recency: object, T: object) -> FloatArray:
        """Probability that each customer is still active at the end of their period ``T``."""
        x, t_x, t = _check(frequency, recency, T)
        return _prob_alive(np.array(self._params()), x, t_x, t)

    def expected_purchases(
        self, t: float, frequency: object, recency: object, T: object
    ) -> FloatArray:
        """Expected purchases of each customer in the next ``t`` time units, given their history."""
        x, t_x, tt = _check(frequency, recency, T)
        return _conditional_expected(np.array(self._params()), t, x, t_x, tt)

    def expected_purchases_new(self, t: float) -> float:
        """Expected purchases in ``(0, t]`` of a customer just acquired (unconditional)."""
        r, alpha, a, b = self._params()
        z = t / (alpha + t)
        bracket = 1 - (alpha / (alpha + t)) ** r * hyp2f1(r, b, a + b - 1, z)
        return float((a + b - 1) / (a - 1) * bracket)

    def sample_purchases(
        self,
        t: float,
        frequency: object,
        recency: object,
        T: object,
        *,
        n_draws: int = 500,
        rng: np.random.Generator | None = None,
        parameter_uncertainty: bool = True,
    ) -> FloatArray:
        """Draws of each customer's purchase count in the next ``t`` units: ``(n_draws, n)``.

        Uses the posterior given the history: alive with :meth:`prob_alive`,
        ``lambda ~ Gamma(r + x, alpha + T)``, ``p ~ Beta(a, b + x)``, purchases =
        min(Poisson(lambda t), Geometric(p)). With ``parameter_uncertainty`` each draw also
        re-draws (r, alpha, a, b) from the asymptotic normal of the log-parameters, unless a
        parameter is weakly identified (log-scale standard error >= 1, e.g. ``a -> 0`` when
        almost nobody drops out), where that normal is meaningless and is left out.
        """
        x, t_x, tt = _check(frequency, recency, T)
        rng = rng or np.random.default_rng(0)
        base = np.log(np.array(self._params()))
        cov = self.log_cov_()
        se = np.sqrt(np.diag(cov))
        use_cov = parameter_uncertainty and bool(np.all(np.isfinite(se)) and np.all(se < 1.0))
        if parameter_uncertainty and not use_cov:
            logger.warning(
                "BG/NBD parameters are weakly identified (log-scale SE %s): prediction "
                "intervals leave parameter uncertainty out",
                np.round(se, 2).tolist(),
            )
        out = np.empty((n_draws, x.size))
        if use_cov:
            draws = np.exp(rng.multivariate_normal(base, cov, size=n_draws))
        else:
            draws = np.tile(np.exp(base), (n_draws, 1))
        for d in range(n_draws):
            params = draws[d]
            r, alpha, a, b = params
            alive = rng.random(x.size) < _prob_alive(params, x, t_x, tt)
            lam = rng.gamma(r + x, 1.0 / (alpha + tt))
            p = rng.beta(a, b + x)
            n_poisson = rng.poisson(lam * t)
            n_geom = rng.geometric(np.clip(p, 1e-12, 1.0))
            out[d] = np.where(alive, np.minimum(n_poisson, n_geom), 0)
        return out


def _prob_alive(params: FloatArray, x: FloatArray, t_x: FloatArray, t: FloatArray) -> FloatArray:
    r, alpha, a, b = params
    out = np.ones_like(x)
    rep = x > 0
    xr = x[rep]
    log_odds = (
        np.log(a)
        - np.log(b + xr - 1)
        + (r + xr) * (np.log(alpha + t[rep]) - np.log(alpha + t_x[rep]))
    )
    out[rep] = 1.0 / (1.0 + np.exp(log_odds))
    return out


def _conditional_expected(
    params: FloatArray, t: float, x: FloatArray, t_x: FloatArray, tt: FloatArray
) -> FloatArray:
    r, alpha, a, b = params
    z = t / (alpha + tt + t)
    hyp = hyp2f1(r + x, b + x, a + b + x - 1, z)
    numer = (a + b + x - 1) / (a - 1) * (1 - ((alpha + tt) / (alpha + tt + t)) ** (r + x) * hyp)
    return np.asarray(numer * _prob_alive(params, x, t_x, tt), dtype=np.float64)
