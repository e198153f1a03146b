"""The report's optimisation section: weights, certificate, risk by factor, efficient frontier."""

from __future__ import annotations

from typing import Any

import numpy as np

from ferroquant.report import _html

__all__ = ["portfolio_section"]


def _pct(x: float, digits: int = 2) -> str:
    return f"{100 * x:.{digits}f} %"


def portfolio_section(out: Any, plots: bool) -> tuple[str, str]:
    """``(title, html)`` for an :class:`~ferroquant.pipeline.optimize_stage.OptimizeOutcome`."""
    res, inp, att = out.result, out.inputs, out.attribution
    cert = res.certificate
    cards = _html.cards(
        [
            (_pct(res.expected_return), "expected return (annual)"),
            (_pct(res.volatility), "volatility (annual)"),
            (str(len(out.holdings)), "holdings"),
            (f"{cert.status} · KKT {cert.kkt_residual:.1e}", f"{cert.iterations} iterations"),
        ]
    )
    order = np.argsort(-res.weights)[:15]
    weights = _html.table(
        ["symbol", "sector", "weight", "risk share"],
        [
            (
                inp.symbols[i],
                inp.sectors[i] or "",
                _pct(float(res.weights[i])),
                _pct(float(att.by_asset[i] / att.total), 1),
            )
            for i in order
            if res.weights[i] > 1e-9
        ],
    )
    risk = _html.table(
        ["source", "variance share"],
        [
            (
                inp.factor_names[k] if k < len(inp.factor_names) else f"factor {k + 1}",
                _pct(float(v / att.total), 1),
            )
            for k, v in enumerate(att.factor)
            if abs(v) >= 5e-4 * att.total  # leave out factors with no visible share
        ]
        + [("specific", _pct(att.specific / att.total, 1))],
    )
    body = cards + "<p></p>" + _html.grid(weights, risk)
    if plots and out.frontier is not None:
        png = _frontier_plot(out)
        fig = _html.figure(
            png,
            "Efficient frontier (long-only, cap per asset) of the statistical factor model, with "
            "the chosen portfolio.",
            "efficient frontier",
        )
        body = cards + "<p></p>" + _html.grid(weights, risk) + "<p></p>" + _html.grid(fig, "")
    s = out.settings
    title = (
        f"Optimised portfolio '{s.portfolio}' ({s.objective}, λ = {s.risk_aversion:g}, "
        f"cap {_pct(s.cap, 0)}, {inp.start} → {inp.end}; risk: {inp.source})"
    )
    return title, body


def _frontier_plot(out: Any) -> str:
    from ferroquant.report._plots import _BLUE, _ORANGE, _encode, _figure, _style

    fig, ax = _figure(6.4, 3.6)
    f = out.frontier
    ax.plot(100 * f.volatilities, 100 * f.returns, color=_BLUE, marker="o", ms=3, lw=1.5)
    ax.scatter(
        [100 * out.result.volatility],
        [100 * out.result.expected_return],
        color=_ORANGE,
        zorder=3,
        label="chosen",
    )
    ax.set_xlabel("volatility, % a year")
    ax.set_ylabel("expected return, % a year")
    ax.legend(frameon=False)
    _style(ax)
    return _encode(fig)
