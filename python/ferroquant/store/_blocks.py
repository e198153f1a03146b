"""Bars as columnar blocks: upserts, appends of folded tails, the panel load.

A block is one row of ``bar_blocks``: the bars of one symbol whose days share ``day >>
BLOCK_SHIFT``, as an ``int32`` BLOB of day numbers and an ``(n, 6)`` ``float64`` BLOB of
:data:`~ferroquant.store._bars.FIELDS`. Reading a panel is a handful of BLOB fetches and one
numpy scatter, with no Python object per bar. Appends go to the tails first
(:mod:`ferroquant.store._tail`); every read here adds them (their days follow the blocks').
Corporate actions and adjusted closes are in :mod:`ferroquant.store._actions`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ferroquant.errors import ValidationError
from ferroquant.sample import Panel
from ferroquant.store import _tail
from ferroquant.store._bars import FIELDS, Bars, day_numbers, merge_rows, same, to_dates
from ferroquant.store._runs import load_runs, runs_of
from ferroquant.store._scatter import BATCH, DateAxis, snapshot, suffix
from ferroquant.store._schema import BLOCK_SHIFT

__all__ = [
    "UPSERT",
    "append_blocks",
    "load_panel",
    "row",
    "upsert_blocks",
    "write_bars",
]

_NF = len(FIELDS)
_CLOSE, _ADJ = FIELDS.index("close"), FIELDS.index("adj_close")
UPSERT = "INSERT OR REPLACE INTO bar_blocks VALUES (?, ?, ?, ?, ?, ?, ?, ?)"


def row(sid: int, days: NDArray[Any], vals: NDArray[np.float64]) -> tuple[Any, ...]:
    close = vals[-1, _CLOSE]
    return (
        sid,
        int(days[0]) >> BLOCK_SHIFT,
        int(days.size),
        int(days[0]),
        int(days[-1]),
        None if np.isnan(close) else float(close),
        days.tobytes(),
        np.ascontiguousarray(vals).tobytes(),
    )


def _stored_blocks(
    c: sqlite3.Connection, sid: NDArray[Any], blk: NDArray[Any]
) -> dict[tuple[int, int], tuple[bytes, bytes]]:
    """The stored blocks a batch touches (one query: a seek per symbol on the primary key)."""
    rows = c.execute(
        "SELECT symbol_id, block, days, bars FROM bar_blocks "
        "WHERE symbol_id IN (SELECT value FROM json_each(?)) AND block BETWEEN ? AND ?",
        (json.dumps(np.unique(sid).tolist()), int(blk.min()), int(blk.max())),
    )
    return {(r[0], r[1]): (r[2], r[3]) for r in rows}


def write_bars(c: sqlite3.Connection, bars: Bars, ids: NDArray[np.int64]) -> int:
    """Upsert ``bars``; ``ids`` are the symbol ids of ``np.unique(bars.symbol)``."""
    if len(bars) == 0:
        return 0
    names, inverse = np.unique(bars.symbol.astype(str), return_inverse=True)
    sid = ids[inverse]
    if np.isnat(bars.date).any():
        raise ValidationError("bars with a missing date cannot be stored (validate them first)")
    day = day_numbers(bars.date)
    order = np.lexsort((day, sid))
    sid, day, vals = sid[order], day[order].astype(np.int32), bars.values()[order]
    dup = (sid[1:] == sid[:-1]) & (day[1:] == day[:-1])
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise ValidationError(
            f"duplicate bar {names[inverse[order[i]]]} {to_dates(day[i : i + 1])[0]} "
            "(validate the bars first)"
        )
    to_blocks, routed = _tail.route_bars(c, sid, day, vals)
    routed.apply(c)
    stats: dict[int, list[Any]] = {}  # symbol -> [bars added, first, last, close]
    append_blocks(c, *routed.fold_rows())  # folded tails: already counted
    mine = to_blocks
    changed = routed.changed + upsert_blocks(c, sid[mine], day[mine], vals[mine], stats)
    c.executemany(
        "INSERT INTO bar_stats VALUES (?, ?, ?, ?, ?) ON CONFLICT(symbol_id) DO UPDATE SET "
        "n_bars = n_bars + excluded.n_bars, first_day = min(first_day, excluded.first_day), "
        "last_close = CASE WHEN excluded.last_day >= last_day THEN excluded.last_close "
        "ELSE last_close END, "
        "last_day = max(last_day, excluded.last_day)",
        # The deltas of the tails and of the blocks (a symbol may have both) add up.
        [*routed.stat_rows, *((s, *t) for s, t in stats.items())],
    )
    given = np.unique(sid[~np.isnan(vals[:, _ADJ])])
    if given.size:
        c.execute(
            "UPDATE symbols SET adj_derived = 0 WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(given.tolist()),),
        )
    return changed


_APPEND = (
    "INSERT INTO bar_blocks VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(symbol_id, block) "
    "DO UPDATE SET n = n + excluded.n, last_day = excluded.last_day, "
    "last_close = excluded.last_close, days = CAST(days || excluded.days AS BLOB), "
    "bars = CAST(bars || excluded.bars AS BLOB)"
)


def append_blocks(
    c: sqlite3.Connection, sid: NDArray[Any], day: NDArray[Any], vals: NDArray[np.float64]
) -> None:
    """Append rows sorted by ``(sid, day)``, each after every day of its symbol's blocks (a
    folded tail): SQLite concatenates them to the BLOBs, nothing is decoded here (see
    :data:`ferroquant.store._indicators._APPEND` for the CAST)."""
    if sid.size == 0:
        return
    blk = day >> BLOCK_SHIFT
    cut = np.flatnonzero((sid[1:] != sid[:-1]) | (blk[1:] != blk[:-1])) + 1
    bounds = zip(np.r_[0, cut].tolist(), np.r_[cut, day.size].tolist(), strict=True)
    c.executemany(_APPEND, [row(int(sid[a]), day[a:b], vals[a:b]) for a, b in bounds])


def upsert_blocks(
    c: sqlite3.Connection,
    sid: NDArray[Any],
    day: NDArray[Any],
    vals: NDArray[np.float64],
    stats: dict[int, list[Any]] | None,
) -> int:
    """Merge rows sorted by ``(sid, day)`` into their blocks; return the bars added or changed
    and tally them into ``stats`` (neither when ``stats`` is None: folded tails)."""
    if sid.size == 0:
        return 0
    blk = day >> BLOCK_SHIFT
    cut = np.flatnonzero((sid[1:] != sid[:-1]) | (blk[1:] != blk[:-1])) + 1
    starts, stops = np.r_[0, cut], np.r_[cut, day.size]
    stored = _stored_blocks(c, sid, blk)
    rows, changed = [], 0
    for a, b in zip(starts.tolist(), stops.tolist(), strict=True):
        s, k = int(sid[a]), int(blk[a])
        d: NDArray[Any] = day[a:b]
        v = vals[a:b]
        old = stored.get((s, k))
        if old is None:
            changed += b - a
            rows.append(row(s, d, v))
            if stats is not None:
                _tally(stats, s, b - a, rows[-1])
            continue
        od = np.frombuffer(old[0], np.int32)
        ov = np.frombuffer(old[1], np.float64).reshape(-1, _NF)
        if old[0] == d.tobytes() and same(np.where(np.isnan(v), ov, v), ov):
            continue  # the common re-ingest: same days, nothing new
        d, v = merge_rows(od, ov, d, v)
        if stats is None:
            rows.append(row(s, d, v))
            continue
        kept = np.searchsorted(d, od)
        n_changed = d.size - od.size + int(np.count_nonzero(~_rows_equal(v[kept], ov)))
        if n_changed:
            changed += n_changed
            rows.append(row(s, d, v))
            _tally(stats, s, d.size - od.size, rows[-1])
    c.executemany(UPSERT, rows)
    return changed


def _tally(stats: dict[int, list[Any]], sid: int, added: int, block: tuple[Any, ...]) -> None:
    """Fold one written block (a ``_row`` tuple) into the per-symbol ``bar_stats`` delta."""
    first, last, close = block[3], block[4], block[5]
    t = stats.get(sid)
    if t is None:
        stats[sid] = [added, first, last, close]
        return
    t[0] += added
    t[1] = min(t[1], first)
    if last >= t[2]:
        t[2], t[3] = last, close


def _rows_equal(a: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.bool_]:
    out: NDArray[np.bool_] = np.all((a == b) | (np.isnan(a) & np.isnan(b)), axis=1)
    return out


def _day_range(start: Any, end: Any) -> tuple[int, int]:
    lo = -(2**31) if start is None else int(day_numbers(np.array([start]))[0])
    hi = 2**31 - 1 if end is None else int(day_numbers(np.array([end]))[0])
    return lo, hi


GROW_BYTES = 16 << 20
"""A panel load grows its result (when new days turn up) only while it is smaller than this."""


def _regrow(out: NDArray[np.float64], moved: NDArray[np.intp], width: int) -> NDArray[np.float64]:
    grown = np.full((*out.shape[:2], width), np.nan)
    grown[:, :, moved] = out
    return grown


def _two_pass(
    c: sqlite3.Connection,
    days_sql: str,
    select: str,
    where: str,
    args: tuple[Any, ...],
    tail_days: list[bytes],
    lo: int,
    hi: int,
    n: int,
    position: NDArray[np.int64],
) -> tuple[DateAxis, NDArray[np.float64]]:
    """The axis from the day BLOBs, then the values streamed in batches (peak: the result)."""
    cur = c.execute(f"SELECT {days_sql} FROM bar_blocks WHERE {where}", args)
    axis = DateAxis([*(r[0] for r in cur), *tail_days], lo, hi)
    out = np.full((_NF, n, axis.days.size), np.nan)
    cur = c.execute(select, args)
    while batch := cur.fetchmany(BATCH):
        axis.scatter(out, [(int(position[r[0]]), r[1], r[2]) for r in batch])
    return axis, out


def load_panel(
    c: sqlite3.Connection,
    symbols: list[str],
    ids: NDArray[np.int64],
    sectors: Sequence[str | None],
    start: Any,
    end: Any,
) -> Panel:
    """The aligned panel of ``symbols`` (ids ``ids``) over ``[start, end]``."""
    lo, hi = _day_range(start, end)
    n = len(symbols)
    where = (
        "symbol_id IN (SELECT value FROM json_each(?)) AND block BETWEEN ? AND ? "
        "AND last_day >= ? AND first_day <= ?"
    )
    args = (json.dumps(ids.tolist()), lo >> BLOCK_SHIFT, hi >> BLOCK_SHIFT, lo, hi)
    position = np.full(int(ids.max(initial=0)) + 1, -1, np.int64)
    position[ids] = np.arange(n)
    with snapshot(c):
        tails = [r.pick(position, lo, hi) for r in load_runs(c, "bar_tail", runs_of(ids), _NF,
                                                             lo, hi).values()]  # fmt: skip
        tail_days = [np.unique(t[1]).tobytes() for t in tails]
        days_sql, bars_sql = suffix("bars", _NF, lo)
        select = f"SELECT symbol_id, {days_sql}, {bars_sql} FROM bar_blocks WHERE {where}"
        axis, out = DateAxis(tail_days, lo, hi), None
        cur = c.execute(select, args)
        # One pass, growing the date axis as batches bring new days: the first batch usually
        # brings them all. Should they keep coming, two passes (days first) bound the copying.
        grown = 0
        while batch := cur.fetchmany(BATCH):
            moved = axis.add(r[1] for r in batch)
            if out is None:
                out = np.full((_NF, n, axis.days.size), np.nan)
            elif moved is not None:
                grown += 1
                if grown > 2 or out.nbytes > GROW_BYTES:
                    cur.close()
                    axis, out = _two_pass(
                        c, days_sql, select, where, args, tail_days, lo, hi, n, position
                    )
                    break
                out = _regrow(out, moved, axis.days.size)
            axis.scatter(out, [(int(position[r[0]]), r[1], r[2]) for r in batch])
        if out is None:
            out = np.full((_NF, n, axis.days.size), np.nan)
        for rows, tday, vals in tails:  # days after the blocks' days
            cols = np.searchsorted(axis.days, tday)
            for k in range(_NF):
                out[k][rows, cols] = vals[:, k]
    dates = axis.days
    f = dict(zip(FIELDS, out, strict=True))
    return Panel(
        list(symbols),
        to_dates(dates),
        [s if s is not None else "Unknown" for s in sectors],
        f["open"],
        f["high"],
        f["low"],
        f["close"],
        f["volume"],
        adj_close=f["adj_close"],
    )
