"""One call for the whole factor tear sheet: :func:`analyze`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from ferroquant._array import _as_float64
from ferroquant.errors import InvalidParameterError, ShapeError
from ferroquant.factors._engine import (
    F64,
    U8,
    analytics,
    check_int,
    forward_block,
    labels_as_float,
    panel,
    safe_mean,
)
from ferroquant.factors.analytics import QuantileReturns, _quantile_returns, forward_returns

__all__ = ["FactorAnalysis", "analyze", "analyze_many"]


@dataclass(frozen=True)
class FactorAnalysis:
    """Result of :func:`analyze`; time along the last axis, horizons first.

    Attributes
    ----------
    horizons : the forward-return horizons (dates); also the lags of turnover and autocorrelation
    quantile : (n_assets, n_dates) float quantile labels, NaN where none; made from
        ``quantile_codes`` on first access (8 bytes a cell against 1, so only when asked for)
    quantile_codes : (n_assets, n_dates) uint8 quantile labels ``1..quantiles``, 0 where none
    ic, ic_pearson : (n_horizons, n_dates) per-date rank and Pearson IC
    mean_ic, mean_ic_pearson : (n_horizons,) mean over the dates with an IC
    quantile_returns : :class:`~ferroquant.factors.QuantileReturns`
    mean_spread : (n_horizons,) mean over dates of the long-short spread
    turnover : (n_horizons, quantiles, n_dates) quantile turnover at lag = horizon
    autocorrelation : (n_horizons, n_dates) factor rank autocorrelation at lag = horizon
    n_factor : (n_dates,) names with a finite factor
    n_incomplete : (n_dates,) with ``common_universe=True``, names with a factor but not every
        horizon's return: they are left out of every statistic (alphalens' ``dropna``); else 0
    n_used : (n_horizons, n_dates) names in that horizon's IC and quantile returns
    n_missing_return : (n_horizons, n_dates) names with a factor but no return (or incomplete)
    n_missing_factor : (n_horizons, n_dates) names with a return but no factor
    degenerate : (n_dates,) dates with names but no quantiles (coinciding qcut edges)
    ic_by_group : (n_horizons, n_groups, n_dates) rank IC within each group, or None
    groups : sorted group labels
    """

    horizons: tuple[int, ...]
    quantile_codes: U8
    ic: F64
    ic_pearson: F64
    mean_ic: F64
    mean_ic_pearson: F64
    quantile_returns: QuantileReturns
    mean_spread: F64
    turnover: F64
    autocorrelation: F64
    n_factor: F64
    n_incomplete: F64
    n_used: F64
    n_missing_return: F64
    n_missing_factor: F64
    degenerate: np.ndarray[Any, np.dtype[np.bool_]]
    ic_by_group: F64 | None
    groups: list[Any]

    @cached_property
    def quantile(self) -> F64:
        """Float quantile labels ``1..quantiles``, NaN where none (see ``quantile_codes``)."""
        return labels_as_float(self.quantile_codes)


def analyze(
    factor: Any,
    close: Any = None,
    horizons: Sequence[int] = (1, 5, 21),
    quantiles: int = 5,
    groups: Any = None,
    *,
    demeaned: bool = True,
    common_universe: bool = True,
    forward: Any = None,
) -> FactorAnalysis:
    """Forward returns, ICs, quantile returns, spread, turnover and rank autocorrelation.

    Parameters
    ----------
    factor, close : array_like, (n_assets, n_dates)
        Factor values and prices (NaN = no value that date).
    horizons : forward-return horizons in dates; turnover and autocorrelation use them as lags
    quantiles : number of quantiles
    groups : one label per asset (e.g. sector), optional: adds per-group IC and quantile returns
    demeaned : subtract the per-date mean return from quantile returns
    common_universe : use on each date only names with a return at every horizon (alphalens'
        ``get_clean_factor_and_forward_returns``); else each horizon uses its own names
    forward : precomputed :func:`forward_returns` for ``horizons`` (then ``close`` is unused)

    Examples
    --------
    >>> import numpy as np
    >>> from ferroquant import factors
    >>> rng = np.random.default_rng(0)
    >>> close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (50, 60)), axis=1))
    >>> momentum = close / np.roll(close, 5, axis=1) - 1
    >>> momentum[:, :5] = np.nan
    >>> res = factors.analyze(momentum, close, horizons=(1, 5), quantiles=5)
    >>> res.ic.shape, res.quantile_returns.mean.shape, int(res.n_used[0, 10])
    ((2, 60), (2, 5), 50)
    """
    f = panel(factor, "factor")
    return analyze_many(
        f.reshape(1, *f.shape),
        close,
        horizons,
        quantiles,
        groups,
        demeaned=demeaned,
        common_universe=common_universe,
        forward=forward,
    )[0]


def analyze_many(
    factors: Any,
    close: Any = None,
    horizons: Sequence[int] = (1, 5, 21),
    quantiles: int = 5,
    groups: Any = None,
    *,
    demeaned: bool = True,
    common_universe: bool = True,
    forward: Any = None,
) -> list[FactorAnalysis]:
    """:func:`analyze` for several factors at once (faster: each date's forward returns are
    ranked once for all of them).

    ``factors`` is a ``(n_factors, n_assets, n_dates)`` array or a sequence of panels; the other
    arguments are those of :func:`analyze`.

    Examples
    --------
    >>> import numpy as np
    >>> from ferroquant import factors
    >>> rng = np.random.default_rng(0)
    >>> close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (30, 40)), axis=1))
    >>> res = factors.analyze_many([rng.normal(size=(30, 40)), -close], close, horizons=(1,))
    >>> len(res), res[1].quantile.shape
    (2, (30, 40))
    """
    block = _as_float64(factors, "factors")
    if block.ndim != 3:
        raise ShapeError(
            f"factors has shape {block.shape}; pass (n_factors, n_assets, n_dates) or a list "
            "of (n_assets, n_dates) panels"
        )
    shape = (block.shape[1], block.shape[2])
    hs = tuple(check_int("horizon", h, 1) for h in horizons)
    if forward is None:
        if close is None:
            raise InvalidParameterError("invalid close=None: pass close or forward")
        fwd = forward_returns(panel(close, "close"), hs)
    else:
        fwd = forward_block(forward, shape)
    if fwd.shape[0] != len(hs) or fwd.shape[1:] != shape:
        raise InvalidParameterError(
            f"invalid forward of shape {fwd.shape}: expected ({len(hs)}, *{shape}), one "
            "panel per horizon"
        )
    raw = analytics(
        block,
        fwd,
        quantiles=quantiles,
        demeaned=demeaned,
        groups=groups,
        lags=hs,
        common_universe=common_universe,
    )
    out = []
    for k in range(block.shape[0]):
        qr = _quantile_returns(raw, k)
        n_factor, n_incomplete, n_quantiled = raw.date_counts[k]
        n_eligible = n_factor - n_incomplete
        ic = raw.ic[k, 0, :, 0]
        ic_pearson = raw.ic[k, 1, :, 0]
        out.append(
            FactorAnalysis(
                horizons=hs,
                quantile_codes=raw.quantile[k],
                ic=ic,
                ic_pearson=ic_pearson,
                mean_ic=safe_mean(ic),
                mean_ic_pearson=safe_mean(ic_pearson),
                quantile_returns=qr,
                mean_spread=safe_mean(qr.spread),
                turnover=raw.turnover[k],
                autocorrelation=raw.autocorr[k],
                n_factor=n_factor,
                n_incomplete=n_incomplete,
                n_used=raw.counts[k, :, 0],
                n_missing_return=raw.counts[k, :, 2],
                n_missing_factor=raw.counts[k, :, 1],
                degenerate=np.asarray((n_eligible > 0) & (n_quantiled == 0)),
                ic_by_group=raw.ic[k, 0, :, 1:] if raw.groups else None,
                groups=raw.groups,
            )
        )
    return out
