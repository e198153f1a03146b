"""Returns, cumulative return, running maximum and drawdown (same in both conventions)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from ..errors import InvalidParameterError
from ._common import FloatArray, Panel, check_int, from_frame, to_frame

__all__ = ["cumulative_return", "drawdown", "max_drawdown", "returns", "running_max"]


def returns(x: npt.ArrayLike, *, kind: str = "simple", periods: int = 1) -> FloatArray:
    """Period returns: ``simple`` ``x[t] / x[t-periods] - 1``, ``log`` ``ln(x[t] / x[t-periods])``.

    The previous value is taken from the previous *bar* (``x / x.shift(periods)``): a NaN on
    either side gives NaN. The first ``periods`` bars are NaN.

    Examples
    --------
    >>> returns([100.0, 110.0, 99.0])
    array([ nan,  0.1, -0.1])
    >>> returns([1.0, np.e, 1.0], kind="log")
    array([nan,  1., -1.])
    """
    if kind not in ("simple", "log"):
        raise InvalidParameterError(
            f'invalid kind={kind!r}: expected "simple" (the default) or "log"'
        )
    periods = check_int("periods", periods)
    panel = Panel(x)
    values = panel.values
    previous = np.full_like(values, np.nan)  # x.shift(periods)
    if periods < values.shape[1]:
        previous[:, periods:] = values[:, : values.shape[1] - periods]
    with np.errstate(invalid="ignore", divide="ignore"):
        out = values / previous - 1 if kind == "simple" else np.log(values / previous)
    return panel.restore(out)


def _first_valid(values: FloatArray) -> FloatArray:
    """Each asset's first non-NaN value (NaN for an all-NaN asset), shape ``(n_assets, 1)``."""
    valid = ~np.isnan(values)
    first = np.argmax(valid, axis=1)
    base = values[np.arange(values.shape[0]), first]
    base = np.where(valid.any(axis=1), base, np.nan)
    return np.asarray(base, dtype=np.float64)[:, np.newaxis]


def cumulative_return(x: npt.ArrayLike) -> FloatArray:
    """``x[t] / x[first valid] - 1``; NaN where ``x`` is NaN.

    Examples
    --------
    >>> cumulative_return([np.nan, 100.0, 120.0, np.nan, 90.0])
    array([ nan,  0. ,  0.2,  nan, -0.1])
    """
    panel = Panel(x)
    values = panel.values
    if values.size == 0:
        return panel.restore(values.copy())
    with np.errstate(invalid="ignore", divide="ignore"):
        out = values / _first_valid(values) - 1
    return panel.restore(out)


def running_max(x: npt.ArrayLike) -> FloatArray:
    """Maximum of the valid values so far (``x.cummax()``); NaN where ``x`` is NaN.

    Examples
    --------
    >>> running_max([1.0, 3.0, np.nan, 2.0, 4.0])
    array([ 1.,  3., nan,  3.,  4.])
    """
    panel = Panel(x)
    if panel.values.size == 0:
        return panel.restore(panel.values.copy())
    return panel.restore(from_frame(to_frame(panel.values).cummax()))


def drawdown(x: npt.ArrayLike) -> FloatArray:
    """``x[t] / running_max[t] - 1`` (≤ 0 for positive prices); NaN where ``x`` is NaN.

    Examples
    --------
    >>> drawdown([100.0, 120.0, 90.0, 130.0])
    array([ 0.  ,  0.  , -0.25,  0.  ])
    """
    panel = Panel(x)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = panel.values / running_max(panel.values) - 1
    return panel.restore(out)


def max_drawdown(x: npt.ArrayLike) -> FloatArray:
    """The most negative :func:`drawdown` of each asset (NaN for an all-NaN or empty asset).

    Returns an array of shape ``x.shape[:-1]``: 0-d for a 1-D input, ``(n_assets,)`` for 2-D.

    Examples
    --------
    >>> float(max_drawdown([100.0, 120.0, 90.0, 130.0]))
    -0.25
    >>> max_drawdown([[100.0, 50.0], [np.nan, np.nan]])
    array([-0.5,  nan])
    """
    panel = Panel(x)
    dd = drawdown(panel.values)
    if dd.shape[1] == 0:
        out = np.full(dd.shape[0], np.nan)
    else:
        out = np.asarray(np.fmin.reduce(dd, axis=1), dtype=np.float64)
    return out.reshape(panel.shape[:-1])
