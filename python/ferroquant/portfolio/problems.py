"""Portfolio problems solved by the structured interior-point method, each with a certificate.

Every problem reduces to QPs ``min ½ a w'Σw - μ'w`` (plus costs, L2 and the constraints) over
the risk weight ``a``:

* mean − (δ/2)·variance: one QP, ``a = δ``;
* mean − λ·volatility: its KKT conditions are those of the QP with ``a = λ / σ(w*)``, a scalar fixed
  point found by safeguarded secant steps on ``log a`` (each QP warm-started from the last);
* maximum Sharpe: ``a = (μ'w* − r_f) / σ(w*)²`` (the budget row absorbs ``r_f``);
* minimum variance and target return: ``a = 1`` without / with the row ``μ'w ≥ r``;
* target risk: ``a`` such that ``σ(w(a)) = σ*``.

A tracking-error limit adds ``γ/2 (w − b)'Σ(w − b)`` with ``γ ≥ 0`` found the same way. The
certificate (:mod:`ferroquant.portfolio.certificate`) is computed for the problem as posed.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ferroquant.errors import InvalidParameterError, NotOptimalError, ShapeError
from ferroquant.portfolio import _qp, diagnose
from ferroquant.portfolio.certificate import Certificate, certify
from ferroquant.portfolio.constraints import Compiled, Constraints, Row
from ferroquant.portfolio.dense import ActiveSet, dense_prepared, polish_trades
from ferroquant.portfolio.risk import DenseRisk, FactorModel, Risk, as_risk

Array = NDArray[np.float64]
OBJECTIVES = (
    "mean_volatility",
    "utility",
    "min_variance",
    "max_sharpe",
    "target_return",
    "target_risk",
)


@dataclass(frozen=True)
class PortfolioResult:
    """Weights and their certificate. ``value`` is the objective as posed (maximised for the mean
    problems, the variance for minimum variance)."""

    weights: Array
    objective: str
    value: float
    expected_return: float
    volatility: float
    risk_aversion: float
    certificate: Certificate
    trades: Array | None = None
    state: _qp.QpOutcome | None = None

    @property
    def optimal(self) -> bool:
        return self.certificate.optimal


@dataclass(frozen=True)
class Problem:
    objective: str
    mu: Array
    risk: FactorModel | DenseRisk
    rows: Compiled
    param: float
    risk_free: float


def _problem(
    objective: str,
    mu: ArrayLike | None,
    risk: Risk,
    constraints: Constraints | None,
    param: float,
    risk_free: float,
) -> Problem:
    if objective not in OBJECTIVES:
        raise InvalidParameterError(
            f"objective={objective!r}; choose one of {', '.join(OBJECTIVES)}"
        )
    checked = as_risk(risk)
    model = checked if isinstance(checked, FactorModel) else DenseRisk(checked)
    n = model.n_assets
    m = np.zeros(n) if mu is None else np.asarray(mu, dtype=np.float64)
    if m.shape != (n,):
        raise ShapeError(
            f"expected returns must have one value per asset ({n}), got shape {m.shape}"
        )
    if not np.all(np.isfinite(m)):
        raise InvalidParameterError("expected returns hold NaN or inf; drop those assets first")
    if not math.isfinite(param):
        raise InvalidParameterError(f"the objective parameter must be finite, got {param}")
    exposures = model.exposures if isinstance(model, FactorModel) else None
    rows = (constraints or Constraints()).compile(n, exposures)
    _check_supported(objective, rows)
    return Problem(objective, m, model, rows, param, risk_free)


def _check_supported(objective: str, rows: Compiled) -> None:
    # The Sharpe ratio's fixed point a = excess/σ² holds for linear constraints only: costs or an
    # L2 term in the numerator would change the problem into one this path does not solve.
    if objective == "max_sharpe" and (rows.l2 > 0 or bool(np.any(rows.costs > 0))):
        raise InvalidParameterError(
            "max_sharpe takes linear constraints (bounds, groups, turnover) but not costs or l2; "
            "use mean_volatility with a risk aversion instead"
        )


class _Solver:
    """One problem's QP evaluations, each warm-started from the previous solution."""

    def __init__(self, prob: Problem, tol: float, start: _qp.QpOutcome | None) -> None:
        self.prob = prob
        self.tol = tol
        self.rows = prob.rows
        self.start = start
        self.a_start: float | None = None
        self.evals = 0
        self.iterations = 0
        if prob.objective == "target_return":
            self.rows = _with_row(self.rows, Row("target return", -prob.mu, None, -prob.param))
        self.prepared: _qp.Prepared | ActiveSet
        self.polisher: ActiveSet | None = None
        self.ops: FactorModel | None = None
        self.method = "ipm" if isinstance(prob.risk, FactorModel) else "active-set"
        if isinstance(prob.risk, FactorModel):
            self.prepared = _qp.Prepared(_qp.Structure.of(prob.risk), self.rows)
            self.ops = prob.risk
            if not self.rows.trades:
                self.polisher = ActiveSet(self.ops, self.rows, self.prepared)
        else:
            if self.rows.trades or self.rows.tracking_error is not None:
                raise InvalidParameterError(
                    "a dense covariance takes bounds, groups and factor rows on the fast path; "
                    "turnover, costs and tracking error need method='scipy' or a FactorModel"
                )
            self.prepared = dense_prepared(prob.risk, self.rows)
        self.linear = (
            np.zeros_like(prob.mu)
            if prob.objective in ("min_variance", "target_return")
            else -prob.mu
        )
        self.a_fixed = {"utility": prob.param, "min_variance": 1.0, "target_return": 1.0}.get(
            prob.objective
        )

    def qp(self, a: float, gamma: float = 0.0, sensitivity: bool = False) -> _qp.QpOutcome:
        q = self.linear
        bench = self.rows.benchmark
        if gamma > 0 and bench is not None:
            q = q - gamma * self.prob.risk.times(bench)
        warm = self.start if self.start is not None and self.start.w.shape == q.shape else None
        exact = self.polisher is not None
        # The interior point only has to find the active set: at a loose tolerance first, then
        # tight if the exact step on its active set does not certify. The active-set step
        # (for trades: on the pattern of bought, sold and untouched assets) solves the KKT
        # system exactly, which matters where the objective is flat (minimum variance, costs).
        iterations = 0
        for tol in (1e-8, min(self.tol * 1e-2, 1e-12)):
            out = self.prepared.solve(
                a + gamma, q, tol=tol, warm=warm, push=1e-4, sensitivity=sensitivity and not exact
            )
            iterations += out.iterations
            polished: _qp.QpOutcome | None = None
            if self.polisher is not None:
                polished = self.polisher.solve(
                    a + gamma, q, warm=out, max_iter=5, sensitivity=sensitivity
                )
                if polished.status != "optimal":
                    polished = None
            elif self.ops is not None and out.status != "numerical":
                polished = polish_trades(self.ops, self.rows, a + gamma, q, out)
                if polished is not None and not self.certified(polished, a + gamma, strict=True):
                    polished = None
                if polished is not None:
                    polished = replace(polished, deriv=out.deriv)
            if polished is not None:
                out = polished
                break
            if self.polisher is None and self.ops is None:
                break
            warm = out
        out = replace(out, iterations=iterations)
        self.evals += 1
        self.iterations += out.iterations
        if out.status in ("optimal", "max_iterations"):
            self.start = out
        return out

    def inner(self, gamma: float) -> tuple[_qp.QpOutcome, float]:
        """Solves for a given tracking-error weight; returns the outcome and its risk weight."""
        if self.a_fixed is not None:
            return self.qp(self.a_fixed, gamma), self.a_fixed
        prob = self.prob

        def target(a: float) -> tuple[float, _qp.QpOutcome]:
            out = self.qp(a, gamma)
            sigma = math.sqrt(max(prob.risk.variance(out.w), 1e-300))
            if prob.objective == "mean_volatility":
                want = prob.param / sigma
            elif prob.objective == "max_sharpe":
                excess = float(prob.mu @ out.w) - prob.risk_free
                if excess <= 0:
                    return math.inf, out
                want = excess / sigma**2
            else:  # target_risk: σ decreases with a; scale a by the missing ratio
                want = a * sigma / prob.param
            return math.log(want) - math.log(a), out

        sigma_eq = max(prob.risk.variance(np.full(self.rows.n, 1.0 / self.rows.n)), 1e-300) ** 0.5
        scale = max(float(np.abs(prob.mu).mean()), 1e-300)
        a0 = self.a_start or {
            "mean_volatility": prob.param / sigma_eq,
            "max_sharpe": max(float(prob.mu.mean()) - prob.risk_free, scale) / sigma_eq**2,
        }.get(prob.objective, scale / (sigma_eq * max(prob.param, 1e-300)))
        if gamma == 0.0:
            return self.affine_root(a0)
        return _root_log(target, a0, self.tol)

    def want(self, w: Array, a: float) -> float:
        """The risk weight that ``w`` asks for (the fixed-point map of the objective)."""
        prob = self.prob
        sigma = math.sqrt(max(prob.risk.variance(w), 1e-300))
        if prob.objective == "mean_volatility":
            return prob.param / sigma
        if prob.objective == "max_sharpe":
            excess = float(prob.mu @ w) - prob.risk_free
            if excess <= 0:
                raise InvalidParameterError(
                    "no feasible portfolio found with expected return above "
                    f"risk_free={prob.risk_free:g}; "
                    "the maximum Sharpe ratio is not positive"
                )
            return excess / sigma**2
        return a * sigma / prob.param

    def exact(self, out: _qp.QpOutcome, a: float) -> _qp.QpOutcome:
        """``out`` (an extrapolated point) solved exactly on its active set, if that certifies."""
        polished: _qp.QpOutcome | None = None
        if self.polisher is not None:
            polished = self.polisher.solve(a, self.linear, warm=out, max_iter=5)
        elif self.ops is not None:
            polished = polish_trades(self.ops, self.rows, a, self.linear, out)
        if polished is not None and polished.status == "optimal" and self.certified(polished, a):
            return polished
        return out

    def certified(self, out: _qp.QpOutcome, a: float, strict: bool = False) -> bool:
        """Whether ``out`` already satisfies the objective's own KKT conditions at ``tol``
        (``strict``: those of the QP with risk weight ``a``, whatever the objective)."""
        if strict:
            prob = replace(self.prob, objective="utility", param=a, mu=-self.linear)
            grad, scale, value, extra = _gradient(prob, out.w, a)
        else:
            grad, scale, value, extra = _gradient(self.prob, out.w, a)
        cert = certify(self.rows, out, grad, scale, value, self.tol, "ipm", 0.0, extra)
        return cert.optimal and cert.kkt_residual <= 0.5 * self.tol

    def affine_root(self, a0: float) -> tuple[_qp.QpOutcome, float]:
        """Fixed point in ``u = 1/a``: on a fixed active set ``w`` (and ``u ×`` multipliers) are
        affine in ``u``, so one solve and its derivative determine the whole branch and the
        objective's scalar equation becomes a quadratic. The extrapolated point is accepted only
        if it certifies; otherwise the next solve starts on the new branch."""
        u1 = 1.0 / a0
        o1 = self.qp(a0, sensitivity=True)
        for _ in range(30):
            u2 = 1.0 / self.want(o1.w, 1.0 / u1)
            if abs(u2 - u1) <= 1e-13 * u1:  # a fixed point: the certificate says how good
                return o1, 1.0 / u1
            # A second point on o1's branch from its derivative: no second solve needed unless
            # the active set changes on the way to the root.
            o2 = _along(o1, u1, u2) if o1.deriv is not None else None
            if o2 is None or not _plausible(o2, o1):
                o2 = self.qp(1.0 / u2)
            u3 = self.branch_root(o1, u1, o2, u2)
            guess = _blend(o1, u1, o2, u2, u3)
            if self.certified(guess, 1.0 / u3):
                return self.exact(guess, 1.0 / u3), 1.0 / u3
            o1, u1 = self.qp(1.0 / u3, sensitivity=True), u3
        return o1, 1.0 / u1

    def branch_root(self, o1: _qp.QpOutcome, u1: float, o2: _qp.QpOutcome, u2: float) -> float:
        """The root of the objective's scalar equation on the affine branch through o1 and o2."""
        prob = self.prob
        wb = (o2.w - o1.w) / (u2 - u1)
        wa = o1.w - u1 * wb
        sa, sb = prob.risk.times(wa), prob.risk.times(wb)
        qa, qb, qc = float(wa @ sa), float(wa @ sb), float(wb @ sb)
        if prob.objective == "mean_volatility":
            coef = (qc - prob.param**2, 2 * qb, qa)
        elif prob.objective == "max_sharpe":
            coef = (float(prob.mu @ wb) - qc, float(prob.mu @ wa) - prob.risk_free - 2 * qb, -qa)
        else:
            coef = (qc, 2 * qb, qa - prob.param**2)
        root = _positive_root(coef, u2)
        if root is not None:
            return root
        fallback = self.want(o2.w, 1.0 / u2)
        return 1.0 / fallback if math.isfinite(fallback) and fallback > 0 else u2


