"""Factor analytics: forward returns, information coefficients, quantile returns, turnover and
rank autocorrelation of a ``(n_assets, n_dates)`` factor panel.

Conventions (those of alphalens):

* forward return over ``h`` dates: ``close[:, t + h] / close[:, t] - 1``; NaN when either price is
  missing (no forward fill: a suspended or delisted name has no return) or ``t + h`` is past the
  end; alphalens forward-fills prices first, so pass a forward-filled ``close`` to reproduce it;
* per-date cross-sections use the names whose factor (and, for returns, forward return) is
  finite; the others are counted, never dropped silently;
* rank IC is ``scipy.stats.spearmanr`` (ties get averaged ranks) per date, Pearson IC the plain
  correlation; fewer than two names or a constant side gives NaN;
* quantiles are ``pandas.qcut(factor, quantiles, labels=False) + 1`` per date, over every name with
  a finite factor; a date whose quantile edges coincide (e.g. a constant factor, or fewer names
  than needed) is *degenerate*: all its labels are NaN, like alphalens with ``max_loss > 0``
  (at most 255 quantiles);
* demeaned quantile returns subtract the per-date mean return of the names used;
* turnover of quantile ``q`` at ``t``: share of the names in ``q`` at ``t`` that were not in ``q``
  ``lag`` dates earlier (NaN if that date has no quantiles at all);
* rank autocorrelation: Pearson correlation of per-date factor ranks at ``t`` and ``t - lag``, over
  the names ranked on both dates (alphalens ``factor_rank_autocorrelation``).

``lag`` and horizons count dates (columns), not calendar days.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ferroquant import _core
from ferroquant._threads import current_threads
from ferroquant.errors import InvalidParameterError
from ferroquant.factors._engine import (
    F64,
    analytics,
    check_int,
    forward_block,
    labels_as_float,
    panel,
    safe_mean,
)

__all__ = [
    "QuantileReturns",
    "assign_quantiles",
    "forward_returns",
    "information_coefficient",
    "mean_ic",
    "quantile_returns",
    "quantile_turnover",
    "rank_autocorrelation",
]


def forward_returns(close: Any, horizons: Sequence[int] = (1, 5, 21)) -> F64:
    """Forward simple returns over each horizon, shape ``(len(horizons), n_assets, n_dates)``.

    Examples
    --------
    >>> import numpy as np
    >>> from ferroquant import factors
    >>> factors.forward_returns(np.array([[100.0, 110.0, 121.0]]), horizons=(1, 2))
    array([[[0.1 , 0.1 ,  nan]],
    <BLANKLINE>
           [[0.21,  nan,  nan]]])
    """
    c = panel(close, "close")
    hs = [check_int("horizon", h, 1) for h in horizons]
    if not hs:
        raise InvalidParameterError("invalid horizons=(): expected at least one horizon")
    out = np.empty((len(hs), *c.shape))
    _core.forward_returns(c, hs, out, current_threads())
    return out


def _squeeze(x: F64, fwd: Any) -> F64:
    """Drops the horizon axis when ``fwd`` was one 2-D panel."""
    return x[0] if np.ndim(fwd) == 2 else x


def information_coefficient(factor: Any, fwd: Any, method: str = "rank", groups: Any = None) -> F64:
    """Per-date information coefficient of ``factor`` with forward returns.

    Parameters
    ----------
    factor : array_like, (n_assets, n_dates)
    fwd : array_like, (n_horizons, n_assets, n_dates) or (n_assets, n_dates)
        Forward returns, e.g. from :func:`forward_returns`.
    method : {"rank", "pearson"}
        Spearman rank correlation (ties averaged) or Pearson correlation.
    groups : array_like of one label per asset, optional
        When given, the IC is computed within each group; the result gains a group axis before
        the date axis, groups in sorted label order (``None`` labels belong to no group).

    Returns
    -------
    ndarray
        ``(n_horizons, n_dates)`` (``(n_dates,)`` for a 2-D ``fwd``), or with groups
        ``(n_horizons, n_groups, n_dates)``. NaN on dates with fewer than two usable names.

    Examples
    --------
    >>> import numpy as np
    >>> from ferroquant import factors
    >>> f = np.array([[1.0], [2.0], [3.0], [4.0]])
    >>> r = np.array([[0.01], [0.03], [0.02], [0.04]])
    >>> factors.information_coefficient(f, r)
    array([0.8])
    """
    if method not in ("rank", "pearson"):
        raise InvalidParameterError(f"invalid method={method!r}: expected 'rank' or 'pearson'")
    f = panel(factor, "factor")
    raw = analytics(f, forward_block(fwd, f.shape), groups=groups, lags=())
    ic = raw.ic[0, 0 if method == "rank" else 1]
    return _squeeze(ic[:, 0] if groups is None else ic[:, 1:], fwd)


def assign_quantiles(factor: Any, quantiles: int = 5) -> F64:
    """Per-date quantile labels ``1..quantiles`` (``pandas.qcut`` + 1), NaN where none.

    Examples
    --------
    >>> import numpy as np
    >>> from ferroquant import factors
    >>> factors.assign_quantiles(np.array([[3.0], [1.0], [2.0], [4.0]]), quantiles=2)[:, 0]
    array([2., 1., 1., 2.])
    """
    f = panel(factor, "factor")
    empty = np.full((1, *f.shape), np.nan)
    return labels_as_float(analytics(f, empty, quantiles=quantiles, lags=()).quantile[0])


@dataclass(frozen=True)
class QuantileReturns:
    """Mean forward returns by quantile (time along the last axis).

    Attributes
    ----------
    by_date : (n_horizons, quantiles, n_dates) mean (demeaned) return of each quantile per date
    count : (n_horizons, quantiles, n_dates) names averaged in each
    mean : (n_horizons, quantiles) mean over dates of ``by_date`` (dates with names in the
        quantile), as alphalens ``mean_return_by_quantile(by_date=False)``
    spread : (n_horizons, n_dates) top minus bottom quantile per date (long-short); alphalens'
        ``compute_mean_returns_spread`` reports half of it
    by_group : (n_horizons, n_groups, quantiles, n_dates) or None; quantiles are assigned over
        the whole cross-section and demeaned by its mean (alphalens defaults)
    groups : sorted group labels
    """

    by_date: F64
    count: F64
    mean: F64
    spread: F64
    by_group: F64 | None
    groups: list[Any]


def quantile_returns(
    factor: Any, fwd: Any, quantiles: int = 5, demeaned: bool = True, groups: Any = None
) -> QuantileReturns:
    """Mean (demeaned) forward returns by factor quantile and the long-short spread.

    Examples
    --------
    >>> import numpy as np
    >>> from ferroquant import factors
    >>> f = np.array([[1.0], [2.0], [3.0], [4.0]])
    >>> r = np.array([[0.01], [0.03], [0.02], [0.06]])
    >>> qr = factors.quantile_returns(f, r, quantiles=2)
    >>> qr.by_date[0, :, 0], qr.spread[0]
    (array([-0.01,  0.01]), array([0.02]))
    """
    f = panel(factor, "factor")
    raw = analytics(
        f,
        forward_block(fwd, f.shape),
        quantiles=quantiles,
        demeaned=demeaned,
        groups=groups,
        lags=(),
    )
    return _quantile_returns(raw)


def _quantile_returns(raw: Any, k: int = 0) -> QuantileReturns:
    """The quantile returns of factor ``k`` of a :class:`~ferroquant.factors._engine.Raw`."""
    sums, counts = raw.qret[k, 0], raw.qret[k, 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        means = np.where(counts > 0, sums / counts, np.nan)
    return QuantileReturns(
        by_date=means[:, 0],
        count=counts[:, 0],
        mean=safe_mean(means[:, 0]),
        spread=means[:, 0, -1] - means[:, 0, 0],
        by_group=means[:, 1:] if raw.groups else None,
        groups=raw.groups,
    )


def quantile_turnover(factor: Any, quantiles: int = 5, lag: int = 1) -> F64:
    """Per-date turnover of each quantile, shape ``(quantiles, n_dates)``.

    Examples
    --------
    >>> import numpy as np
    >>> from ferroquant import factors
    >>> f = np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 3.0], [4.0, 4.0]])
    >>> factors.quantile_turnover(f, quantiles=2)
    array([[nan,  0.],
           [nan,  0.]])
    """
    f = panel(factor, "factor")
    empty = np.full((1, *f.shape), np.nan)
    turnover: F64 = analytics(f, empty, quantiles=quantiles, lags=(lag,)).turnover[0, 0]
    return turnover


def rank_autocorrelation(factor: Any, lag: int = 1) -> F64:
    """Per-date correlation of factor ranks with those ``lag`` dates earlier, ``(n_dates,)``.

    Examples
    --------
    >>> import numpy as np
    >>> from ferroquant import factors
    >>> f = np.array([[1.0, 2.0], [2.0, 1.0], [3.0, 3.0], [4.0, 4.0]])
    >>> factors.rank_autocorrelation(f)
    array([nan, 0.8])
    """
    f = panel(factor, "factor")
    empty = np.full((1, *f.shape), np.nan)
    autocorr: F64 = analytics(f, empty, lags=(lag,)).autocorr[0, 0]
    return autocorr


def mean_ic(ic: F64) -> F64:
    """Mean of a per-date IC over its finite dates (last axis), as ``pandas.Series.mean``.

    Examples
    --------
    >>> import numpy as np
    >>> from ferroquant import factors
    >>> factors.mean_ic(np.array([0.1, np.nan, 0.3]))
    array(0.2)
    """
    return safe_mean(ic)
