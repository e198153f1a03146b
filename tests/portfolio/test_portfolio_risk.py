"""Covariance estimators, PSD repair, risk parity, the frontier and risk attribution."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ferroquant import errors
from ferroquant.portfolio import (
    Constraints,
    FactorModel,
    efficient_frontier,
    ewma_covariance,
    ledoit_wolf,
    optimize,
    repair_psd,
    risk_attribution,
    risk_parity,
    sample_covariance,
)

from ._problems import instance


def _returns(seed: int, n: int = 6, t: int = 250, holes: bool = True) -> np.ndarray:
    rng = np.random.default_rng(seed)
    r = rng.normal(0, 0.01, (n, t)) + rng.normal(0, 0.01, t)
    if holes:
        r[1, :30] = np.nan  # listed late
        r[2, -12:] = np.nan  # delisted
        r[3, 100:104] = np.nan  # suspended
    return r


def test_sample_covariance_equals_pandas_pairwise() -> None:
    r = _returns(0)
    ref = pd.DataFrame(r.T).cov().to_numpy()
    # ≤ 1e-12 relative: both are exact pairwise formulas, only summation order differs.
    assert np.allclose(sample_covariance(r), ref, rtol=1e-12, atol=0)


def test_ewma_covariance_equals_pandas_ewm() -> None:
    r = _returns(1, holes=False)
    ref = pd.DataFrame(r.T).ewm(halflife=30).cov().to_numpy()[-r.shape[0] :]
    assert np.allclose(ewma_covariance(r, 30), ref, rtol=1e-12, atol=0)


def _ledoit_wolf_oracle(x: np.ndarray) -> tuple[np.ndarray, float]:
    """Ledoit & Wolf (2004), eqs. 14-17, written with loops over dates."""
    x = x - x.mean(axis=1, keepdims=True)
    n, t = x.shape
    s = sum(np.outer(x[:, j], x[:, j]) for j in range(t)) / t
    m = np.trace(s) / n
    d2 = np.linalg.norm(s - m * np.eye(n), "fro") ** 2 / n
    b2 = (
        sum(np.linalg.norm(np.outer(x[:, j], x[:, j]) - s, "fro") ** 2 for j in range(t)) / n / t**2
    )
    b2 = min(b2, d2)
    return (b2 / d2) * m * np.eye(n) + (1 - b2 / d2) * s, b2 / d2


def test_ledoit_wolf_matches_the_paper() -> None:
    r = _returns(2, n=8, t=60, holes=False)
    got, shrink = ledoit_wolf(r)
    ref, ref_shrink = _ledoit_wolf_oracle(r)
    assert abs(shrink - ref_shrink) <= 1e-12
    assert np.allclose(got, ref, rtol=1e-12, atol=1e-18)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, (5, 5), elements=st.floats(-1, 1)))
def test_repair_psd_returns_a_psd_matrix_and_reports_it(m: np.ndarray) -> None:
    fixed, report = repair_psd(m)
    assert np.allclose(fixed, fixed.T)
    assert np.linalg.eigvalsh(fixed).min() >= -1e-12 * max(1.0, np.abs(fixed).max())
    assert report.already_psd == (report.clipped == 0)
    if report.already_psd:
        assert np.array_equal(fixed, (m + m.T) / 2)


def test_estimators_reject_bad_input() -> None:
    with pytest.raises(errors.ShapeError):
        sample_covariance(np.zeros(5))
    with pytest.raises(errors.EmptyInputError):
        sample_covariance(np.zeros((3, 1)))
    with pytest.raises(errors.InvalidParameterError, match="inf"):
        sample_covariance(np.array([[0.0, np.inf], [0.0, 1.0]]))
    with pytest.raises(errors.InvalidParameterError, match="halflife"):
        ewma_covariance(_returns(0), 0)


@pytest.mark.parametrize("dense", [False, True])
def test_risk_parity_equalises_contributions(dense: bool) -> None:
    inst = instance(200, 6, 3)
    risk = inst.model.covariance() if dense else inst.model
    rp = risk_parity(risk)
    # Newton converges quadratically: contributions equal to 1e-10 of the budget 1/n.
    assert rp.residual <= 1e-10 / 200
    assert abs(rp.weights.sum() - 1) <= 1e-12 and rp.weights.min() > 0


def test_risk_budgets_are_respected() -> None:
    inst = instance(50, 4, 5)
    budgets = np.linspace(1, 3, 50)
    rp = risk_parity(inst.model, budgets)
    assert np.abs(rp.contributions - budgets / budgets.sum()).max() <= 1e-12


def test_frontier_is_increasing_and_certified() -> None:
    inst = instance(120, 5, 7)
    f = efficient_frontier(inst.mu, inst.model, Constraints(upper=0.1), points=8)
    assert np.all(np.diff(f.returns) > 0) and np.all(np.diff(f.volatilities) > 0)
    assert all(r.certificate.optimal for r in f.results)
    # The frontier is concave in (vol, return): slopes decrease.
    slopes = np.diff(f.returns) / np.diff(f.volatilities)
    assert np.all(np.diff(slopes) < 1e-12)


def test_attribution_adds_up() -> None:
    inst = instance(80, 5, 1)
    w = np.full(80, 1 / 80)
    a = risk_attribution(w, inst.model)
    assert abs(a.total - inst.model.variance(w)) <= 1e-15
    assert abs(a.factor.sum() + a.specific - a.total) <= 1e-15
    assert abs(a.by_asset.sum() - a.total) <= 1e-15
    dense = w @ inst.model.covariance() @ w
    assert abs(a.total - dense) <= 1e-14 * dense


def test_model_never_forms_the_dense_matrix_for_large_universes() -> None:
    # 20,000 assets: a dense Σ would take 3.2 GB; the factor path needs O(n k).
    n = 20_000
    rng = np.random.default_rng(0)
    model = FactorModel(rng.normal(size=(n, 5)), np.eye(5) * 0.01, np.full(n, 0.04))
    mu = rng.normal(0.05, 0.02, n)
    res = optimize(mu, model, "utility", constraints=Constraints(upper=0.01))
    assert res.certificate.optimal
