"""Input coercion, argument checks and small array helpers shared by the oracle modules.

Every public oracle function accepts anything array-like, one-dimensional (one asset) or
two-dimensional ``(n_assets, n_bars)`` (one row per asset, time along the last axis), and returns
a float64 array of the same shape. Internally everything is done on the 2-D form; ``Panel``
remembers the caller's shape so the result can be given back in it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from ..errors import (
    DTypeError,
    EmptyInputError,
    InvalidParameterError,
    NonFiniteError,
    ShapeError,
)

FloatArray = npt.NDArray[np.float64]
"""A float64 numpy array: the type of every oracle output."""

Convention = Literal["pandas", "talib"]

Kernel = Callable[[list[float]], Sequence[list[float]]]
"""A recursion over one asset's valid values (see :func:`compress_apply`)."""

_CONVENTIONS: dict[str, Convention] = {
    "pandas": "pandas",
    "stockcharts": "pandas",
    "talib": "talib",
    "ta-lib": "talib",
}


def parse_convention(convention: str) -> Convention:
    """Map a user's ``convention=`` string to ``"pandas"`` or ``"talib"``.

    ``"stockcharts"`` is an alias of ``"pandas"`` and ``"ta-lib"`` of ``"talib"``, as in the
    Rust path.
    """
    if isinstance(convention, str) and convention in _CONVENTIONS:
        return _CONVENTIONS[convention]
    raise InvalidParameterError(
        f'invalid convention={convention!r}: expected "pandas" (the default, the reference '
        'pandas code) or "talib" (TA-Lib 0.8.x)'
    )


def check_int(name: str, value: object, minimum: int = 1) -> int:
    """Return ``value`` as an ``int`` after checking it is an integer ``>= minimum``."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        raise InvalidParameterError(
            f"invalid {name}={value!r}: expected an integer >= {minimum}; "
            f"pass e.g. {name}={max(minimum, 14)}"
        )
    if value < minimum:
        raise InvalidParameterError(f"invalid {name}={value}: expected an integer >= {minimum}")
    return int(value)


def check_min_periods(min_periods: object, window: int, default: int) -> int:
    """Resolve ``min_periods`` (``None``: ``default``); check ``1 <= min_periods <= window``."""
    if min_periods is None:
        return default
    value = check_int("min_periods", min_periods, 1)
    if value > window:
        raise InvalidParameterError(
            f"invalid min_periods={value}: expected an integer between 1 and the window "
            f"({window}); pass min_periods=None for the default"
        )
    return value


def check_ddof(ddof: object) -> int:
    """Check the delta degrees of freedom of a variance (an integer ``>= 0``)."""
    return check_int("ddof", ddof, 0)


def check_real(name: str, value: object) -> float:
    """Check a finite real scalar parameter such as Bollinger's ``k``."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.number):
        raise InvalidParameterError(f"invalid {name}={value!r}: expected a finite real number")
    as_float = float(value)
    if not np.isfinite(as_float):
        raise InvalidParameterError(f"invalid {name}={as_float}: expected a finite real number")
    return as_float


class Panel:
    """An input coerced to a C-contiguous float64 ``(n_assets, n_bars)`` array.

    ``panel.values`` is the 2-D array; ``panel.restore(out)`` reshapes a 2-D result back to the
    caller's shape (1-D in, 1-D out).
    """

    __slots__ = ("name", "shape", "values")

    def __init__(self, x: npt.ArrayLike, name: str = "x") -> None:
        arr = np.asarray(x)
        if arr.dtype.kind not in "biuf":
            raise DTypeError(
                f"{name} has dtype {arr.dtype}, which is not numeric; pass real numbers "
                "(convert with pd.to_numeric or np.asarray(..., dtype=float))"
            )
        if arr.ndim not in (1, 2):
            raise ShapeError(
                f"{name} has {arr.ndim} dimension(s) (shape {arr.shape}); pass a 1-D array (one "
                "asset) or a 2-D array (n_assets, n_bars) with time along the last axis"
            )
        if arr.size == 0:
            raise EmptyInputError(
                f"{name} is empty (shape {arr.shape}); pass at least one asset with at least "
                "one bar"
            )
        self.name = name
        self.shape: tuple[int, ...] = arr.shape
        values = np.array(arr.reshape(1, -1) if arr.ndim == 1 else arr, dtype=np.float64)
        check_no_infinity(values, name)
        self.values: FloatArray = np.ascontiguousarray(values)

    @property
    def n_assets(self) -> int:
        return int(self.values.shape[0])

    @property
    def n_bars(self) -> int:
        return int(self.values.shape[1])

    def restore(self, out: FloatArray) -> FloatArray:
        """Give a 2-D ``(n_assets, n_bars)`` result back in the caller's shape."""
        return np.ascontiguousarray(out, dtype=np.float64).reshape(self.shape)


