"""The indicator sets the job can compute and store, and how much history each output needs.

``history`` is the number of bars *before* a bar that its value depends on: an incremental run
loads ``history`` old bars in front of the new ones and recomputes only the new columns. It comes
from :func:`ferroquant.indicators.lookback` with the ``talib`` convention, which counts the full
window (the ``pandas`` convention counts the first *valid* bar, 0 for ``min_periods=1``).
Recursive indicators (EMA, MACD, ATR) depend on the whole past: their ``history`` is ``None`` and
an update recomputes the changed symbols from their first bar.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

import ferroquant as fq
from ferroquant.errors import InvalidParameterError
from ferroquant.indicators import lookback

__all__ = ["DEFAULT_SETS", "INDICATOR_SETS", "IndicatorSet", "resolve_sets"]

FloatArray = NDArray[np.float64]
Fields = Mapping[str, FloatArray]


@dataclass(frozen=True)
class IndicatorSet:
    """Outputs computed together from the same inputs.

    Attributes
    ----------
    name : str
        What ``--indicators`` calls it.
    outputs : tuple of str
        The names the outputs are stored under, in the order ``compute`` returns them.
    fields : tuple of str
        The price fields of the panel it reads (``"close"``, ``"high"``, ...).
    history : int or None
        Bars before a bar that its value depends on (``None``: all of them).
    compute : callable
        ``compute(fields, out)`` fills ``out`` (shape ``(len(outputs), n_assets, n_bars)``).
    """

    name: str
    outputs: tuple[str, ...]
    fields: tuple[str, ...]
    history: int | None
    compute: Callable[[Fields, FloatArray], None]
    description: str = ""
    check: str = ""
    """The output an update recomputes on the last stored bar to detect changed history: the
    one with the longest window (default: the first output)."""

    def __post_init__(self) -> None:
        if not self.check:
            object.__setattr__(self, "check", self.outputs[0])


def _standard(f: Fields, out: FloatArray) -> None:
    fq.indicators.standard(f["close"], out=out)


def _atr(f: Fields, out: FloatArray) -> None:
    fq.indicators.atr(f["high"], f["low"], f["close"], 14, out=out[0])


def _macd(f: Fields, out: FloatArray) -> None:
    fq.indicators.macd(f["close"], out=out)


def _returns(f: Fields, out: FloatArray) -> None:
    fq.indicators.returns(f["close"], out=out[0])


def _cci(f: Fields, out: FloatArray) -> None:
    fq.indicators.cci(f["high"], f["low"], f["close"], 20, out=out[0])


_STANDARD_HISTORY = max(
    lookback("sma", period=50, convention="talib"),
    lookback("rsi", period=14, convention="talib"),
    lookback("bollinger", period=20, convention="talib"),
)

INDICATOR_SETS: dict[str, IndicatorSet] = {
    s.name: s
    for s in (
        IndicatorSet(
            "standard",
            ("sma20", "sma50", "rsi14", "bb_middle", "bb_upper", "bb_lower"),
            ("close",),
            _STANDARD_HISTORY,
            _standard,
            "SMA 20/50, Cutler RSI 14, Bollinger 20/2 (the reference pandas code)",
            check="sma50",
        ),
        IndicatorSet(
            "returns", ("ret1",), ("close",), lookback("returns"), _returns, "daily simple returns"
        ),
        IndicatorSet(
            "cci", ("cci20",), ("high", "low", "close"), lookback("cci", period=20), _cci, "CCI 20"
        ),
        IndicatorSet(
            "atr", ("atr14",), ("high", "low", "close"), None, _atr, "ATR 14 (recursive: full)"
        ),
        IndicatorSet(
            "macd",
            ("macd", "macd_signal", "macd_hist"),
            ("close",),
            None,
            _macd,
            "MACD 12/26/9 (recursive: full)",
        ),
    )
}
DEFAULT_SETS: tuple[str, ...] = ("standard",)


def resolve_sets(names: Sequence[str] | str | None) -> list[IndicatorSet]:
    """The sets named in ``names`` (a list or a comma-separated string; ``None``: the default).

    Examples
    --------
    >>> [s.name for s in resolve_sets("standard,atr")]
    ['standard', 'atr']
    >>> resolve_sets(None)[0].history
    49
    """
    if names is None:
        names = list(DEFAULT_SETS)
    elif isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in names if n not in INDICATOR_SETS]
    if unknown or not names:
        raise InvalidParameterError(
            f"unknown indicator set(s) {unknown}: choose from {', '.join(INDICATOR_SETS)}"
        )
    return [INDICATOR_SETS[n] for n in dict.fromkeys(names)]
