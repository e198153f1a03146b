"""The multi-factor (Barra-style) risk model end to end, and portfolio risk attribution.

:func:`risk_model` chains :func:`~ferroquant.factors.risk_descriptors` →
:func:`~ferroquant.factors.standardize_exposures` → :func:`~ferroquant.factors.factor_returns` →
:func:`~ferroquant.factors.factor_covariance` → :func:`~ferroquant.factors.specific_risk`.
Timing: ``factor_returns.returns[:, t]`` is earned over the period after date ``t``, so
``covariance.cov[t]`` and ``specific_variance[:, t]`` use information up to date ``t + 1``; a
forecast made at date ``t`` uses them at ``t - 1`` (what :meth:`RiskModel.portfolio_risk` does).

Portfolio risk is ``w'XFX'w + w'Δw``; the factor part is split per factor as ``x_k (F x)_k`` with
``x = X'w`` the portfolio's factor exposures (the parts sum to ``x'Fx``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ferroquant import _core
from ferroquant._threads import current_threads
from ferroquant.errors import InvalidParameterError, ShapeError
from ferroquant.factors import risk_exposures, risk_regression
from ferroquant.factors._engine import F64, panel
from ferroquant.factors.risk_covariance import (
    FactorCovariance,
    eigen_adjust,
    factor_covariance,
    specific_risk,
)
from ferroquant.factors.risk_descriptors import risk_descriptors
from ferroquant.factors.risk_exposures import Exposures
from ferroquant.factors.risk_regression import FactorReturns, industry_codes

__all__ = [
    "RiskAttribution",
    "RiskModel",
    "exposures_and_factor_returns",
    "portfolio_risk",
    "risk_model",
]

#: Orthogonalisations applied by default (Barra's): residual volatility ⟂ beta and size,
#: liquidity ⟂ size.
DEFAULT_ORTHOGONALIZE: Mapping[str, Sequence[str]] = {
    "residual_volatility": ("beta", "size"),
    "liquidity": ("size",),
}


@dataclass(frozen=True)
class RiskAttribution:
    """Variance of a portfolio and its split (daily units).

    ``total = factor + specific``; ``contributions[k]`` is factor ``k``'s share of ``factor``.
    """

    names: tuple[str, ...]
    exposures: F64
    contributions: F64
    factor: float
    specific: float
    total: float


@dataclass(frozen=True)
class RiskModel:
    """Everything :func:`risk_model` computed."""

    exposures: Exposures
    factor_returns: FactorReturns
    covariance: FactorCovariance
    specific_variance: F64
    industry_codes: F64 = field(repr=False)
    #: The eigenfactor-adjusted covariance of the latest date with a matrix (``eigen=`` given).
    eigen_adjusted: F64 | None = field(default=None, repr=False)

    def loadings(self, date: int) -> F64:
        """Exposure matrix ``(n_assets, n_factors)`` at ``date``: country, industries, styles."""
        codes = self.industry_codes
        n = codes.shape[0]
        g = len(self.factor_returns.industries)
        x = np.zeros((n, 1 + g + len(self.exposures.names)))
        x[:, 0] = 1.0
        ok = codes >= 0
        x[np.flatnonzero(ok), 1 + codes[ok].astype(np.int64)] = 1.0
        x[:, 1 + g :] = self.exposures.values[:, :, date].T
        return x

    def portfolio_risk(self, weights: Any, date: int = -1) -> RiskAttribution:
        """Risk of ``weights`` (one per asset) with exposures at ``date`` and the model of the
        previous date (see the module docstring)."""
        t = self.specific_variance.shape[1]
        d = date % t
        if d == 0:
            raise InvalidParameterError("date=0 has no model of a previous date; pass date >= 1")
        cov = self.covariance.cov[d - 1]
        return portfolio_risk(
            weights,
            self.loadings(d),
            cov,
            self.specific_variance[:, d - 1],
            self.factor_returns.names,
        )


def portfolio_risk(
    weights: Any, loadings: Any, cov: Any, specific: Any, names: Sequence[str] | None = None
) -> RiskAttribution:
    """``w'XFX'w + w'Δw`` with the factor part attributed per factor.

    Assets with a non-finite loading or specific variance must have weight 0.

    Examples
    --------
    >>> import numpy as np
    >>> from ferroquant import factors
    >>> x = np.array([[1.0, 0.5], [1.0, -0.5]])
    >>> f = np.array([[0.04, 0.0], [0.0, 0.01]])
    >>> r = factors.portfolio_risk([0.5, 0.5], x, f, [0.01, 0.01])
    >>> round(r.factor, 6), round(r.specific, 6), r.contributions.round(6).tolist()
    (0.04, 0.005, [0.04, 0.0])
    """
    w = np.asarray(weights, dtype=np.float64).ravel()
    x = np.asarray(loadings, dtype=np.float64)
    f = np.asarray(cov, dtype=np.float64)
    s = np.asarray(specific, dtype=np.float64).ravel()
    n = w.shape[0]
    if x.ndim != 2 or x.shape[0] != n or f.shape != (x.shape[1], x.shape[1]) or s.shape != (n,):
        raise ShapeError(
            f"weights {w.shape}, loadings {x.shape}, cov {f.shape}, specific {s.shape}: pass "
            "(n_assets,), (n_assets, n_factors), (n_factors, n_factors), (n_assets,)"
        )
    held = w != 0
    bad = held & ~(np.isfinite(x).all(axis=1) & np.isfinite(s))
    if bad.any():
        raise InvalidParameterError(
            f"assets {np.flatnonzero(bad)[:5].tolist()} hold weight but have no exposure or "
            "specific risk on this date; give them weight 0"
        )
    if not np.isfinite(f).all():
        raise InvalidParameterError("cov holds NaN: pick a date after the covariance warm-up")
    xp = x[held].T @ w[held]
    contrib = xp * (f @ xp)
    spec = float(np.sum(w[held] ** 2 * s[held]))
    fac = float(contrib.sum())
    labels = tuple(names) if names is not None else tuple(f"factor{i}" for i in range(len(xp)))
    return RiskAttribution(labels, xp, contrib, fac, spec, fac + spec)


def exposures_and_factor_returns(
    raw: Any,
    returns: Any,
    industries: Sequence[Any],
    *,
    names: Sequence[str] | None = None,
    caps: Any = None,
    weights: Any = None,
    universe: Any = None,
    winsor: float = 3.0,
    min_styles: int | None = None,
    orthogonalize: Mapping[str, Sequence[str]] | None = None,
    inplace: bool = False,
    lead: int = 1,
    start: int = 0,
) -> tuple[Exposures, FactorReturns]:
    """:func:`~ferroquant.factors.standardize_exposures` then
    :func:`~ferroquant.factors.factor_returns`, fused: each block of dates is regressed while its
    standardised exposures are still in cache. Same arguments and bit-identical results as the two
    calls in a row.

    Examples
    --------
    >>> import numpy as np
    >>> from ferroquant import factors
    >>> rng = np.random.default_rng(0)
    >>> raw, y = rng.normal(size=(2, 30, 5)), rng.normal(0, 0.01, (30, 5))
    >>> e, fr = factors.exposures_and_factor_returns(raw, y, ["a", "b", "c"] * 10)
    >>> e2 = factors.standardize_exposures(raw)
    >>> fr2 = factors.factor_returns(e2.values, y, ["a", "b", "c"] * 10)
    >>> bool(np.array_equal(fr.returns, fr2.returns, equal_nan=True))
    True
    """
    sa = risk_exposures.prepare(
        raw, names, caps, universe, winsor, min_styles, orthogonalize, inplace
    )
    k, n, t = sa.values.shape
    y = panel(returns, "returns")
    if y.shape != (n, t):
        raise ShapeError(f"returns has shape {y.shape}; pass ({n}, {t}) like one style of raw")
    ra = risk_regression.prepare(y, k, industries, caps, weights, sa.names, lead, start)
    counts: tuple[F64, F64, F64] = (np.zeros((k, t)), np.zeros(t), np.zeros(t))
    out = ra.allocate()
    _core.risk_standardize_regress(
        sa.values,
        sa.caps,
        sa.universe,
        sa.winsor,
        sa.min_styles,
        sa.orthogonalize,
        counts[0],
        counts[1],
        counts[2],
        ra.returns,
        ra.lead,
        ra.start,
        ra.weights,
        True,
        ra.caps,
        ra.codes,
        len(ra.industries),
        out[0],
        out[1],
        out[2],
        out[3],
        current_threads(),
    )
    return Exposures(sa.names, sa.values, *counts), ra.result(out)


def risk_model(
    close: Any,
    industries: Sequence[Any],
    volume: Any = None,
    *,
    caps: Any = None,
    shares: Any = None,
    extra: Mapping[str, Any] | None = None,
    orthogonalize: Mapping[str, Sequence[str]] | None = DEFAULT_ORTHOGONALIZE,
    winsor: float = 3.0,
    covariance: Mapping[str, Any] | None = None,
    specific: Mapping[str, Any] | None = None,
    eigen: Mapping[str, Any] | None = None,
    start: int = 0,
) -> RiskModel:
    """Builds the risk model of a universe (see the module docstring).

    ``covariance`` and ``specific`` pass options to :func:`factor_covariance` and
    :func:`specific_risk`; ``eigen`` (e.g. ``{"n_sims": 100, "seed": 1}``) also applies
    :func:`eigen_adjust` to the latest covariance matrix (``RiskModel.eigen_adjusted``). The
    estimation universe of a date is the assets with a price on it. Dates before ``start`` (a
    warm-up) get exposures but no regression. Without ``caps``: an equal-weighted market,
    equal regression weights, industry shares by count, the size proxy, no shrinkage of the
    specific risk.

    Examples
    --------
    >>> import numpy as np
    >>> from ferroquant import factors
    >>> rng = np.random.default_rng(0)
    >>> close = 50 * np.exp(np.cumsum(rng.normal(0, 0.02, (60, 700)), axis=1))
    >>> m = factors.risk_model(close, ["a", "b", "c"] * 20, np.full((60, 700), 1e5))
    >>> m.factor_returns.names[:4], m.covariance.cov.shape
    (('country', 'a', 'b', 'c'), (700, 14, 14))
    >>> r = m.portfolio_risk(np.full(60, 1 / 60))
    >>> bool(abs(r.total - r.factor - r.specific) < 1e-15)
    True
    """
    from ferroquant import indicators

    c = panel(close, "close")
    d = risk_descriptors(c, volume, caps=caps, shares=shares, extra=extra)
    orth = {k: v for k, v in (orthogonalize or {}).items() if k in d.names}
    exp, fr = exposures_and_factor_returns(
        d.values,
        indicators.returns(c),
        industries,
        names=d.names,
        caps=caps,
        universe=np.isfinite(c),
        winsor=winsor,
        orthogonalize=orth,
        inplace=True,
        start=start,
    )
    cov = factor_covariance(fr.returns, **dict(covariance or {}))
    spec = specific_risk(fr.residuals, caps, **dict(specific or {}))
    adjusted = None
    if eigen is not None:
        ready = np.flatnonzero(np.isfinite(cov.cov).all(axis=(1, 2)))
        if ready.size:
            adjusted = eigen_adjust(cov.cov[ready[-1]], **dict(eigen))
    codes, _ = industry_codes(industries, c.shape[0])
    return RiskModel(exp, fr, cov, spec, codes.astype(np.float64), adjusted)