def _plausible(o: _qp.QpOutcome, base: _qp.QpOutcome) -> bool:
    """An extrapolated point is worth certifying only if it is finite and stays near its base
    (a derivative taken on a badly conditioned final iterate can be garbage)."""
    return bool(np.all(np.isfinite(o.w))) and float(np.abs(o.w - base.w).sum()) <= 1.0


def _along(o: _qp.QpOutcome, u1: float, u2: float) -> _qp.QpOutcome:
    """``o`` moved from ``u1`` to ``u2`` (``u = 1/a``) along its derivative: weights are affine in
    ``u`` on a fixed active set, and so are ``u ×`` multipliers."""
    d = o.deriv
    assert d is not None
    a1 = 1.0 / u1
    du = u2 - u1

    def primal(x: Array, dx: Array) -> Array:
        out: Array = x - du * a1 * a1 * dx  # dx/du = -a² dx/da
        return out

    def dual(x: Array, dx: Array) -> Array:
        out: Array = (u1 * x + du * (x - a1 * dx)) / u2  # d(u x)/du = x - a dx/da
        return out

    return _combine(o, d, primal, dual)


def _combine(
    x: _qp.QpOutcome,
    y: _qp.QpOutcome,
    primal: Callable[[Array, Array], Array],
    dual: Callable[[Array, Array], Array],
) -> _qp.QpOutcome:
    """A new point from two (a point and its derivative, or two points on one branch): primal
    fields combined by ``primal``, multipliers by ``dual``."""

    def both(f: Callable[[Array, Array], Array], a: Array | None, b: Array | None) -> Array | None:
        return None if a is None or b is None else f(a, b)

    return _qp.QpOutcome(
        w=primal(x.w, y.w),
        t=both(primal, x.t, y.t),
        y_eq=dual(x.y_eq, y.y_eq),
        lam_ineq=dual(x.lam_ineq, y.lam_ineq),
        lam_lower=dual(x.lam_lower, y.lam_lower),
        lam_upper=dual(x.lam_upper, y.lam_upper),
        lam_trade=both(dual, x.lam_trade, y.lam_trade),
        status=x.status,
        iterations=0,
        z=primal(x.z, y.z),
        lam_local=both(dual, x.lam_local, y.lam_local),
    )


