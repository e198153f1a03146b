"""Input coercion and label restoration shared by every indicator.

Anything array-like is turned once into a C-contiguous float64 ``(n_assets, n_bars)`` block (time
along the last axis). A remembered "restorer" turns the core's ``(k, n_assets, n_bars)`` output back
into the caller's form: numpy arrays keep their shape, a pandas Series or wide DataFrame (index =
dates, columns = symbols) gets its labels back, and a long DataFrame (one row per symbol and date)
gets a result aligned with its rows.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ferroquant.errors import DTypeError, ShapeError

F64 = NDArray[np.float64]
# Maps the core's (k, n_assets, n_bars) block to k results in the caller's form.
Restorer = Callable[[NDArray[Any], Sequence[str]], list[Any]]

#: Column naming the symbol in a long frame.
SYMBOL_COLUMN = "symbol"


@dataclass(frozen=True)
class Prepared:
    """A C-contiguous float64 block and the way back to the caller's form."""

    data: F64
    restore: Restorer


def _as_float64(values: Any, name: str) -> F64:
    arr = np.asarray(values)
    if arr.dtype.kind not in "biuf":
        raise DTypeError(
            f"{name} has dtype {arr.dtype}, which is not numeric; pass numbers "
            "(convert with pd.to_numeric or np.asarray(..., dtype=float))"
        )
    return np.ascontiguousarray(arr, dtype=np.float64)


def _restore_numpy(shape: tuple[int, ...]) -> Restorer:
    def restore(out: NDArray[Any], names: Sequence[str]) -> list[Any]:
        return [o.reshape(shape) for o in out]

    return restore


def prepare(x: Any, name: str = "x") -> Prepared:
    """Coerce one input; see the module docstring."""
    if type(x) is np.ndarray and x.dtype == np.float64 and x.flags.c_contiguous:
        arr: F64 = x  # fast path: no copy, no pandas check
    else:
        pd = sys.modules.get("pandas")  # pandas objects can only exist if pandas is imported
        if pd is not None and isinstance(x, pd.DataFrame):
            return _prepare_frame(x, name)
        if pd is not None and isinstance(x, pd.Series):
            return _prepare_series(x, name)
        arr = _as_float64(x, name)
    if arr.ndim == 1:
        return Prepared(arr.reshape(1, -1), _restore_numpy(arr.shape))
    if arr.ndim == 2:
        return Prepared(arr, _restore_numpy(arr.shape))
    raise ShapeError(
        f"{name} has {arr.ndim} dimensions; pass a 1-D series or a 2-D (n_assets, n_bars) panel"
    )


def _prepare_series(s: Any, name: str) -> Prepared:
    import pandas as pd

    data = _as_float64(s.to_numpy(), f"{name} (Series {s.name!r})").reshape(1, -1)

    def restore(out: NDArray[Any], names: Sequence[str]) -> list[Any]:
        label = s.name if len(names) == 1 else None
        return [
            pd.Series(o[0], index=s.index, name=label or n) for n, o in zip(names, out, strict=True)
        ]

    return Prepared(data, restore)


def _prepare_frame(df: Any, name: str) -> Prepared:
    if SYMBOL_COLUMN in df.columns:
        raise ShapeError(
            f"{name} is a long frame (it has a {SYMBOL_COLUMN!r} column); pass it whole as the "
            "first argument of an indicator, which reads its value columns, or pivot it to "
            "wide form"
        )
    bad = [c for c in df.columns if df[c].dtype.kind not in "biuf"]
    if bad:
        raise DTypeError(
            f"{name} has non-numeric columns {bad[:5]}; a wide frame must hold only prices "
            "(index = dates, columns = symbols)"
        )
    data = np.ascontiguousarray(df.to_numpy(dtype=np.float64).T)

    def restore(out: NDArray[Any], names: Sequence[str]) -> list[Any]:
        import pandas as pd

        return [pd.DataFrame(o.T, index=df.index, columns=df.columns) for o in out]

    return Prepared(data, restore)


def prepare_long(df: Any, columns: Sequence[str], date: str | None) -> tuple[list[F64], Restorer]:
    """Pivot a long frame (one row per symbol and date) into panels of ``columns``.

    The restorer returns one Series per output, aligned with the frame's rows. Dates are sorted
    within each symbol; duplicate (symbol, date) rows are an error.
    """
    import pandas as pd

    missing = [c for c in [*columns, SYMBOL_COLUMN] if c not in df.columns]
    if missing:
        raise ShapeError(f"long frame lacks columns {missing}; it has {list(df.columns)[:10]}")
    dates = (
        df[date] if date is not None and date in df.columns else pd.Series(df.index, index=df.index)
    )
    sym_codes, _ = pd.factorize(df[SYMBOL_COLUMN], sort=True)
    date_codes, _ = pd.factorize(dates, sort=True)
    if (sym_codes < 0).any() or (date_codes < 0).any():
        raise ShapeError("long frame has missing symbols or dates; drop those rows first")
    n_sym, n_dates = int(sym_codes.max()) + 1, int(date_codes.max()) + 1
    flat = sym_codes.astype(np.int64) * n_dates + date_codes
    if np.unique(flat).size != flat.size:
        raise ShapeError("long frame has duplicate (symbol, date) rows; deduplicate it first")
    panels = []
    for c in columns:
        values = _as_float64(df[c].to_numpy(), f"column {c!r}")
        panel = np.full(n_sym * n_dates, np.nan)
        panel[flat] = values
        panels.append(panel.reshape(n_sym, n_dates))

    def restore(out: NDArray[Any], names: Sequence[str]) -> list[Any]:
        return [
            pd.Series(o.reshape(-1)[flat], index=df.index, name=n)
            for n, o in zip(names, out, strict=True)
        ]

    return panels, restore


def is_long_frame(x: Any) -> bool:
    """True for a pandas DataFrame with a symbol column."""
    pd = sys.modules.get("pandas")
    return pd is not None and isinstance(x, pd.DataFrame) and SYMBOL_COLUMN in x.columns


def allocate(
    k: int, shape: tuple[int, int], dtype: Any, out: Any, names: Sequence[str]
) -> NDArray[Any]:
    """The ``(k, n_assets, n_bars)`` output block, fresh or a view of the caller's ``out``."""
    dt = np.dtype(np.float64 if dtype is None else dtype)
    if dt not in (np.float64, np.float32):
        raise DTypeError(f"dtype={dt} is not supported; use np.float64 or np.float32")
    if out is None:
        return np.empty((k, *shape), dtype=dt)
    if not isinstance(out, np.ndarray) or out.dtype not in (np.float64, np.float32):
        raise DTypeError("out must be a numpy array of float64 or float32")
    if not out.flags.c_contiguous or not out.flags.writeable:
        raise ShapeError("out must be a writable C-contiguous array (np.empty(...) gives one)")
    if out.size != k * shape[0] * shape[1]:
        want = (k, *shape) if k > 1 else shape
        raise ShapeError(f"out has shape {out.shape}; {list(names)} need an array of shape {want}")
    return out.reshape(k, *shape)
