"""Known answers: BG/NBD and Gamma-Gamma on the CDNOW sample (Fader, Hardie & Lee 2005)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from seglens.errors import DataError, UsageError
from seglens.impact.bgnbd import BetaGeoModel
from seglens.impact.gamma_gamma import GammaGammaModel
from seglens.impact.summary import clv_summary

PAPER_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PAPER_GG = {"p": 6.25, "q": 3.74, "v": 15.44}


def _rel(got: float, want: float) -> float:
    return abs(got - want) / want


def test_bgnbd_reproduces_paper_parameters(cdnow_dir: Path) -> None:
    d = pl.read_csv(cdnow_dir / "cdnow_customers_summary.csv")
    assert d.height == 2357
    m = BetaGeoModel().fit(d["frequency"], d["recency"], d["T"])
    for name, want in PAPER_BGNBD.items():
        assert _rel(m.params_[name], want) < 0.02, (name, m.params_[name])
        lo, hi = m.param_ci_[name]
        assert lo < m.params_[name] < hi
    # the paper's log-likelihood is -9582.4
    assert m.log_likelihood_ == pytest.approx(-9582.4, abs=0.5)


def test_bgnbd_fit_from_raw_transactions(cdnow_transactions: pl.DataFrame) -> None:
    s = clv_summary(cdnow_transactions, observation_period_end=dt.date(1997, 9, 30), unit="weeks")
    assert s.height == 2357
    m = BetaGeoModel().fit(s["frequency"], s["recency"], s["T"])
    for name, want in PAPER_BGNBD.items():
        assert _rel(m.params_[name], want) < 0.02, (name, m.params_[name])


def test_summary_matches_published_summary(
    cdnow_dir: Path, cdnow_transactions: pl.DataFrame
) -> None:
    s = clv_summary(cdnow_transactions, observation_period_end=dt.date(1997, 9, 30), unit="weeks")
    ref = pl.read_csv(cdnow_dir / "cdnow_customers_summary_with_transactions.csv")
    j = ref.with_columns(pl.col("ID").cast(pl.String)).join(
        s, left_on="ID", right_on="customer_id", how="inner"
    )
    assert j.height == 2357
    assert (j["x"] == j["frequency"]).all()
    # the published file is rounded to 2 decimals
    assert (j["t_x"] - j["recency"]).abs().max() < 0.006  # type: ignore[operator]
    assert (j["T"] - j["T_right"]).abs().max() < 0.006  # type: ignore[operator]
    assert (j["zbar"] - j["monetary_value"]).abs().max() < 0.006  # type: ignore[operator]


def test_bgnbd_paper_conditional_expectation(cdnow_dir: Path) -> None:
    d = pl.read_csv(cdnow_dir / "cdnow_customers_summary.csv")
    m = BetaGeoModel().fit(d["frequency"], d["recency"], d["T"])
    # FHL 2005, section 5: customer with x=2, t_x=30.43, T=38.86 expects 1.226 purchases in 39 weeks
    assert m.expected_purchases(39, [2], [30.43], [38.86])[0] == pytest.approx(1.226, abs=0.005)


def test_gamma_gamma_reproduces_paper_parameters(cdnow_dir: Path) -> None:
    d = pl.read_csv(cdnow_dir / "cdnow_customers_summary_with_transactions.csv")
    m = GammaGammaModel().fit(d["x"], d["zbar"])
    assert m.n_customers_ == 946
    for name, want in PAPER_GG.items():
        assert _rel(m.params_[name], want) < 0.02, (name, m.params_[name])
    # population mean spend per transaction p*v/(q-1): FHL report $35.
    mean = m.expected_spend([0], [0.0])[0]
    assert mean == pytest.approx(PAPER_GG["p"] * PAPER_GG["v"] / (PAPER_GG["q"] - 1), rel=0.03)


def test_prob_alive_and_expectations_properties() -> None:
    m = BetaGeoModel().fit(
        [2, 1, 0, 0, 3, 5, 1], [30, 2, 0, 0, 20, 35, 10], [39, 39, 39, 30, 35, 38, 20]
    )
    # no repeat purchase -> alive for sure in BG/NBD; a long silence lowers P(alive)
    assert m.prob_alive([0], [0], [39])[0] == 1.0
    recent, stale = m.prob_alive([3, 3], [38, 5], [39, 39])
    assert recent > stale
    e = m.expected_purchases(10, [3, 3], [38, 5], [39, 39])
    assert e[0] > e[1] > 0
    # longer horizon, more purchases
    assert m.expected_purchases_new(20) > m.expected_purchases_new(10) > 0


def test_sample_purchases_mean_matches_expectation(cdnow_dir: Path) -> None:
    d = pl.read_csv(cdnow_dir / "cdnow_customers_summary.csv")
    m = BetaGeoModel().fit(d["frequency"], d["recency"], d["T"])
    draws = m.sample_purchases(
        39, d["frequency"], d["recency"], d["T"], n_draws=200, parameter_uncertainty=False
    )
    expected_total = m.expected_purchases(39, d["frequency"], d["recency"], d["T"]).sum()
    sim_totals = draws.sum(axis=1)
    assert np.mean(sim_totals) == pytest.approx(expected_total, rel=0.02)


def test_errors_are_user_errors() -> None:
    with pytest.raises(UsageError):
        BetaGeoModel().prob_alive([1], [1], [2])
    with pytest.raises(DataError, match="repeat"):
        BetaGeoModel().fit([0, 0], [0, 0], [5, 5])
    with pytest.raises(DataError, match="recency is larger"):
        BetaGeoModel().fit([1, 2], [6, 1], [5, 5])
    with pytest.raises(DataError, match="Gamma-Gamma"):
        GammaGammaModel().fit([0, 1], [0, 5.0])
