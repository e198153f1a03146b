"""Single-series streaming indicators: one instrument, one value per update, on the kernels of
:class:`~ferroquant.stream.Stream` (so they equal the batch functions bit for bit)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from ferroquant._results import MACD as MACDResult
from ferroquant._results import Bands, Standard
from ferroquant.stream._universe import Stream

__all__ = ["ATR", "EMA", "MACD", "RSI", "SMA", "Bollinger", "StandardSet"]


class _Single:
    """One symbol of a :class:`Stream`; subclasses choose the indicator and the result type."""

    _kind: ClassVar[str]
    _hl: ClassVar[bool] = False

    def __init__(self, *params: float, convention: str = "pandas") -> None:
        spec = f"{self._kind}({', '.join(f'{p:g}' for p in params)})" if params else self._kind
        self._stream = Stream(["x"], spec, convention=convention)

    def _wrap(self, row: Any) -> Any:
        return float(row[0])

    def update(self, close: float, high: float | None = None, low: float | None = None) -> Any:
        """Commits one bar and returns the indicator's value(s) after it (NaN during warm-up)."""
        return self._wrap(self._call(self._stream.update, close, high, low))

    def peek(self, close: float, high: float | None = None, low: float | None = None) -> Any:
        """The value(s) a forming bar would give, without committing it."""
        return self._wrap(self._call(self._stream.peek, close, high, low))

    def _call(self, f: Any, close: float, high: float | None, low: float | None) -> Any:
        c = np.array([close], dtype=np.float64)
        if self._hl:
            h = np.array([high if high is not None else np.nan], dtype=np.float64)
            lo = np.array([low if low is not None else np.nan], dtype=np.float64)
            return f(c, high=h, low=lo).values[0]
        return f(c).values[0]

    def warm(self, close: Any, high: Any = None, low: Any = None) -> Any:
        """Feeds a history (1-D arrays) and returns the value(s) after its last bar."""
        c = np.asarray(close, dtype=np.float64).reshape(1, -1)
        h = None if high is None else np.asarray(high, dtype=np.float64).reshape(1, -1)
        lo = None if low is None else np.asarray(low, dtype=np.float64).reshape(1, -1)
        return self._wrap(self._stream._warm(c, h, lo)[0])

    def checkpoint(self) -> bytes:
        """The state as bytes (see :meth:`Stream.checkpoint`)."""
        return self._stream.checkpoint()

    def restore(self, data: bytes) -> None:
        """Replaces the state with that of :meth:`checkpoint` bytes of the same indicator."""
        stream = Stream.restore(data)
        if stream.indicators != self._stream.indicators:
            from ferroquant.errors import CheckpointError

            raise CheckpointError(
                f"checkpoint of {list(stream.indicators)}, not {list(self._stream.indicators)}"
            )
        self._stream = stream

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._stream.indicators[0]!r})"


class SMA(_Single):
    """Simple moving average of one series.

    Examples
    --------
    >>> from ferroquant.stream import SMA
    >>> s = SMA(3)
    >>> [s.update(v) for v in (1.0, 2.0, 3.0, 4.0)]
    [1.0, 1.5, 2.0, 3.0]
    """

    _kind = "sma"

    def __init__(self, period: int = 20, *, convention: str = "pandas") -> None:
        super().__init__(period, convention=convention)


class EMA(_Single):
    """Exponential moving average of one series (``ewm(adjust=False)`` or TA-Lib's SMA seed)."""

    _kind = "ema"

    def __init__(self, period: int = 20, *, convention: str = "pandas") -> None:
        super().__init__(period, convention=convention)


class RSI(_Single):
    """RSI of one series: Cutler (``"pandas"``) or Wilder (``"talib"``).

    Examples
    --------
    >>> from ferroquant.stream import RSI
    >>> r = RSI(2)
    >>> [round(r.update(v), 2) for v in (1.0, 2.0, 1.5, 2.5)]
    [nan, nan, 66.67, 66.67]
    """

    _kind = "rsi"

    def __init__(self, period: int = 14, *, convention: str = "pandas") -> None:
        super().__init__(period, convention=convention)


class Bollinger(_Single):
    """Bollinger bands of one series; each update returns ``Bands(middle, upper, lower)``."""

    _kind = "bollinger"

    def __init__(self, period: int = 20, k: float = 2.0, *, convention: str = "pandas") -> None:
        super().__init__(period, k, convention=convention)

    def _wrap(self, row: Any) -> Any:
        return Bands(*map(float, row))


class MACD(_Single):
    """MACD of one series; each update returns ``MACD(macd, signal, hist)``."""

    _kind = "macd"

    def __init__(
        self, fast: int = 12, slow: int = 26, signal: int = 9, *, convention: str = "pandas"
    ) -> None:
        super().__init__(fast, slow, signal, convention=convention)

    def _wrap(self, row: Any) -> Any:
        return MACDResult(*map(float, row))


class ATR(_Single):
    """Average true range of one series: ``update(close, high, low)``."""

    _kind = "atr"
    _hl = True

    def __init__(self, period: int = 14, *, convention: str = "pandas") -> None:
        super().__init__(period, convention=convention)


class StandardSet(_Single):
    """The six series of :func:`ferroquant.indicators.standard` for one instrument."""

    _kind = "standard"

    def __init__(self, *, convention: str = "pandas") -> None:
        super().__init__(convention=convention)

    def _wrap(self, row: Any) -> Any:
        return Standard(*map(float, row))