def _positive_root(coef: tuple[float, float, float], near: float) -> float | None:
    a, b, c = coef
    if abs(a) < 1e-300:
        roots = [-c / b] if b != 0 else []
    else:
        disc = b * b - 4 * a * c
        if disc < 0:
            return None
        sq = math.sqrt(disc)
        # The numerically stable pair of roots.
        qq = -0.5 * (b + math.copysign(sq, b))
        roots = [qq / a] + ([c / qq] if qq != 0 else [])
    good = [r for r in roots if r > 0 and math.isfinite(r)]
    return min(good, key=lambda r: abs(math.log(r / near))) if good else None


def _blend(o1: _qp.QpOutcome, u1: float, o2: _qp.QpOutcome, u2: float, u: float) -> _qp.QpOutcome:
    """The solution at ``u`` on the branch through ``o1`` and ``o2`` (same active set assumed)."""
    th = (u - u1) / (u2 - u1)

    def lin(x1: Array, x2: Array) -> Array:
        out: Array = x1 + th * (x2 - x1)
        return out

    def mult(x1: Array, x2: Array) -> Array:
        out: Array = (u1 * x1 + th * (u2 * x2 - u1 * x1)) / u
        return out

    return replace(_combine(o1, o2, lin, mult), status="optimal")


def _with_row(rows: Compiled, row: Row) -> Compiled:
    return Compiled(**{**rows.__dict__, "inequalities": [*rows.inequalities, row]})


