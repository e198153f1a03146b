"""The scipy reference path, and certificates for weights that come from anywhere.

:func:`solve_scipy` poses the same problems to ``scipy.optimize.minimize`` (SLSQP by default,
``trust-constr`` on request) with analytic gradients, the trust-constr Hessians, and the objective
divided by its gradient scale at the start, so that daily and annual units take the same path.
It accepts a dense covariance as well as a factor model.

:func:`certify_weights` certifies any weights (a peer library's, scipy's): it finds the
multipliers that best explain the gradient on the active set (a small non-negative least-squares
problem) and hands them to :func:`~ferroquant.portfolio.certificate.certify`.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ferroquant.portfolio import diagnose
from ferroquant.portfolio._qp import QpOutcome
from ferroquant.portfolio.certificate import Certificate, certify
from ferroquant.portfolio.constraints import Compiled, Constraints, Row
from ferroquant.portfolio.problems import (
    OBJECTIVES,
    PortfolioResult,
    Problem,
    _check_supported,
    _gradient,
    _problem,
)
from ferroquant.portfolio.risk import Risk

Array = NDArray[np.float64]


def reference_problem(
    objective: str,
    mu: ArrayLike | None,
    risk: Risk,
    constraints: Constraints | None = None,
    param: float = 1.0,
    risk_free: float = 0.0,
) -> Problem:
    """A problem as :func:`certify_weights` takes it (any risk input, no solve)."""
    return _problem(objective, mu, risk, constraints, param, risk_free)  # any risk input


def _objective(prob: Problem) -> tuple[Any, Any]:
    """(f, ∇f) over ``x = (w, t)`` in minimisation form."""
    rows, mu, lam = prob.rows, prob.mu, prob.param
    n = rows.n

    def f(x: Array) -> float:
        w = x[:n]
        var = prob.risk.variance(w)
        sig = math.sqrt(max(var, 1e-300))
        val = {
            "mean_volatility": -mu @ w + lam * sig,
            "utility": -mu @ w + 0.5 * lam * var,
            "min_variance": 0.5 * var,
            "target_return": 0.5 * var,
            "max_sharpe": -(mu @ w - prob.risk_free) / sig,
            "target_risk": -mu @ w,
        }[prob.objective]
        extra = rows.l2 * float(w @ w) + (float(rows.costs @ x[n:]) if rows.trades else 0.0)
        return float(val) + extra  # type: ignore[arg-type]

    def g(x: Array) -> Array:
        w = x[:n]
        sw = prob.risk.times(w)
        sig = math.sqrt(max(float(w @ sw), 1e-300))
        gw = {
            "mean_volatility": lambda: -mu + lam * sw / sig,
            "utility": lambda: -mu + lam * sw,
            "min_variance": lambda: sw,
            "target_return": lambda: sw,
            "max_sharpe": lambda: -mu / sig + (mu @ w - prob.risk_free) * sw / sig**3,
            "target_risk": lambda: -mu,
        }[prob.objective]()
        out = np.zeros_like(x)
        out[:n] = gw + 2 * rows.l2 * w
        if rows.trades:
            out[n:] = rows.costs
        return out

    return f, g


def solve_scipy(
    objective: str,
    mu: ArrayLike | None,
    risk: Risk,
    constraints: Constraints | None,
    param: float,
    risk_free: float = 0.0,
    tol: float = 1e-9,
    method: str = "SLSQP",
) -> PortfolioResult:
    """Solves with `scipy.optimize.minimize`; certified like the fast path's results."""
    from scipy.optimize import BFGS, LinearConstraint, NonlinearConstraint, minimize

    if objective not in OBJECTIVES:
        raise ValueError(f"objective={objective!r}; choose one of {', '.join(OBJECTIVES)}")
    t0 = time.perf_counter()
    prob = _problem(objective, mu, risk, constraints, param, risk_free)
    rows = prob.rows
    _check_supported(objective, rows)
    diagnose.check(rows)
    n = rows.n
    nv = 2 * n if rows.trades else n
    f, g = _objective(prob)
    x0 = np.zeros(nv)
    x0[:n] = np.clip(
        rows.current if rows.current is not None else np.full(n, 1.0 / n), rows.lower, rows.upper
    )
    if rows.trades and rows.current is not None:
        x0[n:] = np.abs(x0[:n] - rows.current)
    scale = max(float(np.abs(g(x0)).max()), 1e-300)
    lin_a, lin_lo, lin_hi = _linear(rows, prob, nv)
    bounds = [
        (lo if np.isfinite(lo) else None, hi if np.isfinite(hi) else None)
        for lo, hi in zip(rows.lower, rows.upper, strict=True)
    ]
    bounds += [(0.0, None)] * (nv - n)
    eq = lin_lo == lin_hi
    cons: list[Any] = [
        LinearConstraint(lin_a[sel], lin_lo[sel], lin_hi[sel]) for sel in (eq, ~eq) if sel.any()
    ]
    if objective == "target_risk":
        cons.append(
            NonlinearConstraint(
                lambda x: prob.risk.variance(x[:n]),
                -np.inf,
                param**2,
                jac=lambda x: np.concatenate([2 * prob.risk.times(x[:n]), np.zeros(nv - n)]),
            )
        )
    if rows.tracking_error is not None and rows.benchmark is not None:
        b = rows.benchmark
        cons.append(
            NonlinearConstraint(
                lambda x: prob.risk.variance(x[:n] - b),
                -np.inf,
                rows.tracking_error**2,
                jac=lambda x: np.concatenate([2 * prob.risk.times(x[:n] - b), np.zeros(nv - n)]),
            )
        )
    opts: dict[str, Any] = {"maxiter": 2000}
    if method == "SLSQP":
        opts["ftol"] = 1e-15
    else:
        opts.update(gtol=1e-12, xtol=1e-14)
    extra: dict[str, Any] = {}
    if method == "trust-constr":
        hess = _hessian(prob, nv)
        extra["hess"] = (lambda x: hess(x) / scale) if hess is not None else BFGS()
    res = minimize(
        lambda x: f(x) / scale,
        x0,
        jac=lambda x: g(x) / scale,
        method=method,
        bounds=bounds,
        constraints=cons,
        options=opts,
        **extra,
    )
    x = np.asarray(res.x, dtype=np.float64)
    cert = certify_weights(
        prob,
        x[:n],
        x[n:] if rows.trades else None,
        tol,
        method,
        time.perf_counter() - t0,
        int(res.get("nit", 0)),
    )
    var = prob.risk.variance(x[:n])
    _, _, value, _ = _gradient(prob, x[:n], param if objective == "utility" else 0.0)
    return PortfolioResult(
        x[:n].copy(),
        objective,
        float(value),
        float(prob.mu @ x[:n]),
        math.sqrt(max(var, 0.0)),
        param if objective == "utility" else math.nan,
        cert,
    )


