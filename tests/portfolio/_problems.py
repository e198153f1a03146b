"""Seeded factor-model problems and an independent reference solver (cvxpy + Clarabel)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ferroquant.portfolio import FactorModel

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Instance:
    mu: Array
    model: FactorModel


def instance(n: int, k: int, seed: int) -> Instance:
    """The benchmark's generator: market beta ~ N(1, .25), styles ~ N(0, .4), factor vols 3-16 %,
    idiosyncratic vols log-normal around 25 %, mu = 1 % + B premia + alpha (alpha ~ N(0, 3 %))."""
    rng = np.random.default_rng(seed)
    b = np.column_stack([rng.normal(1.0, 0.25, n), rng.normal(0.0, 0.4, (n, k - 1))])
    vols = rng.uniform(0.03, 0.16, k)
    corr = np.eye(k)
    if k > 1:
        g = rng.normal(size=(k, k))
        c = g @ g.T + k * np.eye(k)
        d = np.sqrt(np.diag(c))
        corr = c / np.outer(d, d)
    f = corr * np.outer(vols, vols)
    spec = np.exp(rng.normal(np.log(0.25), 0.3, n)) ** 2
    mu = 0.01 + b @ rng.normal(0.0, 0.02, k) + rng.normal(0.0, 0.03, n)
    return Instance(mu, FactorModel(b, f, spec))


def cvx_solve(
    inst: Instance,
    objective: str,
    param: float = 1.0,
    upper: float | Array = np.inf,
    groups: tuple[Array, float, float] | None = None,
    current: Array | None = None,
    turnover: float | None = None,
    costs: float = 0.0,
    target: float | None = None,
) -> tuple[Array, float, bool]:
    """Reference optimum: (weights, objective value as ferroquant defines it, whether Clarabel
    reached its tolerance). 1e-11 is about as tight as Clarabel converges; tighter settings make it
    stop with "optimal_inaccurate" more often, not closer to the optimum."""
    import cvxpy as cp

    m = inst.model
    n = m.n_assets
    root = np.linalg.cholesky(m.factor_cov + 1e-300 * np.eye(m.n_factors))
    w = cp.Variable(n)
    fx = root.T @ (m.exposures.T @ w)
    var = cp.sum_squares(fx) + cp.sum(cp.multiply(m.specific_var, cp.square(w)))
    vol = cp.norm(cp.hstack([fx, cp.multiply(np.sqrt(m.specific_var), w)]))
    cost = 0.0 if current is None else costs * cp.norm1(w - current)
    cons = [cp.sum(w) == 1, w >= 0]
    if np.any(np.isfinite(upper)):
        cons.append(w <= upper)
    if groups is not None:
        member, lo, hi = groups
        cons += [member @ w <= hi, member @ w >= lo]
    if turnover is not None and current is not None:
        cons.append(cp.norm1(w - current) <= turnover)
    ret = inst.mu @ w
    obj = {
        "mean_volatility": cp.Maximize(ret - param * vol - cost),
        "utility": cp.Maximize(ret - 0.5 * param * var - cost),
        "min_variance": cp.Minimize(var),
        "target_return": cp.Minimize(var),
    }[objective]
    if objective == "target_return":
        cons.append(ret >= target)
    prob = cp.Problem(obj, cons)
    with warnings.catch_warnings():
        # "Solution may be inaccurate": reported through the returned flag instead.
        warnings.simplefilter("ignore", UserWarning)
        prob.solve(
            solver="CLARABEL",
            tol_gap_abs=1e-11,
            tol_gap_rel=1e-11,
            tol_feas=1e-11,
            max_iter=500,
        )
    x = np.asarray(w.value, dtype=np.float64)
    return x, float(prob.value), prob.status == "optimal"