def _root_log(
    g: Callable[[float], tuple[float, _qp.QpOutcome]], a0: float, tol: float
) -> tuple[_qp.QpOutcome, float]:
    """Root of ``g`` in ``x = log a``: fixed-point steps, then secant inside a bracket."""
    x = math.log(a0)
    gx, out = g(math.exp(x))
    best = (abs(gx), out, math.exp(x))
    lo: tuple[float, float] | None = None
    hi: tuple[float, float] | None = None
    prev: tuple[float, float] | None = None
    for _ in range(80):
        if abs(gx) <= tol * 1e-2:
            return out, math.exp(x)
        if gx > 0:
            lo = (x, gx) if lo is None or x > lo[0] else lo
        else:
            hi = (x, gx) if hi is None or x < hi[0] else hi
        if math.isinf(gx):
            nx = x - 1.0
        elif prev is not None and prev[1] != gx and math.isfinite(prev[1]):
            nx = x - gx * (x - prev[0]) / (gx - prev[1])
        else:
            nx = x + gx
        if lo is not None and hi is not None and not min(lo[0], hi[0]) < nx < max(lo[0], hi[0]):
            nx = 0.5 * (lo[0] + hi[0])
        prev = (x, gx)
        x = nx
        gx, out = g(math.exp(x))
        if abs(gx) < best[0]:
            best = (abs(gx), out, math.exp(x))
    return best[1], best[2]


