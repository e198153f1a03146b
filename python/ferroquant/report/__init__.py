"""The HTML report of a job: store totals, stage timings, price/Bollinger/RSI plots for a few
symbols and the distribution of the latest RSI across the universe.

The page is self-contained (plots are embedded PNGs). Plots need matplotlib (the ``report`` extra);
without it the report still renders its tables and says why the plots are missing.

Examples
--------
>>> import tempfile, pathlib
>>> from ferroquant.report import render
>>> from ferroquant.report._data import ReportData
>>> text = render(ReportData(info={"symbols": 0}, latest_date=None), results=[], plots=False)
>>> "<html" in text and "no bars" in text
True
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import ferroquant
from ferroquant.report import _html
from ferroquant.report._data import ReportData, gather

__all__ = ["ReportResult", "render", "write_report"]


@dataclass
class ReportResult:
    """Where the report was written, and remarks about it (e.g. plots left out)."""

    path: Path
    notes: list[str] = field(default_factory=list)


_PRICE = {"adj_close": "adjusted close", "close": "close"}

Section = Callable[[bool], tuple[str, str] | None]


def _fmt(x: float, digits: int = 2) -> str:
    return "-" if math.isnan(x) else f"{x:,.{digits}f}"


def render(
    data: ReportData,
    results: Sequence[Any] = (),
    *,
    plots: bool = True,
    notes: list[str] | None = None,
    sections: Sequence[Section] = (),
) -> str:
    """The report as one HTML string (``notes`` collects remarks such as missing plots).

    ``sections`` come after the indicators' (the risk model, the optimisation): each is called
    with whether plots can be drawn and returns ``(title, html)``, or ``None`` to be left out."""
    notes = notes if notes is not None else []
    notes.extend(data.notes)
    if plots:
        from ferroquant.report import _plots

        why = _plots.available()
        if why:
            notes.append(why)
            plots = False
    info = data.info
    sections_html: list[tuple[str, str]] = []
    headline = [
        (f"{int(info.get('symbols', 0) or 0):,}", "symbols"),
        (f"{int(info.get('bars', 0) or 0):,}", "bars"),
        (str(data.latest_date) if data.latest_date is not None else "-", "latest bar"),
    ]
    if info.get("first_date") is not None:
        headline.insert(2, (str(info["first_date"]), "first bar"))
    sections_html.append(("", _html.cards(headline)))
    sections_html.extend(("", _html.note(n)) for n in notes)
    stage_rows = [
        (
            r.name,
            f"{r.seconds * 1e3:,.1f}",
            f"{r.items:,} {r.unit}".strip(),
            _fmt(r.throughput or float("nan"), 0),
            _fmt(r.peak_rss_mb, 0),
        )
        for r in results
    ]
    if stage_rows:
        timing = _html.table(["stage", "ms", "processed", "per second", "peak RSS MB"], stage_rows)
        png = _plots.stage_timings(*_timing_bars(results)) if plots else None
        if png:
            timing = _html.grid(timing, _html.figure(png, "Wall time per stage.", "stage timings"))
        sections_html.append(("Stage timings", timing))
    if data.latest_date is None:
        sections_html.append(("Universe", "<p>The store holds no bars yet.</p>"))
    if data.series:
        sections_html.append((f"Selected symbols ({data.selection})", _series(data, plots)))
    rsi = data.rsi_latest[~np.isnan(data.rsi_latest)]
    if rsi.size:
        stats = _html.table(
            ["symbols with RSI", "median", "RSI < 30", "RSI > 70"],
            [
                (
                    f"{rsi.size:,}",
                    _fmt(float(np.median(rsi)), 1),
                    int((rsi < 30).sum()),
                    int((rsi > 70).sum()),
                )
            ],
        )
        if data.sectors:
            stats += "<p></p>" + _html.table(
                ["sector", "n", "median RSI", "% > SMA50", "% > upper", "% < lower"],
                [
                    (n, k, _fmt(r, 1), _fmt(a, 0), _fmt(u, 0), _fmt(lo, 0))
                    for n, k, r, a, u, lo in data.sectors
                ],
            )
        png = _plots.rsi_histogram(data) if plots else None
        if png:
            fig = _html.figure(
                png,
                "Latest RSI 14 of every symbol (green: below 30, red: above 70).",
                "RSI distribution",
            )
            stats = _html.grid(fig, stats)
        sections_html.append(("Latest RSI 14 across the universe", stats))
    for make in sections:
        section = make(plots)
        if section is not None:
            sections_html.append(section)
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return _html.page(
        "ferroquant report",
        f"{info.get('path', '')} · generated {when}",
        sections_html,
        f"ferroquant {ferroquant.__version__} · indicators follow the reference pandas code "
        "(docs/conventions.md)",
    )


def _timing_bars(results: Sequence[Any]) -> tuple[list[str], list[float]]:
    """Stage names and times, with the parts of a stage (load, compute, store) under it."""
    names: list[str] = []
    seconds: list[float] = []
    for r in results:
        names.append(r.name)
        seconds.append(r.seconds)
        for part, sec in r.detail.get("seconds", {}).items():
            names.append(f"  └ {part}")
            seconds.append(sec)
    return names, seconds


def _series(data: ReportData, plots: bool) -> str:
    rows = [
        (
            s.symbol,
            s.sector or "",
            _fmt(s.last("close")),
            _fmt(s.last("sma50")),
            _fmt(s.last("bb_lower")),
            _fmt(s.last("bb_upper")),
            _fmt(s.last("rsi14"), 1),
        )
        for s in data.series
    ]
    body = _html.table(
        ["symbol", "sector", _PRICE[data.price], "SMA 50", "BB lower", "BB upper", "RSI 14"], rows
    )
    if plots:
        from ferroquant.report import _plots

        body += "<p></p>" + _html.grid(
            *(
                _html.figure(
                    _plots.symbol_panel(s, _PRICE[data.price]),
                    f"{s.symbol}: {_PRICE[data.price]}, SMA 50 and Bollinger 20/2 (top), "
                    "RSI 14 (bottom), last 12 months.",
                    f"{s.symbol} price and indicators",
                )
                for s in data.series
            )
        )
    return body


def write_report(
    store: Any,
    path: str | os.PathLike[str],
    *,
    results: Sequence[Any] = (),
    symbols: Sequence[str] | None = None,
    plots: bool = True,
    price: str = "adj_close",
    sections: Sequence[Section] = (),
) -> ReportResult:
    """Render the report for ``store`` and write it to ``path`` atomically."""
    path = Path(path)
    notes: list[str] = []
    data = gather(store, symbols, price=price)
    from ferroquant.report import _risk

    def risk(plots: bool) -> tuple[str, str] | None:
        # Read from the store: a model stored by an earlier run is shown too.
        return _risk.section(store, plots)

    text = render(data, results, plots=plots, notes=notes, sections=[risk, *sections])
    path.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target then rename: a reader never sees half a report.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
    return ReportResult(path, notes)