def _hessian(prob: Problem, nv: int) -> Any:
    """The objective's Hessian over ``x = (w, t)`` (dense: this is the reference path), or
    ``None`` where scipy's quasi-Newton update is used instead (the Sharpe ratio)."""
    n = prob.rows.n
    s = prob.risk.covariance()
    l2 = 2 * prob.rows.l2 * np.eye(n)

    def full(h: Array) -> Array:
        out = np.zeros((nv, nv))
        out[:n, :n] = h + l2
        return out

    if prob.objective == "mean_volatility":

        def hess(x: Array) -> Array:
            sw = s @ x[:n]
            sig = math.sqrt(max(float(x[:n] @ sw), 1e-300))
            return full(prob.param * (s / sig - np.outer(sw, sw) / sig**3))

        return hess
    if prob.objective in ("utility", "min_variance", "target_return"):
        weight = prob.param if prob.objective == "utility" else 1.0
        constant = full(weight * s)
        return lambda x: constant
    if prob.objective == "target_risk":
        constant = full(np.zeros((n, n)))
        return lambda x: constant
    return None


def _linear(rows: Compiled, prob: Problem, nv: int) -> tuple[Array, Array, Array]:
    n = rows.n
    out: list[tuple[Array, float, float]] = []

    def full(r: Row) -> Array:
        a = np.zeros(nv)
        a[:n] = r.a
        if r.c is not None and nv > n:
            a[n:] = r.c
        return a

    for r in rows.equalities:
        out.append((full(r), r.rhs, r.rhs))
    for r in rows.inequalities:
        out.append((full(r), -np.inf, r.rhs))
    if prob.objective == "target_return":
        out.append((np.concatenate([prob.mu, np.zeros(nv - n)]), prob.param, np.inf))
    if nv > n and rows.current is not None:
        eye = np.eye(n)
        for i in range(n):
            out.append((np.concatenate([eye[i], -eye[i]]), -np.inf, rows.current[i]))
            out.append((np.concatenate([-eye[i], -eye[i]]), -np.inf, -rows.current[i]))
    if not out:
        return np.zeros((0, nv)), np.zeros(0), np.zeros(0)
    return (
        np.array([a for a, _, _ in out]),
        np.array([lo for _, lo, _ in out]),
        np.array([hi for _, _, hi in out]),
    )


