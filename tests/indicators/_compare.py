"""Comparison helpers for the indicator tests (imported by the test modules of this folder)."""

from __future__ import annotations

from typing import Any

import numpy as np


def assert_close(ours: Any, ref: Any, rtol: float, scale: Any = None, what: str = "") -> None:
    """NaN positions identical; elsewhere ``|ours - ref| <= rtol * max(|ref|, scale)``.

    ``scale`` (broadcast against the arrays, e.g. the row's price level) is the floor used for
    outputs that are differences of prices, whose own magnitude can be near zero.
    """
    a = np.asarray(ours, dtype=np.float64)
    b = np.asarray(ref, dtype=np.float64)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}"
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    if not np.array_equal(nan_a, nan_b):
        where = np.argwhere(nan_a != nan_b)[:5].tolist()
        raise AssertionError(f"{what}: NaN positions differ at {where}")
    both = ~nan_a
    if not both.any():
        return
    floor = np.abs(b) if scale is None else np.maximum(np.abs(b), np.broadcast_to(scale, b.shape))
    err = np.abs(a - b)
    bad = both & (err > rtol * floor)
    # Equal infinities (impossible for finite inputs, but keep the check honest) compare equal.
    bad &= ~(np.isinf(a) & (a == b))
    if bad.any():
        i = tuple(np.argwhere(bad)[0])
        raise AssertionError(
            f"{what}: {int(bad.sum())} values beyond rtol={rtol}; first at {i}: "
            f"ours={a[i]!r} ref={b[i]!r} rel={err[i] / floor[i]:.3e}"
        )


def row_scale(x: Any) -> Any:
    """Per-asset price level (max |x| over the row), shaped to broadcast over the bars."""
    arr = np.abs(np.asarray(x, dtype=np.float64))
    with np.errstate(all="ignore"):
        m = np.nanmax(np.where(np.isnan(arr), -np.inf, arr), axis=-1, keepdims=True)
    return np.where(np.isfinite(m), m, 0.0)
