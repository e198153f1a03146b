"""The optimisation stage of the main job (also what ``ferroquant optimize`` runs).

From the stored prices it builds a statistical factor model and shrunk mean returns
(:mod:`ferroquant.portfolio.universe`), solves the chosen problem with a certificate, stores the
weights as a portfolio (quantities = weight × notional / last price, so the valuation query values
them), and keeps the risk attribution and an efficient frontier for the report.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ferroquant.errors import EmptyInputError
from ferroquant.pipeline._framework import Context, StageResult
from ferroquant.portfolio import (
    Attribution,
    Constraints,
    Frontier,
    PortfolioResult,
    efficient_frontier,
    optimize,
    risk_attribution,
)
from ferroquant.portfolio.universe import Inputs, inputs_from_store

__all__ = ["OptimizeOutcome", "OptimizeSettings", "OptimizeStage", "optimize_store"]


@dataclass(frozen=True)
class OptimizeSettings:
    """What to solve: ``objective`` with ``risk_aversion`` (λ, or δ for utility) or ``target``,
    long-only with a per-asset ``cap``, on ``lookback`` bars; the risk model is the stored one
    when there is one, else ``n_factors`` statistical factors."""

    objective: str = "mean_volatility"
    risk_aversion: float = 1.0
    target: float | None = None
    cap: float = 0.10
    portfolio: str = "optimized"
    notional: float = 1_000_000.0
    lookback: int = 504
    n_factors: int = 10
    price: str = "adj_close"
    frontier_points: int = 15
    #: Use this stored risk model (``ferroquant run --factors``) when the store has it; ``None``:
    #: always the statistical model.
    risk_model: str | None = "default"


@dataclass(frozen=True)
class OptimizeOutcome:
    settings: OptimizeSettings
    inputs: Inputs
    result: PortfolioResult
    attribution: Attribution
    frontier: Frontier | None
    holdings: dict[str, float]


def optimize_store(
    store: Any, settings: OptimizeSettings, frontier: bool = True
) -> OptimizeOutcome:
    """Solve for the stored universe and write the weights as portfolio ``settings.portfolio``."""
    inputs = inputs_from_store(
        store, settings.lookback, settings.n_factors, settings.price, risk_model=settings.risk_model
    )
    cons = Constraints(upper=settings.cap)
    result = optimize(
        inputs.mu,
        inputs.model,
        settings.objective,
        risk_aversion=settings.risk_aversion,
        target=settings.target,
        constraints=cons,
    )
    held = result.weights > 1e-9
    holdings = {
        s: float(w * settings.notional / p)
        for s, w, p, h in zip(inputs.symbols, result.weights, inputs.last_price, held, strict=True)
        if h
    }
    store.write_holdings(settings.portfolio, holdings)
    front = None
    if frontier and settings.frontier_points >= 2:
        front = efficient_frontier(inputs.mu, inputs.model, cons, points=settings.frontier_points)
    return OptimizeOutcome(
        settings, inputs, result, risk_attribution(result.weights, inputs.model), front, holdings
    )


@dataclass
class OptimizeStage:
    """Optimise the stored universe (see :func:`optimize_store`) and hand the outcome to the
    report."""

    settings: OptimizeSettings = OptimizeSettings()
    name: str = "optimize"

    def run(self, ctx: Context) -> StageResult:
        t0 = time.perf_counter()
        try:
            out = optimize_store(ctx.store, self.settings)
        except EmptyInputError as exc:
            # Too little history for a risk model is a normal state of a young store, not a
            # failure of the job: say so and carry on.
            return StageResult(
                self.name, time.perf_counter() - t0, 0, "assets", {"skipped": str(exc)}
            )
        ctx.state["optimize"] = out
        cert = out.result.certificate
        detail = {
            "objective": self.settings.objective,
            "status": cert.status,
            "kkt_residual": cert.kkt_residual,
            "expected_return": out.result.expected_return,
            "volatility": out.result.volatility,
            "holdings": len(out.holdings),
            "portfolio": self.settings.portfolio,
            "risk_model": out.inputs.source,
            "largest_weight": float(np.max(out.result.weights)),
        }
        return StageResult(
            self.name, time.perf_counter() - t0, len(out.inputs.symbols), "assets", detail
        )
