"""Risk-model style descriptors from price and volume panels ``(n_assets, n_dates)``.

The time-series descriptors run in Rust, four assets per task (side by side in AVX lanes where
the CPU has AVX2, with the bits of one asset at a time), each exponentially weighted window
updated in O(1) per date (``rust/src/risk/ewreg.rs`` states the exact formulas):

* ``beta`` and ``residual_volatility``: EW regression (window 252, half-life 63) of the simple
  return on the market return, the average of the names' returns weighted by ``caps`` of the
  previous date (equal weights without caps); residual volatility is the EW standard deviation
  of the regression residuals;
* ``momentum``: EW sum (half-life 126) of log returns over 504 dates, skipping the latest 21;
* ``reversal``: EW sum (half-life 5) of the log returns of the latest 21 dates;
* ``volatility``: EW standard deviation of returns (window 252, half-life 42);
* ``liquidity``: mean over 21, 63 and 252 dates of ``ln(mean activity)``, activity being turnover
  ``volume / shares`` when ``shares`` is given, else dollar volume ``close * volume``;
* ``size``: ``ln(caps)`` when caps are given; otherwise the documented proxy ``ln`` of the
  252-date mean dollar volume (capitalisation is unknown, trading value tracks it);
* ``rsi`` (Cutler, 14), ``bollinger_b`` (%b of Bollinger 20/2: ``(close - lower) / (upper -
  lower)``) and ``price_to_sma`` (``close / SMA 50 - 1``), exactly as :mod:`ferroquant.indicators`
  computes them (its fused standard-set kernel, bit for bit its single indicators, run in the
  same per-asset pass).

Windows count dates (columns); a missing price makes the returns touching it missing, and a
windowed descriptor is NaN unless at least ``min_fraction`` of its window holds values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ferroquant import _core
from ferroquant._threads import current_threads
from ferroquant.errors import InvalidParameterError, ShapeError
from ferroquant.factors._engine import F64, panel

__all__ = ["STYLE_NAMES", "Descriptors", "risk_descriptors"]

#: Descriptors computed by :func:`risk_descriptors`, in output order.
STYLE_NAMES = (
    "beta",
    "residual_volatility",
    "volatility",
    "momentum",
    "reversal",
    "liquidity",
    "size",
    "rsi",
    "bollinger_b",
    "price_to_sma",
)


@dataclass(frozen=True)
class Descriptors:
    """Raw (unstandardised) descriptors.

    Attributes
    ----------
    names : tuple of str
        One name per descriptor: :data:`STYLE_NAMES`, then the user's extra panels.
    values : ndarray, (n_descriptors, n_assets, n_dates)
    """

    names: tuple[str, ...]
    values: F64

    def __getitem__(self, name: str) -> F64:
        out: F64 = self.values[self.names.index(name)]
        return out


def _same_shape(x: Any, name: str, shape: tuple[int, ...]) -> F64 | None:
    if x is None:
        return None
    arr = panel(x, name)
    if arr.shape != shape:
        raise ShapeError(f"{name} has shape {arr.shape}; pass ({shape[0]}, {shape[1]}) like close")
    return arr


def risk_descriptors(
    close: Any,
    volume: Any = None,
    *,
    caps: Any = None,
    shares: Any = None,
    extra: Mapping[str, Any] | None = None,
    min_fraction: float = 0.5,
) -> Descriptors:
    """Style descriptors of a universe (see the module docstring for the definitions).

    Parameters
    ----------
    close : array_like, (n_assets, n_dates)
        Prices (adjusted), NaN before listing, after delisting and on suspended days.
    volume : array_like, optional
        Traded volume; without it ``liquidity`` and the size proxy are NaN.
    caps : array_like, optional
        Market capitalisation: market-return weights and ``size = ln(caps)``.
    shares : array_like, optional
        Shares outstanding: liquidity then uses turnover ``volume / shares``.
    extra : mapping of name to array_like, optional
        The user's own exposure panels (e.g. fundamentals), appended by name.
    min_fraction : float
        Share of a window that must hold values for a descriptor to be defined.

    Examples
    --------
    >>> import numpy as np
    >>> from ferroquant import factors
    >>> rng = np.random.default_rng(0)
    >>> close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (3, 600)), axis=1))
    >>> d = factors.risk_descriptors(close, np.full((3, 600), 1e6))
    >>> d.values.shape, d.names[:2]
    ((10, 3, 600), ('beta', 'residual_volatility'))
    >>> bool(np.isnan(d["beta"][:, 100]).all()), bool(np.isfinite(d["beta"][:, -1]).all())
    (True, True)
    """
    c = panel(close, "close")
    vol = _same_shape(volume, "volume", c.shape)
    cap = _same_shape(caps, "caps", c.shape)
    sh = _same_shape(shares, "shares", c.shape)
    if not 0.0 < min_fraction <= 1.0:
        raise InvalidParameterError(f"invalid min_fraction={min_fraction!r}: expected (0, 1]")
    extras = dict(extra or {})
    bad = set(extras) & set(STYLE_NAMES)
    if bad:
        raise InvalidParameterError(f"extra names {sorted(bad)} clash with built-in descriptors")
    names = STYLE_NAMES + tuple(extras)
    out = np.empty((len(names), *c.shape))
    windows = (252, 252, 504, 21, 21, 21, 63, 252)
    _core.risk_descriptors(
        c,
        vol,
        sh,
        cap,
        windows,
        (63.0, 42.0, 126.0, 5.0),
        min_fraction,
        out[:10],
        current_threads(),
    )
    for i, (name, x) in enumerate(extras.items()):
        arr = _same_shape(x, name, c.shape)
        assert arr is not None
        out[10 + i] = arr
    return Descriptors(names, out)
