"""Moving averages and rolling-window statistics (the oracle versions).

Rolling statistics follow pandas' ``rolling(window, min_periods)``: the window is the last
``window`` *positions*, NaN values in it are skipped and not counted, and the output is defined iff
the window holds at least ``min_periods`` valid values (default: ``window``).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from . import _kernels
from ._common import (
    FloatArray,
    Panel,
    check_ddof,
    check_int,
    check_min_periods,
    check_real,
    compress_apply,
    from_frame,
    parse_convention,
    to_frame,
    valid_count,
    window_mean,
    windows,
)

__all__ = [
    "ema",
    "pandas_rolling_mean",
    "pandas_rolling_std",
    "rolling_max",
    "rolling_mean",
    "rolling_min",
    "rolling_std",
    "rolling_sum",
    "rolling_var",
    "sma",
    "stddev",
    "wma",
]


def sma(
    x: npt.ArrayLike,
    period: int = 20,
    *,
    min_periods: int | None = None,
    convention: str = "pandas",
) -> FloatArray:
    """Simple moving average.

    ``pandas``: ``x.rolling(period, min_periods=1).mean()``; ``talib``: ``x.rolling(period).mean()``
    (TA-Lib's SMA). An explicit ``min_periods`` overrides the convention's default.

    Examples
    --------
    >>> sma([1.0, 2.0, 3.0, 4.0], 2)
    array([1. , 1.5, 2.5, 3.5])
    >>> sma([1.0, 2.0, 3.0, 4.0], 2, convention="talib")
    array([nan, 1.5, 2.5, 3.5])
    """
    conv = parse_convention(convention)
    period = check_int("period", period)
    default = 1 if conv == "pandas" else period
    return rolling_mean(x, period, min_periods=check_min_periods(min_periods, period, default))


def ema(x: npt.ArrayLike, period: int = 20, *, convention: str = "pandas") -> FloatArray:
    """Exponential moving average, ``alpha = 2 / (period + 1)``.

    ``pandas``: ``x.ewm(span=period, adjust=False, ignore_na=True).mean()``, NaN where ``x`` is NaN
    (defined from the first valid bar). ``talib``: seeded with the mean of the first ``period``
    valid values, then ``ema = (x - ema) * alpha + ema``; NaN bars are skipped and keep the state.

    Examples
    --------
    >>> ema([1.0, 2.0, 3.0, 4.0], 3)
    array([1.   , 1.5  , 2.25 , 3.125])
    >>> ema([1.0, 2.0, 3.0, 4.0], 3, convention="talib")
    array([nan, nan,  2.,  3.])
    """
    conv = parse_convention(convention)
    period = check_int("period", period)
    panel = Panel(x)
    if conv == "talib":
        (out,) = compress_apply(panel.values, lambda v: (_kernels.ema_sma_seeded(v, period),))
        return panel.restore(out)
    return panel.restore(pandas_ema(panel.values, period))


def pandas_ema(values: FloatArray, period: int) -> FloatArray:
    """``ewm(span=period, adjust=False, ignore_na=True).mean()`` per asset, NaN where x is NaN."""
    if values.size == 0:
        return values.copy()
    frame = to_frame(values)
    out = from_frame(frame.ewm(span=period, adjust=False, ignore_na=True).mean())
    out[np.isnan(values)] = np.nan
    return out


def wma(x: npt.ArrayLike, period: int = 20, *, min_periods: int | None = None) -> FloatArray:
    """Linearly weighted moving average: weights 1..period, the newest bar weighing ``period``.

    A NaN bar is skipped together with its weight: ``sum(w_i x_i) / sum(w_i)`` over the valid
    bars of the window; defined where the window holds ``min_periods`` (default ``period``) valid
    values. Both conventions are the same (TA-Lib's WMA on clean data).

    Examples
    --------
    >>> wma([1.0, 2.0, 3.0, 4.0], 3)
    array([       nan,        nan, 2.33333333, 3.33333333])
    """
    period = check_int("period", period)
    min_periods = check_min_periods(min_periods, period, period)
    panel = Panel(x)
    if panel.values.size == 0:
        return panel.restore(panel.values.copy())
    w, width = windows(panel.values, period)
    weights = np.arange(period - width + 1, period + 1, dtype=np.float64)
    valid = ~np.isnan(w)
    numerator = np.where(valid, w, 0.0) @ weights
    denominator = valid.astype(np.float64) @ weights
    with np.errstate(invalid="ignore", divide="ignore"):
        out = numerator / denominator
    out[valid_count(w) < min_periods] = np.nan
    return panel.restore(out)


def _pandas_rolling(
    x: npt.ArrayLike, window: int, min_periods: int | None, method: str, **kwargs: int
) -> FloatArray:
    window = check_int("window", window)
    min_periods = check_min_periods(min_periods, window, window)
    panel = Panel(x)
    if panel.values.size == 0:
        return panel.restore(panel.values.copy())
    roll = to_frame(panel.values).rolling(window, min_periods=min_periods)
    return panel.restore(from_frame(getattr(roll, method)(**kwargs)))


def rolling_sum(x: npt.ArrayLike, window: int, *, min_periods: int | None = None) -> FloatArray:
    """Sum of the valid values of the last ``window`` bars: pandas' ``x.rolling(window,
    min_periods).sum()`` (``min_periods`` defaults to ``window``), computed afresh for each window.

    Examples
    --------
    >>> rolling_sum([1.0, 2.0, float("nan"), 4.0], 2, min_periods=1)
    array([1., 3., 2., 4.])
    """
    window = check_int("window", window)
    min_periods = check_min_periods(min_periods, window, window)
    panel = Panel(x)
    return panel.restore(exact_rolling_sum(panel.values, window, min_periods))


def rolling_mean(x: npt.ArrayLike, window: int, *, min_periods: int | None = None) -> FloatArray:
    """Mean of the valid values of the last ``window`` bars: pandas' ``x.rolling(window,
    min_periods).mean()`` (``min_periods`` defaults to ``window``), computed afresh for each window.

    pandas updates its window sum online; on data spanning many orders of magnitude that drifts
    (5e-7 relative was seen on prices spanning 1e-6 to 1e6), so the oracle sums each window from
    scratch and refines the mean once (see :func:`pandas_rolling_mean` for pandas' own numbers).

    Examples
    --------
    >>> rolling_mean([1.0, 2.0, 3.0, 4.0], 2)
    array([nan, 1.5, 2.5, 3.5])
    """
    window = check_int("window", window)
    min_periods = check_min_periods(min_periods, window, window)
    panel = Panel(x)
    return panel.restore(exact_rolling_mean(panel.values, window, min_periods))


def exact_rolling_sum(values: FloatArray, window: int, min_periods: int) -> FloatArray:
    """Per-window sum of the valid values on a 2-D array, NaN below ``min_periods`` values."""
    if values.size == 0:
        return values.copy()
    w, _ = windows(values, window)
    out = np.asarray(np.nansum(w, axis=-1), dtype=np.float64)
    out[valid_count(w) < min_periods] = np.nan
    return out


def exact_rolling_mean(values: FloatArray, window: int, min_periods: int) -> FloatArray:
    """Per-window mean of the valid values on a 2-D array, NaN below ``min_periods`` values."""
    if values.size == 0:
        return values.copy()
    w, _ = windows(values, window)
    mean, count = window_mean(w)
    mean[count < min_periods] = np.nan
    return mean


def pandas_rolling_mean(
    x: npt.ArrayLike, window: int, *, min_periods: int | None = None
) -> FloatArray:
    """``x.rolling(window, min_periods).mean()`` exactly as pandas computes it (online updates).

    Examples
    --------
    >>> pandas_rolling_mean([1.0, 2.0, 3.0, 4.0], 2)
    array([nan, 1.5, 2.5, 3.5])
    """
    return _pandas_rolling(x, window, min_periods, "mean")


def rolling_min(x: npt.ArrayLike, window: int, *, min_periods: int | None = None) -> FloatArray:
    """``x.rolling(window, min_periods).min()``; ``min_periods`` defaults to ``window``.

    Examples
    --------
    >>> rolling_min([3.0, 1.0, 2.0, 5.0], 2)
    array([nan,  1.,  1.,  2.])
    """
    return _pandas_rolling(x, window, min_periods, "min")


def rolling_max(x: npt.ArrayLike, window: int, *, min_periods: int | None = None) -> FloatArray:
    """``x.rolling(window, min_periods).max()``; ``min_periods`` defaults to ``window``.

    Examples
    --------
    >>> rolling_max([3.0, 1.0, 2.0, 5.0], 2)
    array([nan,  3.,  2.,  5.])
    """
    return _pandas_rolling(x, window, min_periods, "max")


def rolling_var(
    x: npt.ArrayLike, window: int, *, ddof: int = 1, min_periods: int | None = None
) -> FloatArray:
    """Rolling variance, computed exactly by two passes over each window.

    For each window: the mean ``m`` of its valid values, then ``sum((x - m)**2) / (count - ddof)``
    (with the classic correction ``- sum(x - m)**2 / count``, which cancels the rounding of ``m``).
    Defined where the window holds at least ``max(min_periods, ddof + 1)`` valid values (pandas'
    rule); a window whose valid values are all equal gives exactly 0. This is what pandas'
    ``rolling(window, min_periods).var(ddof)`` computes up to its online-update rounding (see
    :func:`pandas_rolling_std`).

    Examples
    --------
    >>> rolling_var([1.0, 2.0, 4.0, 4.0], 2)
    array([nan, 0.5, 2. , 0. ])
    >>> rolling_var([1.0, 2.0, 4.0, 4.0], 2, ddof=0)
    array([ nan, 0.25, 1.  , 0.  ])
    """
    window = check_int("window", window)
    ddof = check_ddof(ddof)
    min_periods = check_min_periods(min_periods, window, window)
    panel = Panel(x)
    return panel.restore(exact_rolling_var(panel.values, window, ddof, min_periods))


def exact_rolling_var(values: FloatArray, window: int, ddof: int, min_periods: int) -> FloatArray:
    """Two-pass windowed variance on a 2-D array (see :func:`rolling_var`)."""
    if values.size == 0:
        return values.copy()
    w, _ = windows(values, window)
    mean, count = window_mean(w)
    deviation = w - mean[..., np.newaxis]
    squares = np.nansum(deviation * deviation, axis=-1)
    # The corrected two-pass formula: subtracting (sum of deviations)^2 / count removes, to first
    # order, the rounding error of the mean itself (it is exactly 0 for an exact mean).
    residual = np.nansum(deviation, axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (squares - residual * residual / count) / (count - ddof)
    out[(count < min_periods) | (count <= ddof)] = np.nan
    return np.asarray(out, dtype=np.float64)


def rolling_std(
    x: npt.ArrayLike, window: int, *, ddof: int = 1, min_periods: int | None = None
) -> FloatArray:
    """Rolling standard deviation: the square root of :func:`rolling_var` (exact two-pass).

    Examples
    --------
    >>> rolling_std([1.0, 1.0, 1.0, 3.0], 2, ddof=0)
    array([nan,  0.,  0.,  1.])
    """
    return np.sqrt(rolling_var(x, window, ddof=ddof, min_periods=min_periods))


def pandas_rolling_std(
    x: npt.ArrayLike, window: int, *, ddof: int = 1, min_periods: int | None = None
) -> FloatArray:
    """``x.rolling(window, min_periods).std(ddof=ddof)`` exactly as pandas computes it.

    pandas updates the window's moments online, so on hard data (a large level with a tiny
    spread) it can drift from the exact :func:`rolling_std` by ~1e-8 relative or more; use this
    path only to show agreement with the pandas code users run today.

    Examples
    --------
    >>> pandas_rolling_std([1.0, 1.0, 1.0, 3.0], 2, ddof=0)
    array([nan,  0.,  0.,  1.])
    """
    ddof = check_ddof(ddof)
    return _pandas_rolling(x, window, min_periods, "std", ddof=ddof)


def stddev(
    x: npt.ArrayLike, period: int = 5, nbdev: float = 1.0, *, convention: str = "pandas"
) -> FloatArray:
    """``nbdev`` times the rolling standard deviation over ``period`` bars (TA-Lib's STDDEV).

    ``pandas``: sample deviation (``ddof=1``); ``talib``: population deviation (``ddof=0``).
    Defined where the window holds ``period`` valid values.

    Examples
    --------
    >>> stddev([1.0, 3.0, 1.0, 3.0], 2, convention="talib")
    array([nan,  1.,  1.,  1.])
    """
    conv = parse_convention(convention)
    period = check_int("period", period)
    nbdev = check_real("nbdev", nbdev)
    ddof = 1 if conv == "pandas" else 0
    return rolling_std(x, period, ddof=ddof) * nbdev
