"""Append tails of indicator values: ``indicator_tail``, one matrix row per run of symbols.

A short write (fewer than :data:`~ferroquant.store._tail.TAIL_MAX` dates: the daily update)
merges into the tails instead of rewriting each ``(indicator, symbol)``'s last block (measured:
24,000 per-``(indicator, symbol)`` rows take ~60 ms to read and rewrite; 16 run rows ~5 ms).
A row's layers are the indicator ids; its mask tells the cells written (an indicator not
written on a day has no value there, like a day missing from its block). On a day held by both
a tail and a block, the tail wins: the tail is always the newer write. Folding (the rule of
:func:`~ferroquant.store._tail.due`) merges a run into the blocks with the block write, where
it overrides the same way.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ferroquant.store._runs import RUN_SHIFT, Run, load_runs, runs_of, save_runs
from ferroquant.store._tail import due

__all__ = ["Fold", "Run", "last_days", "load", "merge", "take"]

F64 = NDArray[np.float64]
Fold = tuple[int, NDArray[np.int64], NDArray[np.int32], F64]
"""Values for the blocks: ``(indicator id, symbol ids, days, (n_symbols, n_days))``."""

_TABLE = "indicator_tail"
_ALL = (-(2**31), 2**31 - 1)


def load(c: sqlite3.Connection, sids: NDArray[np.int64] | None, lo: int, hi: int) -> list[Run]:
    """The tail rows holding ``sids`` (all when None) with a day in ``[lo, hi]``."""
    return list(load_runs(c, _TABLE, None if sids is None else runs_of(sids), 1, lo, hi).values())


def last_days(c: sqlite3.Connection, iid: int) -> dict[int, int]:
    """``symbol id -> last day written`` of indicator ``iid`` in the tails."""
    out: dict[int, int] = {}
    for r in load(c, None, *_ALL):
        j = int(np.searchsorted(r.ids, iid))
        if j == r.ids.size or r.ids[j] != iid:
            continue
        held = r.mask[:, j, :]
        has = held.any(axis=1)
        last = r.days[r.days.size - 1 - held[has][:, ::-1].argmax(axis=1)]
        out.update(zip(r.sids[has].tolist(), last.tolist(), strict=True))
    return out


def take(c: sqlite3.Connection, sids: NDArray[np.int64]) -> list[Fold]:
    """Remove the tails of ``sids``; return their values, for the blocks."""
    folds: list[Fold] = []
    changed = []
    for r in load(c, sids, *_ALL):
        drop = np.isin(r.sids, sids)
        if drop.any():
            gone = Run(r.run, r.sids[drop], r.ids, r.days, r.mask[drop], r.vals[drop])
            folds += gone.dense()
            changed.append(r.without(drop))
    save_runs(c, _TABLE, changed)
    return folds


def merge(
    c: sqlite3.Connection, arrays: Mapping[int, F64], ids: NDArray[np.int64], day: NDArray[Any]
) -> list[Fold]:
    """Merge ``arrays[iid]`` (``(len(ids), len(day))``; every cell written, a NaN overrides)
    into the tails; return what folds, for the blocks."""
    nids = np.array(sorted(arrays), np.int32)
    new = np.stack([np.asarray(arrays[i], np.float64) for i in nids.tolist()], axis=1)
    runs = load_runs(c, _TABLE, runs_of(ids), 1, *_ALL)
    run_of = ids >> RUN_SHIFT
    m, n = nids.size, day.size
    folds: list[Fold] = []
    changed_runs = []
    for k in np.unique(run_of).tolist():
        idx = np.flatnonzero(run_of == k)
        g = idx.size
        r = runs.get(k) or Run.empty(k, 1)
        r, changed, _ = r.merge(
            np.repeat(ids[idx], m * n),
            np.tile(np.repeat(nids, n), g),
            np.tile(day.astype(np.int32), g * m),
            new[idx].reshape(-1, 1),
            nan_keeps=False,
        )
        if not changed.any():
            continue
        if due(r):
            folds += r.dense()
            r = r.without(np.ones(r.sids.size, bool))
        changed_runs.append(r)
    save_runs(c, _TABLE, changed_runs)
    return folds
