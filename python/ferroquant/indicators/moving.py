"""Moving averages and rolling window statistics (see docs/conventions.md for each convention)."""

from __future__ import annotations

from typing import Any

from ferroquant import _core
from ferroquant.errors import InvalidParameterError
from ferroquant.indicators._engine import check_convention, check_period, run

__all__ = [
    "ema",
    "rolling_max",
    "rolling_mean",
    "rolling_min",
    "rolling_std",
    "rolling_sum",
    "rolling_var",
    "sma",
    "wma",
]


def _min_periods(min_periods: int | None, default: int, window: int) -> int:
    mp = default if min_periods is None else check_period("min_periods", min_periods, 1)
    if mp > window:
        raise InvalidParameterError(
            f"invalid min_periods={mp}: expected an integer between 1 and {window}"
        )
    return mp


def _rolling(x: Any, window: int, min_periods: int | None, ddof: int, stat: str, **kw: Any) -> Any:
    window = check_period("window", window)
    mp = _min_periods(min_periods, window, window)
    ddof = check_period("ddof", ddof, 0)

    def kernel(d: Any, o: Any, t: int) -> None:
        _core.rolling(d, window, mp, ddof, stat, o, t)

    return run(kernel, [x], ["x"], [stat], **kw)[0]


def rolling_sum(
    x: Any, window: int, *, min_periods: int | None = None, dtype: Any = None, out: Any = None
) -> Any:
    """Rolling sum over ``window`` bars, NaN skipped (pandas ``rolling(...).sum()``).

    Parameters
    ----------
    x : array-like, Series or DataFrame
        One series (1-D), a ``(n_assets, n_bars)`` panel, a wide frame (index = dates, columns =
        symbols) or a long frame with a ``symbol`` column (its ``close`` column is used).
    window : int
        Window length in bars.
    min_periods : int, optional
        Valid values needed for an output (default ``window``).
    dtype : numpy dtype, optional
        ``np.float64`` (default) or ``np.float32`` (accumulated in float64, rounded once).
    out : ndarray, optional
        A C-contiguous array of the input's shape to write into.

    Examples
    --------
    >>> import numpy as np, ferroquant as fq
    >>> fq.indicators.rolling_sum(np.array([1.0, 2.0, np.nan, 4.0]), 2, min_periods=1)
    array([1., 3., 2., 4.])
    """
    return _rolling(x, window, min_periods, 0, "sum", dtype=dtype, out=out)


def rolling_mean(
    x: Any, window: int, *, min_periods: int | None = None, dtype: Any = None, out: Any = None
) -> Any:
    """Rolling mean, pandas ``rolling(window, min_periods).mean()``; see :func:`rolling_sum`.

    Examples
    --------
    >>> import numpy as np, ferroquant as fq
    >>> fq.indicators.rolling_mean(np.array([1.0, 2.0, 3.0, 4.0]), 2)
    array([nan, 1.5, 2.5, 3.5])
    """
    return _rolling(x, window, min_periods, 0, "mean", dtype=dtype, out=out)


def rolling_var(
    x: Any,
    window: int,
    *,
    ddof: int = 1,
    min_periods: int | None = None,
    dtype: Any = None,
    out: Any = None,
) -> Any:
    """Rolling variance with ``ddof`` (pandas default 1); windows of equal values give exactly 0.

    Accurate to 1e-12 relative of an exact two-pass computation whatever the price level.

    Examples
    --------
    >>> import numpy as np, ferroquant as fq
    >>> fq.indicators.rolling_var(np.array([1.0, 2.0, 4.0, 4.0, 4.0]), 3)
    array([       nan,        nan, 2.33333333, 1.33333333, 0.        ])
    """
    return _rolling(x, window, min_periods, ddof, "var", dtype=dtype, out=out)


def rolling_std(
    x: Any,
    window: int,
    *,
    ddof: int = 1,
    min_periods: int | None = None,
    dtype: Any = None,
    out: Any = None,
) -> Any:
    """Rolling standard deviation, the square root of :func:`rolling_var`.

    Examples
    --------
    >>> import numpy as np, ferroquant as fq
    >>> fq.indicators.rolling_std(np.array([2.0, 4.0, 4.0, 4.0, 5.0]), 2, ddof=0)
    array([nan, 1. , 0. , 0. , 0.5])
    """
    return _rolling(x, window, min_periods, ddof, "std", dtype=dtype, out=out)


