"""The report's risk-model section: cumulative style factor returns and the latest exposures,
read back from the store (written by the job's factor stage)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ferroquant.report import _html

__all__ = ["section"]


def section(store: Any, plots: bool, model: str = "default") -> tuple[str, str] | None:
    """``(title, html)`` of the section, or ``None`` when the store holds no model (or is a
    store-like object without risk tables)."""
    if not hasattr(store, "risk_factor_returns"):
        return None
    dates, names, ret, _ = store.risk_factor_returns(model)
    if len(dates) == 0:
        return None
    exp = store.risk_exposures(model)
    styles = exp[1] if exp is not None else []
    idx = [names.index(s) for s in styles if s in names]
    cum = np.cumprod(1.0 + ret[idx], axis=1) - 1.0 if idx else np.zeros((0, len(dates)))
    body = _html.table(
        ["style", "cumulative return", "mean daily return", "daily vol"],
        [
            (names[i], f"{c[-1]:+.2%}", f"{r.mean():+.4%}", f"{r.std():.4%}")
            for i, c, r in zip(idx, cum, ret[idx], strict=True)
        ],
    )
    if plots and idx:
        from ferroquant.report import _plots

        png = _plots.factor_returns(dates, [names[i] for i in idx], cum)
        body = _html.grid(
            _html.figure(png, "Cumulative style factor returns.", "factor returns"), body
        )
    if exp is not None:
        day, styles, syms, vals, spec = exp
        order = np.argsort(
            -vals[styles.index("size")] if "size" in styles else np.arange(len(syms))
        )
        rows = [
            (
                syms[j],
                *(f"{vals[s, j]:+.2f}" for s in range(len(styles))),
                f"{np.sqrt(spec[j]):.2%}",
            )
            for j in order[:15]
        ]
        body += f"<p>Latest exposures ({day}), the 15 largest names by size:</p>" + _html.table(
            ["symbol", *styles, "specific vol"], rows
        )
    n_days = len(dates)
    return (f"Risk model ({n_days:,} dates, {len(names)} factors)", body)
