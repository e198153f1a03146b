"""Momentum and band indicators on one price series: RSI, Bollinger bands, MACD, STDDEV."""

from __future__ import annotations

from typing import Any

import numpy as np

from ferroquant import _core
from ferroquant._results import MACD, Bands
from ferroquant.errors import InvalidParameterError
from ferroquant.indicators._engine import check_convention, check_period, run

__all__ = ["bollinger", "macd", "rsi", "stddev"]


def rsi(
    x: Any,
    period: int = 14,
    *,
    convention: str = "pandas",
    min_periods: int | None = None,
    dtype: Any = None,
    out: Any = None,
) -> Any:
    """Relative strength index.

    ``"pandas"`` (Cutler): ``100 - 100 / (1 + G/L)`` with G, L the ``rolling(period).mean()`` of the
    gains and losses of ``close.diff()``; a flat window gives NaN, a window without losses 100.
    ``"talib"`` (Wilder): averages seeded with the mean of the first ``period`` changes, then
    ``avg = (avg * (period - 1) + change) / period``, exactly TA-Lib ``RSI``.

    Examples
    --------
    >>> import numpy as np, ferroquant as fq
    >>> fq.indicators.rsi(np.array([1.0, 2.0, 1.5, 2.5, 3.0]), 2).round(2)
    array([   nan,    nan,  66.67,  66.67, 100.  ])
    """
    period = check_period("period", period)
    conv = check_convention(convention)
    mp = period if min_periods is None else check_period("min_periods", min_periods, 1)
    if mp > period:
        raise InvalidParameterError(f"invalid min_periods={mp}: expected 1..period={period}")

    def kernel(d: Any, o: Any, t: int) -> None:
        _core.rsi(d, period, mp, conv, o, t)

    return run(kernel, [x], ["close"], ["rsi"], dtype=dtype, out=out)[0]


def bollinger(
    x: Any,
    period: int = 20,
    k: float = 2.0,
    *,
    ddof: int | None = None,
    matype: str = "sma",
    convention: str = "pandas",
    min_periods: int | None = None,
    dtype: Any = None,
    out: Any = None,
) -> Bands[Any]:
    """Bollinger bands: ``middle = rolling mean``, ``upper/lower = middle ± k * rolling std``.

    The standard deviation uses ``ddof=1`` under ``"pandas"`` and ``ddof=0`` under ``"talib"``
    (TA-Lib ``BBANDS`` with ``matype=SMA``); pass ``ddof`` to override. ``out`` is an array of shape
    ``(3, *x.shape)``. ``matype="ema"`` reproduces TA-Lib's ``BBANDS`` with ``matype=EMA``: the
    middle band is :func:`~ferroquant.indicators.ema` (same convention) while the deviation is
    still measured around the window's simple mean, as TA-Lib does.

    Examples
    --------
    >>> import numpy as np, ferroquant as fq
    >>> b = fq.indicators.bollinger(np.array([1.0, 2.0, 3.0, 4.0]), 3, 1.0)
    >>> b.middle, b.upper
    (array([nan, nan,  2.,  3.]), array([nan, nan,  3.,  4.]))
    """
    period = check_period("period", period)
    conv = check_convention(convention)
    dd = (1 if conv == "pandas" else 0) if ddof is None else check_period("ddof", ddof, 0)
    mp = period if min_periods is None else check_period("min_periods", min_periods, 1)
    kf = float(k)
    if matype not in ("sma", "ema"):
        raise InvalidParameterError(f"invalid matype={matype!r}: expected 'sma' or 'ema'")

    def kernel(d: Any, o: Any, t: int) -> None:
        if matype == "sma":
            _core.bollinger(d, period, kf, dd, mp, o, t)
            return
        # TA-Lib's EMA variant: EMA middle, deviation still around the window's simple mean.
        std = np.empty((1, *d.shape))
        _core.rolling(d, period, mp, dd, "std", std, t)
        _core.ema(d, period, conv, o[:1], t)
        o[0][np.isnan(std[0])] = np.nan
        np.add(o[0], kf * std[0], out=o[1])
        np.subtract(o[0], kf * std[0], out=o[2])

    return Bands(*run(kernel, [x], ["close"], Bands._fields, dtype=dtype, out=out))


def stddev(
    x: Any,
    period: int = 5,
    nbdev: float = 1.0,
    *,
    convention: str = "pandas",
    ddof: int | None = None,
    dtype: Any = None,
    out: Any = None,
) -> Any:
    """``nbdev`` times the rolling standard deviation (TA-Lib ``STDDEV`` uses ``ddof=0``).

    Examples
    --------
    >>> import numpy as np, ferroquant as fq
    >>> fq.indicators.stddev(np.array([1.0, 3.0, 5.0]), 2, convention="talib")
    array([nan,  1.,  1.])
    """
    period = check_period("period", period)
    conv = check_convention(convention)
    dd = (1 if conv == "pandas" else 0) if ddof is None else check_period("ddof", ddof, 0)
    nb = float(nbdev)

    def kernel(d: Any, o: Any, t: int) -> None:
        _core.stddev(d, period, nb, dd, o, t)

    return run(kernel, [x], ["x"], ["stddev"], dtype=dtype, out=out)[0]


def macd(
    x: Any,
    fast: int = 12,
    slow: int = 26,
    signal: int = 9,
    *,
    convention: str = "pandas",
    dtype: Any = None,
    out: Any = None,
) -> MACD[Any]:
    """MACD line (fast EMA - slow EMA), its signal EMA and the histogram.

    ``"pandas"``: every EMA is ``ewm(span, adjust=False)``. ``"talib"``: TA-Lib's seeding (slow EMA
    from the SMA of the first ``slow`` bars, fast EMA aligned to end its seed on the same bar,
    signal from the SMA of the first ``signal`` MACD values); all three start at bar
    ``slow + signal - 2``. ``out`` is an array of shape ``(3, *x.shape)``.

    Examples
    --------
    >>> import numpy as np, ferroquant as fq
    >>> m = fq.indicators.macd(np.linspace(1.0, 2.0, 50), convention="talib")
    >>> int(np.isnan(m.macd).sum())
    33
    """
    fast = check_period("fast", fast)
    slow = check_period("slow", slow)
    signal = check_period("signal", signal)
    conv = check_convention(convention)

    def kernel(d: Any, o: Any, t: int) -> None:
        _core.macd(d, fast, slow, signal, conv, o, t)

    return MACD(*run(kernel, [x], ["close"], MACD._fields, dtype=dtype, out=out))
