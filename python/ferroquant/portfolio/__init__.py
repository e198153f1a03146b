"""Portfolio optimisation with certificates (see :func:`optimize`).

Risk comes as a :class:`FactorModel` (never expanded to ``n × n``) or a dense covariance; the
structured interior-point method in Rust handles factor models, scipy is the reference path.
"""

from __future__ import annotations

from ferroquant.portfolio.certificate import Certificate
from ferroquant.portfolio.constraints import Constraints
from ferroquant.portfolio.estimators import (
    PsdRepair,
    ewma_covariance,
    ledoit_wolf,
    repair_psd,
    sample_covariance,
)
from ferroquant.portfolio.frontier import (
    Attribution,
    Frontier,
    RiskParity,
    efficient_frontier,
    risk_attribution,
    risk_parity,
)
from ferroquant.portfolio.problems import PortfolioResult, optimize
from ferroquant.portfolio.risk import FactorModel

__all__ = [
    "Attribution",
    "Certificate",
    "Constraints",
    "FactorModel",
    "Frontier",
    "PortfolioResult",
    "PsdRepair",
    "RiskParity",
    "efficient_frontier",
    "ewma_covariance",
    "ledoit_wolf",
    "optimize",
    "repair_psd",
    "risk_attribution",
    "risk_parity",
    "sample_covariance",
]
