"""Optimiser inputs from price history: a statistical factor model and shrunk mean returns.

These are what ``ferroquant run`` and ``ferroquant optimize`` use when no fundamental risk model
is at hand. Both are deliberately plain and documented:

* :func:`statistical_factor_model` — principal components of the returns (``k`` factors,
  ``F = diag`` of their variances, ``B`` the loadings), specific variance the rest of each asset's
  variance, floored at 5 % of it so no asset looks riskless.
* :func:`shrunk_mean_returns` — annualised historical means pulled halfway to their
  cross-sectional average: raw means are mostly noise, and the optimiser amplifies noise.

Missing returns (listings, delistings, suspensions) are treated as zero after demeaning, which
shrinks a short-history asset's covariances toward zero rather than inventing data.

Examples
--------
>>> import numpy as np
>>> from ferroquant.portfolio.universe import statistical_factor_model
>>> rng = np.random.default_rng(0)
>>> r = rng.normal(0, 0.01, (30, 400)) + rng.normal(0, 0.01, 400)
>>> m = statistical_factor_model(r, 3)
>>> m.exposures.shape, bool(np.all(m.specific_var > 0))
((30, 3), True)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ferroquant.errors import EmptyInputError, InvalidParameterError
from ferroquant.portfolio.risk import FactorModel

Array = NDArray[np.float64]
PERIODS_PER_YEAR = 252


def _centred(returns: Array) -> tuple[Array, Array]:
    r = np.asarray(returns, dtype=np.float64)
    if r.ndim != 2 or r.shape[1] < 2:
        raise EmptyInputError(f"returns must be (n_assets, n_dates) with 2+ dates, got {r.shape}")
    valid = np.isfinite(r)
    count = np.maximum(valid.sum(axis=1), 1)
    mean = np.where(valid, r, 0.0).sum(axis=1) / count
    return np.where(valid, r - mean[:, None], 0.0), valid


def statistical_factor_model(
    returns: Array, n_factors: int = 10, annualise: bool = True
) -> FactorModel:
    """Principal-component factor model of ``(n_assets, n_dates)`` daily returns."""
    x, valid = _centred(returns)
    n, t = x.shape
    if not 1 <= n_factors < min(n, t):
        raise InvalidParameterError(
            f"n_factors={n_factors} must be between 1 and min(n_assets, n_dates) - 1 = "
            f"{min(n, t) - 1}"
        )
    scale = PERIODS_PER_YEAR if annualise else 1
    dof = np.maximum(valid.sum(axis=1) - 1, 1)
    # Top eigenpairs of the sample covariance X X' / (t - 1), through the smaller Gram matrix
    # (n × n or t × t): the same factors as an SVD of X at a fraction of its cost.
    if n <= t:
        vals, vecs = np.linalg.eigh(x @ x.T / (t - 1))
        top = np.argsort(vals)[::-1][:n_factors]
        u, lam = vecs[:, top], np.maximum(vals[top], 0.0)
    else:
        vals, vecs = np.linalg.eigh(x.T @ x / (t - 1))
        top = np.argsort(vals)[::-1][:n_factors]
        lam = np.maximum(vals[top], 0.0)
        u = (x @ vecs[:, top]) / np.sqrt(np.maximum(lam * (t - 1), 1e-300))
    b = u * np.sqrt(n)
    f = np.diag(lam / n) * scale
    total = (x * x).sum(axis=1) / dof * scale
    explained = (b * b) @ np.diag(f)
    spec = np.maximum(total - explained, 0.05 * total)
    spec = np.where(spec > 0, spec, 1e-8)
    return FactorModel(b, f, spec)


def shrunk_mean_returns(returns: Array, shrink: float = 0.5, annualise: bool = True) -> Array:
    """Historical mean returns pulled toward their cross-sectional mean by ``shrink``."""
    if not 0 <= shrink <= 1:
        raise InvalidParameterError(f"shrink={shrink} must be in [0, 1]")
    r = np.asarray(returns, dtype=np.float64)
    valid = np.isfinite(r)
    mean = np.where(valid, r, 0.0).sum(axis=1) / np.maximum(valid.sum(axis=1), 1)
    out: Array = (1 - shrink) * mean + shrink * float(mean.mean())
    return out * (PERIODS_PER_YEAR if annualise else 1)


@dataclass(frozen=True)
class Inputs:
    """Everything an optimisation of stored symbols needs; ``last_price`` values the weights."""

    symbols: list[str]
    mu: Array
    model: FactorModel
    last_price: Array
    start: str
    end: str
    sectors: list[str]


def inputs_from_store(
    store: Any,
    lookback: int = 504,
    n_factors: int = 10,
    price: str = "adj_close",
    min_coverage: float = 0.8,
) -> Inputs:
    """Returns over the last ``lookback`` bars of every stored symbol with at least
    ``min_coverage`` of them, turned into a statistical model and shrunk means."""
    last = store.last_bar_dates()
    if not last:
        raise EmptyInputError("the store has no bars; run `ferroquant ingest` or `ferroquant run`")
    end = max(last.values())
    start = end - np.timedelta64(int(lookback * 7 / 5) + 14, "D")
    panel = store.load_panel(start=start, end=end)
    px = panel.adj_close if price == "adj_close" and panel.adj_close is not None else panel.close
    px = px[:, -(lookback + 1) :]
    if px.shape[1] < 21:
        raise EmptyInputError(
            f"{px.shape[1]} bars are too few for a risk model; the optimiser needs at least 21"
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        rets = px[:, 1:] / px[:, :-1] - 1.0
    keep = np.isfinite(rets).mean(axis=1) >= min_coverage
    keep &= np.isfinite(px[:, -1])
    if keep.sum() < 3:
        raise EmptyInputError(
            f"only {int(keep.sum())} symbols have {min_coverage:.0%} of the last {lookback} bars"
        )
    r = rets[keep]
    k = min(n_factors, int(keep.sum()) - 1, r.shape[1] - 1)
    return Inputs(
        symbols=[s for s, ok in zip(panel.symbols, keep, strict=True) if ok],
        mu=shrunk_mean_returns(r),
        model=statistical_factor_model(r, k),
        last_price=px[keep, -1],
        start=str(panel.dates[-(lookback + 1) :][0]),
        end=str(panel.dates[-1]),
        sectors=[s for s, ok in zip(panel.sectors, keep, strict=True) if ok],
    )
