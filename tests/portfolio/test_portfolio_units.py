"""Units, warm starts and the scipy reference path agree with the interior-point path."""

from __future__ import annotations

import numpy as np
import pytest

from ferroquant import errors
from ferroquant.portfolio import Constraints, FactorModel, optimize
from ferroquant.portfolio.reference import solve_scipy

from ._problems import instance

DAYS = 252.0


def _daily(model: FactorModel) -> FactorModel:
    return model.scaled(1.0 / DAYS)


@pytest.mark.parametrize(
    ("objective", "param_annual", "param_daily"),
    [
        ("utility", 2.0, 2.0),  # μ'w - δ/2 w'Σw scales as a whole: same δ
        ("min_variance", 1.0, 1.0),
        ("max_sharpe", 1.0, 1.0),
        # μ'w - λσ: annual = 252 μ_d'w - λ √252 σ_d, so daily λ = λ_annual / √252.
        ("mean_volatility", 1.0, 1.0 / np.sqrt(DAYS)),
    ],
)
def test_daily_and_annual_units_give_the_same_weights(
    objective: str, param_annual: float, param_daily: float
) -> None:
    inst = instance(300, 6, 21)
    cons = Constraints(upper=0.05)
    annual = optimize(inst.mu, inst.model, objective, risk_aversion=param_annual, constraints=cons)
    daily = optimize(
        inst.mu / DAYS, _daily(inst.model), objective, risk_aversion=param_daily, constraints=cons
    )
    assert annual.certificate.optimal and daily.certificate.optimal
    # Issue: L1 ≤ 1e-6 between units.
    assert np.abs(annual.weights - daily.weights).sum() <= 1e-6


def test_certificate_is_unit_free() -> None:
    inst = instance(200, 5, 4)
    cons = Constraints(upper=0.05)
    a = optimize(inst.mu, inst.model, "utility", risk_aversion=3.0, constraints=cons)
    d = optimize(inst.mu / DAYS, _daily(inst.model), "utility", risk_aversion=3.0, constraints=cons)
    assert a.certificate.kkt_residual <= 1e-9 and d.certificate.kkt_residual <= 1e-9


def test_warm_start_gives_the_same_answer_in_fewer_iterations() -> None:
    inst = instance(500, 8, 9)
    rng = np.random.default_rng(0)
    cons = Constraints(upper=0.05)
    first = optimize(inst.mu, inst.model, "mean_volatility", constraints=cons)
    mu2 = inst.mu + rng.normal(0, 0.002, inst.mu.shape)
    cold = optimize(mu2, inst.model, "mean_volatility", constraints=cons)
    warm = optimize(mu2, inst.model, "mean_volatility", constraints=cons, start=first)
    assert warm.certificate.optimal
    assert np.abs(warm.weights - cold.weights).sum() <= 1e-7
    assert warm.certificate.iterations < cold.certificate.iterations


def test_turnover_limit_binds_and_costs_reduce_trading() -> None:
    inst = instance(200, 5, 2)
    current = np.full(200, 1 / 200)
    free = optimize(inst.mu, inst.model, "utility", constraints=Constraints(upper=0.05))
    limited = optimize(
        inst.mu,
        inst.model,
        "utility",
        constraints=Constraints(upper=0.05, current=current, turnover=0.2),
    )
    assert np.abs(free.weights - current).sum() > 0.2
    assert abs(np.abs(limited.weights - current).sum() - 0.2) <= 1e-9
    costly = optimize(
        inst.mu,
        inst.model,
        "utility",
        constraints=Constraints(upper=0.05, current=current, costs=0.01),
    )
    assert np.abs(costly.weights - current).sum() < np.abs(free.weights - current).sum()
    assert costly.trades is not None
    assert np.allclose(costly.trades, costly.weights - current)


def test_factor_bounds_and_tracking_error_hold() -> None:
    inst = instance(150, 4, 8)
    bench = np.full(150, 1 / 150)
    cons = Constraints(
        upper=0.05, factor_bounds={0: (0.95, 1.0)}, benchmark=bench, tracking_error=0.02
    )
    res = optimize(inst.mu, inst.model, "utility", risk_aversion=1.0, constraints=cons)
    assert res.certificate.optimal
    beta = inst.model.exposures[:, 0] @ res.weights
    assert 0.95 - 1e-10 <= beta <= 1.0 + 1e-10
    te = np.sqrt(inst.model.variance(res.weights - bench))
    assert te <= 0.02 + 1e-9
    loose = optimize(inst.mu, inst.model, "utility", constraints=Constraints(upper=0.05))
    assert np.sqrt(inst.model.variance(loose.weights - bench)) > 0.02  # the limit binds


