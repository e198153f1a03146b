"""Indicator specs of a stream: ``"rsi(14)"`` → what the core computes, its output names, and how
much history it needs."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ferroquant.errors import InvalidParameterError
from ferroquant.indicators._engine import check_convention

__all__ = ["Indicator", "parse_indicators"]

# name: (default parameters, whether highs and lows are read)
_DEFAULTS: dict[str, tuple[tuple[float, ...], bool]] = {
    "standard": ((), False),
    "sma": ((20,), False),
    "ema": ((20,), False),
    "rsi": ((14,), False),
    "bollinger": ((20, 2.0), False),
    "macd": ((12, 26, 9), False),
    "atr": ((14,), True),
    "natr": ((14,), True),
}
_SYNTAX = re.compile(r"^\s*([a-z]+)\s*(?:\(([^()]*)\))?\s*$")
_STANDARD = ("sma20", "sma50", "rsi14", "bb_middle", "bb_upper", "bb_lower")


@dataclass(frozen=True)
class Indicator:
    """One indicator of a stream, with the batch function's defaults filled in."""

    name: str
    params: tuple[float, ...]
    convention: str

    @property
    def text(self) -> str:
        """The spec as the user would write it, e.g. ``"bollinger(20, 2)"``."""
        if not self.params:
            return self.name
        return f"{self.name}({', '.join(f'{p:g}' for p in self.params)})"

    @property
    def outputs(self) -> tuple[str, ...]:
        """Names of the values it produces per symbol and bar."""
        p = [f"{v:g}" for v in self.params]
        if self.name == "standard":
            return _STANDARD
        if self.name == "bollinger":
            stem = f"bb{p[0]}" if p[1] == "2" else f"bb{p[0]}_{p[1]}"
            return (f"{stem}_middle", f"{stem}_upper", f"{stem}_lower")
        if self.name == "macd":
            stem = "macd" if self.params == (12, 26, 9) else f"macd{'_'.join(p)}"
            return (stem, f"{stem}_signal", f"{stem}_hist")
        return (f"{self.name}{p[0]}",)

    def core(self) -> list[tuple[str, list[float], str]]:
        """The core's specs: ``(kind, numeric parameters, convention)`` per kernel."""
        conv, talib = self.convention, self.convention == "talib"
        p = [float(v) for v in self.params]
        if self.name == "standard" and talib:
            # TA-Lib has no fused set: the same six series in its convention, one kernel each.
            return [
                ("sma", [20, 20], conv),
                ("sma", [50, 50], conv),
                ("rsi", [14, 14], conv),
                ("bollinger", [20, 2.0, 0, 20], conv),
            ]
        if self.name == "sma":
            return [("sma", [p[0], p[0] if talib else 1], conv)]
        if self.name == "rsi":
            return [("rsi", [p[0], p[0]], conv)]
        if self.name == "bollinger":
            return [("bollinger", [p[0], p[1], 0 if talib else 1, p[0]], conv)]
        return [(self.name, p, conv)]

    def history(self, tolerance: float) -> int | None:
        """Bars of history after which values are within ``tolerance`` (relative to the price
        scale) of those from the full history; ``None`` when only the full history will do."""
        p = self.params
        if self.name == "standard":
            return 50
        if self.name in ("sma", "bollinger"):
            return int(p[0])
        if self.name == "rsi" and self.convention == "pandas":
            return int(p[0]) + 1
        if tolerance <= 0:
            return None
        if self.name == "ema":
            return _decay(2 / (p[0] + 1), tolerance) + int(p[0])
        if self.name == "macd":
            slow, signal = max(p[0], p[1]), p[2]
            return (
                _decay(2 / (slow + 1), tolerance)
                + _decay(2 / (signal + 1), tolerance)
                + int(slow + signal)
            )
        # Wilder smoothing (RSI talib, ATR, NATR): alpha = 1 / period after a period-long seed.
        return _decay(1 / p[0], tolerance) + int(p[0]) + 1


def _decay(alpha: float, tolerance: float) -> int:
    """Bars until a seed error has shrunk by ``tolerance`` under ``x += alpha * (v - x)``."""
    if alpha >= 1:
        return 1
    return math.ceil(math.log(tolerance) / math.log1p(-alpha))


def parse_indicators(indicators: str | Sequence[str], convention: str) -> list[Indicator]:
    """Parses ``"standard"``, ``"rsi(14)"``, ``["sma(50)", "macd(12, 26, 9)"]``...

    Examples
    --------
    >>> [i.outputs for i in parse_indicators(["rsi", "bollinger(20, 2.5)"], "pandas")]
    [('rsi14',), ('bb20_2.5_middle', 'bb20_2.5_upper', 'bb20_2.5_lower')]
    """
    conv = check_convention(convention)
    items = [indicators] if isinstance(indicators, str) else list(indicators)
    if not items:
        raise InvalidParameterError("indicators is empty: pass e.g. 'standard' or ['rsi(14)']")
    parsed = []
    for item in items:
        m = _SYNTAX.match(str(item).lower()) if isinstance(item, str) else None
        if m is None or m.group(1) not in _DEFAULTS:
            raise InvalidParameterError(
                f"invalid indicator {item!r}: expected one of {sorted(_DEFAULTS)}, optionally with "
                "parameters, e.g. 'rsi(14)' or 'bollinger(20, 2)'"
            )
        name, args = m.group(1), m.group(2)
        defaults = _DEFAULTS[name][0]
        given = [a.strip() for a in args.split(",")] if args and args.strip() else []
        if len(given) > len(defaults):
            raise InvalidParameterError(
                f"invalid indicator {item!r}: {name} takes at most {len(defaults)} parameters"
            )
        try:
            values = [float(a) for a in given]
        except ValueError:
            raise InvalidParameterError(
                f"invalid indicator {item!r}: parameters must be numbers"
            ) from None
        params = tuple(values) + defaults[len(values) :]
        for i, v in enumerate(params):
            if not math.isfinite(v) or (not (name == "bollinger" and i == 1) and v != int(v)):
                raise InvalidParameterError(
                    f"invalid indicator {item!r}: parameter {v:g} must be a whole number"
                )
        parsed.append(Indicator(name, params, conv))
    names = [o for ind in parsed for o in ind.outputs]
    dup = sorted({o for o in names if names.count(o) > 1})
    if dup:
        raise InvalidParameterError(f"indicators produce the same output twice: {dup}; drop one")
    return parsed


def needs_high_low(indicators: Sequence[Indicator]) -> bool:
    """Whether any indicator reads highs and lows."""
    return any(_DEFAULTS[i.name][1] for i in indicators)
