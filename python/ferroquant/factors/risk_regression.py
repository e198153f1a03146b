"""Cross-sectional factor returns of the risk model: constrained WLS per date.

For each date ``t`` the returns of the next period (``returns[:, t + lead]``) are regressed on a
country factor (1 for every asset), one-hot industries (any categorical label per asset, e.g. GICS
sectors) and the standardised styles, with weights ``sqrt(caps)`` (or given ``weights``) and the
constraint ``sum_g s_g f_g = 0``, ``s_g`` the industry's share of the caps of the assets used. The
constraint makes the country factor the cap-weighted market and the industries net of it.

The Rust kernel (``rust/src/risk/wls.rs``) never forms the industry dummies: it solves the
``k x k`` within-industry system per date and derives the country and industry returns in closed
form, parallel over blocks of dates. Rules for odd dates, stated here once:

* an asset enters a date when its return, weight (> 0), cap (>= 0), industry and all styles are
  finite; ``n_obs`` counts them;
* an industry without members on the date gets return 0 and t-stat NaN;
* a style collinear with the industries and earlier styles (e.g. constant) gets return 0, t-stat
  NaN, and is counted in ``styles_dropped``;
* a date with fewer than ``n_industries_used + n_styles + 1`` assets is skipped: returns, t-stats,
  R² and residuals are NaN (``n_obs`` still says why).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ferroquant import _core
from ferroquant._threads import current_threads
from ferroquant.errors import InvalidParameterError, ShapeError
from ferroquant.factors._engine import F64, group_codes, panel

__all__ = ["FactorReturns", "factor_returns"]


@dataclass(frozen=True)
class FactorReturns:
    """Per-date regression results; factors are ``country``, the industries, then the styles.

    Attributes
    ----------
    names : tuple of str
    returns : ndarray, (n_factors, n_dates)
        Factor returns earned over the period after each date.
    tstats : ndarray, (n_factors, n_dates)
    r2 : ndarray, (n_dates,)
        Weighted, centred R².
    n_obs : ndarray, (n_dates,)
    industries_used : ndarray, (n_dates,)
        Industries with at least one member.
    styles_dropped : ndarray, (n_dates,)
        Styles dropped as collinear.
    residuals : ndarray, (n_assets, n_dates)
        Specific returns of the assets used, NaN elsewhere.
    industries : tuple of str
        Industry labels in factor order (sorted).
    """

    names: tuple[str, ...]
    returns: F64
    tstats: F64
    r2: F64
    n_obs: F64
    industries_used: F64
    styles_dropped: F64
    residuals: F64
    industries: tuple[str, ...]


def factor_returns(
    exposures: Any,
    returns: Any,
    industries: Sequence[Any],
    *,
    caps: Any = None,
    weights: Any = None,
    style_names: Sequence[str] | None = None,
    lead: int = 1,
    start: int = 0,
) -> FactorReturns:
    """Constrained WLS factor returns per date (see the module docstring).

    Parameters
    ----------
    exposures : array_like, (n_styles, n_assets, n_dates)
        Standardised styles, e.g. ``standardize_exposures(...).values``.
    returns : array_like, (n_assets, n_dates)
        Simple returns; ``returns[:, t]`` is the return over the period ending at date ``t``.
    industries : sequence of one label per asset
        ``None`` = no industry (the asset is left out).
    caps : array_like, (n_assets, n_dates), optional
        Regression weights ``sqrt(caps)`` and industry shares; without caps, equal weights.
    weights : array_like, (n_assets, n_dates), optional
        Regression weights replacing ``sqrt(caps)`` (the shares still use ``caps``).
    style_names : sequence of str, optional
    lead : int
        Date ``t`` explains ``returns[:, t + lead]`` (1: the next period; 0: the same column).
    start : int
        Dates before ``start`` (e.g. a warm-up) are not regressed: NaN results, ``n_obs`` 0.

    Examples
    --------
    >>> import numpy as np
    >>> from ferroquant import factors
    >>> x = np.array([[[-1.0], [0.0], [1.0], [0.5], [-0.5]]])
    >>> r = 0.01 + 0.02 * x[0]  # one date, same-column returns, one industry
    >>> fr = factors.factor_returns(x, r, ["a"] * 5, lead=0)
    >>> fr.names, fr.returns.ravel().round(6).tolist()
    (('country', 'a', 'style0'), [0.01, 0.0, 0.02])
    """
    y = panel(returns, "returns")
    n, t = y.shape
    x = np.ascontiguousarray(exposures, dtype=np.float64)
    if x.ndim == 2:
        x = x.reshape(1, n, t) if x.shape == (n, t) else x
    if x.ndim != 3 or x.shape[1:] != (n, t):
        raise ShapeError(f"exposures has shape {x.shape}; pass (n_styles, {n}, {t}) like returns")
    args = prepare(y, x.shape[0], industries, caps, weights, style_names, lead, start)
    out = args.allocate()
    _core.risk_regression(x, *args.core(), *out, current_threads())
    return args.result(out)


@dataclass(frozen=True)
class Prepared:
    """Checked arguments of :func:`factor_returns` (shared with the fused model path)."""

    returns: F64
    lead: int
    start: int
    weights: F64 | None
    caps: F64 | None
    codes: NDArray[np.int64]
    industries: tuple[str, ...]
    styles: tuple[str, ...]

    def core(
        self,
    ) -> tuple[F64, int, int, F64 | None, bool, F64 | None, NDArray[np.int64], int]:
        """The arguments of ``_core.risk_regression`` after the exposures, before the outputs;
        without weights the core weights by ``sqrt(caps)``."""
        g = len(self.industries)
        return (
            self.returns,
            self.lead,
            self.start,
            self.weights,
            True,
            self.caps,
            self.codes,
            g,
        )

    def allocate(self) -> tuple[F64, F64, F64, F64]:
        n, t = self.returns.shape
        p = 1 + len(self.industries) + len(self.styles)
        return np.empty((p, t)), np.empty((p, t)), np.empty((4, t)), np.empty((n, t))

    def result(self, out: tuple[F64, F64, F64, F64]) -> FactorReturns:
        f, ts, stats, resid = out
        names = ("country", *self.industries, *self.styles)
        return FactorReturns(
            names, f, ts, stats[0], stats[1], stats[2], stats[3], resid, self.industries
        )


def prepare(
    y: F64,
    k: int,
    industries: Sequence[Any],
    caps: Any,
    weights: Any,
    style_names: Sequence[str] | None,
    lead: int,
    start: int,
) -> Prepared:
    """Checks and coerces the arguments of :func:`factor_returns` (``y`` already a panel)."""
    n, t = y.shape
    if isinstance(lead, bool) or not isinstance(lead, int) or lead < 0:
        raise InvalidParameterError(f"invalid lead={lead!r}: expected an integer >= 0")
    if isinstance(start, bool) or not isinstance(start, int) or start < 0:
        raise InvalidParameterError(f"invalid start={start!r}: expected an integer >= 0")
    codes, labels = group_codes(industries, n)
    if not labels:
        raise InvalidParameterError("industries holds no label; pass one industry per asset")
    cap = None if caps is None else panel(caps, "caps")
    w = None if weights is None else panel(weights, "weights")
    for name, a in (("caps", cap), ("weights", w)):
        if a is not None and a.shape != (n, t):
            raise ShapeError(f"{name} has shape {a.shape}; pass ({n}, {t}) like returns")
    styles = tuple(style_names) if style_names is not None else tuple(f"style{i}" for i in range(k))
    if len(styles) != k:
        raise InvalidParameterError(f"style_names must have {k} names, one per style")
    return Prepared(y, lead, start, w, cap, codes, tuple(str(s) for s in labels), styles)


def industry_codes(industries: Sequence[Any], n_assets: int) -> tuple[NDArray[np.int64], list[Any]]:
    """Codes ``0..G-1`` in sorted label order (-1 for ``None``), as :func:`factor_returns` uses."""
    return group_codes(industries, n_assets)
