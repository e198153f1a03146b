"""Indicators on high, low and close: true range, ATR, NATR, CCI, Williams %R, Ultimate Oscillator.

Each takes ``high, low, close`` of one shape, or a long frame with ``high``, ``low``, ``close`` and
``symbol`` columns as ``high`` alone.
"""

from __future__ import annotations

from typing import Any

from ferroquant import _core
from ferroquant.indicators._engine import check_convention, check_period, run

__all__ = ["atr", "cci", "natr", "true_range", "ultosc", "willr"]

HLC = ("high", "low", "close")


def true_range(
    high: Any,
    low: Any = None,
    close: Any = None,
    *,
    convention: str = "pandas",
    dtype: Any = None,
    out: Any = None,
) -> Any:
    """True range ``max(h, c[t-1]) - min(l, c[t-1])``.

    The first bar is ``h - l`` under ``"pandas"`` and NaN under ``"talib"`` (TA-Lib ``TRANGE``).

    Examples
    --------
    >>> import numpy as np, ferroquant as fq
    >>> h, l, c = np.array([10.0, 12.0]), np.array([9.0, 10.5]), np.array([9.5, 11.0])
    >>> fq.indicators.true_range(h, l, c)
    array([1. , 2.5])
    """
    conv = check_convention(convention)

    def kernel(h: Any, lo: Any, c: Any, o: Any, t: int) -> None:
        _core.true_range(h, lo, c, conv, o, t)

    return run(kernel, [high, low, close], HLC, ["true_range"], dtype=dtype, out=out)[0]


def _atr(
    high: Any,
    low: Any,
    close: Any,
    period: int,
    convention: str,
    normalised: bool,
    dtype: Any,
    out: Any,
) -> Any:
    period = check_period("period", period)
    conv = check_convention(convention, ("pandas", "stockcharts", "talib"))

    def kernel(h: Any, lo: Any, c: Any, o: Any, t: int) -> None:
        _core.atr(h, lo, c, period, conv, normalised, o, t)

    name = "natr" if normalised else "atr"
    return run(kernel, [high, low, close], HLC, [name], dtype=dtype, out=out)[0]


def atr(
    high: Any,
    low: Any = None,
    close: Any = None,
    period: int = 14,
    *,
    convention: str = "pandas",
    dtype: Any = None,
    out: Any = None,
) -> Any:
    """Average true range, Wilder-smoothed.

    ``"pandas"`` (= ``"stockcharts"``): the first true range is ``h - l`` and the first ATR, at bar
    ``period - 1``, is the mean of the first ``period`` true ranges. ``"talib"``: true ranges from
    bar 1, first ATR at bar ``period`` (TA-Lib ``ATR``).

    Examples
    --------
    >>> import numpy as np, ferroquant as fq
    >>> h = np.array([10.0, 11.0, 12.0]); l = h - 1.0; c = h - 0.5
    >>> fq.indicators.atr(h, l, c, 2)
    array([  nan, 1.25 , 1.375])
    """
    return _atr(high, low, close, period, convention, False, dtype, out)


def natr(
    high: Any,
    low: Any = None,
    close: Any = None,
    period: int = 14,
    *,
    convention: str = "pandas",
    dtype: Any = None,
    out: Any = None,
) -> Any:
    """Normalised ATR: ``100 * atr / close``; see :func:`atr`.

    Examples
    --------
    >>> import numpy as np, ferroquant as fq
    >>> h = np.array([10.0, 11.0, 12.0]); l = h - 1.0; c = h - 0.5
    >>> fq.indicators.natr(h, l, c, 2).round(3)
    array([   nan, 11.905, 11.957])
    """
    return _atr(high, low, close, period, convention, True, dtype, out)


def _hlc_oscillator(
    name: str,
    periods: list[int],
    high: Any,
    low: Any,
    close: Any,
    convention: str,
    dtype: Any,
    out: Any,
) -> Any:
    conv = check_convention(convention)

    def kernel(h: Any, lo: Any, c: Any, o: Any, t: int) -> None:
        _core.oscillator(name, h, lo, c, periods, conv, o, t)

    return run(kernel, [high, low, close], HLC, [name], dtype=dtype, out=out)[0]


def cci(
    high: Any,
    low: Any = None,
    close: Any = None,
    period: int = 14,
    *,
    convention: str = "pandas",
    dtype: Any = None,
    out: Any = None,
) -> Any:
    """Commodity channel index ``(tp - mean(tp)) / (0.015 * mean |tp - mean(tp)|)``.

    A flat window gives NaN under ``"pandas"`` and 0 under ``"talib"``.

    Examples
    --------
    >>> import numpy as np, ferroquant as fq
    >>> h = np.array([2.0, 3.0, 5.0]); l = h - 1.0; c = h - 0.5
    >>> fq.indicators.cci(h, l, c, 3).round(2)
    array([ nan,  nan, 100.])
    """
    p = check_period("period", period)
    return _hlc_oscillator("cci", [p], high, low, close, convention, dtype, out)


def willr(
    high: Any,
    low: Any = None,
    close: Any = None,
    period: int = 14,
    *,
    convention: str = "pandas",
    dtype: Any = None,
    out: Any = None,
) -> Any:
    """Williams %R ``-100 * (HH - c) / (HH - LL)`` over ``period`` bars, in [-100, 0].

    Examples
    --------
    >>> import numpy as np, ferroquant as fq
    >>> h = np.array([2.0, 3.0, 5.0]); l = h - 1.0; c = h - 0.5
    >>> fq.indicators.willr(h, l, c, 2)
    array([         nan, -25.        , -16.66666667])
    """
    p = check_period("period", period)
    return _hlc_oscillator("willr", [p], high, low, close, convention, dtype, out)


def ultosc(
    high: Any,
    low: Any = None,
    close: Any = None,
    period1: int = 7,
    period2: int = 14,
    period3: int = 28,
    *,
    convention: str = "pandas",
    dtype: Any = None,
    out: Any = None,
) -> Any:
    """Ultimate Oscillator ``100 * (4 a1 + 2 a2 + a3) / 7`` with ``a = Σ buying pressure / Σ TR``.

    Examples
    --------
    >>> import numpy as np, ferroquant as fq
    >>> h = np.linspace(10.0, 12.0, 40); l = h - 1.0; c = h - 0.25
    >>> int(np.isnan(fq.indicators.ultosc(h, l, c)).sum())
    28
    """
    ps = [
        check_period(n, p)
        for n, p in (("period1", period1), ("period2", period2), ("period3", period3))
    ]
    return _hlc_oscillator("ultosc", ps, high, low, close, convention, dtype, out)
