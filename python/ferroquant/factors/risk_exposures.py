"""Per-date standardisation of style exposures for the risk model.

For each date (the Rust kernel, parallel over blocks of dates, ``rust/src/risk/standardize.rs``):

1. **Universe**: the assets flagged in ``universe`` (default: those with at least one finite raw
   exposure on the date). A universe asset with fewer than ``min_styles`` finite styles is
   **dropped** for the date: all its exposures are NaN, and the count is reported.
2. **Winsorise and z-score** each style over the kept assets that have it: clip at
   ``mu +- winsor * sd`` (``mu`` weighted by ``caps``, equal weights without caps; ``sd`` the
   equal-weighted sample standard deviation), recompute both, ``z = (x - mu) / sd``. A style with
   fewer than two values or a constant value on the date gets ``z = 0`` (the regression then drops
   it as collinear).
3. **Missing exposures** of kept assets are **imputed** as 0 (the cap-weighted market mean) and
   counted per style and date.
4. **Orthogonalisation** ``{target: regressors}``: the target is replaced by its residual from a
   cap-weighted regression with intercept on the regressors, then z-scored again (not winsorised).

Assets outside the universe are NaN. Nothing is imputed or dropped without being counted.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ferroquant import _core
from ferroquant._array import _as_float64
from ferroquant._threads import current_threads
from ferroquant.errors import InvalidParameterError, ShapeError
from ferroquant.factors._engine import F64, panel

__all__ = ["Exposures", "standardize_exposures"]


@dataclass(frozen=True)
class Exposures:
    """Standardised style exposures and what the standardisation did.

    Attributes
    ----------
    names : tuple of str
    values : ndarray, (n_styles, n_assets, n_dates)
        z-scores; NaN outside the universe and for dropped assets.
    imputed : ndarray, (n_styles, n_dates)
        Missing exposures set to 0, per style and date.
    dropped : ndarray, (n_dates,)
        Universe assets dropped for having fewer than ``min_styles`` styles.
    universe : ndarray, (n_dates,)
        Universe size per date.
    """

    names: tuple[str, ...]
    values: F64
    imputed: F64
    dropped: F64
    universe: F64

    def __getitem__(self, name: str) -> F64:
        out: F64 = self.values[self.names.index(name)]
        return out


def standardize_exposures(
    raw: Any,
    names: Sequence[str] | None = None,
    *,
    caps: Any = None,
    universe: Any = None,
    winsor: float = 3.0,
    min_styles: int | None = None,
    orthogonalize: Mapping[str, Sequence[str]] | None = None,
    inplace: bool = False,
) -> Exposures:
    """Winsorise, z-score, impute and orthogonalise exposures per date (see the module docstring).

    Parameters
    ----------
    raw : array_like, (n_styles, n_assets, n_dates)
        Raw descriptors, e.g. ``risk_descriptors(...).values``.
    names : sequence of str, optional
        Style names (default ``style0, style1, ...``).
    caps : array_like, (n_assets, n_dates), optional
        Weights of the means (market capitalisation).
    universe : array_like of bool, (n_assets, n_dates), optional
        Estimation universe per date.
    winsor : float
        Clip at this many standard deviations (0 = no clipping).
    min_styles : int, optional
        Fewest finite styles a universe asset needs (default: half the styles, rounded up).
    orthogonalize : mapping of style name to regressor names, optional
        E.g. ``{"residual_volatility": ["beta", "size"]}``, applied in order.
    inplace : bool
        Overwrite ``raw`` (a C-contiguous float64 array) instead of copying it.

    Examples
    --------
    >>> import numpy as np
    >>> from ferroquant import factors
    >>> raw = np.array([[[1.0], [2.0], [3.0], [np.nan]], [[4.0], [1.0], [1.0], [2.0]]])
    >>> e = factors.standardize_exposures(raw, ["a", "b"], min_styles=1)
    >>> e["a"].ravel().round(3).tolist(), e.imputed.ravel().tolist()
    ([-1.0, 0.0, 1.0, 0.0], [1.0, 0.0])
    """
    args = prepare(raw, names, caps, universe, winsor, min_styles, orthogonalize, inplace)
    k, _, t = args.values.shape
    imputed = np.zeros((k, t))
    dropped = np.zeros(t)
    size = np.zeros(t)
    _core.risk_standardize(*args.core(), imputed, dropped, size, current_threads())
    return Exposures(args.names, args.values, imputed, dropped, size)


@dataclass(frozen=True)
class Prepared:
    """Checked arguments of :func:`standardize_exposures` (shared with the fused model path)."""

    names: tuple[str, ...]
    values: F64
    caps: F64 | None
    universe: NDArray[np.bool_] | None
    winsor: float
    min_styles: int
    orthogonalize: list[tuple[int, list[int]]]

    def core(
        self,
    ) -> tuple[F64, F64 | None, NDArray[np.bool_] | None, float, int, list[tuple[int, list[int]]]]:
        """The leading arguments of ``_core.risk_standardize``."""
        return (
            self.values,
            self.caps,
            self.universe,
            self.winsor,
            self.min_styles,
            self.orthogonalize,
        )


def prepare(
    raw: Any,
    names: Sequence[str] | None,
    caps: Any,
    universe: Any,
    winsor: float,
    min_styles: int | None,
    orthogonalize: Mapping[str, Sequence[str]] | None,
    inplace: bool,
) -> Prepared:
    """Checks and coerces the arguments of :func:`standardize_exposures`."""
    x = _as_float64(raw, "raw")
    if x.ndim != 3:
        raise ShapeError(f"raw has {x.ndim} dimensions; pass (n_styles, n_assets, n_dates)")
    if not inplace or x is not raw:
        x = x.copy()
    k, n, t = x.shape
    labels = tuple(names) if names is not None else tuple(f"style{i}" for i in range(k))
    if len(labels) != k or len(set(labels)) != k:
        raise InvalidParameterError(
            f"names must be {k} distinct names, one per style; got {labels}"
        )
    cap = None if caps is None else panel(caps, "caps")
    if cap is not None and cap.shape != (n, t):
        raise ShapeError(f"caps has shape {cap.shape}; pass ({n}, {t}) like one style of raw")
    uni: NDArray[np.bool_] | None = None
    if universe is not None:
        uni = np.ascontiguousarray(universe, dtype=bool)
        if uni.shape != (n, t):
            raise ShapeError(f"universe has shape {uni.shape}; pass ({n}, {t}) booleans")
    ms = (k + 1) // 2 if min_styles is None else min_styles
    if isinstance(ms, bool) or not isinstance(ms, int) or not 1 <= ms <= max(k, 1):
        raise InvalidParameterError(f"invalid min_styles={ms!r}: expected an integer in 1..{k}")
    orth = []
    for target, regs in (orthogonalize or {}).items():
        unknown = [s for s in (target, *regs) if s not in labels]
        if unknown:
            raise InvalidParameterError(f"orthogonalize names {unknown} are not styles {labels}")
        orth.append((labels.index(target), [labels.index(r) for r in regs]))
    return Prepared(labels, x, cap, uni, float(winsor), ms, orth)
