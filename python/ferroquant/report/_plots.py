"""The report's figures, drawn with matplotlib (imported here only, lazily) and returned as
base64 PNG so that the HTML holds everything."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from ferroquant.report._data import ReportData, SymbolSeries

__all__ = ["available", "rsi_histogram", "stage_timings", "symbol_panel"]

_BLUE, _ORANGE, _GREY, _RED, _GREEN = "#1f5fa8", "#e07b00", "#9aa5b1", "#c0392b", "#1e8449"


def available() -> str | None:
    """``None`` when matplotlib can be imported, else why not (shown in the report)."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:  # the "report" extra is optional
        return f"matplotlib is not installed ({exc}); install ferroquant[report] for plots"
    return None


def _figure(width: float, height: float, rows: int = 1, ratios: Sequence[int] | None = None) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    axes = fig.subplots(rows, 1, sharex=True, height_ratios=ratios) if rows > 1 else fig.subplots()
    return fig, axes


def _encode(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _style(ax: Any) -> None:
    ax.grid(True, color="#e5e8ec", linewidth=0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.tick_params(labelsize=8)


def symbol_panel(s: SymbolSeries, label: str = "close") -> str:
    """Close with SMA 50 and Bollinger 20/2 above, RSI 14 with its 30/70 lines below."""
    fig, (top, bottom) = _figure(6.4, 3.6, rows=2, ratios=[3, 1])
    x = s.dates.astype("datetime64[D]").astype(object)
    lines = s.lines
    top.fill_between(x, lines["bb_lower"], lines["bb_upper"], color=_BLUE, alpha=0.12, lw=0)
    top.plot(x, lines["bb_upper"], color=_BLUE, lw=0.7, alpha=0.7, label="Bollinger 20/2")
    top.plot(x, lines["bb_lower"], color=_BLUE, lw=0.7, alpha=0.7)
    top.plot(x, lines["sma50"], color=_ORANGE, lw=1.0, label="SMA 50")
    top.plot(x, s.close, color="#222222", lw=1.1, label=label)
    top.set_title(f"{s.symbol}" + (f"  ·  {s.sector}" if s.sector else ""), fontsize=10, loc="left")
    top.legend(fontsize=7, loc="upper left", frameon=False, ncols=3)
    bottom.plot(x, lines["rsi14"], color="#6c3483", lw=0.9)
    bottom.axhline(70, color=_RED, lw=0.6, ls="--")
    bottom.axhline(30, color=_GREEN, lw=0.6, ls="--")
    bottom.set_ylim(0, 100)
    bottom.set_ylabel("RSI 14", fontsize=8)
    for ax in (top, bottom):
        _style(ax)
    fig.autofmt_xdate(rotation=0, ha="center")
    return _encode(fig)


def rsi_histogram(data: ReportData) -> str | None:
    """Distribution of the latest RSI 14 across the universe."""
    rsi = data.rsi_latest[~np.isnan(data.rsi_latest)]
    if not rsi.size:
        return None
    fig, ax = _figure(6.4, 2.8)
    bins = np.linspace(0, 100, 41)
    _, edges, patches = ax.hist(rsi, bins=bins, color=_GREY, edgecolor="white", lw=0.5)
    for patch, left in zip(patches, edges[:-1], strict=True):
        if left >= 70:
            patch.set_facecolor(_RED)
        elif left < 30:
            patch.set_facecolor(_GREEN)
    ax.axvline(float(np.median(rsi)), color="#111111", lw=1.3, ls="--", label="median")
    ax.set_xlim(0, 100)
    ax.set_xlabel("latest RSI 14", fontsize=8)
    ax.set_ylabel("symbols", fontsize=8)
    ax.legend(fontsize=7, frameon=False)
    _style(ax)
    return _encode(fig)


def stage_timings(names: Sequence[str], seconds: Sequence[float]) -> str | None:
    """Horizontal bars: wall time of each stage."""
    if not names:
        return None
    fig, ax = _figure(6.4, 0.45 * len(names) + 0.9)
    y = np.arange(len(names))[::-1]
    colors = [_GREY if n.startswith(" ") else _BLUE for n in names]
    ax.barh(y, seconds, color=colors, height=0.6)
    ax.set_yticks(y, labels=list(names))
    for yi, sec in zip(y, seconds, strict=True):
        ax.text(sec, yi, f"  {sec * 1e3:,.0f} ms", va="center", fontsize=8)
    ax.set_xlabel("seconds", fontsize=8)
    ax.set_xlim(0, max(*seconds, 1e-3) * 1.25)
    _style(ax)
    return _encode(fig)


def factor_returns(dates: Any, names: Sequence[str], cumulative: Any) -> str:
    """Lines: cumulative return of each style factor."""
    fig, ax = _figure(6.4, 3.2)
    for name, c in zip(names, cumulative, strict=True):
        ax.plot(dates, c, linewidth=1.0, label=name)
    ax.axhline(0.0, color=_GREY, linewidth=0.6)
    ax.legend(fontsize=7, ncol=2, frameon=False)
    ax.set_ylabel("cumulative return", fontsize=8)
    _style(ax)
    return _encode(fig)
