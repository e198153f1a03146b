"""Covariance estimators from a returns panel ``(n_assets, n_dates)`` and a PSD check and repair.

Missing returns (NaN) are handled pairwise: each entry uses the dates on which both assets have a
return, around each asset's own mean over its valid dates. Pairwise estimates need not be PSD,
which is why :func:`repair_psd` exists and reports what it changed.

Examples
--------
>>> import numpy as np
>>> from ferroquant.portfolio import sample_covariance, repair_psd
>>> r = np.array([[0.01, -0.02, 0.03, 0.0], [0.02, -0.01, 0.02, 0.01]])
>>> np.round(sample_covariance(r), 6)
array([[0.000433, 0.000267],
       [0.000267, 0.0002  ]])
>>> fixed, report = repair_psd(np.array([[1.0, 2.0], [2.0, 1.0]]))
>>> report.clipped, round(report.min_eigenvalue, 6)
(1, -1.0)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ferroquant.errors import EmptyInputError, InvalidParameterError, ShapeError

Array = NDArray[np.float64]


def _panel(returns: object) -> tuple[Array, Array]:
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim != 2:
        raise ShapeError(f"returns must be (n_assets, n_dates), got shape {r.shape}")
    if r.shape[0] == 0 or r.shape[1] < 2:
        raise EmptyInputError("returns need at least one asset and two dates")
    if np.isinf(r).any():
        raise InvalidParameterError("returns hold inf; use NaN for missing returns")
    valid = np.isfinite(r)
    return r, valid.astype(np.float64)


def _weighted(returns: object, weights: Array) -> Array:
    """Pairwise weighted covariance: each pair uses its common dates and their own means (as
    ``pandas.DataFrame.cov`` does), debiased by ``W / (W - Σw²/W)`` (``1/(n-1)`` if unweighted)."""
    r, valid = _panel(returns)
    # Centre each asset first: the pairwise formula below is shift-invariant, centring only keeps
    # the sums small so that nothing cancels catastrophically.
    x = np.where(valid > 0, r, 0.0)
    count = valid.sum(axis=1)
    x = np.where(valid > 0, x - (x.sum(axis=1) / np.maximum(count, 1))[:, None], 0.0)
    xw, vw = x * weights, valid * weights
    wsum = vw @ valid.T
    sxy = xw @ x.T
    sx = xw @ valid.T  # sx[i, j]: weighted sum of asset i over the dates it shares with j
    with np.errstate(invalid="ignore", divide="ignore"):
        num = sxy - sx * sx.T / wsum
        denom = wsum - ((valid * weights**2) @ valid.T) / wsum
        out: Array = np.where(denom > 0, num / denom, np.nan)
    return out


def sample_covariance(returns: object) -> Array:
    """Pairwise sample covariance (``ddof=1``) of ``(n_assets, n_dates)`` returns."""
    r = np.asarray(returns, dtype=np.float64)
    return _weighted(r, np.ones(r.shape[-1] if r.ndim == 2 else 1))


def ewma_covariance(returns: object, halflife: float) -> Array:
    """Exponentially weighted covariance: the newest date has weight 1, one ``halflife`` older ½."""
    if not halflife > 0:
        raise InvalidParameterError(f"halflife={halflife} must be a positive number of dates")
    r = np.asarray(returns, dtype=np.float64)
    t = r.shape[-1] if r.ndim == 2 else 1
    w = 0.5 ** (np.arange(t - 1, -1, -1, dtype=np.float64) / halflife)
    return _weighted(r, w)


def ledoit_wolf(returns: object) -> tuple[Array, float]:
    """Ledoit-Wolf (2004) shrinkage toward a scaled identity; returns ``(covariance, shrinkage)``.

    Uses the dates on which every asset has a return (the estimator's formula needs a rectangular
    panel); the covariance is the maximum-likelihood one (``ddof=0``), as in the paper.
    """
    r, valid = _panel(returns)
    keep = valid.all(axis=0)
    if keep.sum() < 2:
        raise EmptyInputError(
            "ledoit_wolf needs at least two dates on which every asset has a return"
        )
    x = r[:, keep]
    x = x - x.mean(axis=1, keepdims=True)
    n, t = x.shape
    s = x @ x.T / t
    mu = float(np.trace(s)) / n
    delta = float(((s - mu * np.eye(n)) ** 2).sum()) / n
    x2 = x**2
    beta_bar = float(((x2 @ x2.T) / t - s**2).sum()) / (n * t)
    beta = min(beta_bar, delta)
    shrink = 0.0 if delta == 0 else beta / delta
    out: Array = shrink * mu * np.eye(n) + (1 - shrink) * s
    return out, shrink


@dataclass(frozen=True)
class PsdRepair:
    """What :func:`repair_psd` changed: eigenvalues raised, the smallest one before, the size of the
    change (Frobenius norm) and whether the matrix was already PSD (then nothing changed)."""

    clipped: int
    min_eigenvalue: float
    frobenius_change: float
    already_psd: bool


def repair_psd(matrix: object, floor: float = 0.0) -> tuple[Array, PsdRepair]:
    """Nearest symmetric matrix (Frobenius) with eigenvalues ``>= floor``, plus a report.

    A matrix that is already PSD (up to 1e-12 of its largest eigenvalue) is returned unchanged.
    """
    s = np.asarray(matrix, dtype=np.float64)
    if s.ndim != 2 or s.shape[0] != s.shape[1]:
        raise ShapeError(f"repair_psd needs a square matrix, got shape {s.shape}")
    if not np.all(np.isfinite(s)):
        raise InvalidParameterError(
            "the matrix holds NaN or inf; estimate it on complete data first"
        )
    sym = (s + s.T) / 2
    vals, vecs = np.linalg.eigh(sym)
    tol = 1e-12 * max(float(np.abs(vals).max(initial=0.0)), 1e-300)
    low = vals < floor - tol
    if not low.any():
        return sym, PsdRepair(0, float(vals.min(initial=0.0)), float(np.linalg.norm(sym - s)), True)
    fixed: Array = (vecs * np.maximum(vals, floor)) @ vecs.T
    fixed = (fixed + fixed.T) / 2
    report = PsdRepair(int(low.sum()), float(vals.min()), float(np.linalg.norm(fixed - s)), False)
    return fixed, report
