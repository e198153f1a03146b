"""The peers of ``benches/bench_indicators.py``: one function per way of computing the standard set.

Every peer computes the same six series (``FIELDS``) for a universe of ``n_assets`` stocks of
``n_bars`` bars. The timed functions take inputs prepared by an untimed ``*_input`` helper (the
data as that peer's users hold it) and return that peer's native result; ``stack_*`` turns a
result into one ``(6, n_assets, n_bars)`` float64 array for the agreement check, outside the
timing.

The reference is the pandas code of today's systems (:func:`reference_one`), verbatim.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import polars as pl
import talib

import ferroquant as fq

FloatArray = npt.NDArray[np.float64]

FIELDS: tuple[str, ...] = ("sma20", "sma50", "rsi14", "bb_middle", "bb_upper", "bb_lower")
"""The six outputs, in ferroquant's order (``fq.indicators.standard``)."""


# --------------------------------------------------------------------------------------------
# 1. pandas, one Series per stock: the reference code ("today's users").
# --------------------------------------------------------------------------------------------


def reference_one(close: pd.Series) -> tuple[pd.Series, ...]:
    """The reference pandas code for one stock, exactly as today's systems run it."""
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


def pandas_series_input(close: FloatArray, index: pd.Index) -> list[pd.Series]:
    """One ``pd.Series`` per stock (row of ``close``), indexed by date."""
    return [pd.Series(row, index=index, name="close") for row in close]


def pandas_per_stock(series: list[pd.Series]) -> list[tuple[pd.Series, ...]]:
    """Peer 1: the reference code in a loop over stocks."""
    return [reference_one(close) for close in series]


def stack_pandas_per_stock(result: list[tuple[pd.Series, ...]]) -> FloatArray:
    out = np.empty((len(FIELDS), len(result), len(result[0][0])))
    for i, six in enumerate(result):
        for k, s in enumerate(six):
            out[k, i] = s.to_numpy(dtype=np.float64)
    return out


# --------------------------------------------------------------------------------------------
# 2. pandas, one wide frame (index dates, columns symbols), vectorised over columns.
# --------------------------------------------------------------------------------------------


def pandas_wide_input(close: FloatArray, index: pd.Index, symbols: list[str]) -> pd.DataFrame:
    """The wide frame: one row per date, one column per symbol (no copy of ``close``)."""
    return pd.DataFrame(close.T, index=index, columns=symbols, copy=False)


def pandas_wide(close: pd.DataFrame) -> tuple[pd.DataFrame, ...]:
    """Peer 2: the same six expressions, applied to the whole wide frame at once."""
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


def stack_pandas_wide(result: tuple[pd.DataFrame, ...]) -> FloatArray:
    return np.stack([frame.to_numpy(dtype=np.float64).T for frame in result])


# --------------------------------------------------------------------------------------------
# 3. TA-Lib, four calls per stock. TA-Lib's RSI is Wilder's and its BBANDS use the population
#    standard deviation, so it is compared with ferroquant's ``convention="talib"`` outputs.
# --------------------------------------------------------------------------------------------


def talib_one(close: FloatArray) -> tuple[FloatArray, ...]:
    """SMA 20, SMA 50, RSI 14 and BBANDS 20/2 of one stock, in ``FIELDS`` order."""
    sma20 = talib.SMA(close, 20)
    sma50 = talib.SMA(close, 50)
    rsi14 = talib.RSI(close, 14)
    bb_up, bb_mid, bb_lo = talib.BBANDS(close, 20, 2.0, 2.0)
    return sma20, sma50, rsi14, bb_mid, bb_up, bb_lo


def talib_per_stock(close: FloatArray) -> list[tuple[FloatArray, ...]]:
    """Peer 3: TA-Lib in a loop over the (contiguous) rows of ``close``."""
    return [talib_one(row) for row in close]


def stack_talib(result: list[tuple[FloatArray, ...]]) -> FloatArray:
    return np.stack([np.stack(six) for six in result], axis=1)


def ferroquant_talib_convention(close: FloatArray) -> FloatArray:
    """ferroquant's TA-Lib-convention equivalents of :func:`talib_one`, as ``(6, n, m)``."""
    ind = fq.indicators
    bands = ind.bollinger(close, 20, 2.0, convention="talib")
    return np.stack(
        [
            ind.sma(close, 20, convention="talib"),
            ind.sma(close, 50, convention="talib"),
            ind.rsi(close, 14, convention="talib"),
            bands.middle,
            bands.upper,
            bands.lower,
        ]
    )


