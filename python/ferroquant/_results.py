"""Named result tuples shared by the Rust path (`ferroquant.indicators`) and the oracle path
(`ferroquant.reference`), so both return the same shapes and field names."""

from __future__ import annotations

from typing import Generic, NamedTuple, TypeVar

T = TypeVar("T")


class Bands(NamedTuple, Generic[T]):
    """Bollinger bands: ``middle``, ``upper``, ``lower``."""

    middle: T
    upper: T
    lower: T


class MACD(NamedTuple, Generic[T]):
    """MACD line, its signal line and the histogram (``macd - signal``)."""

    macd: T
    signal: T
    hist: T


class Standard(NamedTuple, Generic[T]):
    """The six series of the standard set, in the order the Rust kernel writes them."""

    sma20: T
    sma50: T
    rsi14: T
    bb_middle: T
    bb_upper: T
    bb_lower: T


class Scans(NamedTuple, Generic[T]):
    """Per-asset scans: cumulative return, running maximum and drawdown from it."""

    cumulative_return: T
    running_max: T
    drawdown: T
