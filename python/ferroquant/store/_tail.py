"""Append tails of bars: the newest bars of each symbol, kept apart from its sealed blocks.

Appending a day to a 256-day block rewrites the whole block (~8 KB of bars per symbol, ~68 MB
with the indicator blocks for a 4,000-symbol daily update: measured 425 ms). Instead, bars *after*
every day of a symbol's blocks go to ``bar_tail``: one matrix row per run of 256 symbol ids
(:mod:`ferroquant.store._runs`), so a daily update of 4,000 symbols rewrites 16 rows. Every
other write (bulk loads, corrections of older days) takes the block path of
:mod:`ferroquant.store._blocks`; an append that would give a symbol :data:`TAIL_MAX` tail bars
takes it too, the tail folded first. :func:`last_bars` reads a tail and then the blocks.

Folding. A run's tail moves into the blocks ("folds") on the write that makes it hold
:data:`TAIL_MAX` days, or whose newest day has ``(phase(day) + run) % FOLD_EVERY == 0``
(:func:`phase` counts business days): each trading day folds a different 1/16 of the runs, so
no day folds them all, and a run's symbols have consecutive ids, so their blocks share B-tree
pages. A fold appends to the blocks inside SQLite (the tail's days follow theirs). Amortised,
a daily update of ``N`` symbols rewrites the ``N / 256`` tail rows (~8 days per symbol on
average, 16 at most unless a holiday skips a fold) and the last blocks of ``N / 16`` symbols:
~7 MB for 4,000 symbols with the indicator tails, instead of ~68 MB (measured: ~85 ms for the
bars and the job's indicator stage, also after weeks of updates).
"""

from __future__ import annotations

import json
import math
import sqlite3
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ferroquant.errors import UnknownSymbolError
from ferroquant.store._bars import Bars, to_dates
from ferroquant.store._runs import RUN_SHIFT, Run, load_runs, runs_of, save_runs, symbol_cells

__all__ = ["FOLD_EVERY", "TAIL_MAX", "BarRouting", "due", "last_bars", "phase", "route_bars"]

TAIL_MAX = 48
"""A tail row never holds this many days: it folds first."""

FOLD_EVERY = 16
"""A run also folds on the trading days ``d`` with ``(phase(d) + run) % FOLD_EVERY == 0``."""

_NF = 6
_CLOSE = 3
_ALL = (-(2**31), 2**31 - 1)
_INT_MAX = 2**62


_EPOCH = np.datetime64(0, "D")


def phase(day: int) -> int:
    """Business days (Monday to Friday) from 1970-01-01 to ``day``: each trading day a new one.

    Examples
    --------
    >>> [phase(d) for d in (19723, 19724, 19725, 19726, 19727)]  # Mon 2024-01-01 .. Fri
    [14087, 14088, 14089, 14090, 14091]
    >>> phase(19728), phase(19729), phase(19730)  # Sat, Sun, Mon
    (14092, 14092, 14092)
    """
    return int(np.busday_count(_EPOCH, np.datetime64(day, "D")))


def due(run: Run) -> bool:
    """Whether ``run``, just changed, folds now."""
    return bool(run.days.size >= TAIL_MAX or (run.run + phase(int(run.days[-1]))) % FOLD_EVERY == 0)


class BarRouting:
    """The outcome of :func:`route_bars`: tail rows to write and bars to fold."""

    def __init__(self) -> None:
        self.changed = 0
        self.stat_rows: list[tuple[Any, ...]] = []  # (symbol, bars added, first, last, close)
        self.fold: list[tuple[NDArray[Any], NDArray[Any], NDArray[np.float64]]] = []
        self.runs: list[Run] = []

    def fold_rows(self) -> tuple[NDArray[Any], NDArray[Any], NDArray[np.float64]]:
        """The folded bars, sorted by ``(symbol, day)``."""
        if not self.fold:
            return np.empty(0, np.int64), np.empty(0, np.int32), np.empty((0, _NF))
        sid = np.concatenate([f[0] for f in self.fold])
        day = np.concatenate([f[1] for f in self.fold])
        vals = np.concatenate([f[2] for f in self.fold])
        order = np.lexsort((day, sid))
        return sid[order], day[order], vals[order]

    def apply(self, c: sqlite3.Connection) -> None:
        """Write the tail rows (the folds go through the block path of the caller)."""
        save_runs(c, "bar_tail", self.runs)

    def _fold(self, run: Run, keep: NDArray[np.bool_] | None = None) -> Run:
        s, _, d, v = run.cells(keep)
        self.fold.append((s, d, v))
        return run.without(np.ones(run.sids.size, bool) if keep is None else keep)


