"""Factor analytics over ``(n_assets, n_dates)`` panels (time along the last axis).

:func:`analyze` computes everything at once; the other functions compute one piece. The per-date
work (ranking with averaged ties, correlations, quantile sums) runs in Rust, parallel over dates,
with results independent of the thread count. See :mod:`ferroquant.factors.analytics` for the
exact definitions (those of alphalens).

Examples
--------
>>> import numpy as np
>>> from ferroquant import factors
>>> f = np.array([[1.0], [2.0], [3.0], [4.0]])
>>> factors.information_coefficient(f, np.array([[0.1], [0.2], [0.4], [0.3]]))
array([0.8])
"""

from __future__ import annotations

from ferroquant.factors.analytics import (
    QuantileReturns,
    assign_quantiles,
    forward_returns,
    information_coefficient,
    mean_ic,
    quantile_returns,
    quantile_turnover,
    rank_autocorrelation,
)
from ferroquant.factors.analyze import FactorAnalysis, analyze, analyze_many
from ferroquant.factors.risk_covariance import (
    FactorCovariance,
    eigen_adjust,
    factor_covariance,
    specific_risk,
)
from ferroquant.factors.risk_descriptors import STYLE_NAMES, Descriptors, risk_descriptors
from ferroquant.factors.risk_exposures import Exposures, standardize_exposures
from ferroquant.factors.risk_model import (
    RiskAttribution,
    RiskModel,
    exposures_and_factor_returns,
    portfolio_risk,
    risk_model,
)
from ferroquant.factors.risk_regression import FactorReturns, factor_returns

__all__ = [
    "STYLE_NAMES",
    "Descriptors",
    "Exposures",
    "FactorAnalysis",
    "FactorCovariance",
    "FactorReturns",
    "QuantileReturns",
    "RiskAttribution",
    "RiskModel",
    "analyze",
    "analyze_many",
    "assign_quantiles",
    "eigen_adjust",
    "exposures_and_factor_returns",
    "factor_covariance",
    "factor_returns",
    "forward_returns",
    "information_coefficient",
    "mean_ic",
    "portfolio_risk",
    "quantile_returns",
    "quantile_turnover",
    "rank_autocorrelation",
    "risk_descriptors",
    "risk_model",
    "specific_risk",
    "standardize_exposures",
]
