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
from _reference import reference_one

FloatArray = npt.NDArray[np.float64]

FIELDS: tuple[str, ...] = ("sma20", "sma50", "rsi14", "bb_middle", "bb_upper", "bb_lower")
"""The six outputs, in ferroquant's order (``fq.indicators.standard``)."""


# --------------------------------------------------------------------------------------------
# 1. pandas, one Series per stock: the reference code ("today's users").
# --------------------------------------------------------------------------------------------


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
    return reference_one(close)


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
# 4. polars: a long frame (one row per symbol and date, sorted by symbol then date, the symbol a
#    Categorical, which groups faster than a String column) and window
#    expressions ``.over("symbol")``, with the pandas conventions (SMA ``min_samples=1``, std
#    ``ddof=1``, missing prices as nulls).
# --------------------------------------------------------------------------------------------


def polars_long_input(close: FloatArray, symbols: list[str]) -> pl.DataFrame:
    n_assets, n_bars = close.shape
    symbol = pl.Series("symbol", symbols, dtype=pl.Categorical).gather(
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


PRICE_FIELDS = frozenset(FIELDS) - {"rsi14"}
"""The outputs in price units (their rounding errors scale with the prices the series has seen)."""


def price_scale(close: FloatArray) -> FloatArray:
    """The largest ``|price|`` each stock has had up to each bar (NaN-safe), as ``(n, m)``.

    Rolling sums that are updated in place, as in pandas, carry a rounding error of about
    ``eps * max |price| so far``; after a stock has fallen from 400 to 1 that error is ~1e-13 * 400
    in a value near 1. The tolerance of a price output is therefore relative to this scale.
    """
    return np.fmax.accumulate(np.abs(close), axis=-1)


@dataclass
class Agreement:
    """How far a peer's ``(6, n, m)`` outputs are from the reference's.

    ``max_abs`` and ``max_rel`` (relative to ``|reference|``, over cells where it is non-zero) are
    taken over the cells where both are finite; ``nan_mismatch`` counts cells that are NaN/inf in
    one and finite in the other. ``ok`` means no NaN mismatch and ``|got - ref| <= tol * scale``
    everywhere, where ``scale = max(1, |ref|)`` for RSI and ``max(1, |ref|, price_scale)`` for the
    price outputs (see :func:`price_scale`). ``worst`` locates the cell of the largest
    ``|got - ref| / scale``: ``(field, stock, bar, got, ref, scaled error)``.
    """

    against: str
    max_abs: float
    max_rel: float
    nan_mismatch: int
    tol: float
    ok: bool
    worst: tuple[str, int, int, float, float, float]
    fields: dict[str, dict[str, float]]

    @property
    def worst_field(self) -> str:
        return self.worst[0]


def compare(
    got: FloatArray, ref: FloatArray, against: str, tol: float, scale: FloatArray | None = None
) -> Agreement:
    """Compare ``(6, n, m)`` outputs; ``scale`` is the input's :func:`price_scale` or ``None``."""
    fields: dict[str, dict[str, float]] = {}
    worst: tuple[str, int, int, float, float, float] = (FIELDS[0], 0, 0, 0.0, 0.0, -1.0)
    for k, name in enumerate(FIELDS):
        g, r = got[k], ref[k]
        fin_g, fin_r = np.isfinite(g), np.isfinite(r)
        mismatch = int(np.count_nonzero(fin_g != fin_r))
        both = fin_g & fin_r
        diff = np.where(both, np.abs(g - r), 0.0)
        denom = np.maximum(np.abs(np.where(both, r, 0.0)), 1.0)
        if scale is not None and name in PRICE_FIELDS:
            denom = np.fmax(denom, scale)
        scaled = diff / denom
        at = np.unravel_index(int(scaled.argmax()), scaled.shape)
        nonzero = both & (r != 0)
        rel = np.abs(g[nonzero] - r[nonzero]) / np.abs(r[nonzero])
        fields[name] = {
            "max_abs": float(diff.max()),
            "max_rel": float(rel.max()) if rel.size else 0.0,
            "max_scaled": float(scaled[at]),
            "nan_mismatch": mismatch,
        }
        if float(scaled[at]) > worst[5]:
            i, j = (int(a) for a in at) if scaled.ndim == 2 else (0, int(at[0]))
            worst = (name, i, j, float(g[at]), float(r[at]), float(scaled[at]))
    mismatch = sum(int(f["nan_mismatch"]) for f in fields.values())
    return Agreement(
        against,
        max(f["max_abs"] for f in fields.values()),
        max(f["max_rel"] for f in fields.values()),
        mismatch,
        tol,
        mismatch == 0 and worst[5] <= tol,
        worst,
        fields,
    )


def exact_cell(close: FloatArray, name: str, j: int) -> float:
    """One cell of the reference definitions for one stock, in long double with two-pass sums.

    A spot check of who is right where a peer and the pandas reference disagree: pandas updates its
    rolling sums in place and drifts, an exact evaluation of one window does not.
    """
    x = close.astype(np.longdouble)

    def window(v: npt.NDArray[np.longdouble], size: int, min_count: int) -> Any:
        w = v[max(0, j - size + 1) : j + 1]
        w = w[np.isfinite(w)]
        return w if w.size >= min_count else None

    with np.errstate(divide="ignore", invalid="ignore"):
        if name in ("sma20", "sma50"):
            w = window(x, int(name[3:]), 1)
            return float("nan") if w is None else float(w.mean())
        if name == "rsi14":
            delta = np.diff(x, prepend=np.longdouble(np.nan))
            gain = window(np.clip(delta, 0, None), 14, 14)
            loss = window(-np.clip(delta, None, 0), 14, 14)
            if gain is None or loss is None:
                return float("nan")
            return float(100 - 100 / (1 + gain.mean() / loss.mean()))
        w = window(x, 20, 20)
        if w is None:
            return float("nan")
        mid = w.mean()
        std = np.sqrt(((w - mid) ** 2).sum() / (w.size - 1))
        return float({"bb_middle": mid, "bb_upper": mid + 2 * std, "bb_lower": mid - 2 * std}[name])