def _gradient(prob: Problem, w: Array, a: float) -> tuple[Array, float, float, float]:
    """(∇f, gradient scale, objective value as posed, extra stationarity) at ``w``.

    The value of the mean problems is net of the L2 and cost terms; that of the variance problems
    is ``w'Σw`` plus twice those terms (twice the minimised objective)."""
    rows = prob.rows
    sw = prob.risk.times(w)
    var = float(w @ sw)
    sigma = math.sqrt(max(var, 0.0))
    l2 = 2.0 * rows.l2 * w
    penalty = rows.l2 * float(w @ w)
    if rows.current is not None:
        penalty += float(rows.costs @ np.abs(w - rows.current))
    ret = float(prob.mu @ w)
    if prob.objective == "mean_volatility":
        risk_grad = prob.param * sw / max(sigma, 1e-300) + l2
        value = ret - prob.param * sigma - penalty
        grad = -prob.mu + risk_grad
    elif prob.objective in ("min_variance", "target_return"):
        risk_grad = sw + l2
        grad, value = risk_grad, var + 2 * penalty
    else:
        if prob.objective == "max_sharpe":
            # The Sharpe ratio's own condition: a is not free but (μ'w - r_f) / σ² at this w.
            a = (ret - prob.risk_free) / max(var, 1e-300)
        risk_grad = a * sw + l2
        grad = -prob.mu + risk_grad
        value = ret - 0.5 * a * var - penalty if prob.objective == "utility" else ret - penalty
        if prob.objective == "max_sharpe":
            value = (ret - prob.risk_free) / max(sigma, 1e-300)
    scale = max(
        float(np.abs(risk_grad).max(initial=0.0)), float(np.abs(grad - risk_grad).max(initial=0.0))
    )
    extra = 0.0
    if prob.objective == "target_risk":
        # σ = σ* when the risk multiplier a is positive (σ ≤ σ* when it is zero): expressed in
        # gradient units so that it enters the certificate like a stationarity residual.
        extra = max(sigma - prob.param, 0.0 if a == 0 else abs(sigma - prob.param)) / prob.param
        extra *= scale
    return grad, scale, value, extra