def test_l2_spreads_the_weights() -> None:
    inst = instance(100, 3, 6)
    plain = optimize(inst.mu, inst.model, "utility", constraints=Constraints())
    ridge = optimize(inst.mu, inst.model, "utility", constraints=Constraints(l2=0.5))
    assert ridge.certificate.optimal
    assert (ridge.weights > 1e-6).sum() > (plain.weights > 1e-6).sum()


@pytest.mark.parametrize("objective", ["utility", "min_variance", "mean_volatility", "max_sharpe"])
def test_scipy_reference_path_agrees(objective: str) -> None:
    inst = instance(40, 3, 13)
    cons = Constraints(upper=0.2)
    fast = optimize(inst.mu, inst.model, objective, constraints=cons)
    ref = solve_scipy(objective, inst.mu, inst.model.covariance(), cons, 1.0, tol=1e-7)
    # SLSQP stops around 1e-8 in KKT terms; its weights agree to that order.
    assert ref.certificate.kkt_residual <= 1e-6
    assert np.abs(fast.weights - ref.weights).sum() <= 1e-5


@pytest.mark.parametrize("objective", ["mean_volatility", "utility", "min_variance", "max_sharpe"])
def test_dense_covariance_active_set_path_is_exact(objective: str) -> None:
    inst = instance(400, 6, 17)
    labels = np.array(["a", "b", "c", "d"])[np.arange(400) % 4]
    cons = Constraints(upper=0.05, groups=labels, group_bounds={"a": (0.1, 0.3)})
    fast = optimize(inst.mu, inst.model, objective, constraints=cons, tol=1e-12)
    dense = optimize(inst.mu, inst.model.covariance(), objective, constraints=cons)
    assert dense.certificate.method == "active-set" and dense.certificate.optimal
    # The active-set answer solves the KKT system exactly (≈ 1e-14); the factor-model path at
    # tol 1e-12 is the comparison, hence 1e-8 in L1.
    assert dense.certificate.kkt_residual <= 1e-12
    assert np.abs(fast.weights - dense.weights).sum() <= 1e-8


def test_dense_with_factor_bounds_uses_given_exposures() -> None:
    inst = instance(200, 4, 3)
    b = inst.model.exposures
    cons = Constraints(upper=0.05, exposures=b, factor_bounds={0: (1.0, 1.05)})
    fast = optimize(inst.mu, inst.model, "utility", constraints=cons, tol=1e-12)
    dense = optimize(inst.mu, inst.model.covariance(), "utility", constraints=cons)
    assert dense.certificate.method == "active-set"
    assert np.abs(fast.weights - dense.weights).sum() <= 1e-8
    assert 1.0 - 1e-12 <= b[:, 0] @ dense.weights <= 1.05 + 1e-12


def test_dense_with_turnover_goes_to_the_reference_path() -> None:
    inst = instance(30, 3, 1)
    current = np.full(30, 1 / 30)
    cons = Constraints(upper=0.3, current=current, turnover=0.4)
    res = optimize(inst.mu, inst.model.covariance(), "utility", constraints=cons, tol=1e-7)
    fast = optimize(inst.mu, inst.model, "utility", constraints=cons)
    assert res.certificate.method == "SLSQP"
    assert np.abs(res.weights - fast.weights).sum() <= 1e-5
    with pytest.raises(errors.InvalidParameterError, match="method='scipy'"):
        optimize(inst.mu, inst.model.covariance(), "utility", constraints=cons, method="ipm")


@pytest.mark.parametrize("objective", ["mean_volatility", "utility", "min_variance"])
def test_trust_constr_with_analytic_hessians_agrees(objective: str) -> None:
    inst = instance(30, 3, 2)
    cons = Constraints(upper=0.2)
    fast = optimize(inst.mu, inst.model, objective, constraints=cons)
    ref = solve_scipy(objective, inst.mu, inst.model, cons, 1.0, method="trust-constr")
    # An interior method stops ~1e-7 inside active bounds: agreement to 1e-4 in L1.
    assert np.abs(fast.weights - ref.weights).sum() <= 1e-4