def route_bars(
    c: sqlite3.Connection, sid: NDArray[Any], day: NDArray[Any], vals: NDArray[np.float64]
) -> tuple[NDArray[np.bool_], BarRouting]:
    """Split rows sorted by ``(sid, day)``: appends merge into the tails (the returned routing),
    the rest (the returned mask) takes the block path."""
    out = BarRouting()
    cut = np.flatnonzero(sid[1:] != sid[:-1]) + 1
    a, b = np.r_[0, cut], np.r_[cut, sid.size]
    us = sid[a]
    rows = c.execute(
        "SELECT symbol_id, last_day + 1 FROM bar_stats "
        "WHERE symbol_id IN (SELECT value FROM json_each(?))",
        (json.dumps(us.tolist()),),
    ).fetchall()
    bound = np.full(us.size, _INT_MAX, np.int64)
    if rows:
        pos = np.searchsorted(us, np.fromiter((r[0] for r in rows), np.int64, len(rows)))
        bound[pos] = np.fromiter((r[1] for r in rows), np.int64, len(rows))
    runs = load_runs(c, "bar_tail", runs_of(us), _NF, *_ALL)
    n_tail = np.zeros(us.size, np.int64)
    for r in runs.values():  # a symbol's tail starts its appends
        held = r.mask[:, 0, :]
        pos = np.minimum(np.searchsorted(us, r.sids), us.size - 1)
        mine = (us[pos] == r.sids) & held.any(axis=1)
        n_tail[pos[mine]] = held[mine].sum(axis=1)
        bound[pos[mine]] = r.days[held[mine].argmax(axis=1)]
    to_blocks = day < np.repeat(bound, b - a)
    n_new = (b - a) - np.add.reduceat(to_blocks.astype(np.int64), a)
    long = (n_new > 0) & (n_tail + n_new >= TAIL_MAX)  # through the blocks, the tail first
    to_blocks |= np.repeat(long, b - a)
    gone = us[long & (n_tail > 0)]
    merge = ~to_blocks
    run_of = sid >> RUN_SHIFT
    for k in sorted(set(runs) | set(np.unique(run_of[merge]).tolist())):
        r = runs.get(k) or Run.empty(k, _NF)
        drop = np.isin(r.sids, gone)
        if drop.any():
            r = out._fold(r, drop)
        sel = merge & (run_of == k)
        if sel.any():
            r = _merge(out, r, sid[sel], day[sel], vals[sel])
        if drop.any() or sel.any():
            out.runs.append(r)
    return to_blocks, out


def _merge(
    out: BarRouting, r: Run, sid: NDArray[Any], day: NDArray[Any], vals: NDArray[np.float64]
) -> Run:
    r, changed, new = r.merge(sid, np.zeros(sid.size, np.int32), day, vals, nan_keeps=True)
    if not changed.any():
        return r
    out.changed += int(np.count_nonzero(changed))
    syms, inverse = np.unique(sid, return_inverse=True)
    added = np.bincount(inverse, new, syms.size).astype(np.int64)
    touched = np.bincount(inverse, changed, syms.size) > 0
    ri = np.searchsorted(r.sids, syms[touched])
    held = r.mask[ri, 0, :]
    li = r.days.size - 1 - held[:, ::-1].argmax(axis=1)
    close = [None if math.isnan(x) else x for x in r.vals[ri, 0, li, _CLOSE].tolist()]
    out.stat_rows.extend(
        zip(
            syms[touched].tolist(),
            added[touched].tolist(),
            r.days[held.argmax(axis=1)].tolist(),
            r.days[li].tolist(),
            close,
            strict=True,
        )
    )
    return out._fold(r) if due(r) else r


_LAST_BARS = f"""
SELECT {2**31} AS block, days, vals, sids, mask, s.id FROM bar_tail
JOIN symbols s ON s.symbol = ?1 WHERE run = s.id >> {RUN_SHIFT}
UNION ALL SELECT block, days, bars, NULL, NULL, NULL FROM bar_blocks
WHERE symbol_id = (SELECT id FROM symbols WHERE symbol = ?1)
ORDER BY 1 DESC
"""
# One statement (one snapshot: a fold committing meanwhile cannot show a bar twice); a merge of
# two index-ordered scans, so it stops after the blocks it needs.


def last_bars(c: sqlite3.Connection, symbol: str, n: int) -> Bars:
    """The last ``n`` bars of ``symbol``: its tail, then its newest blocks until ``n`` bars."""
    n = max(n, 0)
    days_parts: list[bytes] = []
    val_parts: list[bytes] = []
    got = 0
    cur = c.execute(_LAST_BARS, (symbol,))
    for _, d, v, sids, mask, sid in cur:
        if got >= n and days_parts:
            break
        if sids is None:
            days_parts.append(d)
            val_parts.append(v)
        else:  # the tail row of the symbol's run
            td, tv = symbol_cells(sid, sids, d, mask, v, _NF)
            days_parts.append(td.tobytes())
            val_parts.append(tv.tobytes())
        got += len(days_parts[-1]) // 4
    cur.close()
    if (
        not days_parts
        and c.execute("SELECT 1 FROM symbols WHERE symbol = ?", (symbol,)).fetchone() is None
    ):
        raise UnknownSymbolError(f"symbol {symbol!r} is not in the store")
    days: NDArray[Any] = np.frombuffer(b"".join(reversed(days_parts)), np.int32)
    vals = np.frombuffer(b"".join(reversed(val_parts)), np.float64).reshape(-1, _NF)
    first = days.size - min(n, days.size)
    return Bars.from_arrays(symbol, to_dates(days[first:]), *vals[first:].T)
