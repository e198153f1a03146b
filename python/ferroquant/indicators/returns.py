"""Returns and per-asset scans (cumulative return, running maximum, drawdown).

The scans run over the universe in chunks of assets: only one chunk is ever converted to float64
at a time, so a float32 or memory-mapped panel larger than memory can be scanned into a
memory-mapped ``out``.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ferroquant import _core
from ferroquant._array import allocate, prepare
from ferroquant._results import Scans
from ferroquant._threads import current_threads
from ferroquant.errors import InvalidParameterError
from ferroquant.indicators._engine import check_period, run

__all__ = ["cumulative_return", "drawdown", "max_drawdown", "returns", "running_max", "scans"]

#: Assets converted and scanned at a time by :func:`scans`.
DEFAULT_CHUNK_ASSETS = 1024


def returns(
    x: Any, *, kind: str = "simple", periods: int = 1, dtype: Any = None, out: Any = None
) -> Any:
    """Simple (``x[t] / x[t-periods] - 1``) or log (``ln(x[t] / x[t-periods])``) returns.

    Examples
    --------
    >>> import numpy as np, ferroquant as fq
    >>> fq.indicators.returns(np.array([100.0, 110.0, 99.0]))
    array([ nan,  0.1, -0.1])
    """
    if kind not in ("simple", "log"):
        raise InvalidParameterError(f"invalid kind={kind!r}: expected 'simple' or 'log'")
    k = check_period("periods", periods)
    log = kind == "log"

    def kernel(d: Any, o: Any, t: int) -> None:
        _core.returns(d, k, log, o, t)

    return run(kernel, [x], ["x"], [f"{kind}_return"], dtype=dtype, out=out)[0]


def scans(
    x: Any, *, chunk_assets: int = DEFAULT_CHUNK_ASSETS, dtype: Any = None, out: Any = None
) -> Scans[Any]:
    """Cumulative return, running maximum and drawdown of every asset in one pass.

    Parameters
    ----------
    x : array-like, Series or DataFrame
        Prices; NaN bars give NaN and carry the state (the first valid price is the base).
    chunk_assets : int
        Assets converted to float64 and scanned at a time (bounds the temporary memory).
    out : ndarray, optional
        Array of shape ``(3, *x.shape)`` (may be a ``np.memmap``).

    Examples
    --------
    >>> import numpy as np, ferroquant as fq
    >>> s = fq.indicators.scans(np.array([100.0, 120.0, 90.0, 130.0]))
    >>> s.drawdown
    array([ 0.  ,  0.  , -0.25,  0.  ])
    """
    chunk = check_period("chunk_assets", chunk_assets)
    if not isinstance(x, np.ndarray) or x.ndim != 2 or x.shape[0] <= chunk:
        return Scans(*run(_scan_kernel, [x], ["x"], Scans._fields, dtype=dtype, out=out))
    block = allocate(3, x.shape, dtype, out, Scans._fields)
    for start in range(0, x.shape[0], chunk):
        part = prepare(x[start : start + chunk], "x").data
        # One chunk-sized scratch block: the (3, chunk) slice of the output is not contiguous.
        tmp = np.empty((3, *part.shape), dtype=block.dtype)
        _core.scan(part, tmp, current_threads())
        block[:, start : start + chunk] = tmp
    return Scans(*block)


def _scan_kernel(d: Any, o: Any, t: int) -> None:
    _core.scan(d, o, t)


def cumulative_return(x: Any, **kw: Any) -> Any:
    """``x[t] / x[first valid] - 1`` per asset; see :func:`scans`.

    Examples
    --------
    >>> import numpy as np, ferroquant as fq
    >>> fq.indicators.cumulative_return(np.array([np.nan, 50.0, 75.0]))
    array([nan, 0. , 0.5])
    """
    return scans(x, **kw).cumulative_return


def running_max(x: Any, **kw: Any) -> Any:
    """Maximum of the valid prices so far, per asset; see :func:`scans`.

    Examples
    --------
    >>> import numpy as np, ferroquant as fq
    >>> fq.indicators.running_max(np.array([1.0, 3.0, 2.0]))
    array([1., 3., 3.])
    """
    return scans(x, **kw).running_max


def drawdown(x: Any, **kw: Any) -> Any:
    """``x[t] / running_max[t] - 1`` (≤ 0) per asset; see :func:`scans`.

    Examples
    --------
    >>> import numpy as np, ferroquant as fq
    >>> fq.indicators.drawdown(np.array([1.0, 4.0, 3.0]))
    array([ 0.  ,  0.  , -0.25])
    """
    return scans(x, **kw).drawdown


def max_drawdown(x: Any, **kw: Any) -> NDArray[np.float64] | float:
    """Worst drawdown of each asset (a float for one series, NaN for an asset with no price).

    Examples
    --------
    >>> import numpy as np, ferroquant as fq
    >>> fq.indicators.max_drawdown(np.array([[1.0, 4.0, 3.0, 5.0], [2.0, 1.0, 2.0, 2.0]]))
    array([-0.25, -0.5 ])
    """
    dd = np.asarray(drawdown(x, **kw), dtype=np.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN assets give NaN, on purpose
        worst = np.nanmin(dd, axis=-1) if dd.size else np.full(dd.shape[:-1], np.nan)
    return float(worst) if np.ndim(worst) == 0 else np.asarray(worst, dtype=np.float64)
