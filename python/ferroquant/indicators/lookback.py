"""First valid bar of each indicator on a series without NaNs (docs/conventions.md, last column)."""

from __future__ import annotations

from collections.abc import Callable

from ferroquant.errors import InvalidParameterError
from ferroquant.indicators._engine import check_convention

__all__ = ["lookback"]

_P = dict[str, int]
_RULES: dict[str, tuple[dict[str, int], Callable[[_P, bool], int]]] = {
    "sma": ({"period": 20}, lambda p, ta: p["period"] - 1 if ta else 0),
    "ema": ({"period": 20}, lambda p, ta: p["period"] - 1 if ta else 0),
    "wma": ({"period": 20}, lambda p, ta: p["period"] - 1),
    "rolling_sum": ({"window": 1}, lambda p, ta: p["window"] - 1),
    "rolling_mean": ({"window": 1}, lambda p, ta: p["window"] - 1),
    "rolling_var": ({"window": 2}, lambda p, ta: p["window"] - 1),
    "rolling_std": ({"window": 2}, lambda p, ta: p["window"] - 1),
    "rolling_min": ({"window": 1}, lambda p, ta: p["window"] - 1),
    "rolling_max": ({"window": 1}, lambda p, ta: p["window"] - 1),
    "rsi": ({"period": 14}, lambda p, ta: p["period"]),
    "bollinger": ({"period": 20}, lambda p, ta: p["period"] - 1),
    "stddev": ({"period": 5}, lambda p, ta: p["period"] - 1),
    "macd": (
        {"fast": 12, "slow": 26, "signal": 9},
        lambda p, ta: p["slow"] + p["signal"] - 2 if ta else 0,
    ),
    "true_range": ({}, lambda p, ta: 1 if ta else 0),
    "atr": ({"period": 14}, lambda p, ta: p["period"] if ta else p["period"] - 1),
    "natr": ({"period": 14}, lambda p, ta: p["period"] if ta else p["period"] - 1),
    "cci": ({"period": 14}, lambda p, ta: p["period"] - 1),
    "willr": ({"period": 14}, lambda p, ta: p["period"] - 1),
    "ultosc": (
        {"period1": 7, "period2": 14, "period3": 28},
        lambda p, ta: max(p["period1"], p["period2"], p["period3"]),
    ),
    "returns": ({"periods": 1}, lambda p, ta: p["periods"]),
    "standard": ({}, lambda p, ta: 0),
}


def lookback(name: str, *, convention: str = "pandas", **params: int) -> int:
    """Index of the first bar with a value, for a series without NaNs.

    Examples
    --------
    >>> import ferroquant as fq
    >>> fq.indicators.lookback("rsi"), fq.indicators.lookback("macd", convention="talib")
    (14, 33)
    >>> fq.indicators.lookback("sma", period=50, convention="talib")
    49
    """
    if name not in _RULES:
        raise InvalidParameterError(f"unknown indicator {name!r}: expected one of {sorted(_RULES)}")
    defaults, rule = _RULES[name]
    unknown = set(params) - set(defaults)
    if unknown:
        raise InvalidParameterError(
            f"{name} takes no parameter {sorted(unknown)}; its parameters are {sorted(defaults)}"
        )
    conv = check_convention(convention, ("pandas", "stockcharts", "talib"))
    return int(rule({**defaults, **params}, conv == "talib"))
