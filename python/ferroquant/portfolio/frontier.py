"""Efficient frontier, risk parity and risk attribution.

Examples
--------
>>> import numpy as np
>>> from ferroquant.portfolio import FactorModel, Constraints, efficient_frontier, risk_parity
>>> b = np.array([[1.0], [0.8], [1.2], [0.5]])
>>> m = FactorModel(b, np.array([[0.04]]), np.array([0.02, 0.03, 0.05, 0.01]))
>>> f = efficient_frontier(np.array([0.05, 0.06, 0.09, 0.03]), m, Constraints(), points=5)
>>> bool(np.all(np.diff(f.returns) > 0) and np.all(np.diff(f.volatilities) > 0))
True
>>> rp = risk_parity(m)
>>> np.round(rp.contributions, 6)
array([0.25, 0.25, 0.25, 0.25])
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ferroquant.errors import InvalidParameterError, NotOptimalError
from ferroquant.portfolio import _qp
from ferroquant.portfolio.constraints import Compiled, Constraints
from ferroquant.portfolio.problems import PortfolioResult, optimize
from ferroquant.portfolio.risk import FactorModel, Risk, as_risk, times

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Frontier:
    """Points of the efficient frontier, lowest risk first; ``results`` carry the certificates."""

    returns: Array
    volatilities: Array
    weights: Array
    results: list[PortfolioResult]


def efficient_frontier(
    mu: ArrayLike, risk: Risk, constraints: Constraints | None = None, points: int = 20
) -> Frontier:
    """Minimum-variance portfolios for ``points`` target returns from the minimum-variance
    portfolio's return to the highest return the constraints allow (found by a linear program).
    Each solve is warm-started from the previous point."""
    if points < 2:
        raise InvalidParameterError(f"points={points}; a frontier needs at least 2 points")
    m = np.asarray(mu, dtype=np.float64)
    cons = constraints or Constraints()
    low = optimize(m, risk, "min_variance", constraints=cons)
    high = _max_return(m, risk, cons)
    targets = np.linspace(low.expected_return, high, points)
    results = [low]
    prev = low
    for r in targets[1:]:
        # The last target sits on the LP optimum, where the feasible set is a single face: back
        # off by a hair so that the interior-point method has an interior to work in.
        r_eff = min(r, high - 1e-9 * max(abs(high), 1e-12))
        prev = optimize(m, risk, "target_return", target=r_eff, constraints=cons, start=prev)
        results.append(prev)
    return Frontier(
        returns=np.array([x.expected_return for x in results]),
        volatilities=np.array([x.volatility for x in results]),
        weights=np.array([x.weights for x in results]),
        results=results,
    )


def _max_return(mu: Array, risk: Risk, cons: Constraints) -> float:
    model = as_risk(risk)
    n = mu.shape[0]
    rows = cons.compile(n, model.exposures if isinstance(model, FactorModel) else None)
    if rows.trades:
        raise InvalidParameterError("efficient_frontier does not take turnover or costs")
    greedy = _greedy_max_return(mu, rows)
    if greedy is not None:
        return greedy
    from scipy.optimize import linprog

    a_ub = [r.a for r in rows.inequalities]
    a_eq = [r.a for r in rows.equalities]
    res = linprog(
        -mu,
        A_ub=np.array(a_ub) if a_ub else None,
        b_ub=np.array([r.rhs for r in rows.inequalities]) if a_ub else None,
        A_eq=np.array(a_eq) if a_eq else None,
        b_eq=np.array([r.rhs for r in rows.equalities]) if a_eq else None,
        bounds=[
            (lo if np.isfinite(lo) else None, hi if np.isfinite(hi) else None)
            for lo, hi in zip(rows.lower, rows.upper, strict=True)
        ],
        method="highs",
    )
    if res.status != 0:
        raise NotOptimalError(
            f"the highest attainable return is unbounded or infeasible: {res.message}"
        )
    return float(-res.fun)


def _greedy_max_return(mu: Array, rows: Compiled) -> float | None:
    """With only bounds and a budget the LP is solved by filling the best assets first."""
    if rows.inequalities or [r.name for r in rows.equalities] != ["budget"]:
        return None
    lo, hi = rows.lower, rows.upper
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
        return None
    left = rows.equalities[0].rhs - float(lo.sum())
    w = lo.copy()
    for i in np.argsort(-mu, kind="stable"):
        take = min(hi[i] - lo[i], left)
        w[i] += take
        left -= take
        if left <= 0:
            break
    return float(mu @ w)


@dataclass(frozen=True)
class RiskParity:
    """Long-only risk-budgeting weights; ``contributions`` are the shares of variance
    (``w_i (Σw)_i / w'Σw``) and ``residual`` their largest distance to the budgets."""

    weights: Array
    contributions: Array
    residual: float
    iterations: int


def risk_parity(
    risk: Risk, budgets: ArrayLike | None = None, tol: float = 1e-12, max_iter: int = 100
) -> RiskParity:
    """Weights whose risk contributions match ``budgets`` (equal by default).

    Newton's method on the strictly convex ``½ y'Σy − Σ b_i log y_i`` (Spinu 2013), whose minimiser
    normalised to sum 1 has exactly the budgeted contributions. With a factor model the Newton
    system ``(Σ + diag(b/y²)) d = −∇`` is solved by Woodbury in ``O(n k²)``.
    """
    model = as_risk(risk)
    n = model.n_assets if isinstance(model, FactorModel) else model.shape[0]
    b = np.full(n, 1.0 / n) if budgets is None else np.asarray(budgets, dtype=np.float64)
    if b.shape != (n,) or np.any(b <= 0) or not np.all(np.isfinite(b)):
        raise InvalidParameterError(f"budgets must be {n} positive finite numbers")
    b = b / b.sum()
    diag = model.specific_var if isinstance(model, FactorModel) else np.diag(model)
    y = 1.0 / np.sqrt(np.maximum(diag, 1e-300) * n)
    # The factor part V = B chol(F) once: every Newton step reuses it.
    v = _qp.Structure.of(model).v if isinstance(model, FactorModel) else None
    it = 0
    while it < max_iter:
        it += 1
        sy = times(model, y)
        grad = sy - b / y
        step = _newton(model, v, b / y**2, grad)
        # Damped step keeping y > 0 (the barrier's domain).
        alpha = 1.0
        neg = step < 0
        if neg.any():
            alpha = min(1.0, 0.95 * float(np.min(-y[neg] / step[neg])))
        y = y + alpha * step
        if float(np.abs(grad * y).max()) <= tol * float(b.max()) and alpha == 1.0:
            break
    w = y / y.sum()
    sw = times(model, w)
    rc = w * sw / float(w @ sw)
    return RiskParity(w, rc, float(np.abs(rc - b).max()), it)


def _newton(model: FactorModel | Array, v: Array | None, extra: Array, grad: Array) -> Array:
    if not isinstance(model, FactorModel):
        return np.asarray(-np.linalg.solve(model + np.diag(extra), grad), dtype=np.float64)
    assert v is not None
    dinv = 1.0 / (model.specific_var + extra)
    core = np.eye(v.shape[1]) + (v.T * dinv) @ v
    x = dinv * grad
    x = x - dinv * (v @ np.linalg.solve(core, v.T @ x))
    return -x


@dataclass(frozen=True)
class Attribution:
    """Variance decomposition ``w'Σw = Σ_k factor[k] + specific``; ``by_asset`` sums to the total
    (Euler contributions ``w_i (Σw)_i``)."""

    total: float
    factor: Array
    specific: float
    by_asset: Array

    @property
    def volatility(self) -> float:
        return math.sqrt(max(self.total, 0.0))


def risk_attribution(weights: ArrayLike, model: FactorModel) -> Attribution:
    """Splits ``w'XFX'w + w'Δw`` by factor (``x_k (F x)_k`` with ``x = X'w``) and by asset."""
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (model.n_assets,):
        raise InvalidParameterError(f"weights must have {model.n_assets} values, got {w.shape}")
    x = model.exposures.T @ w
    factor = x * (model.factor_cov @ x)
    specific = float(model.specific_var @ (w * w))
    return Attribution(float(factor.sum() + specific), factor, specific, w * model.times(w))
