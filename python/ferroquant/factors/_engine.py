"""Argument checks and the call into the Rust core shared by the public factor functions.

The core computes everything in one parallel pass over dates (ranks, quantiles, counts, ICs,
sums by quantile, and the comparisons with ``lag`` dates earlier: turnover, rank
autocorrelation); the public functions pick what they need from :class:`Raw`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ferroquant import _core
from ferroquant._array import _as_float64
from ferroquant._threads import current_threads
from ferroquant.errors import InvalidParameterError, ShapeError

F64 = NDArray[np.float64]
U8 = NDArray[np.uint8]

# Label code (0 = none) -> float label (NaN = none).
_LABELS = np.arange(256, dtype=np.float64)
_LABELS[0] = np.nan


def panel(x: Any, name: str) -> F64:
    """``x`` as a C-contiguous float64 ``(n_assets, n_dates)`` panel (a 1-D input is one asset)."""
    arr = _as_float64(x, name)
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2:
        raise ShapeError(f"{name} has {arr.ndim} dimensions; pass a 2-D (n_assets, n_dates) panel")
    return arr


def forward_block(fwd: Any, shape: tuple[int, int]) -> F64:
    """Forward returns as ``(n_horizons, n_assets, n_dates)``; a 2-D panel is one horizon."""
    arr = _as_float64(fwd, "forward_returns")
    if arr.ndim == 2:
        arr = arr.reshape(1, *arr.shape)
    if arr.ndim != 3 or arr.shape[1:] != shape:
        raise ShapeError(
            f"forward_returns has shape {arr.shape}; pass (n_horizons, *{shape}) or {shape}, "
            "as returned by forward_returns(close, horizons)"
        )
    return arr


def check_int(name: str, value: int, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise InvalidParameterError(f"invalid {name}={value!r}: expected an integer >= {minimum}")
    return int(value)


def group_codes(groups: Any, n_assets: int) -> tuple[NDArray[np.int64], list[Any]]:
    """Codes ``0..G-1`` for one label per asset (None/NaN label = in no group: -1)."""
    if groups is None:
        return np.zeros(0, dtype=np.int64), []
    labels = np.asarray(groups, dtype=object)
    if labels.shape != (n_assets,):
        raise ShapeError(f"groups has shape {labels.shape}; pass one label per asset ({n_assets},)")
    missing = np.array([g is None or (isinstance(g, float) and math.isnan(g)) for g in labels])
    names = sorted({str(g) for g in labels[~missing]})
    index = {name: i for i, name in enumerate(names)}
    codes = np.array(
        [-1 if m else index[str(g)] for g, m in zip(labels, missing, strict=True)],
        dtype=np.int64,
    )
    return codes, list(names)


@dataclass(frozen=True)
class Raw:
    """Everything the core returns, factors first and time along the last axis."""

    quantile: U8  # (n_factors, n_assets, n_dates) labels 1..quantiles, 0 where none
    date_counts: F64  # (n_factors, 3, n_dates): with a factor, incomplete, with a quantile
    counts: F64  # (n_factors, n_horizons, 3, n_dates): used, factor missing, return missing
    ic: F64  # (n_factors, 2, n_horizons, 1 + n_groups, n_dates): rank, pearson
    qret: F64  # (n_factors, 2, n_horizons, 1 + n_groups, quantiles, n_dates): sum, count
    turnover: F64  # (n_factors, n_lags, quantiles, n_dates)
    autocorr: F64  # (n_factors, n_lags, n_dates)
    groups: list[Any]


def analytics(
    factor: F64,
    fwd: F64,
    *,
    quantiles: int = 5,
    demeaned: bool = True,
    groups: Any = None,
    lags: Sequence[int] = (1,),
    common_universe: bool = False,
) -> Raw:
    """Runs the core on a prepared factor panel (or ``(n_factors, n_assets, n_dates)`` block)
    and forward-return block."""
    quantiles = check_int("quantiles", quantiles, 1)
    lag_list = [check_int("lag", lag, 1) for lag in lags]
    block = factor.reshape(1, *factor.shape) if factor.ndim == 2 else factor
    nf, n_assets, n_dates = block.shape
    codes, names = group_codes(groups, n_assets)
    g1 = 1 + len(names)
    h = fwd.shape[0]
    nan = np.nan
    nl = len(lag_list)
    raw = Raw(
        # One byte a cell: a fresh float64 panel per factor costs more to fault in than the
        # analytics; labels_as_float() gives the float form where one is asked for.
        quantile=np.empty((nf, n_assets, n_dates), dtype=np.uint8),
        date_counts=np.empty((nf, 3, n_dates)),
        counts=np.empty((nf, h, 3, n_dates)),
        ic=np.empty((nf, 2, h, g1, n_dates)),
        qret=np.empty((nf, 2, h, g1, quantiles, n_dates)),
        turnover=np.full((nf, nl, quantiles, n_dates), nan),
        autocorr=np.full((nf, nl, n_dates), nan),
        groups=names,
    )
    _core.factor_analytics_core(
        block,
        fwd,
        codes,
        len(names),
        quantiles,
        demeaned,
        common_universe,
        lag_list,
        raw.quantile,
        raw.date_counts,
        raw.counts,
        raw.ic,
        raw.qret,
        raw.turnover,
        raw.autocorr,
        current_threads(),
    )
    return raw


def labels_as_float(codes: U8) -> F64:
    """Quantile label codes (0 = none) as float labels, NaN where none."""
    out: F64 = _LABELS[codes]
    return out


def safe_mean(x: F64, axis: int = -1) -> F64:
    """Mean over finite values along ``axis``; NaN (and no warning) where there are none."""
    ok = np.isfinite(x)
    n = ok.sum(axis=axis)
    s = np.where(ok, x, 0.0).sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.where(n > 0, s / np.maximum(n, 1), np.nan), dtype=np.float64)