def solve_problem(
    prob: Problem, tol: float = 1e-9, start: PortfolioResult | None = None
) -> PortfolioResult:
    """Solves ``prob`` with the interior-point path and certifies the result."""
    t0 = time.perf_counter()
    diagnose.check(prob.rows)
    solver = _Solver(prob, tol, None if start is None else start.state)
    if start is not None and start.objective == prob.objective and start.risk_aversion > 0:
        solver.a_start = start.risk_aversion
    out, a = solver.inner(0.0)
    gamma = 0.0
    rows = prob.rows
    if rows.tracking_error is not None and rows.benchmark is not None and out.status == "optimal":
        bench = rows.benchmark
        te = float(np.sqrt(prob.risk.variance(out.w - bench)))
        if te > rows.tracking_error:

            def g(gm: float) -> tuple[float, _qp.QpOutcome]:
                o, _ = solver.inner(gm)
                return math.log(float(np.sqrt(prob.risk.variance(o.w - bench)))) - math.log(
                    rows.tracking_error or 1.0
                ), o

            out, gamma = _root_log(
                g, 1.0 / max(te, 1e-300) * max(float(np.abs(prob.mu).mean()), 1e-300), tol
            )
            out, a = solver.inner(gamma)
    grad, scale, value, extra = _gradient(prob, out.w, a)
    if gamma > 0 and rows.benchmark is not None:
        grad = grad + gamma * prob.risk.times(out.w - rows.benchmark)
    cert = certify(
        solver.rows, out, grad, scale, value, tol, solver.method, time.perf_counter() - t0, extra
    )
    status = cert.status
    if not cert.optimal and (out.status == "infeasible" or cert.feasibility > 1e-7):
        # The solver could not get feasible: prove infeasibility (and name the conflict) with an LP.
        diagnose.explain(solver.rows)
    if float(np.abs(out.w).sum()) > 1e6 * max(1.0, *(abs(r.rhs) for r in rows.equalities)):
        # KKT residuals shrink along an unbounded ray too; huge gross leverage is the tell-tale.
        status = "unbounded"
    cert = Certificate(**{**cert.__dict__, "iterations": solver.iterations, "status": status})
    var = prob.risk.variance(out.w)
    return PortfolioResult(
        weights=out.w,
        objective=prob.objective,
        value=value,
        expected_return=float(prob.mu @ out.w),
        volatility=math.sqrt(max(var, 0.0)),
        risk_aversion=a,
        certificate=cert,
        trades=None if out.t is None or rows.current is None else out.w - rows.current,
        state=out,
    )


def optimize(
    mu: ArrayLike | None,
    risk: Risk,
    objective: str = "mean_volatility",
    *,
    risk_aversion: float = 1.0,
    target: float | None = None,
    risk_free: float = 0.0,
    constraints: Constraints | None = None,
    method: str = "auto",
    tol: float = 1e-9,
    start: PortfolioResult | None = None,
    check: bool = True,
) -> PortfolioResult:
    """Optimal weights for ``objective``; see the module docstring for the problems.

    ``risk_aversion`` is λ for ``mean_volatility`` and δ for ``utility``; ``target`` is the return
    or volatility for ``target_return`` / ``target_risk``. ``method``: ``"ipm"`` (the fast path:
    the structured interior point for a :class:`FactorModel`, the active-set method of
    :mod:`ferroquant.portfolio.dense` for a dense matrix), ``"scipy"`` (reference path) or
    ``"auto"`` (the fast path when it covers the problem, scipy otherwise or when the fast path
    cannot certify its answer). ``start``: a previous result to warm-start from.
    With ``check=True`` a result without a certificate raises :class:`NotOptimalError`.
    """
    if objective in ("target_return", "target_risk"):
        if target is None:
            raise InvalidParameterError(f"objective={objective!r} needs target=...")
        param = float(target)
    else:
        param = float(risk_aversion)
    if method not in ("auto", "ipm", "scipy"):
        raise InvalidParameterError(f"method={method!r}; choose 'auto', 'ipm' or 'scipy'")
    fast_ok = isinstance(risk, FactorModel) or not _dense_needs_scipy(constraints)
    use_ipm = method == "ipm" or (method == "auto" and fast_ok)
    result: PortfolioResult | None = None
    if use_ipm:
        prob = _problem(objective, mu, risk, constraints, param, risk_free)
        result = solve_problem(prob, tol, start)
    if result is None or (method == "auto" and not result.optimal):
        from ferroquant.portfolio.reference import solve_scipy

        result = solve_scipy(objective, mu, risk, constraints, param, risk_free, tol)
    if check and not result.optimal:
        c = result.certificate
        raise NotOptimalError(
            f"{c.method} stopped with status {c.status!r}, "
            f"KKT residual {c.kkt_residual:.2e} > {tol:g}; "
            "result is attached as .result",
            result,
        )
    return result


def _dense_needs_scipy(c: Constraints | None) -> bool:
    if c is None:
        return False
    costs = np.asarray(c.costs, dtype=np.float64)
    return c.turnover is not None or bool(np.any(costs > 0)) or c.tracking_error is not None


__all__ = ["PortfolioResult", "optimize"]
