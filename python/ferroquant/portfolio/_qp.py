"""Assembles the structured QP of ``rust/src/portfolio`` from a risk model and compiled rows.

Solved problem (weights ``w``, trade sizes ``t`` when turnover or costs are modelled)::

    min  ½ w'(a Σ + 2 l2 I) w + q'w + costs't
    s.t. lower ≤ w ≤ upper,  |w - current| ≤ t,  equality rows,  inequality rows

The objective is rescaled so that its largest coefficient is 1 before solving, and multipliers are
scaled back: the solver's tolerances are then relative, so daily and annual units give the same
weights.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import NDArray

from ferroquant import _core
from ferroquant.portfolio.constraints import Compiled, Row
from ferroquant.portfolio.risk import FactorModel

Array = NDArray[np.float64]

STATUS = {0: "optimal", 1: "max_iterations", 2: "infeasible", 3: "numerical"}


@dataclass(frozen=True)
class Structure:
    """A factor model reduced to what the solver needs: ``Σ = V V' + diag(d)``."""

    v: Array
    d: Array

    @staticmethod
    def of(model: FactorModel) -> Structure:
        return Structure(
            np.ascontiguousarray(model.exposures @ model.factor_root()), model.specific_var
        )


@dataclass(frozen=True)
class QpOutcome:
    w: Array
    t: Array | None
    y_eq: Array
    lam_ineq: Array
    lam_lower: Array
    lam_upper: Array
    lam_trade: Array | None
    status: str
    iterations: int
    z: Array
    lam_local: Array | None = None
    # d/da of every field above (weights, trades, multipliers) on this solution's active set.
    deriv: QpOutcome | None = None


def _start(rows: Compiled, start: Array | None, push: float) -> Array:
    n, lo, hi = rows.n, rows.lower, rows.upper
    if start is not None:
        x = np.asarray(start, dtype=np.float64)[:n].copy()
    elif rows.current is not None:
        x = rows.current.copy()
    else:
        budget = (
            rows.equalities[0].rhs
            if rows.equalities and rows.equalities[0].name == "budget"
            else 1.0
        )
        x = np.full(n, budget / n)
    width = np.where(np.isfinite(hi - lo), hi - lo, 1.0)
    # Strictly inside the box: an interior start keeps the first Newton steps well centred.
    x = np.clip(x, lo + push * width, hi - push * width)
    x = np.where(lo == hi, lo, x)
    if not rows.trades:
        return x
    assert rows.current is not None
    t = np.abs(x - rows.current) + push
    return np.column_stack([x, t]).ravel()


class Prepared:
    """The parts of the QP that do not change between solves of one problem (bounds, rows,
    factor structure), laid out once for the solver."""

    def __init__(self, structure: Structure, rows: Compiled) -> None:
        n, k = structure.v.shape
        p = 2 if rows.trades else 1
        r = 2 * p
        self.structure, self.rows, self.dims = structure, rows, (n, p, k, r)
        la = np.zeros((n, r, p))
        lb = np.full((n, r), np.inf)
        la[:, 0, 0], lb[:, 0] = -1.0, np.where(np.isfinite(rows.lower), -rows.lower, np.inf)
        la[:, 1, 0], lb[:, 1] = 1.0, np.where(np.isfinite(rows.upper), rows.upper, np.inf)
        if p == 2:
            assert rows.current is not None
            la[:, 2, 0], la[:, 2, 1], lb[:, 2] = 1.0, -1.0, rows.current
            la[:, 3, 0], la[:, 3, 1], lb[:, 3] = -1.0, -1.0, -rows.current
        self.la, self.lb = la.ravel(), lb.ravel()
        self.ae, self.be = self._dense(rows.equalities)
        self.ag, self.hg = self._dense(rows.inequalities)
        self.v_norm = float((structure.v * structure.v).sum(axis=1).max(initial=0.0))

    def _dense(self, rs: list[Row]) -> tuple[Array, Array]:
        n, p, _, _ = self.dims
        m = np.zeros((len(rs), n, p))
        for j, row in enumerate(rs):
            m[j, :, 0] = row.a
            if p == 2 and row.c is not None:
                m[j, :, 1] = row.c
        return m.ravel(), np.array([row.rhs for row in rs], dtype=np.float64)

    def solve(
        self,
        a: float,
        q: Array,
        tol: float = 1e-11,
        max_iter: int = 200,
        warm: QpOutcome | None = None,
        push: float = 1e-3,
        warm_mu: float = 1e-6,
        sensitivity: bool = False,
    ) -> QpOutcome:
        """Solves for risk weight ``a`` and linear term ``q`` (over the weights)."""
        rows, st = self.rows, self.structure
        n, p, k, r = self.dims
        hd_x = a * st.d + 2.0 * rows.l2
        scale = max(
            float(np.abs(q).max(initial=0.0)),
            float(hd_x.max(initial=0.0)) + a * self.v_norm,
            float(rows.costs.max(initial=0.0)),
            1e-300,
        )
        s = 1.0 / scale
        hd = np.zeros((n, p))
        hd[:, 0] = hd_x * s
        qz = np.zeros((n, p))
        qz[:, 0] = q * s
        if p == 2:
            qz[:, 1] = rows.costs * s
        duals = None
        if warm is not None and warm.lam_local is not None and warm.lam_local.shape == (n, r):
            duals = (
                warm.y_eq * s,
                warm.lam_ineq * s,
                np.ascontiguousarray(warm.lam_local).ravel() * s,
            )
        sens = None
        if sensitivity and a > 0:
            fixed = np.zeros((n, p))
            fixed[:, 0] = 2.0 * rows.l2 * s
            sens = (a, fixed.ravel())
        z, y, lam_rows, lam_local, status, iterations, _, deriv = _core.qp_solve(
            (n, p, k, r),
            hd.ravel(),
            (np.sqrt(a * s) * st.v).ravel(),
            qz.ravel(),
            self.la,
            self.lb,
            self.ae,
            self.be,
            self.ag,
            self.hg,
            tol,
            max_iter,
            _start(rows, None if warm is None else warm.z, push if warm is not None else 1e-3),
            duals,
            warm_mu,
            sens,
        )
        dims = (n, p, r)
        out = _outcome(rows, z, y, lam_rows, lam_local, s, int(status), int(iterations), dims)
        if deriv is None:
            return out
        dz, dy, dlg, dll = deriv
        d = _outcome(rows, dz, dy, dlg, dll, s, int(status), 0, dims)
        return replace(out, deriv=d)


def _outcome(
    rows: Compiled,
    z: Array,
    y: Array,
    lam_rows: Array,
    lam_local: Array,
    s: float,
    status: int,
    iterations: int,
    dims: tuple[int, int, int],
) -> QpOutcome:
    n, p, r = dims
    zz = z.reshape(n, p)
    ll = lam_local.reshape(n, r) / s
    return QpOutcome(
        w=zz[:, 0].copy(),
        t=zz[:, 1].copy() if p == 2 else None,
        y_eq=y / s,
        lam_ineq=lam_rows / s,
        lam_lower=np.where(np.isfinite(rows.lower), ll[:, 0], 0.0),
        lam_upper=np.where(np.isfinite(rows.upper), ll[:, 1], 0.0),
        lam_trade=ll[:, 2:4].copy() if p == 2 else None,
        status=STATUS.get(status, "numerical"),
        iterations=iterations,
        z=z,
        lam_local=ll,
    )
