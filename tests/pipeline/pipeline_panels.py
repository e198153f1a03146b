"""Panel slicing shared by the pipeline tests (a module of its own: `conftest` is not importable
by name when several test folders have one)."""

from __future__ import annotations

from dataclasses import replace

from ferroquant.sample import Panel

__all__ = ["cut"]


def cut(panel: Panel, stop: int, start: int = 0, rows: slice = slice(None)) -> Panel:
    """Columns ``start:stop`` (and ``rows``) of a panel, as copies (tests may write to them)."""
    cols = slice(start, stop)
    return replace(
        panel,
        symbols=panel.symbols[rows],
        sectors=panel.sectors[rows],
        dates=panel.dates[cols].copy(),
        **{
            f: getattr(panel, f)[rows, cols].copy()
            for f in ("open", "high", "low", "close", "volume")
        },
    )
