"""Optimality certificates: KKT residuals of the problem as posed, recomputed from the data.

The certificate never trusts the solver's own residuals. From the weights, the trade sizes and the
multipliers it recomputes, for the user's objective (e.g. mean − λ·volatility, not the QP the
solver saw last):

* stationarity — ``‖∇f + Σ multipliers × constraint gradients‖∞``,
* primal feasibility — largest constraint violation (weight units),
* dual feasibility — most negative inequality multiplier,
* complementarity — largest ``|multiplier × slack|``,
* duality gap — ``Σ multiplier × slack`` (the Lagrangian gap of a convex problem).

Gradient-sized quantities are divided by the size of the objective's gradient terms, so the same
portfolio gets the same certificate in daily or annual units. ``optimal`` means every measure is at
or below the tolerance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ferroquant.portfolio._qp import QpOutcome
from ferroquant.portfolio.constraints import Compiled

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Certificate:
    """How far a solution is from satisfying the KKT conditions (see the module docstring)."""

    status: str
    objective: float
    stationarity: float
    feasibility: float
    dual_feasibility: float
    complementarity: float
    duality_gap: float
    iterations: int
    seconds: float
    tolerance: float
    method: str

    @property
    def kkt_residual(self) -> float:
        return max(self.stationarity, self.feasibility, self.dual_feasibility, self.complementarity)

    @property
    def optimal(self) -> bool:
        return self.status == "optimal"


def certify(
    rows: Compiled,
    out: QpOutcome,
    grad: Array,
    grad_scale: float,
    objective: float,
    tol: float,
    method: str,
    seconds: float,
    extra_stationarity: float = 0.0,
) -> Certificate:
    """Certificate of ``out`` for a problem whose objective has gradient ``grad`` at ``out.w``."""
    w = out.w
    gs = max(grad_scale, 1e-300)
    r = grad + out.lam_upper - out.lam_lower + rows.row_gradient(out.y_eq, out.lam_ineq)
    viol = [0.0]
    comp = [0.0]
    gap = 0.0
    duals = [out.lam_lower, out.lam_upper, out.lam_ineq]
    lo_slack = np.where(np.isfinite(rows.lower), w - rows.lower, 0.0)
    hi_slack = np.where(np.isfinite(rows.upper), rows.upper - w, 0.0)
    trade = np.zeros(rows.n) if out.t is None else out.t
    for row, lam in zip(rows.inequalities, out.lam_ineq, strict=True):
        slack = row.rhs - float(row.a @ w) - (0.0 if row.c is None else float(row.c @ trade))
        viol.append(-slack)
        comp.append(abs(lam * slack))
        gap += lam * slack
    for row in rows.equalities:
        viol.append(abs(float(row.a @ w) - row.rhs))
    viol += [float((-lo_slack).max(initial=0.0)), float((-hi_slack).max(initial=0.0))]
    comp += [
        float(np.abs(out.lam_lower * lo_slack).max(initial=0.0)),
        float(np.abs(out.lam_upper * hi_slack).max(initial=0.0)),
    ]
    gap += float(out.lam_lower @ lo_slack + out.lam_upper @ hi_slack)
    rt = np.zeros(0)
    if out.t is not None and out.lam_trade is not None and rows.current is not None:
        buy, sell = out.lam_trade[:, 0], out.lam_trade[:, 1]
        r = r + buy - sell
        rt = rows.trade_cap(out.lam_ineq) - buy - sell
        s_buy = rows.current + out.t - w
        s_sell = out.t - rows.current + w
        viol += [float((-s_buy).max(initial=0.0)), float((-s_sell).max(initial=0.0))]
        comp += [
            float(np.abs(buy * s_buy).max(initial=0.0)),
            float(np.abs(sell * s_sell).max(initial=0.0)),
        ]
        gap += float(buy @ s_buy + sell @ s_sell)
        duals += [buy, sell]
    stationarity = (
        max(
            float(np.abs(r).max(initial=0.0)),
            float(np.abs(rt).max(initial=0.0)),
            extra_stationarity,
        )
        / gs
    )
    dual_feas = max(float((-d).max(initial=0.0)) for d in duals) / gs
    feasibility = max(viol)
    complementarity = max(comp) / gs
    cert = Certificate(
        status="optimal",
        objective=objective,
        stationarity=stationarity,
        feasibility=max(feasibility, 0.0),
        dual_feasibility=dual_feas,
        complementarity=complementarity,
        duality_gap=abs(gap) / gs,
        iterations=out.iterations,
        seconds=seconds,
        tolerance=tol,
        method=method,
    )
    measures = [stationarity, feasibility, dual_feas, complementarity, objective]
    if not (np.all(np.isfinite(w)) and all(math.isfinite(x) for x in measures)):
        return Certificate(**{**cert.__dict__, "status": "numerical"})
    if cert.kkt_residual > tol:
        status = out.status if out.status != "optimal" else "inaccurate"
        cert = Certificate(**{**cert.__dict__, "status": status})
    return cert
