"""Constraints of a portfolio problem and their compiled form (named linear rows).

Every constraint compiles to rows over the weights ``w`` and, when turnover or costs are modelled,
the trade sizes ``t_i = |w_i - current_i|``. Each row keeps a human-readable name so that an
infeasibility diagnosis can say which constraints conflict.

Examples
--------
>>> import numpy as np
>>> from ferroquant.portfolio import Constraints
>>> labels = np.array(["a", "a", "b"])
>>> c = Constraints(upper=0.1, groups=labels, group_bounds={"a": (0.05, 0.15), "b": (0, 0.5)})
>>> [r.name for r in c.compile(3).inequalities]  # group b's bounds are implied by 0 <= w <= 0.1
["group 'a' upper", "group 'a' lower"]
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ferroquant.errors import InvalidParameterError, ShapeError

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Row:
    """``a·w + c·t (= or ≤) rhs``; ``c`` is ``None`` when the row does not involve trades."""

    name: str
    a: Array
    c: Array | None
    rhs: float


@dataclass(frozen=True)
class Compiled:
    n: int
    lower: Array
    upper: Array
    current: Array | None
    costs: Array
    trades: bool
    equalities: list[Row]
    inequalities: list[Row]
    benchmark: Array | None
    tracking_error: float | None
    l2: float

    def row_gradient(self, y: Array, lam: Array) -> Array:
        """``Σ y_e a_e + Σ λ_j a_j``: the rows' share of the Lagrangian's gradient in the weights
        (``y`` for the equalities, ``lam`` for the inequalities; a turnover row acts on the trade
        sizes, so its ``a`` is zero)."""
        out = np.zeros(self.n)
        for coef, row in zip(y, self.equalities, strict=True):
            out += coef * row.a
        for coef, row in zip(lam, self.inequalities, strict=True):
            out += coef * row.a
        return out

    def trade_cap(self, lam: Array) -> Array:
        """Each asset's price of trading one more unit: its cost plus the multipliers of the
        rows on the trade sizes (turnover)."""
        out = self.costs.copy()
        for coef, row in zip(lam, self.inequalities, strict=True):
            if row.c is not None:
                out += coef * row.c
        return out


def _vector(name: str, x: ArrayLike, n: int) -> Array:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim == 0:
        a = np.full(n, float(a))
    if a.shape != (n,):
        raise ShapeError(
            f"{name} must be a scalar or have one value per asset ({n}), got shape {a.shape}"
        )
    if np.isnan(a).any():
        raise InvalidParameterError(f"{name} holds NaN; use -inf/inf for no bound")
    return a


@dataclass(frozen=True)
class Constraints:
    """Constraints of a long-only (by default) fully invested portfolio.

    Parameters
    ----------
    budget : float or None
        ``Σ w = budget`` (``None``: no budget row, e.g. for a long-short overlay).
    lower, upper : float or array
        Per-asset bounds (``-inf``/``inf`` for none). Defaults: long-only, no cap.
    groups, group_bounds : array of labels, mapping label → (low, high)
        Bounds on the total weight of each group (e.g. sectors).
    factor_bounds : mapping factor index → (low, high)
        Bounds on ``B[:, j]·w``; ``B`` is ``exposures`` or the factor model's exposures.
    current, turnover, costs : weights, float, float or array
        ``Σ |w - current| ≤ turnover``; ``costs · |w - current|`` is subtracted from the objective.
    benchmark, tracking_error : weights, float
        ``sqrt((w - benchmark)' Σ (w - benchmark)) ≤ tracking_error`` (in the units of ``Σ``).
    l2 : float
        Adds ``l2 · ||w||²`` to the risk term (diversification / conditioning).
    """

    budget: float | None = 1.0
    lower: float | ArrayLike = 0.0
    upper: float | ArrayLike = np.inf
    groups: ArrayLike | None = None
    group_bounds: Mapping[object, tuple[float, float]] = field(default_factory=dict)
    factor_bounds: Mapping[int, tuple[float, float]] = field(default_factory=dict)
    exposures: ArrayLike | None = None
    current: ArrayLike | None = None
    turnover: float | None = None
    costs: float | ArrayLike = 0.0
    benchmark: ArrayLike | None = None
    tracking_error: float | None = None
    l2: float = 0.0

    def compile(self, n: int, exposures: Array | None = None) -> Compiled:
        """Rows for ``n`` assets; ``exposures`` is the factor model's ``B`` when there is one."""
        lower, upper = _vector("lower", self.lower, n), _vector("upper", self.upper, n)
        if np.any(lower > upper):
            i = int(np.argmax(lower > upper))
            raise InvalidParameterError(f"lower[{i}]={lower[i]} exceeds upper[{i}]={upper[i]}")
        costs = _vector("costs", self.costs, n)
        if np.any(costs < 0):
            raise InvalidParameterError("costs must be >= 0 (a cost per unit of weight traded)")
        current = None if self.current is None else _vector("current", self.current, n)
        trades = self.turnover is not None or bool(np.any(costs > 0))
        if trades and current is None:
            raise InvalidParameterError("turnover and costs need current weights: pass current=...")
        if self.turnover is not None and not self.turnover >= 0:
            raise InvalidParameterError(f"turnover={self.turnover} must be >= 0")
        if self.l2 < 0:
            raise InvalidParameterError(f"l2={self.l2} must be >= 0")
        eq: list[Row] = []
        ineq: list[Row] = []
        if self.budget is not None:
            eq.append(Row("budget", np.ones(n), None, float(self.budget)))
        if self.group_bounds:
            if self.groups is None:
                raise InvalidParameterError("group_bounds need groups= (one label per asset)")
            labels = np.asarray(self.groups)
            if labels.shape != (n,):
                raise ShapeError(f"groups must have one label per asset ({n}), got {labels.shape}")
            for g, (lo, hi) in self.group_bounds.items():
                member = (labels == g).astype(np.float64)
                if not member.any():
                    raise InvalidParameterError(
                        f"group {g!r} has no assets; labels are {sorted(set(labels.tolist()))}"
                    )
                _two_sided(ineq, f"group {g!r}", member, lo, hi, lower, upper)
        if self.factor_bounds:
            b = (
                exposures
                if self.exposures is None
                else np.asarray(self.exposures, dtype=np.float64)
            )
            if b is None or b.ndim != 2 or b.shape[0] != n:
                raise InvalidParameterError(
                    "factor_bounds need exposures (n, k) or a FactorModel risk input"
                )
            for j, (lo, hi) in self.factor_bounds.items():
                if not 0 <= j < b.shape[1]:
                    raise InvalidParameterError(
                        f"factor_bounds index {j} outside 0..{b.shape[1] - 1}"
                    )
                _two_sided(ineq, f"factor {j}", b[:, j], lo, hi, lower, upper)
        if self.turnover is not None:
            ineq.append(Row("turnover", np.zeros(n), np.ones(n), float(self.turnover)))
        bench = None if self.benchmark is None else _vector("benchmark", self.benchmark, n)
        if (self.tracking_error is None) != (bench is None):
            raise InvalidParameterError("tracking_error and benchmark go together; pass both")
        if self.tracking_error is not None and not self.tracking_error > 0:
            raise InvalidParameterError(f"tracking_error={self.tracking_error} must be > 0")
        return Compiled(
            n, lower, upper, current, costs, trades, eq, ineq, bench, self.tracking_error, self.l2
        )


def _two_sided(
    rows: list[Row], name: str, a: Array, lo: float, hi: float, lower: Array, upper: Array
) -> None:
    """Adds ``lo ≤ a·w ≤ hi``, leaving out a side the per-asset bounds already imply (every row
    costs the solver an extra dimension in its reduced system)."""
    if lo > hi:
        raise InvalidParameterError(f"{name} bounds ({lo}, {hi}): low exceeds high")
    with np.errstate(invalid="ignore"):
        least = float(np.where(a > 0, a * lower, np.where(a < 0, a * upper, 0.0)).sum())
        most = float(np.where(a > 0, a * upper, np.where(a < 0, a * lower, 0.0)).sum())
    if np.isfinite(hi) and not hi >= most:
        rows.append(Row(f"{name} upper", a, None, float(hi)))
    if np.isfinite(lo) and not lo <= least:
        rows.append(Row(f"{name} lower", -a, None, -float(lo)))
