"""What the report shows, read from the store (numpy only: no pandas, no plotting)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["ReportData", "SymbolSeries", "gather"]

FloatArray = NDArray[np.float64]
_PLOTTED = ("sma50", "bb_middle", "bb_upper", "bb_lower", "rsi14")
_LATEST = ("rsi14", "sma50", "bb_upper", "bb_lower")


@dataclass
class SymbolSeries:
    """One symbol's last year: closes and the plotted indicators (NaN where not stored)."""

    symbol: str
    sector: str | None
    dates: NDArray[np.datetime64]
    close: FloatArray
    lines: dict[str, FloatArray]

    def last(self, name: str) -> float:
        """The latest non-NaN value of ``close`` or an indicator (NaN when there is none)."""
        values = self.close if name == "close" else self.lines.get(name)
        if values is None:
            return float("nan")
        ok = np.flatnonzero(~np.isnan(values))
        return float(values[ok[-1]]) if ok.size else float("nan")


@dataclass
class ReportData:
    """Everything the report renders."""

    info: dict[str, Any]
    latest_date: np.datetime64 | None
    rsi_symbols: list[str] = field(default_factory=list)
    rsi_latest: FloatArray = field(default_factory=lambda: np.empty(0))
    series: list[SymbolSeries] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    selection: str = "as requested"
    price: str = "adj_close"
    sectors: list[tuple[str, int, float, float, float, float]] = field(default_factory=list)
    """Per sector: name, symbols, median RSI, % above SMA 50, % above / below the bands."""


def _latest(values: FloatArray) -> FloatArray:
    """The last non-NaN value of each row (NaN for rows without one)."""
    ok = ~np.isnan(values)
    idx = values.shape[1] - 1 - np.argmax(ok[:, ::-1], axis=1)
    out: FloatArray = values[np.arange(values.shape[0]), idx]
    out[~ok.any(axis=1)] = np.nan
    return out


def gather(
    store: Any,
    symbols: Sequence[str] | None = None,
    n_symbols: int = 4,
    days: int = 365,
    price: str = "adj_close",
) -> ReportData:
    """Read the report's data: store totals, the latest RSI 14 of every symbol and one year of
    prices (``price``: the series the indicators were computed on) and indicators for ``symbols``
    (default: the two lowest and two highest RSIs)."""
    info = dict(store.info())
    last_bars = store.last_bar_dates()
    if not last_bars:
        return ReportData(info, None)
    latest = max(last_bars.values())
    # Ten calendar days cover the latest bar of every symbol still trading.
    recent = latest - np.timedelta64(10, "D")
    values, names, _ = store.read_indicators(names=list(_LATEST), start=recent)
    data = ReportData(info, latest)
    sectors = store.sectors()
    if "rsi14" in values and len(names):
        last = {k: _latest(np.asarray(v, dtype=np.float64)) for k, v in values.items()}
        data.rsi_symbols, data.rsi_latest = list(names), last["rsi14"]
        if set(_LATEST) <= set(last):
            panel = store.load_panel(symbols=list(names), start=recent)
            data.sectors = _by_sector(names, _latest(_price(panel, price)), last, sectors)
    data.price = price
    if symbols is None:
        data.selection = "the lowest and highest latest RSI 14"
        symbols = (
            _extremes(data.rsi_symbols, data.rsi_latest, n_symbols) or sorted(last_bars)[:n_symbols]
        )
    unknown = [s for s in symbols if s not in last_bars]
    if unknown:
        data.notes.append(f"not in the store, not plotted: {', '.join(unknown)}")
        symbols = [s for s in symbols if s in last_bars]
    start = latest - np.timedelta64(days, "D")
    for symbol in symbols:
        panel = store.load_panel(symbols=[symbol], start=start)
        ind, ind_symbols, ind_dates = store.read_indicators(
            names=list(_PLOTTED), symbols=[symbol], start=start
        )
        lines = {}
        for name in _PLOTTED:
            line = np.full(panel.dates.shape, np.nan)
            if name in ind and len(ind_symbols):
                pos = np.searchsorted(panel.dates, ind_dates)
                inside = (pos < panel.dates.size) & (
                    panel.dates[np.minimum(pos, panel.dates.size - 1)] == ind_dates
                )
                line[pos[inside]] = np.asarray(ind[name])[0][inside]
            lines[name] = line
        data.series.append(
            SymbolSeries(symbol, sectors.get(symbol), panel.dates, _price(panel, price)[0], lines)
        )
    return data


def _price(panel: Any, price: str) -> FloatArray:
    values = getattr(panel, price, None)
    return np.asarray(panel.close if values is None else values, dtype=np.float64)


def _extremes(symbols: list[str], rsi: FloatArray, n: int) -> list[str]:
    ok = np.flatnonzero(~np.isnan(rsi))
    if not ok.size:
        return []
    order = ok[np.argsort(rsi[ok], kind="stable")]
    low = order[: n // 2]
    high = order[::-1][: n - low.size]
    picked = list(dict.fromkeys([*low.tolist(), *high.tolist()]))
    return [symbols[i] for i in picked]


def _by_sector(
    symbols: Sequence[str],
    close: FloatArray,
    last: dict[str, FloatArray],
    sectors: dict[str, str | None],
) -> list[tuple[str, int, float, float, float, float]]:
    labels = np.array([sectors.get(s) or "Unknown" for s in symbols])
    rows = []
    for sector in sorted(set(labels.tolist())):
        m = labels == sector
        rsi = last["rsi14"][m]
        rows.append(
            (
                sector,
                int(m.sum()),
                float(np.nanmedian(rsi)) if np.isfinite(rsi).any() else float("nan"),
                100.0 * float(np.mean(close[m] > last["sma50"][m])),
                100.0 * float(np.mean(close[m] > last["bb_upper"][m])),
                100.0 * float(np.mean(close[m] < last["bb_lower"][m])),
            )
        )
    return rows