def check_no_infinity(values: FloatArray, name: str) -> None:
    """Raise ``NonFiniteError`` (a ``ValueError``) at the first ``±inf``, naming argument, asset
    and bar."""
    bad = np.isinf(values)
    if bad.any():
        asset, bar = (int(i) for i in np.argwhere(bad)[0])
        value = values[asset, bar]
        raise NonFiniteError(
            f"{name} holds {value} at asset {asset}, bar {bar}; infinities are rejected, use NaN "
            f"for a missing bar (e.g. np.where(np.isinf({name}), np.nan, {name}))"
        )


def hlc_panels(
    high: npt.ArrayLike, low: npt.ArrayLike, close: npt.ArrayLike
) -> tuple[Panel, Panel, Panel]:
    """Coerce high, low and close, check that they have one shape, and apply the missing-bar
    rule: a bar is missing when any of ``h[t]``, ``l[t]``, ``c[t]`` is NaN, so all three are NaN
    there."""
    h, lo, c = Panel(high, "high"), Panel(low, "low"), Panel(close, "close")
    for other in (lo, c):
        if other.shape != h.shape:
            raise ShapeError(
                f"{other.name} has shape {other.shape} but high has shape {h.shape}; pass high, "
                "low and close of one shape, (n_assets, n_bars) with time along the last axis"
            )
    missing = np.isnan(h.values) | np.isnan(lo.values) | np.isnan(c.values)
    for panel in (h, lo, c):
        panel.values[missing] = np.nan
    return h, lo, c


def to_frame(values: FloatArray) -> pd.DataFrame:
    """A ``(n_bars, n_assets)`` DataFrame: one column per asset, so pandas' column-wise
    ``rolling`` / ``ewm`` / ``diff`` apply to every asset at once and never mix assets."""
    return pd.DataFrame(values.T.copy())


def from_frame(frame: pd.DataFrame | pd.Series) -> FloatArray:
    """Back from :func:`to_frame`'s layout to a fresh ``(n_assets, n_bars)`` float64 array."""
    arr = np.asarray(frame.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
    return np.array(arr.T, dtype=np.float64, order="C")


def prev_bar(values: FloatArray) -> FloatArray:
    """``x[t-1]`` along the time axis (NaN at ``t = 0``), like ``Series.shift(1)``."""
    out = np.full_like(values, np.nan)
    out[:, 1:] = values[:, :-1]
    return out


def windows(values: FloatArray, window: int) -> tuple[FloatArray, int]:
    """Trailing windows: ``w[a, t, :]`` holds the bars ``t-width+1 .. t`` (NaN before bar 0).

    A window longer than the series holds nothing but NaN beyond it, so the width is capped at
    ``n_bars`` (the returned ``width``); the newest bar is always last. Returns a read-only view.
    """
    n_assets, n_bars = values.shape
    width = max(1, min(window, n_bars))
    padded = np.concatenate([np.full((n_assets, width - 1), np.nan), values], axis=1)
    view = np.lib.stride_tricks.sliding_window_view(padded, width, axis=1)
    return view, width


def valid_count(w: FloatArray) -> npt.NDArray[np.int64]:
    """Number of non-NaN values in each window of :func:`windows`."""
    return np.asarray((~np.isnan(w)).sum(axis=-1), dtype=np.int64)


def window_is_flat(w: FloatArray) -> npt.NDArray[np.bool_]:
    """True where every valid value of a window is the same number (and there is one)."""
    hi = np.fmax.reduce(w, axis=-1)
    lo = np.fmin.reduce(w, axis=-1)
    return np.asarray(hi == lo, dtype=np.bool_)


def window_mean(w: FloatArray) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """Mean of the valid values of each window (sum / count, refined once) and the count.

    A flat window (all valid values equal) gets exactly that value, so deviations from the mean
    are exactly zero there; a window with no valid value gets NaN.
    """
    count = valid_count(w)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.nansum(w, axis=-1) / count
        # One refinement step brings the mean to within about half an ulp of the exact mean.
        mean = mean + np.nansum(w - mean[..., np.newaxis], axis=-1) / count
    flat = window_is_flat(w)
    mean = np.where(flat, np.fmax.reduce(w, axis=-1), mean)
    return np.asarray(mean, dtype=np.float64), count


def compress_apply(
    values: FloatArray, kernel: Kernel, n_outputs: int = 1
) -> tuple[FloatArray, ...]:
    """Run a recursion on each asset's valid bars only, as if the NaN bars did not exist.

    ``kernel`` gets the asset's non-NaN values as a Python list (oldest first) and returns
    ``n_outputs`` lists of the same length (``nan`` for warm-up); they are scattered back to the
    valid bars, and every NaN input bar gets NaN. This *is* the recursive NaN policy.
    """
    outs = tuple(np.full_like(values, np.nan) for _ in range(n_outputs))
    for asset in range(values.shape[0]):
        row = values[asset]
        idx = np.flatnonzero(~np.isnan(row))
        if idx.size == 0:
            continue
        results = kernel(row[idx].tolist())
        for out, res in zip(outs, results, strict=True):
            out[asset, idx] = np.asarray(res, dtype=np.float64)
    return outs
