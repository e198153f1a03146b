"""Plain-Python recursions over one asset's *valid* values (no NaN in, ``nan`` for warm-up out).

They are written the way TA-Lib's C code runs them (same seeds, same operation order), one bar at
a time; :func:`ferroquant.reference._common.compress_apply` feeds them each asset's non-NaN bars
and scatters the results back, which is the recursive NaN policy of docs/conventions.md.
"""

from __future__ import annotations

NAN = float("nan")


def ema_sma_seeded(values: list[float], period: int) -> list[float]:
    """TA-Lib's EMA: seeded with the mean of the first ``period`` values (at index period-1),
    then ``ema = (x - ema) * k + ema`` with ``k = 2 / (period + 1)``."""
    out = [NAN] * len(values)
    if len(values) < period:
        return out
    k = 2.0 / (period + 1)
    total = 0.0
    for v in values[:period]:
        total += v
    ema = total / period
    out[period - 1] = ema
    for i in range(period, len(values)):
        ema = (values[i] - ema) * k + ema
        out[i] = ema
    return out


def wilder_seeded(values: list[float], period: int) -> list[float]:
    """Wilder's smoothing: the mean of the first ``period`` values (at index period-1), then
    ``avg = (avg * (period - 1) + x) / period``."""
    out = [NAN] * len(values)
    if len(values) < period:
        return out
    total = 0.0
    for v in values[:period]:
        total += v
    avg = total / period
    out[period - 1] = avg
    for i in range(period, len(values)):
        avg = (avg * (period - 1) + values[i]) / period
        out[i] = avg
    return out


def _rsi_value(gain: float, loss: float) -> float:
    total = gain + loss
    return 100.0 * (gain / total) if total > 0.0 else 0.0


def wilder_rsi(changes: list[float], period: int) -> list[float]:
    """TA-Lib's RSI over a list of price changes: average gain and loss seeded with the mean of
    the first ``period`` changes, then Wilder-smoothed; ``100 * G / (G + L)``, 0 when G + L = 0."""
    out = [NAN] * len(changes)
    if len(changes) < period:
        return out
    gain = loss = 0.0
    for d in changes[:period]:
        if d < 0.0:
            loss -= d
        else:
            gain += d
    gain /= period
    loss /= period
    out[period - 1] = _rsi_value(gain, loss)
    for i in range(period, len(changes)):
        d = changes[i]
        loss *= period - 1
        gain *= period - 1
        if d < 0.0:
            loss -= d
        else:
            gain += d
        loss /= period
        gain /= period
        out[i] = _rsi_value(gain, loss)
    return out


def talib_macd(
    values: list[float], fast: int, slow: int, signal: int
) -> tuple[list[float], list[float], list[float]]:
    """TA-Lib's MACD on a clean series.

    The slow EMA is seeded with the mean of the first ``slow`` values (index slow-1); the fast EMA
    with the mean of the ``fast`` values ending at that same index; the MACD line starts there and
    the signal EMA is seeded with the mean of its first ``signal`` values. All three outputs begin
    at index ``slow + signal - 2``. TA-Lib swaps ``fast`` and ``slow`` when ``slow < fast``.
    """
    if slow < fast:
        fast, slow = slow, fast
    n = len(values)
    macd_out, signal_out, hist_out = [NAN] * n, [NAN] * n, [NAN] * n
    first = slow + signal - 2
    if n <= first:
        return macd_out, signal_out, hist_out
    k_fast, k_slow = 2.0 / (fast + 1), 2.0 / (slow + 1)
    seed_at = slow - 1
    slow_total = 0.0
    for v in values[:slow]:
        slow_total += v
    fast_total = 0.0
    for v in values[slow - fast : slow]:
        fast_total += v
    slow_ema, fast_ema = slow_total / slow, fast_total / fast
    line = [fast_ema - slow_ema]
    for i in range(seed_at + 1, n):
        fast_ema = (values[i] - fast_ema) * k_fast + fast_ema
        slow_ema = (values[i] - slow_ema) * k_slow + slow_ema
        line.append(fast_ema - slow_ema)
    sig = ema_sma_seeded(line, signal)
    for j in range(signal - 1, len(line)):
        macd_out[seed_at + j] = line[j]
        signal_out[seed_at + j] = sig[j]
        hist_out[seed_at + j] = line[j] - sig[j]
    return macd_out, signal_out, hist_out
