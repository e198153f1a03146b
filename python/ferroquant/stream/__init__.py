"""Streaming indicators: a whole universe advanced by one bar per call, bit-identical to the batch
functions of :mod:`ferroquant.indicators`, with peek, warm-up from history, symbols that come and
go, and checkpoints (see :class:`Stream`). Single-series classes (:class:`RSI`, :class:`SMA`, ...)
wrap the same kernels for one instrument.
"""

from ferroquant.stream._single import ATR, EMA, MACD, RSI, SMA, Bollinger, StandardSet
from ferroquant.stream._universe import Stream, Tick

__all__ = ["ATR", "EMA", "MACD", "RSI", "SMA", "Bollinger", "StandardSet", "Stream", "Tick"]
