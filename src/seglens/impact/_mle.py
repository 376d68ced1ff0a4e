"""Maximum-likelihood helpers shared by the BG/NBD and Gamma-Gamma fitters."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import optimize

from seglens.errors import DataError

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
Z95 = 1.959963984540054


@dataclass(frozen=True)
class MleResult:
    """The optimum of a likelihood fitted on log-parameters."""

    params: FloatArray
    """Fitted parameters (natural scale)."""
    log_cov: FloatArray
    """Covariance of the log-parameters (inverse observed information); NaN if singular."""
    log_likelihood: float
    n_iter: int


def fit_log_params(
    neg_ll: Callable[[FloatArray], float],
    x0: FloatArray,
    *,
    what: str,
    grad: Callable[[FloatArray], FloatArray] | None = None,
) -> MleResult:
    """Minimise ``neg_ll(exp(theta))`` over ``theta`` (L-BFGS-B); add the observed information.

    ``grad(params)`` is the analytic gradient of ``neg_ll`` on the natural scale (optional; finite
    differences otherwise).
    """

    def objective(theta: FloatArray) -> float:
        value = neg_ll(np.exp(theta))
        return value if np.isfinite(value) else 1e300

    def jac(theta: FloatArray) -> FloatArray:
        params = np.exp(theta)
        g = np.asarray(grad(params), dtype=np.float64) * params  # type: ignore[misc]
        return g if np.all(np.isfinite(g)) else np.zeros_like(g)

    best: optimize.OptimizeResult | None = None
    # log-parameters are kept within e^-20 .. e^20: degenerate data (a parameter running off to
    # 0 or infinity) then stops at the bound instead of iterating on a flat ridge
    bounds = [(-20.0, 20.0)] * len(x0)
    for start in (np.log(x0), np.log(x0) + 0.5, np.log(x0) - 0.5):
        res = optimize.minimize(
            objective,
            start,
            jac=jac if grad is not None else None,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 1000, "ftol": 1e-13},
        )
        if best is None or res.fun < best.fun:
            best = res
        if res.success:
            break  # converged; the shifted starts are for when it did not
    assert best is not None
    if not np.isfinite(best.fun) or best.fun >= 1e299:
        raise DataError(
            f"{what}: the likelihood could not be maximised",
            hint="check that the summary has repeat buyers and positive T",
        )
    theta = np.asarray(best.x, dtype=np.float64)
    hess = (
        _hessian_from_gradient(jac, theta)
        if grad is not None
        else numerical_hessian(objective, theta)
    )
    try:
        cov: FloatArray = np.asarray(np.linalg.inv(hess), dtype=np.float64)
        if np.any(np.diag(cov) < 0):
            raise np.linalg.LinAlgError("not positive definite")
    except np.linalg.LinAlgError:
        logger.warning("%s: observed information is singular; no parameter intervals", what)
        cov = np.full_like(hess, np.nan)
    return MleResult(
        params=np.exp(theta), log_cov=cov, log_likelihood=-float(best.fun), n_iter=int(best.nit)
    )


def numerical_hessian(f: Callable[[FloatArray], float], x: FloatArray) -> FloatArray:
    """Central-difference Hessian of ``f`` at ``x``."""
    n = x.size
    h = 1e-4 * np.maximum(1.0, np.abs(x))
    hess = np.empty((n, n))
    f0 = f(x)
    for i in range(n):
        for j in range(i, n):
            if i == j:
                e = np.zeros(n)
                e[i] = h[i]
                hess[i, i] = (f(x + e) - 2 * f0 + f(x - e)) / h[i] ** 2
            else:
                ei = np.zeros(n)
                ej = np.zeros(n)
                ei[i] = h[i]
                ej[j] = h[j]
                hess[i, j] = hess[j, i] = (
                    f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)
                ) / (4 * h[i] * h[j])
    return hess


def _hessian_from_gradient(g: Callable[[FloatArray], FloatArray], x: FloatArray) -> FloatArray:
    """Central differences of the analytic gradient (2k gradient calls), symmetrized."""
    n = x.size
    hess = np.empty((n, n))
    for i in range(n):
        h = 1e-5 * max(1.0, abs(float(x[i])))
        e = np.zeros(n)
        e[i] = h
        hess[i] = (g(x + e) - g(x - e)) / (2 * h)
    return np.asarray((hess + hess.T) / 2, dtype=np.float64)


def param_intervals(result: MleResult, level: float = 0.95) -> FloatArray:
    """Wald intervals on the log scale, mapped back: shape ``(k, 2)``."""
    from seglens.stats import z_value

    z = z_value(level)
    se = np.sqrt(np.diag(result.log_cov))
    log_p = np.log(result.params)
    with np.errstate(over="ignore"):
        return np.column_stack([np.exp(log_p - z * se), np.exp(log_p + z * se)])


def as_float_array(values: object, name: str) -> FloatArray:
    """A 1-D float array, with a clear error for NaN or negative entries."""
    arr = np.asarray(values, dtype=np.float64).ravel()
    if not np.all(np.isfinite(arr)):
        raise DataError(f"{name} has missing or infinite values", column=name)
    if np.any(arr < 0):
        raise DataError(
            f"{name} has negative values", column=name, values=arr[arr < 0][:5].tolist()
        )
    return arr