# --------------------------------------------------------------------------------------------
# 4. polars: a long frame (one row per symbol and date, sorted by symbol then date) and window
#    expressions ``.over("symbol")``, with the pandas conventions (SMA ``min_samples=1``, std
#    ``ddof=1``, missing prices as nulls).
# --------------------------------------------------------------------------------------------


def polars_long_input(close: FloatArray, symbols: list[str]) -> pl.DataFrame:
    n_assets, n_bars = close.shape
    symbol = pl.Series("symbol", symbols, dtype=pl.String).gather(
        np.repeat(np.arange(n_assets, dtype=np.int64), n_bars)
    )
    price = pl.Series("close", close.reshape(-1), nan_to_null=True)
    return pl.DataFrame([symbol, price])


def _polars_exprs(close: pl.Expr) -> list[pl.Expr]:
    delta = close.diff()
    gain = delta.clip(lower_bound=0).rolling_mean(14)
    loss = (-delta.clip(upper_bound=0)).rolling_mean(14)
    bb_mid = close.rolling_mean(20)
    bb_std = close.rolling_std(20, ddof=1)
    return [
        close.rolling_mean(20, min_samples=1),
        close.rolling_mean(50, min_samples=1),
        100 - 100 / (1 + gain / loss),
        bb_mid,
        bb_mid + 2 * bb_std,
        bb_mid - 2 * bb_std,
    ]


def polars_long(frame: pl.DataFrame) -> pl.DataFrame:
    """Peer 4: the six expressions per symbol, as one lazy query (polars' thread pool)."""
    exprs = _polars_exprs(pl.col("close"))
    return (
        frame.lazy()
        .select([e.over("symbol").alias(name) for e, name in zip(exprs, FIELDS, strict=True)])
        .collect()
    )


def stack_polars(result: pl.DataFrame, n_assets: int, n_bars: int) -> FloatArray:
    return np.stack(
        [result[name].to_numpy().astype(np.float64).reshape(n_assets, n_bars) for name in FIELDS]
    )


# --------------------------------------------------------------------------------------------
# 5. ferroquant.
# --------------------------------------------------------------------------------------------


def ferroquant_fresh(close: FloatArray) -> Any:
    """``fq.indicators.standard``: a fresh ``(6, n, m)`` block per call."""
    return fq.indicators.standard(close)


def ferroquant_out(close: FloatArray, buf: FloatArray) -> Any:
    """``fq.indicators.standard(out=buf)``: the caller's block, reused across calls."""
    return fq.indicators.standard(close, out=buf)


def stack_ferroquant(result: Any) -> FloatArray:
    return np.stack([np.asarray(a, dtype=np.float64) for a in result])


# --------------------------------------------------------------------------------------------
# Agreement.
# --------------------------------------------------------------------------------------------


@dataclass
class Agreement:
    """How far a peer's ``(6, n, m)`` outputs are from the reference's.

    ``max_abs`` and ``max_rel`` (relative to ``|reference|``, over cells where it is non-zero) are
    taken over the cells where both are finite; ``nan_mismatch`` counts cells that are NaN/inf in
    one and finite in the other. ``ok`` means ``|got - ref| <= tol * max(1, |ref|)`` everywhere and
    no NaN mismatch.
    """

    against: str
    max_abs: float
    max_rel: float
    nan_mismatch: int
    worst_field: str
    tol: float
    ok: bool


def compare(got: FloatArray, ref: FloatArray, against: str, tol: float) -> Agreement:
    max_abs = max_rel = 0.0
    worst_field, worst_scaled, mismatch = FIELDS[0], -1.0, 0
    for k, name in enumerate(FIELDS):
        g, r = got[k], ref[k]
        fin_g, fin_r = np.isfinite(g), np.isfinite(r)
        mismatch += int(np.count_nonzero(fin_g != fin_r))
        both = fin_g & fin_r
        if not both.any():
            continue
        gv, rv = g[both], r[both]
        diff = np.abs(gv - rv)
        scale = np.abs(rv)
        field_abs = float(diff.max())
        nonzero = scale > 0
        field_rel = float((diff[nonzero] / scale[nonzero]).max()) if nonzero.any() else 0.0
        scaled = float((diff / np.maximum(scale, 1.0)).max())
        max_abs, max_rel = max(max_abs, field_abs), max(max_rel, field_rel)
        if scaled > worst_scaled:
            worst_field, worst_scaled = name, scaled
    ok = mismatch == 0 and worst_scaled <= tol
    return Agreement(against, max_abs, max_rel, mismatch, worst_field, tol, ok)