def certify_weights(
    prob: Problem,
    w: Array,
    t: Array | None,
    tol: float,
    method: str,
    seconds: float = 0.0,
    iterations: int = 0,
) -> Certificate:
    """Certificate of any weights: multipliers fitted on the active set by bounded least squares."""
    rows = prob.rows
    if prob.objective == "target_return":
        rows = Compiled(
            **{
                **rows.__dict__,
                "inequalities": [
                    *rows.inequalities,
                    Row("target return", -prob.mu, None, -prob.param),
                ],
            }
        )
    n = rows.n
    if rows.trades and t is None and rows.current is not None:
        t = np.abs(w - rows.current)
    a_risk = _implied_weight(prob, w)
    grad, scale, value, extra = _gradient(prob, w, a_risk)
    # Generous on purpose: calling a free asset active costs nothing (its gradient residual is ~0
    # anyway), calling an active one free would fit the multipliers to the wrong equations.
    act = 1e-7 * max(1.0, float(np.abs(w).max(initial=0.0)))
    trade = np.zeros(n) if t is None else t
    slack = np.array(
        [
            r.rhs - float(r.a @ w) - (0.0 if r.c is None else float(r.c @ trade))
            for r in rows.inequalities
        ]
    )
    active = np.flatnonzero(slack <= act)
    at_lo = (w - rows.lower) <= act
    at_hi = (rows.upper - w) <= act
    free = ~(at_lo | at_hi)
    # With trades, a traded asset's gradient carries ±(cost + turnover multiplier) (the active
    # side of |w - current| ≤ t); an untraded one is pinned like a bound.
    direction = np.zeros(n)
    g_eff = grad.copy()
    if rows.trades and rows.current is not None:
        direction = np.sign(w - rows.current) * (np.abs(w - rows.current) > act)
        g_eff = grad + direction * rows.costs
        free &= direction != 0
    turnover = [j for j in active if rows.inequalities[j].c is not None]
    plain = [j for j in active if rows.inequalities[j].c is None]
    cols = [r.a for r in rows.equalities] + [rows.inequalities[j].a for j in plain]
    cols += [direction * rows.inequalities[j].c for j in turnover]  # type: ignore[operator]
    lam_eq = np.zeros(len(rows.equalities))
    lam_in = np.zeros(len(rows.inequalities))
    ne = len(rows.equalities)
    if cols:
        theta = _fit_multipliers(
            np.array(cols).T, g_eff, ne, len(turnover), free, at_lo, at_hi, direction, rows
        )
        lam_eq = theta[:ne]
        lam_in[plain + turnover] = theta[ne:]
    r = grad + rows.row_gradient(lam_eq, lam_in)
    lam_trade = None
    if rows.trades and rows.current is not None:
        cap = rows.trade_cap(lam_in)
        # Stationarity in w: r + buy - sell = 0; in t: cap - buy - sell = 0.
        buy = np.where(
            direction > 0, cap, np.where(direction < 0, 0.0, np.clip((cap - r) / 2, 0.0, cap))
        )
        sell = cap - buy
        lam_trade = np.column_stack([buy, sell])
        r = r + buy - sell
    out = QpOutcome(
        w=w,
        t=t,
        y_eq=lam_eq,
        lam_ineq=lam_in,
        lam_lower=np.where(at_lo, np.maximum(r, 0.0), 0.0),
        lam_upper=np.where(at_hi, np.maximum(-r, 0.0), 0.0),
        lam_trade=lam_trade,
        status="optimal",
        iterations=iterations,
        z=w,
    )
    return certify(rows, out, grad, scale, value, tol, method, seconds, extra)


