"""A dictionary-backed stand-in for ``ferroquant.store.Store`` (the subset the pipeline uses), so
the pipeline's planning and chunking are tested without SQLite."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ferroquant.sample import Panel


class MemStore:
    def __init__(self, panel: Panel) -> None:
        self.bars: dict[str, dict[np.datetime64, tuple[float, ...]]] = {}
        self.sector_of = dict(zip(panel.symbols, panel.sectors, strict=True))
        self.values: dict[tuple[str, str], dict[np.datetime64, float]] = {}
        self.writes: list[tuple[list[str], int, int]] = []  # symbols, first column, columns
        self.run_log: list[dict[str, Any]] = []
        self.add(panel)

    def add(self, panel: Panel) -> None:
        for i, s in enumerate(panel.symbols):
            rows = self.bars.setdefault(s, {})
            for j, d in enumerate(panel.dates):
                if not np.isnan(panel.close[i, j]):
                    rows[d] = tuple(
                        float(getattr(panel, f)[i, j])
                        for f in ("open", "high", "low", "close", "volume")
                    )

    def last_bar_dates(self) -> dict[str, np.datetime64]:
        return {s: max(rows) for s, rows in self.bars.items() if rows}

    def indicator_last_dates(self, name: str) -> dict[str, np.datetime64]:
        return {s: max(v) for (s, n), v in self.values.items() if n == name and v}

    def load_panel(self, symbols: Sequence[str] | None = None, start: Any = None) -> Panel:
        symbols = list(symbols if symbols is not None else sorted(self.bars))
        dates = sorted({d for s in symbols for d in self.bars[s] if start is None or d >= start})
        dates_arr = np.array(dates, dtype="datetime64[D]")
        arrays = np.full((5, len(symbols), len(dates)), np.nan)
        col = {d: j for j, d in enumerate(dates)}
        for i, s in enumerate(symbols):
            for d, row in self.bars[s].items():
                if d in col:
                    arrays[:, i, col[d]] = row
        return Panel(symbols, dates_arr, [self.sector_of[s] for s in symbols], *arrays)

    def write_indicators(
        self,
        outputs: Mapping[str, np.ndarray],
        symbols: Sequence[str],
        dates: np.ndarray,
        *,
        from_index: int = 0,
    ) -> None:
        self.writes.append((list(symbols), from_index, len(dates) - from_index))
        for name, block in outputs.items():
            for i, s in enumerate(symbols):
                store = self.values.setdefault((s, name), {})
                for j in range(from_index, len(dates)):
                    if dates[j] in self.bars[s]:
                        store[dates[j]] = float(block[i, j])

    def read_indicators(
        self,
        names: Sequence[str] | None = None,
        symbols: Sequence[str] | None = None,
        start: Any = None,
    ) -> tuple[dict[str, np.ndarray], list[str], np.ndarray]:
        symbols = list(symbols if symbols is not None else sorted(self.bars))
        names = list(names if names is not None else sorted({n for _, n in self.values}))
        dates = np.array(
            sorted(
                {
                    d
                    for (s, _), v in self.values.items()
                    if s in symbols
                    for d in v
                    if start is None or d >= start
                }
            ),
            dtype="datetime64[D]",
        )
        col = {d: j for j, d in enumerate(dates)}
        out = {}
        for n in names:
            block = np.full((len(symbols), len(dates)), np.nan)
            for i, s in enumerate(symbols):
                for d, v in self.values.get((s, n), {}).items():
                    if d in col:
                        block[i, col[d]] = v
            out[n] = block
        return out, symbols, dates

    def info(self) -> dict[str, Any]:
        return {"symbols": len(self.bars), "bars": sum(len(r) for r in self.bars.values())}

    def sectors(self) -> dict[str, str | None]:
        return dict(self.sector_of)

    def begin_run(self, params: Mapping[str, Any]) -> int:
        self.run_log.append({"params": dict(params)})
        return len(self.run_log)

    def finish_run(self, run_id: int, status: str, rows: Any, timings: Any) -> None:
        self.run_log[run_id - 1].update(status=status, rows=dict(rows), timings=dict(timings))
