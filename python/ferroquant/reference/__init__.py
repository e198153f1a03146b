"""``ferroquant.reference``: the plain numpy/pandas oracle of every indicator in
docs/conventions.md.

Each function takes anything array-like, 1-D (one asset) or 2-D ``(n_assets, n_bars)`` (time along
the last axis), and returns float64 arrays of the same shape. They are written for clarity, not
speed: where the conventions table gives a pandas expression it is used literally; recursions
(Wilder, TA-Lib seeds) are plain loops over each asset's valid bars; rolling variances are exact
two-pass computations. The Rust kernels in ``ferroquant.indicators`` are tested against them.

Examples
--------
>>> from ferroquant import reference as ref
>>> ref.sma([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], 2, convention="talib")
array([[nan, 1.5, 2.5],
       [nan, 4.5, 5.5]])
"""

from __future__ import annotations

from ._common import FloatArray
from .moving import (
    ema,
    pandas_rolling_mean,
    pandas_rolling_std,
    rolling_max,
    rolling_mean,
    rolling_min,
    rolling_std,
    rolling_sum,
    rolling_var,
    sma,
    stddev,
    wma,
)
from .oscillators import TALIB_EPSILON, bollinger, cci, macd, rsi, ultosc, willr
from .returns import cumulative_return, drawdown, max_drawdown, returns, running_max
from .standard import lookback, standard
from .volatility import atr, natr, true_range

__all__ = [
    "TALIB_EPSILON",
    "FloatArray",
    "atr",
    "bollinger",
    "cci",
    "cumulative_return",
    "drawdown",
    "ema",
    "lookback",
    "macd",
    "max_drawdown",
    "natr",
    "pandas_rolling_mean",
    "pandas_rolling_std",
    "returns",
    "rolling_max",
    "rolling_mean",
    "rolling_min",
    "rolling_std",
    "rolling_sum",
    "rolling_var",
    "rsi",
    "running_max",
    "sma",
    "standard",
    "stddev",
    "true_range",
    "ultosc",
    "willr",
    "wma",
]
