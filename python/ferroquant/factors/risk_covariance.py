"""Factor covariance and specific risk of the risk model.

:func:`factor_covariance` (``rust/src/risk/covariance.rs``): per date, exponentially weighted
zero-mean second moments of the factor returns up to that date, with a volatility half-life and a
(longer) correlation half-life, Newey-West terms with Bartlett weights ``1 - l / (L + 1)``,
``F = D R D``; negative eigenvalues of ``R`` (possible with Newey-West terms) are set to 0 and
counted; the volatility-regime adjustment multiplies ``F`` by the EW mean (half-life
``vra_half_life``) of the cross-sectional bias statistic ``B_t^2 = mean_k (f_kt / sigma_k,t-1)^2``.
A date whose factor returns are NaN (a skipped regression) repeats the previous matrix; ``F`` is
NaN until ``min_obs`` valid dates have been seen.

:func:`eigen_adjust`: the eigenfactor adjustment of one matrix by seeded Monte Carlo.

:func:`specific_risk` (``rust/src/risk/specific.rs``): EW mean of squared residuals per asset,
then Bayesian shrinkage of the volatility toward the cap-weighted mean of its size decile,
``v = q |s - m| / (D + q |s - m|)``; the result is the specific *variance*.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ferroquant import _core
from ferroquant._threads import current_threads
from ferroquant.errors import InvalidParameterError, ShapeError
from ferroquant.factors._engine import F64, check_int, panel

__all__ = ["FactorCovariance", "eigen_adjust", "factor_covariance", "specific_risk"]


@dataclass(frozen=True)
class FactorCovariance:
    """Factor covariance per date.

    Attributes
    ----------
    cov : ndarray, (n_dates, n_factors, n_factors)
        Daily covariance using the factor returns up to each date.
    vra : ndarray, (n_dates,)
        Volatility-regime multiplier applied (1 without the adjustment).
    repairs : ndarray, (n_dates,)
        1 where negative eigenvalues of the correlation matrix were set to 0.
    """

    cov: F64
    vra: F64
    repairs: F64


def factor_covariance(
    factor_returns: Any,
    *,
    vol_half_life: float = 84.0,
    corr_half_life: float = 504.0,
    nw_lags: int = 2,
    vra_half_life: float = 42.0,
    min_obs: int = 63,
) -> FactorCovariance:
    """EWMA factor covariance per date with Newey-West and volatility-regime adjustments.

    Parameters
    ----------
    factor_returns : array_like, (n_factors, n_dates)
        E.g. ``factor_returns(...).returns``.
    vol_half_life, corr_half_life : float
        Half-lives (dates) of the volatilities and the correlations.
    nw_lags : int
        Newey-West lags (0 = none).
    vra_half_life : float
        Half-life of the volatility-regime adjustment (0 = off).
    min_obs : int
        Valid dates needed before the first matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from ferroquant import factors
    >>> f = np.random.default_rng(1).normal(0, 0.01, (3, 300))
    >>> c = factors.factor_covariance(f, nw_lags=0, vra_half_life=0)
    >>> c.cov.shape, bool(np.isnan(c.cov[10]).all()), bool(np.allclose(c.cov[-1], c.cov[-1].T))
    ((300, 3, 3), True, True)
    """
    f = panel(factor_returns, "factor_returns")
    k, t = f.shape
    lags = check_int("nw_lags", nw_lags, 0)
    mo = check_int("min_obs", min_obs, 1)
    cov = np.empty((t, k, k))
    vra = np.empty(t)
    rep = np.empty(t)
    _core.risk_covariance(
        f,
        float(vol_half_life),
        float(corr_half_life),
        lags,
        float(vra_half_life),
        mo,
        cov,
        vra,
        rep,
    )
    return FactorCovariance(cov, vra, rep)


def eigen_adjust(
    cov: Any, *, n_sims: int = 100, n_periods: int = 252, scale: float = 1.2, seed: int = 0
) -> F64:
    """Eigenfactor-adjusted covariance (Menchero, Wang and Orr): seeded Monte Carlo.

    Each of ``n_sims`` draws simulates ``n_periods`` returns from ``cov``; the bias of the
    sample eigenvalues (``sqrt`` of the mean ratio of true to sample variance of each sample
    eigenportfolio, matched by rank) scaled by ``scale`` inflates the eigenvalues of ``cov``.
    The result depends only on ``seed``, never on the thread count.

    Examples
    --------
    >>> import numpy as np
    >>> from ferroquant import factors
    >>> c = np.array([[1.0, 0.9], [0.9, 1.0]])
    >>> a = factors.eigen_adjust(c, n_sims=50, n_periods=20, seed=3)
    >>> bool(np.allclose(a, a.T)), bool(np.linalg.eigvalsh(a)[0] > np.linalg.eigvalsh(c)[0])
    (True, True)
    """
    c = np.ascontiguousarray(cov, dtype=np.float64)
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise ShapeError(f"cov has shape {c.shape}; pass one square (n_factors, n_factors) matrix")
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**64:
        raise InvalidParameterError(f"invalid seed={seed!r}: expected an integer in [0, 2**64)")
    out = np.empty_like(c)
    _core.risk_eigen_adjust(
        c,
        check_int("n_sims", n_sims, 1),
        check_int("n_periods", n_periods, 2),
        float(scale),
        seed,
        out,
        current_threads(),
    )
    return out


def specific_risk(
    residuals: Any,
    size: Any = None,
    *,
    half_life: float = 84.0,
    min_obs: int = 42,
    shrinkage: float = 0.1,
    n_groups: int = 10,
) -> F64:
    """Specific variance per asset and date, shrunk toward size-decile means.

    Parameters
    ----------
    residuals : array_like, (n_assets, n_dates)
        E.g. ``factor_returns(...).residuals``.
    size : array_like, (n_assets, n_dates), optional
        Capitalisation (groups and weights of the shrinkage target); without it, no shrinkage.
    half_life : float
    min_obs : int
        Residuals needed before an asset has a specific risk.
    shrinkage : float
        The shrinkage intensity ``q`` (0 = none).
    n_groups : int
        Size groups (deciles by default); dates with fewer assets are not shrunk.

    Examples
    --------
    >>> import numpy as np
    >>> from ferroquant import factors
    >>> e = np.random.default_rng(2).normal(0, 0.02, (20, 200))
    >>> v = factors.specific_risk(e, np.ones((20, 200)), min_obs=10)
    >>> v.shape, bool(np.isnan(v[:, 5]).all()), bool((np.sqrt(v[:, -1]) < 0.03).all())
    ((20, 200), True, True)
    """
    e = panel(residuals, "residuals")
    s = None if size is None else panel(size, "size")
    if s is not None and s.shape != e.shape:
        raise ShapeError(f"size has shape {s.shape}; pass {e.shape} like residuals")
    out = np.empty_like(e)
    _core.risk_specific(
        e,
        s,
        float(half_life),
        check_int("min_obs", min_obs, 1),
        float(shrinkage),
        check_int("n_groups", n_groups, 1),
        out,
        current_threads(),
    )
    return out
