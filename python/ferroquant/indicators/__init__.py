"""Technical indicators over one series or a whole universe, computed by the Rust core.

Every function accepts a 1-D array (one asset), a 2-D ``(n_assets, n_bars)`` array, a pandas
Series, a wide DataFrame (index = dates, columns = symbols) or a long DataFrame with a ``symbol``
column, and returns results in the same form. ``convention="pandas"`` (default) reproduces the
reference pandas code, ``convention="talib"`` TA-Lib 0.8; see docs/conventions.md.
"""

from ferroquant.indicators.lookback import lookback
from ferroquant.indicators.moving import (
    ema,
    rolling_max,
    rolling_mean,
    rolling_min,
    rolling_std,
    rolling_sum,
    rolling_var,
    sma,
    wma,
)
from ferroquant.indicators.oscillators import bollinger, macd, rsi, stddev
from ferroquant.indicators.returns import (
    cumulative_return,
    drawdown,
    max_drawdown,
    returns,
    running_max,
    scans,
)
from ferroquant.indicators.standard import standard
from ferroquant.indicators.volatility import atr, cci, natr, true_range, ultosc, willr

__all__ = [
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
    "returns",
    "rolling_max",
    "rolling_mean",
    "rolling_min",
    "rolling_std",
    "rolling_sum",
    "rolling_var",
    "rsi",
    "running_max",
    "scans",
    "sma",
    "standard",
    "stddev",
    "true_range",
    "ultosc",
    "willr",
    "wma",
]
