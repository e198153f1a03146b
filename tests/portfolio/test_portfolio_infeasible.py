"""Infeasible problems are explained (named constraints) and bad inputs raise typed errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ferroquant import errors
from ferroquant.portfolio import Constraints, FactorModel, optimize, repair_psd

from ._problems import instance


def _solve(n: int, cons: Constraints) -> None:
    inst = instance(n, 3, 0)
    optimize(inst.mu, inst.model, "utility", constraints=cons)


def test_cap_with_too_few_assets() -> None:
    with pytest.raises(errors.InfeasibleError, match=r"exceeds the sum of upper bounds 0\.9") as e:
        _solve(9, Constraints(upper=0.1))
    assert e.value.conflicts == ["budget", "upper bounds"]


def test_group_bounds_that_cannot_sum_to_one() -> None:
    labels = np.array(["a"] * 5 + ["b"] * 5)
    cons = Constraints(groups=labels, group_bounds={"a": (0.0, 0.3), "b": (0.0, 0.4)})
    with pytest.raises(errors.InfeasibleError, match=r"group upper bounds sum to 0\.7") as e:
        _solve(10, cons)
    assert e.value.conflicts == ["budget", "group upper bounds"]


def test_group_floor_above_its_members_caps() -> None:
    labels = np.array(["a"] * 2 + ["b"] * 8)
    cons = Constraints(upper=0.2, groups=labels, group_bounds={"a": (0.5, 1.0)})
    with pytest.raises(errors.InfeasibleError) as e:
        _solve(10, cons)
    assert e.value.conflicts == ["group 'a' lower", "upper bounds"]


def test_turnover_that_cannot_reach_the_bounds() -> None:
    current = np.r_[0.5, np.full(9, 0.5 / 9)]
    cons = Constraints(upper=0.2, current=current, turnover=0.4)
    with pytest.raises(errors.InfeasibleError, match=r"need at least 0\.6") as e:
        _solve(10, cons)
    assert "turnover" in e.value.conflicts


def test_conflict_only_a_linear_program_sees_is_named() -> None:
    # Each constraint alone is satisfiable; beta ≥ 1.3 needs the high-beta names that the group
    # cap forbids. The arithmetic checks pass, the solver fails, the LP names the pair.
    n = 10
    b = np.c_[np.r_[np.full(5, 1.5), np.full(5, 0.5)]]
    model = FactorModel(b, np.array([[0.04]]), np.full(n, 0.05))
    labels = np.array(["hi"] * 5 + ["lo"] * 5)
    cons = Constraints(
        groups=labels, group_bounds={"hi": (0.0, 0.5)}, factor_bounds={0: (1.3, 2.0)}
    )
    with pytest.raises(errors.InfeasibleError) as e:
        optimize(np.full(n, 0.05), model, "utility", constraints=cons, method="ipm")
    assert e.value.conflicts == ["budget", "group 'hi' upper", "factor 0 lower"]


@settings(max_examples=30, deadline=None)
@given(n=st.integers(2, 30), cap=st.floats(0.01, 1.0))
def test_caps_are_feasible_exactly_when_n_times_cap_reaches_one(n: int, cap: float) -> None:
    inst = instance(n, 2, n)
    cons = Constraints(upper=cap)
    if n * cap < 1 - 1e-12:
        with pytest.raises(errors.InfeasibleError):
            optimize(inst.mu, inst.model, "utility", constraints=cons)
    elif n * cap > 1 + 1e-6:
        res = optimize(inst.mu, inst.model, "utility", constraints=cons)
        assert res.weights.max() <= cap + 1e-12 and abs(res.weights.sum() - 1) <= 1e-12


def test_non_psd_factor_covariance_is_refused_and_repairable() -> None:
    f = np.array([[0.04, 0.05], [0.05, 0.04]])  # correlation above 1
    b = np.random.default_rng(0).normal(size=(20, 2))
    model = FactorModel(b, f, np.full(20, 0.02))
    with pytest.raises(errors.InvalidParameterError, match="repair_psd"):
        optimize(np.full(20, 0.05), model, "utility")
    fixed, report = repair_psd(f)
    assert not report.already_psd and report.clipped == 1 and report.min_eigenvalue < 0
    assert np.linalg.eigvalsh(fixed).min() >= -1e-15
    res = optimize(np.full(20, 0.05), FactorModel(b, fixed, np.full(20, 0.02)), "utility")
    assert res.certificate.optimal


def test_zero_specific_risk_and_rank_deficient_covariance_still_solve() -> None:
    # Σ = B F B' of rank 2 over 30 assets: the QP is convex but not strictly; the solver still
    # certifies an optimum (not unique in the weights, unique in the objective).
    rng = np.random.default_rng(1)
    b = rng.normal(size=(30, 2))
    model = FactorModel(b, np.diag([0.04, 0.01]), np.zeros(30))
    mu = rng.normal(0.05, 0.02, 30)
    res = optimize(mu, model, "utility", constraints=Constraints(upper=0.2))
    assert res.certificate.optimal


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"mu": np.full(5, np.nan)}, errors.InvalidParameterError, "NaN or inf"),
        ({"mu": np.zeros(4)}, errors.ShapeError, "one value per asset"),
        ({"objective": "sharpe"}, errors.InvalidParameterError, "choose one of"),
        ({"objective": "target_return"}, errors.InvalidParameterError, "needs target"),
        ({"method": "fast"}, errors.InvalidParameterError, "'auto', 'ipm' or 'scipy'"),
        ({"cons": Constraints(lower=0.3, upper=0.2)}, errors.InvalidParameterError, "exceeds"),
        ({"cons": Constraints(turnover=0.1)}, errors.InvalidParameterError, "current"),
        ({"cons": Constraints(upper=np.ones(4))}, errors.ShapeError, "one value per asset"),
        (
            {"objective": "max_sharpe", "cons": Constraints(l2=1.0)},
            errors.InvalidParameterError,
            "not costs or l2",
        ),
    ],
)
def test_bad_arguments_raise_typed_errors(kwargs: dict, error: type, match: str) -> None:  # type: ignore[type-arg]
    n = 5
    model = FactorModel(np.ones((n, 1)), np.array([[0.04]]), np.full(n, 0.02))
    mu = kwargs.get("mu", np.full(n, 0.05))
    with pytest.raises(error, match=match):
        optimize(
            mu,
            model,
            kwargs.get("objective", "utility"),
            constraints=kwargs.get("cons"),
            method=kwargs.get("method", "auto"),
        )


def test_factor_model_validation() -> None:
    with pytest.raises(errors.ShapeError):
        FactorModel(np.ones((3, 2)), np.eye(3), np.ones(3))
    with pytest.raises(errors.InvalidParameterError, match="variances"):
        FactorModel(np.ones((3, 1)), np.eye(1), -np.ones(3))
    with pytest.raises(errors.NonFiniteError):
        FactorModel(np.full((3, 1), np.inf), np.eye(1), np.ones(3))
    with pytest.raises(errors.InvalidParameterError, match="symmetric"):
        FactorModel(np.ones((3, 2)), np.array([[1.0, 0.5], [0.0, 1.0]]), np.ones(3))