def rolling_min(
    x: Any, window: int, *, min_periods: int | None = None, dtype: Any = None, out: Any = None
) -> Any:
    """Rolling minimum (monotone deque, O(1) per bar), NaN skipped.

    Examples
    --------
    >>> import numpy as np, ferroquant as fq
    >>> fq.indicators.rolling_min(np.array([3.0, 1.0, 2.0, 5.0]), 2)
    array([nan,  1.,  1.,  2.])
    """
    return _rolling(x, window, min_periods, 0, "min", dtype=dtype, out=out)


def rolling_max(
    x: Any, window: int, *, min_periods: int | None = None, dtype: Any = None, out: Any = None
) -> Any:
    """Rolling maximum (monotone deque, O(1) per bar), NaN skipped.

    Examples
    --------
    >>> import numpy as np, ferroquant as fq
    >>> fq.indicators.rolling_max(np.array([3.0, 1.0, 2.0, 5.0]), 2)
    array([nan,  3.,  2.,  5.])
    """
    return _rolling(x, window, min_periods, 0, "max", dtype=dtype, out=out)


def sma(
    x: Any,
    period: int = 20,
    *,
    min_periods: int | None = None,
    convention: str = "pandas",
    dtype: Any = None,
    out: Any = None,
) -> Any:
    """Simple moving average.

    ``convention="pandas"``: ``rolling(period, min_periods=1).mean()`` (an expanding mean until
    ``period`` bars exist). ``"talib"``: NaN until ``period`` bars exist (TA-Lib ``SMA``).

    Examples
    --------
    >>> import numpy as np, ferroquant as fq
    >>> x = np.array([1.0, 2.0, 3.0, 4.0])
    >>> fq.indicators.sma(x, 3)
    array([1. , 1.5, 2. , 3. ])
    >>> fq.indicators.sma(x, 3, convention="talib")
    array([nan, nan,  2.,  3.])
    """
    period = check_period("period", period)
    default = 1 if check_convention(convention) == "pandas" else period
    mp = _min_periods(min_periods, default, period)
    return _rolling(x, period, mp, 0, "mean", dtype=dtype, out=out)


def ema(
    x: Any, period: int = 20, *, convention: str = "pandas", dtype: Any = None, out: Any = None
) -> Any:
    """Exponential moving average, α = 2 / (period + 1).

    ``"pandas"``: ``ewm(span=period, adjust=False).mean()`` seeded with the first value.
    ``"talib"``: seeded with the SMA of the first ``period`` values (TA-Lib ``EMA``). A NaN bar
    gives NaN and leaves the average untouched.

    Examples
    --------
    >>> import numpy as np, ferroquant as fq
    >>> fq.indicators.ema(np.array([1.0, 2.0, 3.0, 4.0]), 3, convention="talib")
    array([nan, nan,  2.,  3.])
    """
    period = check_period("period", period)
    conv = check_convention(convention)

    def kernel(d: Any, o: Any, t: int) -> None:
        _core.ema(d, period, conv, o, t)

    return run(kernel, [x], ["x"], ["ema"], dtype=dtype, out=out)[0]


def wma(
    x: Any, period: int = 20, *, min_periods: int | None = None, dtype: Any = None, out: Any = None
) -> Any:
    """Weighted moving average, weights 1..period (newest heaviest), as TA-Lib ``WMA``.

    Examples
    --------
    >>> import numpy as np, ferroquant as fq
    >>> fq.indicators.wma(np.array([1.0, 2.0, 4.0]), 2)
    array([       nan, 1.66666667, 3.33333333])
    """
    period = check_period("period", period)
    mp = _min_periods(min_periods, period, period)

    def kernel(d: Any, o: Any, t: int) -> None:
        _core.wma(d, period, mp, o, t)

    return run(kernel, [x], ["x"], ["wma"], dtype=dtype, out=out)[0]
