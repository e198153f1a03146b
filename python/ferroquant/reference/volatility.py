"""True range, Average True Range and its normalised form."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from . import _kernels
from ._common import (
    Convention,
    FloatArray,
    check_int,
    compress_apply,
    hlc_panels,
    parse_convention,
    prev_bar,
)

__all__ = ["atr", "natr", "true_range"]


def _true_range(
    high: FloatArray, low: FloatArray, close: FloatArray, conv: Convention
) -> FloatArray:
    previous = prev_bar(close)
    tr = np.maximum(high, previous) - np.minimum(low, previous)
    if conv == "pandas":
        tr = np.where(np.isnan(previous), high - low, tr)
    return np.asarray(tr, dtype=np.float64)


def true_range(
    high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike, *, convention: str = "pandas"
) -> FloatArray:
    """True range ``max(h, c[t-1]) - min(l, c[t-1])``.

    ``pandas``: ``h - l`` at t = 0 and wherever ``c[t-1]`` is NaN. ``talib`` (TA-Lib's TRANGE):
    NaN there instead.

    Examples
    --------
    >>> true_range([2.0, 3.0, 5.0], [1.0, 2.5, 4.0], [1.5, 2.8, 4.5])
    array([1. , 1.5, 2.2])
    >>> true_range([2.0, 3.0, 5.0], [1.0, 2.5, 4.0], [1.5, 2.8, 4.5], convention="talib")
    array([nan, 1.5, 2.2])
    """
    conv = parse_convention(convention)
    h, lo, c = hlc_panels(high, low, close)
    return h.restore(_true_range(h.values, lo.values, c.values, conv))


def atr(
    high: npt.ArrayLike,
    low: npt.ArrayLike,
    close: npt.ArrayLike,
    period: int = 14,
    *,
    convention: str = "pandas",
) -> FloatArray:
    """Average True Range: Wilder's smoothing of the true range.

    The first ATR is the mean of the first ``period`` valid true ranges, then ``atr = (atr *
    (period - 1) + tr) / period``; a NaN true range gives NaN and leaves the state. ``pandas``
    (StockCharts): true range as :func:`true_range` ``pandas`` (``h - l`` at bar 0), so the first
    ATR is at bar ``period - 1``. ``talib``: TA-Lib's TRANGE (from bar 1), first ATR at bar
    ``period``.

    Examples
    --------
    >>> atr([2.0, 3.0, 5.0, 4.0], [1.0, 2.5, 4.0, 3.0], [1.5, 2.8, 4.5, 3.5], 2)
    array([   nan, 1.25  , 1.725 , 1.6125])
    >>> atr([2.0, 3.0, 5.0, 4.0], [1.0, 2.5, 4.0, 3.0], [1.5, 2.8, 4.5, 3.5], 2, convention="talib")
    array([  nan,   nan, 1.85 , 1.675])
    """
    conv = parse_convention(convention)
    period = check_int("period", period)
    h, lo, c = hlc_panels(high, low, close)
    tr = _true_range(h.values, lo.values, c.values, conv)
    (out,) = compress_apply(tr, lambda v: (_kernels.wilder_seeded(v, period),))
    return h.restore(out)


def natr(
    high: npt.ArrayLike,
    low: npt.ArrayLike,
    close: npt.ArrayLike,
    period: int = 14,
    *,
    convention: str = "pandas",
) -> FloatArray:
    """Normalised ATR: ``100 * atr / close`` (NaN where the close is NaN).

    ``talib`` reproduces TA-Lib 0.8.1's NATR: ``(atr / close) * 100``, 0 where the close is 0, and
    with ``period=1`` the raw true range, not normalised (a TA-Lib quirk).

    Examples
    --------
    >>> natr([2.0, 3.0, 5.0, 4.0], [1.0, 2.5, 4.0, 3.0], [1.5, 2.5, 5.0, 4.0], 2)
    array([    nan, 50.    , 37.5   , 48.4375])
    """
    conv = parse_convention(convention)
    period = check_int("period", period)
    h, lo, c = hlc_panels(high, low, close)
    average = atr(h.values, lo.values, c.values, period, convention=conv)
    closes = c.values
    with np.errstate(invalid="ignore", divide="ignore"):
        if conv == "pandas":
            out = 100 * average / closes
        elif period == 1:
            out = np.where(np.isnan(closes), np.nan, average)
        else:
            out = np.where(closes == 0.0, 0.0, (average / closes) * 100)
            out[np.isnan(average)] = np.nan
    return h.restore(np.asarray(out, dtype=np.float64))
