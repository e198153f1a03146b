"""Oscillators and bands: RSI, MACD, Bollinger bands, CCI, Williams %R, Ultimate Oscillator."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .._results import MACD, Bands
from ..errors import InvalidParameterError
from . import _kernels
from ._common import (
    FloatArray,
    Panel,
    check_ddof,
    check_int,
    check_min_periods,
    check_real,
    compress_apply,
    hlc_panels,
    parse_convention,
    prev_bar,
    valid_count,
    window_mean,
    windows,
)
from .moving import ema, exact_rolling_mean, exact_rolling_var, pandas_ema

__all__ = ["TALIB_EPSILON", "bollinger", "cci", "macd", "rsi", "ultosc", "willr"]

TALIB_EPSILON = 1e-14
"""TA-Lib 0.8.1's ``TA_EPSILON``: CCI and WILLR answer 0 when the quantity they divide by is
within ``TALIB_EPSILON`` times the window's own price level of zero (``TA_IS_ZERO_SCALED``)."""


def rsi(
    x: npt.ArrayLike,
    period: int = 14,
    *,
    convention: str = "pandas",
    min_periods: int | None = None,
) -> FloatArray:
    """Relative Strength Index.

    ``pandas`` (Cutler): ``d = x.diff()``, ``G = d.clip(lower=0).rolling(period, min_periods)
    .mean()``, ``L = (-d.clip(upper=0)).rolling(...).mean()`` (window means computed afresh, as
    :func:`~ferroquant.reference.rolling_mean`), ``100 - 100 / (1 + G / L)``: a flat
    window (G = L = 0) is NaN, L = 0 < G gives 100. ``talib`` (Wilder, TA-Lib's RSI): averages
    seeded with the mean of the first ``period`` valid changes, then ``(avg * (period - 1) + v) /
    period``; ``100 * G / (G + L)``, 0 when G + L = 0. ``min_periods`` (default ``period``)
    applies to the pandas convention only.

    Examples
    --------
    >>> rsi([1.0, 2.0, 1.5, 2.5, 2.0], 2)
    array([        nan,         nan, 66.66666667, 66.66666667, 66.66666667])
    >>> rsi([1.0, 2.0, 1.5, 2.5, 2.0], 2, convention="talib")
    array([        nan,         nan, 66.66666667, 85.71428571, 54.54545455])
    """
    conv = parse_convention(convention)
    period = check_int("period", period)
    panel = Panel(x)
    values = panel.values
    if conv == "talib":
        if min_periods is not None:
            raise InvalidParameterError(
                f"invalid min_periods={min_periods!r}: min_periods applies to the pandas "
                "(Cutler) RSI only; drop it or pass convention='pandas'"
            )
        changes = values - prev_bar(values)
        (out,) = compress_apply(changes, lambda v: (_kernels.wilder_rsi(v, period),))
        return panel.restore(out)
    mp = check_min_periods(min_periods, period, period)
    delta = values - prev_bar(values)  # x.diff()
    gain = exact_rolling_mean(np.clip(delta, 0.0, None), period, mp)  # d.clip(lower=0)
    loss = exact_rolling_mean(np.clip(-delta, 0.0, None), period, mp)  # -d.clip(upper=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = 100 - 100 / (1 + gain / loss)
    return panel.restore(out)


def macd(
    x: npt.ArrayLike,
    fast: int = 12,
    slow: int = 26,
    signal: int = 9,
    *,
    convention: str = "pandas",
) -> MACD[FloatArray]:
    """MACD line (fast EMA - slow EMA), its signal line (EMA of the line) and the histogram.

    ``pandas``: every EMA is ``ewm(span, adjust=False, ignore_na=True).mean()`` (defined from the
    first valid bar). ``talib``: TA-Lib's seeds — slow EMA seeded with the mean of the first
    ``slow`` valid values, fast EMA with the mean of the ``fast`` values ending at that bar, signal
    with the mean of the first ``signal`` MACD values; all three outputs start at bar
    ``slow + signal - 2``, and ``fast``/``slow`` are swapped when ``slow < fast`` (as TA-Lib does).

    Examples
    --------
    >>> m = macd([1.0, 2.0, 3.0, 4.0, 5.0], 2, 3, 2, convention="talib")
    >>> m.macd
    array([nan, nan, nan, 0.5, 0.5])
    >>> m.hist
    array([nan, nan, nan,  0.,  0.])
    """
    conv = parse_convention(convention)
    fast = check_int("fast", fast)
    slow = check_int("slow", slow)
    signal = check_int("signal", signal)
    panel = Panel(x)
    values = panel.values
    if conv == "talib":
        line, sig, hist = compress_apply(
            values, lambda v: _kernels.talib_macd(v, fast, slow, signal), n_outputs=3
        )
    else:
        line = pandas_ema(values, fast) - pandas_ema(values, slow)
        sig = pandas_ema(line, signal)
        hist = line - sig
    return MACD(panel.restore(line), panel.restore(sig), panel.restore(hist))


