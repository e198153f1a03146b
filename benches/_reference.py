"""The reference pandas code of the standard set, exactly as today's systems run it. Kept apart
from ``_peers`` (which imports polars and TA-Lib) so that a benchmark process timing only pandas
imports nothing else."""

from __future__ import annotations

from typing import Any

__all__ = ["reference_one"]


def reference_one(close: Any) -> tuple[Any, ...]:
    """The reference pandas code on one stock's Series, or unchanged on a wide frame (every
    expression works column by column)."""
    sma20 = close.rolling(20, min_periods=1).mean()
    sma50 = close.rolling(50, min_periods=1).mean()
    delta = close.diff()
    gain = delta.clip(lower=0).rolling(14).mean()
    loss = (-delta.clip(upper=0)).rolling(14).mean()
    rsi14 = 100 - 100 / (1 + gain / loss)
    bb_mid = close.rolling(20).mean()
    bb_std = close.rolling(20).std()
    bb_up = bb_mid + 2 * bb_std
    bb_lo = bb_mid - 2 * bb_std
    return sma20, sma50, rsi14, bb_mid, bb_up, bb_lo
