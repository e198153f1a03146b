"""The append tails as matrices: one row per *run* of 256 consecutive symbol ids.

A tail row (``bar_tail`` or ``indicator_tail``, see :mod:`ferroquant.store._tail`) holds, for
the symbols ``sids`` of its run, the layers ``ids`` (the indicators; bars have one) and the
days ``days``, a ``(symbols, layers, days)`` mask of the cells held and a
``(symbols, layers, days, width)`` ``float64`` value array (``width``: 6 bar fields, or 1).
Symbols of a run receive the same days, so a daily update of 4,000 symbols reads and rewrites
16 rows of ~100 KB instead of 4,000 small ones (measured: row count, not bytes, sets the cost).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["RUN_SHIFT", "Run", "load_runs", "runs_of", "save_runs", "symbol_cells"]

RUN_SHIFT = 8
"""A run holds the symbol ids ``i`` with ``i >> RUN_SHIFT`` equal (256 ids)."""

I64 = NDArray[np.int64]
I32 = NDArray[np.int32]
F64 = NDArray[np.float64]
Cells = tuple[I64, I32, I32, F64]
"""Held cells: ``(symbol id, layer id, day, values (n, width))``, sorted by symbol, layer, day."""


def runs_of(sids: NDArray[Any]) -> list[int]:
    """The runs holding ``sids``."""
    runs: list[int] = np.unique(np.asarray(sids, np.int64) >> RUN_SHIFT).tolist()
    return runs


class Run:
    """One tail row, decoded."""

    def __init__(
        self, run: int, sids: I64, ids: I32, days: I32, mask: NDArray[np.bool_], vals: F64
    ) -> None:
        self.run, self.sids, self.ids, self.days, self.mask, self.vals = (
            run, sids, ids, days, mask, vals
        )  # fmt: skip
        self.dirty = False

    @classmethod
    def decode(cls, row: Sequence[Any], width: int) -> Run:
        run, _, _, sids, ids, days, mask, vals = row
        s = np.frombuffer(sids, np.int64)
        i = np.frombuffer(ids, np.int32)
        d = np.frombuffer(days, np.int32)
        shape = (s.size, i.size, d.size)
        m = np.frombuffer(mask, np.uint8).reshape(shape).astype(bool)
        v = np.frombuffer(vals, np.float64).reshape(*shape, width)  # read-only
        return cls(int(run), s, i, d, m, v)

    @classmethod
    def empty(cls, run: int, width: int) -> Run:
        e32 = np.empty(0, np.int32)
        return cls(run, np.empty(0, np.int64), e32, e32, np.empty((0, 0, 0), bool),
                   np.empty((0, 0, 0, width)))  # fmt: skip

    @property
    def width(self) -> int:
        return int(self.vals.shape[3])

    def compact(self) -> Run:
        """Without symbols, layers and days that hold no cell."""
        s, i, d = self.mask.any((1, 2)), self.mask.any((0, 2)), self.mask.any((0, 1))
        if s.all() and i.all() and d.all():
            return self
        ix = np.ix_(s, i, d)
        return Run(self.run, self.sids[s], self.ids[i], self.days[d], self.mask[ix],
                   self.vals[ix])  # fmt: skip

    def encode(self) -> tuple[Any, ...]:
        return (
            self.run,
            int(self.days[0]),
            int(self.days[-1]),
            self.sids.tobytes(),
            self.ids.tobytes(),
            self.days.tobytes(),
            self.mask.astype(np.uint8).tobytes(),
            self.vals.tobytes(),
        )

    def merge(
        self, sid: I64, layer: I32, day: I32, vals: F64, *, nan_keeps: bool
    ) -> tuple[Run, NDArray[np.bool_], NDArray[np.bool_]]:
        """This run with cells set (``nan_keeps``: a NaN keeps a held value); per cell, whether
        it changed and whether it is new."""
        ns, ni, nd = (np.union1d(self.sids, sid), np.union1d(self.ids, layer).astype(np.int32),
                      np.union1d(self.days, day).astype(np.int32))  # fmt: skip
        if ns.size == self.sids.size and ni.size == self.ids.size and nd.size == self.days.size:
            mask, v = self.mask.copy(), self.vals.copy()
        else:
            mask = np.zeros((ns.size, ni.size, nd.size), bool)
            v = np.full((ns.size, ni.size, nd.size, self.width), np.nan)
            ix = np.ix_(np.searchsorted(ns, self.sids), np.searchsorted(ni, self.ids),
                        np.searchsorted(nd, self.days))  # fmt: skip
            mask[ix], v[ix] = self.mask, self.vals
        at = (np.searchsorted(ns, sid), np.searchsorted(ni, layer), np.searchsorted(nd, day))
        held, old = mask[at], v[at]
        new = np.where(np.isnan(vals), old, vals) if nan_keeps else vals
        same = ((new == old) | (np.isnan(new) & np.isnan(old))).all(axis=1)
        mask[at], v[at] = True, new
        return Run(self.run, ns, ni, nd, mask, v), ~held | ~same, ~held

    def cells(self, keep: NDArray[np.bool_] | None = None) -> Cells:
        """The held cells (of the symbols ``keep`` selects)."""
        mask = self.mask if keep is None else self.mask & keep[:, None, None]
        s, i, d = np.nonzero(mask)
        return self.sids[s], self.ids[i], self.days[d], self.vals[s, i, d]

    def pick(
        self, position: NDArray[np.int64], lo: int, hi: int, j: int = 0
    ) -> tuple[I64, I32, F64]:
        """Held cells of layer ``j`` in ``[lo, hi]`` of the symbols with ``position[sid] >= 0``:
        ``(position, day, values (n, width))``."""
        rows = np.full(self.sids.size, -1, np.int64)
        ok = self.sids < position.size
        rows[ok] = position[self.sids[ok]]
        inside = (self.days >= lo) & (self.days <= hi)
        s, d = np.nonzero(self.mask[:, j, :] & (rows >= 0)[:, None] & inside[None, :])
        return rows[s], self.days[d], self.vals[s, j, d]

    def without(self, drop: NDArray[np.bool_]) -> Run:
        """This run without the symbols ``drop`` selects."""
        k = ~drop
        return Run(self.run, self.sids[k], self.ids, self.days, self.mask[k], self.vals[k])

    def dense(self) -> Iterator[tuple[int, I64, I32, F64]]:
        """``(layer id, symbols, days, values (symbols, days))`` blocks covering the held cells
        of width-1 layers: symbols are grouped by the days they hold (usually all alike)."""
        for j, layer in enumerate(self.ids.tolist()):
            m = self.mask[:, j, :]
            rows = np.flatnonzero(m.any(axis=1))
            if rows.size == 0:
                continue
            patterns, inverse = np.unique(m[rows], axis=0, return_inverse=True)
            for k, cols in enumerate(patterns):
                r = rows[inverse.ravel() == k]
                yield layer, self.sids[r], self.days[cols], self.vals[r][:, j, cols, 0]


def symbol_cells(
    sid: int, sids: bytes, days: bytes, mask: bytes, vals: bytes, width: int
) -> tuple[I32, F64]:
    """The days and ``(n, width)`` values of symbol ``sid`` in the BLOBs of a one-layer tail
    row, without decoding the other symbols'."""
    s = np.frombuffer(sids, np.int64)
    k = int(np.searchsorted(s, sid))
    if k == s.size or s[k] != sid:
        return np.empty(0, np.int32), np.empty((0, width))
    d = np.frombuffer(days, np.int32)
    held = np.frombuffer(mask, np.uint8, d.size, k * d.size).astype(bool)
    v = np.frombuffer(vals, np.float64, d.size * width, k * d.size * width * 8)
    return d[held], v.reshape(d.size, width)[held]


def load_runs(
    c: sqlite3.Connection, table: str, runs: list[int] | None, width: int, lo: int, hi: int
) -> dict[int, Run]:
    """The rows of ``table`` for ``runs`` (all when None) holding a day in ``[lo, hi]``."""
    query = f"SELECT * FROM {table} WHERE last_day >= ? AND first_day <= ?"
    args: list[Any] = [lo, hi]
    if runs is not None:
        query += " AND run IN (SELECT value FROM json_each(?))"
        args.append(str(runs))
    return {r[0]: Run.decode(r, width) for r in c.execute(query, args)}


def save_runs(c: sqlite3.Connection, table: str, runs: Sequence[Run]) -> None:
    """Write ``runs`` back (deleting those left empty)."""
    kept = [r.compact() for r in runs]
    c.executemany(
        f"DELETE FROM {table} WHERE run = ?", [(r.run,) for r in kept if r.days.size == 0]
    )
    c.executemany(
        f"INSERT OR REPLACE INTO {table} VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [r.encode() for r in kept if r.days.size],
    )
