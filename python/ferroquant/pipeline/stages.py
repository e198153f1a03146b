"""The stages of the main job: ingest → indicators (computed and stored chunk by chunk) → summary
→ report."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ferroquant.errors import InvalidParameterError
from ferroquant.pipeline._framework import Context, StageResult
from ferroquant.pipeline._io import Writer, prefetch
from ferroquant.pipeline.incremental import (
    Work,
    load_window,
    pack,
    plan,
    regroup,
    subset,
    unpack,
)
from ferroquant.pipeline.indicator_sets import IndicatorSet, resolve_sets

__all__ = ["IndicatorStage", "IngestStage", "ReportStage", "SummaryStage", "embedded_source"]


@dataclass(frozen=True)
class Source:
    """Files to ingest: prices, and optionally sectors and corporate actions."""

    prices: Path
    sectors: Path | None = None
    corporate_actions: Path | None = None


def embedded_source() -> Source:
    """The real sample shipped in ``ferroquant/data`` (99 S&P 500 stocks, 2016-2021): a folder
    whose price, sector and corporate-action files the ingest finds by itself.

    Examples
    --------
    >>> sorted(p.name for p in embedded_source().prices.iterdir() if p.suffix != ".md")
    ['sample_corporate_actions.csv', 'sample_ohlcv.csv.gz', 'sample_sectors.csv']
    """
    root = resources.files("ferroquant") / "data"
    # An installed package lives on disk (wheel or editable install), so this is a real folder.
    return Source(Path(str(root)))


def _progress_callback(ctx: Context, description: str) -> Callable[[int, int], None]:
    task = ctx.progress.task(description, None)

    def report(done: int, total: int) -> None:
        task.update(done, total)

    return report


@dataclass
class IngestStage:
    """Read and validate the source files and upsert their bars (nothing is written when the
    data are invalid unless ``skip_invalid``). Re-ingesting the same files adds nothing."""

    source: Source | None = None
    skip_invalid: bool = False
    name: str = "ingest"

    def run(self, ctx: Context) -> StageResult:
        from ferroquant.ingest import ingest

        source = self.source or embedded_source()
        t0 = time.perf_counter()
        res = ingest(
            ctx.store,
            source.prices,
            skip_invalid=self.skip_invalid,
            sectors=source.sectors,
            corporate_actions=source.corporate_actions,
            progress=_progress_callback(ctx, "ingest"),
        )
        seconds = time.perf_counter() - t0
        detail: dict[str, Any] = {
            "rows_written": res.rows_written,
            "rows_skipped": res.rows_skipped,
            "symbols": res.symbols,
            "actions_written": res.actions_written,
        }
        if res.rows_skipped and res.report is not None:
            detail["problems"] = str(res.report)
        ctx.state["ingest"] = res
        return StageResult(self.name, seconds, res.rows_read, "rows", detail)


@dataclass
class IndicatorStage:
    """Compute the indicator sets for the symbols with new bars and store the new values.

    Symbols are loaded and computed ``chunk`` at a time (updates, which load only a short window,
    take ``16 * chunk``), and the new columns are written in batches of at most ``write_mb``, so
    the outputs of the whole universe never sit in memory at once. ``price`` is the series the
    indicators read: ``"close"`` or ``"adj_close"`` (then open, high and low are scaled by
    ``adj_close / close`` too). Before an update trusts the stored values, it recomputes the last
    stored bar from the loaded window and compares: a symbol whose history changed (re-adjusted
    after a split or dividend, or corrected) is recomputed from its first bar. With ``full``
    everything is recomputed.
    """

    sets: Sequence[str] | None = None
    full: bool = False
    chunk: int = 256
    price: str = "adj_close"
    write_mb: float = 8.0
    name: str = "indicators"

    def run(self, ctx: Context) -> StageResult:
        specs = resolve_sets(self.sets)
        if self.price not in PRICES:
            raise InvalidParameterError(f"price must be one of {PRICES}, got {self.price!r}")
        store = ctx.store
        result = StageResult(self.name, unit="bars")
        t_start = time.perf_counter()
        with ctx.timed(result, "plan"):
            last_bars = store.last_bar_dates()
            stored = [_set_last_dates(store, s) for s in specs]
            work = plan(last_bars, stored, full=self.full, chunk=self.chunk)
        histories = [s.history for s in specs]
        history = None if None in histories else max(h for h in histories if h is not None)
        if history is not None:
            work = regroup(work, self.chunk * 16)
        total = sum(len(w.symbols) for w in work)
        task = ctx.progress.task("indicators", total)
        writer = Writer(ctx, result, int(self.write_mb * 1e6))
        done = bars = redone = 0
        pending = list(work)
        while pending:
            batch, pending = pending, []
            # One bar more than the history: the check recomputes the last stored bar too.
            need = None if history is None else history + 1
            windows = ((w, *pw) for w in batch for pw in load_window(store, w, need))
            for w, panel, first_new in prefetch(ctx, result, windows):
                computed = self._compute(ctx, result, specs, panel)
                if w.since is not None and first_new > 0:
                    with ctx.timed(result, "check"):
                        stale = _changed_history(store, specs[0], panel, computed, first_new)
                    if stale:
                        # Their stored values rest on bars that changed: start them over.
                        redone += len(stale)
                        pending.append(Work(stale, None))
                        keep = np.setdiff1d(np.arange(len(panel.symbols)), _rows(panel, stale))
                        computed = {k: v[keep] for k, v in computed.items()}
                        panel = subset(panel, keep)  # noqa: PLW2901 (the rest goes on)
                if panel.symbols and first_new < panel.dates.size:
                    bars += int((~np.isnan(panel.close[:, first_new:])).sum())
                    writer.add(computed, panel.symbols, panel.dates, first_new)
                done += len(panel.symbols)
                task.update(done, total)
        writer.flush()
        result.seconds = time.perf_counter() - t_start
        result.items = bars
        result.detail.update(
            symbols=total,
            values=bars * sum(len(s.outputs) for s in specs),
            sets=[s.name for s in specs],
            mode="full" if self.full else "incremental",
            price=self.price,
            **({"history_changed": redone} if redone else {}),
        )
        return result

    def _compute(
        self, ctx: Context, result: StageResult, specs: list[IndicatorSet], panel: Any
    ) -> dict[str, Any]:
        with ctx.timed(result, "compute"):
            order = pack(panel.close)
            packed = panel if order is None else _reorder(panel, order)
            fields = _price_fields(packed, self.price)
            outputs: dict[str, Any] = {}
            for spec in specs:
                block = np.empty((len(spec.outputs), *panel.close.shape))
                spec.compute({f: fields[f] for f in spec.fields}, block)
                if order is not None:
                    block = unpack(block, order, panel.close)
                outputs.update(zip(spec.outputs, block, strict=True))
        return outputs


PRICES = ("close", "adj_close")
_CHECK_RTOL = 1e-9


def _price_fields(panel: Any, price: str) -> dict[str, Any]:
    fields = {f: getattr(panel, f) for f in ("open", "high", "low", "close")}
    adj = getattr(panel, "adj_close", None)
    if price == "adj_close" and adj is not None:  # a panel without adjusted closes: the closes
        ratio = adj / panel.close
        fields = {f: v * ratio for f, v in fields.items()}
        fields["close"] = adj
    return fields


def _rows(panel: Any, symbols: Sequence[str]) -> Any:
    want = set(symbols)
    return np.array([i for i, s in enumerate(panel.symbols) if s in want], dtype=np.intp)


def _changed_history(
    store: Any, spec: IndicatorSet, panel: Any, computed: dict[str, Any], first_new: int
) -> list[str]:
    """Symbols whose stored value on the last old bar differs from the one recomputed now (their
    bars before it changed since it was stored)."""
    name = spec.check
    day = panel.dates[first_new - 1]
    stored, symbols, _ = store.read_indicators(
        names=[name], symbols=panel.symbols, start=day, end=day
    )
    if name not in stored or not len(symbols):
        return []
    old = np.full(len(panel.symbols), np.nan)
    old[_rows(panel, symbols)] = np.asarray(stored[name])[:, -1]
    new = computed[name][:, first_new - 1]
    both = ~np.isnan(old) & ~np.isnan(new)
    differ = np.zeros(old.shape, dtype=bool)
    differ[both] = np.abs(new[both] - old[both]) > _CHECK_RTOL * np.abs(old[both])
    return [panel.symbols[i] for i in np.flatnonzero(differ)]


def _reorder(panel: Any, order: Any) -> Any:
    arrays = {
        name: np.take_along_axis(getattr(panel, name), order, axis=1)
        for name in ("open", "high", "low", "close", "volume", "adj_close")
        if getattr(panel, name, None) is not None
    }
    return replace(panel, **arrays)


def _set_last_dates(store: Any, spec: IndicatorSet) -> dict[str, np.datetime64]:
    # The outputs of a set are written together; the first one has a value on every bar after
    # its warm-up (SMA 20 with min_periods=1: every bar), so its last date is the set's.
    return dict(store.indicator_last_dates(spec.outputs[0]))


@dataclass
class SummaryStage:
    """Collect the store's totals (symbols, bars, date range) into ``ctx.state["summary"]``."""

    name: str = "summary"

    def run(self, ctx: Context) -> StageResult:
        info = ctx.store.info()
        ctx.state["summary"] = info
        return StageResult(self.name, items=int(info.get("symbols", 0) or 0), unit="symbols")


@dataclass
class ReportStage:
    """Write the HTML report (plots when matplotlib is installed) to ``path``."""

    path: Path
    symbols: Sequence[str] | None = None
    price: str = "adj_close"
    name: str = "report"

    def run(self, ctx: Context) -> StageResult:
        from ferroquant.report import write_report

        sections = []
        if "optimize" in ctx.state:
            from ferroquant.report._portfolio import portfolio_section

            out = ctx.state["optimize"]
            sections.append(lambda plots: portfolio_section(out, plots))
        written = write_report(
            ctx.store,
            self.path,
            results=ctx.results,
            symbols=self.symbols,
            price=self.price,
            sections=sections,
        )
        ctx.state["report"] = written
        return StageResult(self.name, items=1, unit="files", detail={"path": str(written.path)})
