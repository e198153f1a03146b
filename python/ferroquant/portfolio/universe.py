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
    source: str = "statistical"
    factor_names: tuple[str, ...] = ()


def stored_factor_model(
    store: Any, symbols: list[str], model: str = "default"
) -> tuple[FactorModel, NDArray[np.bool_], str, tuple[str, ...]] | None:
    """The latest risk model stored under ``model`` (``ferroquant run --factors``) for
    ``symbols``, annualised (the model is fitted on daily returns): loadings country + the
    symbol's industry + its style exposures, the factor covariance and specific variances of
    the latest date. Returns ``(model, which symbols it covers, description)`` or ``None`` when
    the store holds no such model (or it covers fewer than three of the symbols); the last item
    names the factors."""
    if not hasattr(store, "risk_covariance"):
        return None
    cov, exp = store.risk_covariance(model), store.risk_exposures(model)
    if cov is None or exp is None:
        return None
    day, names, f = cov
    _, styles, syms, values, spec = exp
    if not np.all(np.isfinite(f)):
        return None
    industries = list(names[1 : len(names) - len(styles)])
    column = {s: j for j, s in enumerate(syms)}
    sectors = store.sectors()
    b = np.full((len(symbols), len(names)), np.nan)
    d = np.full(len(symbols), np.nan)
    for row, sym in enumerate(symbols):
        j, sector = column.get(sym), sectors.get(sym)
        if j is None or sector not in industries:
            continue
        b[row] = 0.0
        b[row, 0] = 1.0
        b[row, 1 + industries.index(sector)] = 1.0
        b[row, 1 + len(industries) :] = values[:, j]
        d[row] = spec[j]
    ok = np.isfinite(b).all(axis=1) & np.isfinite(d) & (d >= 0)
    if ok.sum() < 3:
        return None
    described = f"risk model '{model}' of {day} ({len(names)} factors)"
    fm = FactorModel(b[ok], f * PERIODS_PER_YEAR, d[ok] * PERIODS_PER_YEAR)
    return fm, ok, described, tuple(names)


def inputs_from_store(
    store: Any,
    lookback: int = 504,
    n_factors: int = 10,
    price: str = "adj_close",
    min_coverage: float = 0.8,
    risk_model: str | None = "default",
) -> Inputs:
    """Returns over the last ``lookback`` bars of every stored symbol with at least
    ``min_coverage`` of them, turned into shrunk means and a risk model: the stored
    ``risk_model`` when the store has one (symbols it does not cover are left out), else a
    statistical model of the same returns."""
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
    symbols = [s for s, ok in zip(panel.symbols, keep, strict=True) if ok]
    sectors = [s for s, ok in zip(panel.sectors, keep, strict=True) if ok]
    r, last = rets[keep], px[keep, -1]
    stored = None if risk_model is None else stored_factor_model(store, symbols, risk_model)
    if stored is not None:
        model, covered, source, names = stored
        symbols = [s for s, ok in zip(symbols, covered, strict=True) if ok]
        sectors = [s for s, ok in zip(sectors, covered, strict=True) if ok]
        r, last = r[covered], last[covered]
    else:
        k = min(n_factors, len(symbols) - 1, r.shape[1] - 1)
        model, source = statistical_factor_model(r, k), f"statistical ({k} principal components)"
        names = tuple(f"PC{i + 1}" for i in range(k))
    return Inputs(
        symbols=symbols,
        mu=shrunk_mean_returns(r),
        model=model,
        last_price=last,
        start=str(panel.dates[-(lookback + 1) :][0]),
        end=str(panel.dates[-1]),
        sectors=sectors,
        source=source,
        factor_names=names,
    )
