"""The standard set, and ``lookback``: the first valid bar of every indicator on clean data."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy.typing as npt

from .._results import Standard
from ..errors import InvalidParameterError
from ._common import (
    Convention,
    FloatArray,
    Panel,
    check_ddof,
    check_int,
    check_min_periods,
    parse_convention,
)
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
from .oscillators import bollinger, cci, macd, rsi, ultosc, willr
from .returns import cumulative_return, drawdown, returns, running_max
from .volatility import atr, natr, true_range

__all__ = ["lookback", "standard"]


def standard(close: npt.ArrayLike) -> Standard[FloatArray]:
    """The standard set: SMA 20 and SMA 50 (``min_periods=1``), Cutler RSI 14 and Bollinger 20/2
    (``ddof=1``) middle, upper and lower — each exactly as its own function computes it.

    Examples
    --------
    >>> s = standard([1.0, 2.0, 3.0])
    >>> s.sma20
    array([1. , 1.5, 2. ])
    >>> s.rsi14
    array([nan, nan, nan])
    """
    panel = Panel(close, "close")
    values = panel.values
    bands = bollinger(values, 20, 2.0, ddof=1)
    return Standard(
        panel.restore(sma(values, 20, min_periods=1)),
        panel.restore(sma(values, 50, min_periods=1)),
        panel.restore(rsi(values, 14)),
        panel.restore(bands.middle),
        panel.restore(bands.upper),
        panel.restore(bands.lower),
    )


def _never(name: str, why: str) -> InvalidParameterError:
    return InvalidParameterError(f"{name} with these parameters never produces a value ({why})")


def _rolling(p: dict[str, Any], conv: Convention) -> int:
    window = check_int("window", p["window"])
    return check_min_periods(p["min_periods"], window, window) - 1


def _moment(p: dict[str, Any], conv: Convention) -> int:
    window = check_int("window", p["window"])
    ddof = check_ddof(p["ddof"])
    needed = max(check_min_periods(p["min_periods"], window, window), ddof + 1)
    if needed > window:
        raise _never("a rolling variance", f"window={window} must exceed ddof={ddof}")
    return needed - 1


def _sma(p: dict[str, Any], conv: Convention) -> int:
    period = check_int("period", p["period"])
    default = 1 if conv == "pandas" else period
    return check_min_periods(p["min_periods"], period, default) - 1


def _ema(p: dict[str, Any], conv: Convention) -> int:
    return 0 if conv == "pandas" else check_int("period", p["period"]) - 1


def _wma(p: dict[str, Any], conv: Convention) -> int:
    period = check_int("period", p["period"])
    return check_min_periods(p["min_periods"], period, period) - 1


def _deviation(p: dict[str, Any], conv: Convention) -> int:
    period = check_int("period", p["period"])
    ddof = p.get("ddof")
    ddof = (1 if conv == "pandas" else 0) if ddof is None else check_ddof(ddof)
    if period <= ddof:
        raise _never("a standard deviation", f"period={period} must exceed ddof={ddof}")
    return period - 1


def _rsi(p: dict[str, Any], conv: Convention) -> int:
    period = check_int("period", p["period"])
    if conv == "talib":
        return period
    return check_min_periods(p["min_periods"], period, period)


def _macd(p: dict[str, Any], conv: Convention) -> int:
    fast, slow = check_int("fast", p["fast"]), check_int("slow", p["slow"])
    signal = check_int("signal", p["signal"])
    return 0 if conv == "pandas" else max(fast, slow) + signal - 2


def _period_minus_one(p: dict[str, Any], conv: Convention) -> int:
    return check_int("period", p["period"]) - 1


def _atr(p: dict[str, Any], conv: Convention) -> int:
    period = check_int("period", p["period"])
    return period - 1 if conv == "pandas" else period


def _ultosc(p: dict[str, Any], conv: Convention) -> int:
    return max(check_int(name, p[name]) for name in ("period1", "period2", "period3"))


_LOOKBACKS: dict[str, tuple[Callable[..., Any], Callable[[dict[str, Any], Convention], int]]] = {
    "sma": (sma, _sma),
    "ema": (ema, _ema),
    "wma": (wma, _wma),
    "rolling_sum": (rolling_sum, _rolling),
    "rolling_mean": (rolling_mean, _rolling),
    "rolling_min": (rolling_min, _rolling),
    "rolling_max": (rolling_max, _rolling),
    "rolling_var": (rolling_var, _moment),
    "rolling_std": (rolling_std, _moment),
    "pandas_rolling_std": (pandas_rolling_std, _moment),
    "pandas_rolling_mean": (pandas_rolling_mean, _rolling),
    "stddev": (stddev, _deviation),
    "rsi": (rsi, _rsi),
    "bollinger": (bollinger, _deviation),
    "macd": (macd, _macd),
    "true_range": (true_range, lambda p, conv: 0 if conv == "pandas" else 1),
    "atr": (atr, _atr),
    "natr": (natr, _atr),
    "cci": (cci, _period_minus_one),
    "willr": (willr, _period_minus_one),
    "ultosc": (ultosc, _ultosc),
    "returns": (returns, lambda p, conv: check_int("periods", p["periods"])),
    "cumulative_return": (cumulative_return, lambda p, conv: 0),
    "running_max": (running_max, lambda p, conv: 0),
    "drawdown": (drawdown, lambda p, conv: 0),
}

_DATA_ARGUMENTS = ("x", "high", "low", "close")


def lookback(name: str, *, convention: str = "pandas", **params: Any) -> int:
    """Index of the first valid output bar of indicator ``name`` on a series without NaN.

    ``params`` are the indicator's own keyword parameters (defaults as in its signature), e.g.
    ``lookback("rsi", period=10)`` or ``lookback("macd", convention="talib")``. The value is the
    "first valid bar" column of docs/conventions.md; a series shorter than ``lookback + 1`` bars
    has no valid output.

    Examples
    --------
    >>> lookback("rsi")
    14
    >>> lookback("macd", convention="talib")
    33
    >>> lookback("atr", period=14), lookback("atr", period=14, convention="talib")
    (13, 14)
    """
    if name not in _LOOKBACKS:
        raise InvalidParameterError(
            f"unknown indicator {name!r}: expected one of {', '.join(_LOOKBACKS)}"
        )
    conv = parse_convention(convention)
    func, rule = _LOOKBACKS[name]
    signature = inspect.signature(func)
    for key in params:
        if key not in signature.parameters or key in _DATA_ARGUMENTS or key == "convention":
            allowed = [k for k in signature.parameters if k not in (*_DATA_ARGUMENTS, "convention")]
            raise InvalidParameterError(
                f"{name}() has no parameter {key!r}; its parameters are {', '.join(allowed)}"
            )
    resolved: dict[str, Any] = {}
    for key, parameter in signature.parameters.items():
        if key in _DATA_ARGUMENTS or key == "convention":
            continue
        if key in params:
            resolved[key] = params[key]
        elif parameter.default is inspect.Parameter.empty:
            raise InvalidParameterError(f"lookback({name!r}) needs {key}=..., as {name}() does")
        else:
            resolved[key] = parameter.default
    return rule(resolved, conv)