def _fit_multipliers(
    m: Array,
    g: Array,
    ne: int,
    n_turnover: int,
    free: NDArray[np.bool_],
    at_lo: NDArray[np.bool_],
    at_hi: NDArray[np.bool_],
    direction: Array,
    rows: Compiled,
) -> Array:
    """Multipliers ``θ`` minimising the worst KKT violation of ``r = g + m θ`` (an LP).

    Free assets need ``r = 0``, assets at a lower (upper) bound ``r ≥ 0`` (``≤ 0``), untraded
    assets ``|r| ≤ cost + turnover multiplier``; equality multipliers are free, the others ≥ 0."""
    from scipy.optimize import linprog

    n, k = m.shape
    pinned = (direction == 0) & rows.trades
    # The turnover multipliers are the last columns (see the caller).
    lam_t = np.zeros(k)
    lam_t[k - n_turnover :] = 1.0
    a_ub: list[Array] = []
    b_ub: list[float] = []

    def row(coef: Array, bound: float) -> None:
        a_ub.append(np.r_[coef, -1.0])
        b_ub.append(bound)

    for i in range(n):
        if pinned[i]:
            # |g + mθ| ≤ c + λ_T: the turnover column is zero on untraded assets, so add it here.
            if not at_lo[i]:
                row(m[i] - lam_t, -g[i] + rows.costs[i])
            if not at_hi[i]:
                row(-m[i] - lam_t, g[i] + rows.costs[i])
            continue
        if free[i] or at_hi[i]:
            row(m[i], -g[i])
        if free[i] or at_lo[i]:
            row(-m[i], g[i])
    bounds = [(None, None)] * ne + [(0.0, None)] * (k - ne) + [(0.0, None)]
    res = linprog(
        np.r_[np.zeros(k), 1.0],
        A_ub=np.array(a_ub) if a_ub else None,
        b_ub=np.array(b_ub) if b_ub else None,
        bounds=bounds,
        method="highs",
    )
    return np.asarray(res.x[:k], dtype=np.float64) if res.status == 0 else np.zeros(k)


def _implied_weight(prob: Problem, w: Array) -> float:
    """The risk weight of the QP whose optimality conditions match the objective's at ``w``."""
    var = max(prob.risk.variance(w), 1e-300)
    if prob.objective == "max_sharpe":
        return (float(prob.mu @ w) - prob.risk_free) / var
    if prob.objective == "utility":
        return prob.param
    if prob.objective == "target_risk":
        # a multiplies Σw in ∇: fit it by least squares on the free assets (interior of bounds).
        sw = prob.risk.times(w)
        free = (w > prob.rows.lower + 1e-9) & (w < prob.rows.upper - 1e-9)
        x = sw[free] - sw[free].mean()
        return float(((prob.mu[free] - prob.mu[free].mean()) @ x) / max(float(x @ x), 1e-300))
    return 1.0


__all__ = ["certify_weights", "reference_problem", "solve_scipy"]
