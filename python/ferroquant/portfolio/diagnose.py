"""Infeasibility explained: which constraints conflict, and by how much.

:func:`check` runs before every solve. Its arithmetic tests cost O(n) and catch the common mistakes
(a 10 % cap with fewer than 10 assets, group bounds that cannot sum to the budget, a turnover limit
that cannot reach the bounds). :func:`explain` is the general case: it decides feasibility with a
linear program (scipy's HiGHS) and, when infeasible, shrinks the constraint set with a deletion
filter to an irreducible subset, whose names go into the
:class:`~ferroquant.errors.InfeasibleError`.
It runs when :func:`check` passes but the solver reports no feasible point, or when asked.

Examples
--------
>>> import numpy as np
>>> from ferroquant.portfolio import Constraints
>>> from ferroquant.portfolio.diagnose import check
>>> try:
...     check(Constraints(upper=0.1).compile(9))
... except Exception as e:
...     print(e.conflicts)
['budget', 'upper bounds']
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ferroquant.errors import InfeasibleError
from ferroquant.portfolio.constraints import Compiled, Row

Array = NDArray[np.float64]


def check(rows: Compiled) -> None:
    """Raises :class:`InfeasibleError` when an O(n) test proves the constraints inconsistent."""
    lo, hi = rows.lower, rows.upper
    budget = next((r.rhs for r in rows.equalities if r.name == "budget"), None)
    if budget is not None:
        if lo.sum() > budget + 1e-12:
            raise InfeasibleError(
                f"budget {budget:g} is below the sum of lower bounds {lo.sum():g}; "
                "lower the bounds or raise the budget",
                ["budget", "lower bounds"],
            )
        if hi.sum() < budget - 1e-12:
            raise InfeasibleError(
                f"budget {budget:g} exceeds the sum of upper bounds {hi.sum():g} "
                f"({rows.n} assets); raise the caps (a cap of at least "
                f"{(budget - lo.sum()) / rows.n:.4g} per asset) or add assets",
                ["budget", "upper bounds"],
            )
    for row in rows.inequalities:
        if row.c is not None or not row.name.startswith("group"):
            continue
        # a·w ≤ rhs with a = ±membership: its least value over the box must fit.
        with np.errstate(invalid="ignore"):  # 0 × inf for assets outside the group
            least = float(
                np.where(row.a > 0, row.a * lo, np.where(row.a < 0, row.a * hi, 0.0)).sum()
            )
        if least > row.rhs + 1e-12:
            side = "lower" if row.name.endswith("upper") else "upper"
            raise InfeasibleError(
                f"{row.name} bound {abs(row.rhs):g} cannot be met: "
                f"its assets' {side} bounds force {abs(least):g}",
                [row.name, f"{side} bounds"],
            )
    if budget is not None:
        _check_group_sums(rows, budget)
    turnover = next((r for r in rows.inequalities if r.name == "turnover"), None)
    if turnover is not None and rows.current is not None:
        # Any feasible w satisfies Σ|w - x0| = Σ|c - x0| + Σ|w - c| with c = clip(x0) (w and x0
        # sit on either side of c), and Σ|w - c| ≥ |budget - Σc|: a lower bound on the trading.
        c = np.clip(rows.current, lo, hi)
        need = float(np.abs(c - rows.current).sum())
        if budget is not None:
            need += abs(budget - float(c.sum()))
        if need > turnover.rhs + 1e-12:
            raise InfeasibleError(
                f"turnover limit {turnover.rhs:g} cannot reach the feasible set: "
                "the bounds and budget "
                f"need at least {need:g} of trading",
                ["turnover", "bounds", "budget"],
            )


def _check_group_sums(rows: Compiled, budget: float) -> None:
    """When groups partition the universe, their bounds must bracket the budget."""
    uppers = [
        r for r in rows.inequalities if r.name.startswith("group") and r.name.endswith("upper")
    ]
    lowers = [
        r for r in rows.inequalities if r.name.startswith("group") and r.name.endswith("lower")
    ]
    cover = sum((r.a for r in uppers), np.zeros(rows.n))
    if uppers and np.all(cover == 1.0):
        total = sum(r.rhs for r in uppers)
        if total < budget - 1e-12:
            raise InfeasibleError(
                f"group upper bounds sum to {total:g}, below the budget {budget:g}",
                ["budget", "group upper bounds"],
            )
    cover = sum((-r.a for r in lowers), np.zeros(rows.n))
    if lowers and np.all(cover == 1.0):
        total = sum(-r.rhs for r in lowers)
        if total > budget + 1e-12:
            raise InfeasibleError(
                f"group lower bounds sum to {total:g}, above the budget {budget:g}",
                ["budget", "group lower bounds"],
            )


def _families(rows: Compiled, extra: list[Row]) -> list[str]:
    names = ["lower bounds", "upper bounds"] + [r.name for r in rows.equalities]
    return names + [r.name for r in rows.inequalities + extra]


def _feasible(rows: Compiled, extra: list[Row], drop: set[str]) -> bool:
    from scipy.optimize import linprog

    n = rows.n
    nv = 2 * n if rows.trades else n
    lo = np.full(nv, -np.inf)
    hi = np.full(nv, np.inf)
    if "lower bounds" not in drop:
        lo[:n] = rows.lower
    if "upper bounds" not in drop:
        hi[:n] = rows.upper

    def full(r: Row) -> Array:
        out = np.zeros(nv)
        out[:n] = r.a
        if rows.trades and r.c is not None:
            out[n:] = r.c
        return out

    ub = [(full(r), r.rhs) for r in rows.inequalities + extra if r.name not in drop]
    if rows.trades and rows.current is not None:
        lo[n:] = 0.0
        eye = np.eye(n)
        ub += [(np.concatenate([eye[i], -eye[i]]), rows.current[i]) for i in range(n)]
        ub += [(np.concatenate([-eye[i], -eye[i]]), -rows.current[i]) for i in range(n)]
    eq = [(full(r), r.rhs) for r in rows.equalities if r.name not in drop]
    res = linprog(
        np.zeros(nv),
        A_ub=np.array([a for a, _ in ub]) if ub else None,
        b_ub=np.array([b for _, b in ub]) if ub else None,
        A_eq=np.array([a for a, _ in eq]) if eq else None,
        b_eq=np.array([b for _, b in eq]) if eq else None,
        bounds=list(zip(lo, hi, strict=True)),
        method="highs",
    )
    return bool(res.status == 0)


def explain(rows: Compiled, extra: list[Row] | None = None) -> None:
    """Raises :class:`InfeasibleError` naming an irreducible conflicting subset, if any."""
    more = list(extra or [])
    if _feasible(rows, more, set()):
        return
    families = _families(rows, more)
    dropped: set[str] = set()
    for f in families:
        if not _feasible(rows, more, dropped | {f}):
            dropped.add(f)
    conflict = [f for f in families if f not in dropped]
    raise InfeasibleError(
        "no portfolio satisfies these constraints together: "
        + ", ".join(conflict)
        + "; relax one of them",
        conflict,
    )
