"""The factor stage of the main job: fit the risk model on the stored universe and store it.

Runs after the indicators when ``ferroquant run --factors`` is given: loads every symbol's adjusted
closes and volumes, takes the GICS sectors of the store as industries (symbols without one are
left out of the regressions, and counted), fits :func:`ferroquant.factors.risk_model` and writes
factor returns and covariance of every date and the latest exposures under the model name.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ferroquant.pipeline._framework import Context, StageResult

__all__ = ["FactorStage"]


@dataclass
class FactorStage:
    """Fit and store the risk model (see the module docstring)."""

    price: str = "adj_close"
    model: str = "default"
    name: str = "factors"

    def run(self, ctx: Context) -> StageResult:
        from ferroquant import factors

        result = StageResult(self.name, unit="factor-dates")
        with ctx.timed(result, "load"):
            panel = ctx.store.load_panel()
        n, t = panel.shape
        if n == 0 or t == 0:
            result.detail["skipped"] = "the store holds no bars"
            return result
        close = (
            panel.adj_close
            if self.price == "adj_close" and panel.adj_close is not None
            else panel.close
        )
        sectors = [s if s else None for s in panel.sectors]
        if all(s is None for s in sectors):
            result.detail["skipped"] = "no symbol has a sector; ingest a symbol,sector file"
            return result
        with ctx.timed(result, "compute"):
            model = factors.risk_model(close, sectors, panel.volume)
        with ctx.timed(result, "store"):
            rows = ctx.store.write_risk_model(self.model, panel.symbols, panel.dates, model)
        fr = model.factor_returns
        regressed = int(np.isfinite(fr.r2).sum())
        ctx.state["risk_model"] = {"model": self.model, "result": model, "symbols": panel.symbols}
        result.items = regressed * len(model.exposures.names)
        result.detail.update(
            model=self.model,
            dates_regressed=regressed,
            factors=len(fr.names),
            rows_written=rows,
            mean_r2=float(np.nanmean(fr.r2)) if regressed else None,
            imputed=int(model.exposures.imputed.sum()),
            dropped=int(model.exposures.dropped.sum()),
        )
        return result
