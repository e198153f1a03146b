"""Overlapping the store's reads with the work, and batching its writes."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from ferroquant.pipeline._framework import Context, StageResult

__all__ = ["Writer", "prefetch"]


class Writer:
    """Collects the new columns of consecutive chunks that share their dates and writes them in
    one call (one transaction) once ``budget`` bytes are pending."""

    def __init__(self, ctx: Context, result: StageResult, budget: int) -> None:
        self.ctx, self.result, self.budget = ctx, result, budget
        self.parts: list[tuple[dict[str, Any], list[str]]] = []
        self.dates: Any = None
        self.nbytes = 0

    def add(self, outputs: dict[str, Any], symbols: list[str], dates: Any, first: int) -> None:
        new_dates = dates[first:]
        if self.dates is not None and not np.array_equal(new_dates, self.dates):
            self.flush()
        self.dates = new_dates
        cols = {k: v[:, first:] for k, v in outputs.items()}
        self.parts.append((cols, list(symbols)))
        self.nbytes += sum(v.nbytes for v in cols.values())
        if self.nbytes >= self.budget:
            self.flush()

    def flush(self) -> None:
        if not self.parts:
            return
        with self.ctx.timed(self.result, "store"):
            if len(self.parts) == 1:
                outputs, symbols = self.parts[0]
            else:
                outputs = {
                    k: np.concatenate([p[0][k] for p in self.parts]) for k in self.parts[0][0]
                }
                symbols = [s for p in self.parts for s in p[1]]
            self.ctx.store.write_indicators(outputs, symbols, self.dates)
        self.parts, self.dates, self.nbytes = [], None, 0


def prefetch(ctx: Context, result: StageResult, it: Iterator[Any]) -> Iterator[Any]:
    """The items of ``it``, each fetched by a worker thread while the previous one is used:
    SQLite reads (GIL released) overlap with the kernels and the writes. ``load`` times only
    the waits."""
    with ThreadPoolExecutor(1, thread_name_prefix="ferroquant-load") as pool:
        future = pool.submit(next, it, None)
        while True:
            with ctx.timed(result, "load"):
                item = future.result()
            if item is None:
                return
            future = pool.submit(next, it, None)
            yield item