def bollinger(
    x: npt.ArrayLike,
    period: int = 20,
    k: float = 2.0,
    *,
    ddof: int | None = None,
    matype: str = "sma",
    convention: str = "pandas",
) -> Bands[FloatArray]:
    """Bollinger bands: ``middle ± k * std`` over ``period`` bars.

    middle = ``x.rolling(period).mean()``; std = the exact rolling standard deviation over the
    same window with ``ddof`` (default 1 for ``pandas``, 0 for ``talib`` = TA-Lib's BBANDS).
    ``matype="ema"`` reproduces TA-Lib's BBANDS with ``matype=EMA``: the middle band is
    :func:`~ferroquant.reference.ema` (in the same convention) while the deviation is still taken
    around the window's own mean; the middle band is then NaN wherever the deviation is.

    Examples
    --------
    >>> b = bollinger([1.0, 3.0, 1.0, 3.0], 2, 2.0, convention="talib")
    >>> b.upper
    array([nan,  4.,  4.,  4.])
    >>> b.lower
    array([nan,  0.,  0.,  0.])
    """
    conv = parse_convention(convention)
    period = check_int("period", period)
    k = check_real("k", k)
    ddof = (1 if conv == "pandas" else 0) if ddof is None else check_ddof(ddof)
    kind = matype.lower() if isinstance(matype, str) else matype
    if kind not in ("sma", "ema"):
        raise InvalidParameterError(
            f'invalid matype={matype!r}: expected "sma" (the default) or "ema"'
        )
    panel = Panel(x)
    std = np.sqrt(exact_rolling_var(panel.values, period, ddof, period))
    if kind == "sma":
        middle = exact_rolling_mean(panel.values, period, period)
    else:
        middle = ema(panel.values, period, convention=conv)
        middle[np.isnan(std)] = np.nan
    width = k * std
    return Bands(
        panel.restore(middle), panel.restore(middle + width), panel.restore(middle - width)
    )


def cci(
    high: npt.ArrayLike,
    low: npt.ArrayLike,
    close: npt.ArrayLike,
    period: int = 14,
    *,
    convention: str = "pandas",
) -> FloatArray:
    """Commodity Channel Index: ``(tp - mean(tp)) / (0.015 * meandev(tp))``, tp = (h + l + c) / 3.

    mean and mean absolute deviation are over the last ``period`` bars (all must be valid). A flat
    window gives 0/0: NaN for ``pandas``; ``talib`` answers 0 whenever ``|tp - mean|`` or the mean
    deviation is within ``TALIB_EPSILON * |mean|`` of zero (TA-Lib 0.8.1's scaled test).

    Examples
    --------
    >>> cci([2.0, 3.0, 4.0], [0.0, 1.0, 2.0], [1.0, 2.0, 3.0], 3)
    array([ nan,  nan, 100.])
    >>> cci([1.0, 1.0], [1.0, 1.0], [1.0, 1.0], 2, convention="talib")
    array([nan,  0.])
    """
    conv = parse_convention(convention)
    period = check_int("period", period)
    h, lo, c = hlc_panels(high, low, close)
    tp = (h.values + lo.values + c.values) / 3
    if tp.size == 0:
        return h.restore(tp)
    w, _ = windows(tp, period)
    mean, count = window_mean(w)
    meandev = np.nansum(np.abs(w - mean[..., np.newaxis]), axis=-1) / np.maximum(count, 1)
    deviation = tp - mean
    with np.errstate(invalid="ignore", divide="ignore"):
        out = deviation / (0.015 * meandev)
    if conv == "talib":
        scale = TALIB_EPSILON * np.abs(mean)
        out[(np.abs(deviation) <= scale) | (meandev <= scale)] = 0.0
    out[count < period] = np.nan
    return h.restore(out)


