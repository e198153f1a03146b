"""Plain numpy/pandas/scipy versions of the factor analytics, one date at a time (the oracle)."""

from __future__ import annotations

import contextlib

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats

F64 = NDArray[np.float64]


def forward_returns(close: F64, h: int) -> F64:
    out = np.full_like(close, np.nan)
    out[:, :-h] = close[:, h:] / close[:, :-h] - 1.0
    return out


def rank_ic(f: F64, r: F64) -> float:
    ok = np.isfinite(f) & np.isfinite(r)
    if ok.sum() < 2 or np.ptp(f[ok]) == 0 or np.ptp(r[ok]) == 0:
        return np.nan
    return float(stats.spearmanr(f[ok], r[ok])[0])


def pearson_ic(f: F64, r: F64) -> float:
    ok = np.isfinite(f) & np.isfinite(r)
    if ok.sum() < 2 or np.ptp(f[ok]) == 0 or np.ptp(r[ok]) == 0:
        return np.nan
    return float(np.corrcoef(f[ok], r[ok])[0, 1])


def quantiles(f: F64, q: int) -> F64:
    """pd.qcut + 1 per date; NaN for a date where qcut raises (coinciding edges)."""
    out = np.full_like(f, np.nan)
    for t in range(f.shape[1]):
        col = pd.Series(f[:, t]).dropna()
        if col.empty:
            continue
        with contextlib.suppress(ValueError):  # coinciding edges: no quantiles that date
            out[col.index, t] = pd.qcut(col, q, labels=False) + 1
    return out


def quantile_means(quant: F64, r: F64, q: int, demeaned: bool) -> F64:
    out = np.full((q, r.shape[1]), np.nan)
    for t in range(r.shape[1]):
        ok = np.isfinite(quant[:, t]) & np.isfinite(r[:, t])
        if not ok.any():
            continue
        x = r[ok, t] - (r[ok, t].mean() if demeaned else 0.0)
        for k in range(1, q + 1):
            sel = quant[ok, t] == k
            if sel.any():
                out[k - 1, t] = x[sel].mean()
    return out


def turnover(quant: F64, q: int, lag: int) -> F64:
    out = np.full((q, quant.shape[1]), np.nan)
    for t in range(lag, quant.shape[1]):
        if not np.isfinite(quant[:, t - lag]).any():
            continue
        for k in range(1, q + 1):
            now = set(np.flatnonzero(quant[:, t] == k))
            then = set(np.flatnonzero(quant[:, t - lag] == k))
            if now:
                out[k - 1, t] = len(now - then) / len(now)
    return out


def rank_autocorrelation(f: F64, lag: int) -> F64:
    ranks = pd.DataFrame(f.T).rank(axis=1)
    return ranks.corrwith(ranks.shift(lag), axis=1).to_numpy()
