"""The :func:`ingest` job: read, validate, then write everything in one transaction."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ferroquant.errors import ValidationError
from ferroquant.ingest._read import (
    Table,
    bars_from_table,
    parse_dates,
    parse_numbers,
    read_source,
    read_table,
    scan,
)
from ferroquant.ingest._report import IngestResult, Problem, ValidationReport
from ferroquant.ingest._validate import validate
from ferroquant.store import Bars, Store

__all__ = ["Actions", "ingest", "read_corporate_actions", "read_sectors"]

CHUNK_ROWS = 250_000
"""Bars per ``write_bars`` call inside the one transaction (for progress reports)."""

PathArg = str | PathLike[str]


def read_sectors(path: PathArg) -> dict[str, tuple[str | None, str | None]]:
    """``symbol -> (sector, industry)`` from a CSV with ``symbol`` and ``sector`` columns
    (``industry`` optional; other columns such as ``name`` are ignored)."""
    return _sectors(read_table(path))


def _sectors(t: Table) -> dict[str, tuple[str | None, str | None]]:
    sym, sec = t.col("symbol"), t.col("sector")
    if sym is None or sec is None:
        raise ValidationError(f"{t.path}: a sectors file needs symbol and sector columns")
    ind = t.col("industry")
    industries = ind.tolist() if ind is not None else [None] * sym.size
    return {
        s.strip(): (x.strip() or None, (i or "").strip() or None)
        for s, x, i in zip(sym.tolist(), sec.tolist(), industries, strict=True)
    }


@dataclass
class Actions:
    """Corporate actions as columns: dividends in cash per share, splits as a ratio (1 = none)."""

    symbol: NDArray[np.str_]
    date: NDArray[np.datetime64]
    dividend: NDArray[np.float64]
    split: NDArray[np.float64]
    problems: list[Problem]


def read_corporate_actions(path: PathArg) -> Actions:
    """Read ``date,symbol,dividend_amount,split_coefficient`` (also ``dividends``/``split``)."""
    return _actions(read_table(path))


def _actions(t: Table) -> Actions:
    sym, d = t.col("symbol"), t.col("date")
    if sym is None or d is None:
        raise ValidationError(f"{t.path}: a corporate-actions file needs date and symbol columns")
    n = sym.size
    div_s, spl_s = t.col("dividend"), t.col("split")
    div = np.zeros(n) if div_s is None else parse_numbers(t, "dividend", div_s, sym, False)
    spl = np.ones(n) if spl_s is None else parse_numbers(t, "split", spl_s, sym, False)
    div, spl = np.nan_to_num(div, nan=0.0), np.where(np.isnan(spl) | (spl == 0), 1.0, spl)
    dates = parse_dates(t, d, sym)
    bad = (div < 0) | (spl < 0) | ~np.isfinite(div) | ~np.isfinite(spl)
    for i in np.flatnonzero(bad).tolist():
        t.problems.append(
            Problem(t.path, int(t.lines[i]), str(sym[i]), "negative dividend or split", "action", i)
        )
    return Actions(np.char.strip(sym), dates, div, spl, t.problems)


def ingest(
    store: Store,
    source: PathArg | Any,
    *,
    skip_invalid: bool = False,
    sectors: PathArg | None = None,
    corporate_actions: PathArg | None = None,
    progress: Callable[[int, int], None] | None = None,
    format: str | None = None,
) -> IngestResult:
    """Read, validate and upsert the bars of ``source`` (see :func:`read_source`).

    Parameters
    ----------
    store : Store
        Where to write.
    source : str, PathLike or pandas.DataFrame
        A file, a directory (its sector and corporate-action CSVs are used too, unless given)
        or a DataFrame.
    skip_invalid : bool
        Write the valid bars and report the others, instead of raising.
    sectors, corporate_actions : path, optional
        ``symbol,sector[,industry]`` and ``date,symbol,dividend_amount,split_coefficient`` files.
    progress : callable, optional
        Called as ``progress(bars_written, bars_total)``.
    format : str, optional
        Force the price-file format (``"symbol"``, ``"long"``, ``"wide"``).

    Raises
    ------
    ferroquant.errors.ValidationError
        The data are invalid (``.report`` lists every problem) and ``skip_invalid`` is false;
        nothing was written.
    """
    t0 = time.perf_counter()
    sector_map: dict[str, tuple[str | None, str | None]] = {}
    actions: list[Actions] = []
    if isinstance(source, str | PathLike) and Path(source).is_dir():
        found = scan(source)
        bars = _price_bars(found, format)
        sector_map = {k: v for t in found.get("sectors", []) for k, v in _sectors(t).items()}
        actions = [_actions(t) for t in found.get("actions", [])]
    else:
        bars = read_source(source, format=format)
    if sectors is not None:
        sector_map = read_sectors(sectors)
    if corporate_actions is not None:
        actions = [read_corporate_actions(corporate_actions)]
    report = validate(bars)
    action_problems = [p for a in actions for p in a.problems]
    if action_problems:  # never skipped: a wrong split would corrupt every adjusted close
        both = ValidationReport(report.problems + action_problems, report.valid_mask)
        raise ValidationError(f"invalid corporate actions, nothing was written\n{both}", both)
    if not report.ok and not skip_invalid:
        raise ValidationError(f"invalid input, nothing was written\n{report}", report)
    good = bars if report.ok else bars.take(np.flatnonzero(report.valid_mask))
    report.written = True
    written, n_actions, derived = _write(store, good, sector_map, actions, progress)
    if len(good) >= 100_000:
        store.optimize()  # fresh planner statistics after a bulk load
    n_lines = len(bars) + sum(1 for p in report.problems if p.row < 0)
    return IngestResult(
        rows_read=n_lines,
        rows_written=written,
        rows_skipped=n_lines - len(good),
        symbols=len(np.unique(good.symbol.astype(str))),
        seconds=time.perf_counter() - t0,
        actions_written=n_actions,
        adj_close_derived=derived,
        report=report,
    )


def _price_bars(found: dict[str, list[Table]], format: str | None) -> Bars:
    parts = [
        bars_from_table(t, format or kind)
        for kind, tables in found.items()
        if kind in ("symbol", "long", "wide")
        for t in tables
    ]
    if not parts:
        raise ValidationError("no price file found in the directory")
    return parts[0] if len(parts) == 1 else Bars.concat(parts)


def _write(
    store: Store,
    bars: Bars,
    sector_map: dict[str, tuple[str | None, str | None]],
    actions: list[Actions],
    progress: Callable[[int, int], None] | None,
) -> tuple[int, int, int]:
    symbols = np.unique(bars.symbol.astype(str))
    known = set(store.symbols()) | set(symbols.tolist())
    n, written, n_actions = len(bars), 0, 0
    with store.transaction():
        names = sorted(s for s in sector_map if s in known)
        store.upsert_symbols(
            symbols.tolist() + names,
            [None] * symbols.size + [sector_map[s][0] for s in names],
            [None] * symbols.size + [sector_map[s][1] for s in names],
        )
        if progress:
            progress(0, n)
        # Chunks split at symbol boundaries, so no block is merged twice.
        order = np.argsort(bars.symbol.astype(str), kind="stable")
        sym_sorted = bars.symbol.astype(str)[order]
        cuts = np.flatnonzero(sym_sorted[1:] != sym_sorted[:-1]) + 1
        start = 0
        while start < n:
            k = int(np.searchsorted(cuts, start + CHUNK_ROWS))
            stop = int(cuts[k]) if k < cuts.size else n
            written += store.write_bars(bars.take(order[start:stop]))
            start = stop
            if progress:
                progress(start, n)
        for a in actions:
            keep = np.isin(a.symbol, list(known))
            n_actions += store.write_corporate_actions(
                a.symbol[keep].tolist(), a.date[keep], a.dividend[keep], a.split[keep]
            )
        derived = store.derive_adj_close(symbols.tolist())
    return written, n_actions, derived