def willr(
    high: npt.ArrayLike,
    low: npt.ArrayLike,
    close: npt.ArrayLike,
    period: int = 14,
    *,
    convention: str = "pandas",
) -> FloatArray:
    """Williams %R: ``-100 * (HH - c) / (HH - LL)`` over the last ``period`` bars.

    ``pandas``: HH, LL = ``high.rolling(period).max()``, ``low.rolling(period).min()``; a flat
    window (HH = LL) is 0/0 = NaN. ``talib`` (TA-Lib 0.8.1): ``((HH - c) / (HH - LL)) * -100``
    clamped to [-100, 0], and 0 when ``HH - LL <= TALIB_EPSILON * (|HH| + |LL|)``.

    Examples
    --------
    >>> willr([2.0, 3.0, 4.0], [0.0, 1.0, 2.0], [1.0, 2.0, 3.0], 2)
    array([         nan, -33.33333333, -33.33333333])
    """
    conv = parse_convention(convention)
    period = check_int("period", period)
    h, lo, c = hlc_panels(high, low, close)
    hh = _rolling_extreme(h.values, period, np.fmax)
    ll = _rolling_extreme(lo.values, period, np.fmin)
    with np.errstate(invalid="ignore", divide="ignore"):
        if conv == "pandas":
            out = -100 * (hh - c.values) / (hh - ll)
        else:
            span = hh - ll
            out = np.clip(((hh - c.values) / span) * -100.0, -100.0, 0.0)
            out[span <= TALIB_EPSILON * (np.abs(hh) + np.abs(ll))] = 0.0
            out[np.isnan(span) | np.isnan(c.values)] = np.nan
    return h.restore(out)


def _rolling_extreme(values: FloatArray, period: int, reduce: np.ufunc) -> FloatArray:
    """Window max/min over ``period`` bars, NaN unless all ``period`` bars are valid."""
    if values.size == 0:
        return values.copy()
    w, _ = windows(values, period)
    out = np.asarray(reduce.reduce(w, axis=-1), dtype=np.float64)
    out[valid_count(w) < period] = np.nan
    return out


def ultosc(
    high: npt.ArrayLike,
    low: npt.ArrayLike,
    close: npt.ArrayLike,
    period1: int = 7,
    period2: int = 14,
    period3: int = 28,
    *,
    convention: str = "pandas",
) -> FloatArray:
    """Ultimate Oscillator: ``100 * (4 a1 + 2 a2 + a3) / 7`` with ``a_p = sum(bp) / sum(tr)``.

    bp = ``c - min(l, c[t-1])``, tr = ``max(h, c[t-1]) - min(l, c[t-1])`` (NaN at t = 0). Like
    TA-Lib, the periods are sorted first, so the shortest always gets weight 4. A window whose
    true ranges sum to 0 gives 0/0: NaN for ``pandas``; ``talib`` leaves that term out (adds 0).

    Examples
    --------
    >>> ultosc([2.0, 3.0, 4.0], [1.0, 2.0, 3.0], [1.5, 2.5, 3.5], 1, 1, 2)
    array([        nan,         nan, 66.66666667])
    """
    conv = parse_convention(convention)
    periods = sorted(
        check_int(name, p)
        for name, p in (("period1", period1), ("period2", period2), ("period3", period3))
    )
    h, lo, c = hlc_panels(high, low, close)
    previous = prev_bar(c.values)
    true_low = np.minimum(lo.values, previous)
    bp = c.values - true_low
    tr = np.maximum(h.values, previous) - true_low
    ratios = []
    for p in periods:
        a, b = _window_sum(bp, p), _window_sum(tr, p)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = a / b
        if conv == "talib":
            ratio = np.where(b > 0.0, ratio, np.where(np.isnan(b), np.nan, 0.0))
        ratios.append(ratio)
    total = 4.0 * ratios[0] + 2.0 * ratios[1] + ratios[2]
    return h.restore(100.0 * (total / 7.0))


def _window_sum(values: FloatArray, period: int) -> FloatArray:
    """Sum over the last ``period`` bars, NaN unless all of them are valid (an all-zero window
    sums to exactly 0)."""
    if values.size == 0:
        return values.copy()
    w, _ = windows(values, period)
    out = np.asarray(np.nansum(w, axis=-1), dtype=np.float64)
    out[valid_count(w) < period] = np.nan
    return out
