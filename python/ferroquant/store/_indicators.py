"""Indicator outputs as columnar blocks: one row per ``(indicator, symbol, block of days)``.

An incremental update rewrites only the blocks holding the new dates, usually the last one per
symbol; the blocks are merged with what is stored, so other days keep their values.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ferroquant.errors import ShapeError
from ferroquant.store._bars import day_numbers, to_dates
from ferroquant.store._scatter import BATCH, DateAxis, snapshot
from ferroquant.store._schema import BLOCK_SHIFT

if TYPE_CHECKING:
    from ferroquant.store._store import Store

__all__ = ["read", "write"]

F64 = NDArray[np.float64]


def _indicator_ids(c: sqlite3.Connection, names: Sequence[str], create: bool) -> dict[str, int]:
    if create:
        c.executemany("INSERT OR IGNORE INTO indicators(name) VALUES (?)", ((n,) for n in names))
    rows = c.execute(
        "SELECT name, id FROM indicators WHERE name IN (SELECT value FROM json_each(?))",
        (json.dumps(list(names)),),
    ).fetchall()
    return dict(rows)


def write(
    c: sqlite3.Connection,
    outputs: Mapping[str, F64],
    ids: NDArray[np.int64],
    dates: NDArray[np.datetime64],
    from_index: int,
) -> None:
    """Upsert the columns ``from_index:`` of every output."""
    day = day_numbers(dates)
    n_sym, n_day = ids.size, day.size
    if not 0 <= from_index <= n_day:
        raise ValueError(f"from_index {from_index} is outside 0..{n_day}")
    if n_day > 1 and not (np.diff(day) > 0).all():
        raise ValueError("dates must be strictly increasing")
    arrays = {}
    for name, arr in outputs.items():
        a = np.asarray(arr, dtype=np.float64)
        if a.shape != (n_sym, n_day):
            raise ShapeError(f"output {name!r} has shape {a.shape}, expected {(n_sym, n_day)}")
        arrays[name] = a
    day = day[from_index:].astype(np.int32)
    if day.size == 0 or not arrays:
        return
    ind = _indicator_ids(c, list(arrays), create=True)
    blk = day >> BLOCK_SHIFT
    cut = np.flatnonzero(np.diff(blk)) + 1
    segments = list(zip(np.r_[0, cut].tolist(), np.r_[cut, day.size].tolist(), strict=True))
    id_json = json.dumps(ids.tolist())
    for name, a in arrays.items():
        iid = ind[name]
        # Only the day BLOBs: values are fetched for the blocks that need a merge.
        stored: dict[tuple[int, int], bytes] = {
            (r[0], r[1]): r[2]
            for r in c.execute(
                # Only the symbols written: reading every symbol's blocks would make a chunked
                # write of a universe quadratic in its size.
                "SELECT symbol_id, block, days FROM indicator_blocks "
                "WHERE indicator_id = ? AND block BETWEEN ? AND ? "
                "AND symbol_id IN (SELECT value FROM json_each(?))",
                (iid, int(blk[0]), int(blk[-1]), id_json),
            )
        }
        rows: list[tuple[Any, ...]] = []
        deletes: list[tuple[int, int, int]] = []
        for lo, hi in segments:
            seg = a[:, from_index + lo : from_index + hi]
            _segment(c, iid, int(blk[lo]), ids, day[lo:hi], seg, stored, rows, deletes)
        # Key order makes the inserts B-tree appends (no page splits); the segments are sorted
        # runs already, so this is a linear merge.
        rows.sort(key=itemgetter(1, 2))
        c.executemany("INSERT OR REPLACE INTO indicator_blocks VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        c.executemany(
            "DELETE FROM indicator_blocks WHERE indicator_id = ? AND symbol_id = ? AND block = ?",
            deletes,
        )


def _segment(
    c: sqlite3.Connection,
    iid: int,
    block: int,
    ids: NDArray[np.int64],
    day: NDArray[Any],
    seg: F64,
    stored: dict[tuple[int, int], bytes],
    rows: list[tuple[Any, ...]],
    deletes: list[tuple[int, int, int]],
) -> None:
    """Rows for one block of days. Symbols are grouped by the days their stored block holds
    (usually all alike), so the merge is one matrix operation per group, not one per symbol."""
    groups: dict[bytes | None, list[int]] = {}
    id_list = ids.tolist()
    for i in np.argsort(ids, kind="stable").tolist():
        s = id_list[i]
        old = stored.get((s, block))
        groups.setdefault(old, []).append(i)
    for old_days, members in groups.items():
        idx = np.asarray(members, np.int64)
        sids = ids[idx].tolist()
        od = np.empty(0, np.int32) if old_days is None else np.frombuffer(old_days, np.int32)
        if np.isin(od, day).all():  # nothing stored outside the new days: a plain replace
            md, m = day, np.ascontiguousarray(seg[idx])
        else:
            md = np.union1d(od, day).astype(np.int32)
            m = np.full((idx.size, md.size), np.nan)
            m[:, np.searchsorted(md, od)] = _stored_values(c, iid, block, sids, od.size)
            m[:, np.searchsorted(md, day)] = seg[idx]
        empty = np.isnan(m).all(axis=1).astype(bool).tolist()
        d_bytes, last, n, width = md.tobytes(), int(md[-1]), int(md.size), int(md.size) * 8
        buf = memoryview(m.tobytes())  # slices of it bind as BLOBs without a copy each
        for j, s in enumerate(sids):
            if not empty[j]:
                rows.append((iid, s, block, n, last, d_bytes, buf[j * width : (j + 1) * width]))
            elif old_days is not None:
                deletes.append((iid, s, block))


def _stored_values(c: sqlite3.Connection, iid: int, block: int, sids: list[int], n: int) -> F64:
    """The stored values of block ``block`` of symbols ``sids`` (which all have ``n`` days)."""
    got = dict(
        c.execute(
            "SELECT symbol_id, vals FROM indicator_blocks WHERE indicator_id = ? AND block = ? "
            "AND symbol_id IN (SELECT value FROM json_each(?))",
            (iid, block, json.dumps(sids)),
        ).fetchall()
    )
    return np.frombuffer(b"".join(got[s] for s in sids), np.float64).reshape(len(sids), n)


def read(
    c: sqlite3.Connection,
    store: Store,
    names: Sequence[str] | None,
    symbols: Sequence[str] | None,
    start: Any,
    end: Any,
) -> tuple[dict[str, F64], list[str], NDArray[np.datetime64]]:
    """Aligned ``(n_symbols, n_dates)`` arrays per indicator (NaN: no value)."""
    if names is None:
        names = [r[0] for r in c.execute("SELECT name FROM indicators ORDER BY name")]
    ind = _indicator_ids(c, names, create=False)
    lo = -(2**31) if start is None else int(day_numbers(np.array([start]))[0])
    hi = 2**31 - 1 if end is None else int(day_numbers(np.array([end]))[0])
    args = [json.dumps(list(ind.values())), lo >> BLOCK_SHIFT, hi >> BLOCK_SHIFT]
    where = "indicator_id IN (SELECT value FROM json_each(?)) AND block BETWEEN ? AND ?"
    if symbols is not None:
        sym_list = [str(s) for s in symbols]
        sym_ids = store.symbol_ids(sym_list)
        where += " AND symbol_id IN (SELECT value FROM json_each(?))"
        args.append(json.dumps(sym_ids.tolist()))
    with snapshot(c):
        keys = c.execute(
            f"SELECT symbol_id, days FROM indicator_blocks WHERE {where}", args
        ).fetchall()
        if symbols is None:
            id_to_sym = dict(c.execute("SELECT id, symbol FROM symbols").fetchall())
            pairs = sorted((id_to_sym[s], s) for s in {k[0] for k in keys})
            sym_list = [p[0] for p in pairs]
            sym_ids = np.array([p[1] for p in pairs], np.int64)
        axis = DateAxis((k[1] for k in keys), lo, hi)
        del keys
        top = max(int(sym_ids.max(initial=0)), 0)
        position = np.full(top + 1, -1, np.int64)
        position[sym_ids] = np.arange(sym_ids.size)
        out = {name: np.full((len(sym_list), axis.days.size), np.nan) for name in names}
        for name in names:
            if name not in ind:
                continue
            cur = c.execute(
                f"SELECT symbol_id, days, vals FROM indicator_blocks WHERE {where} "
                "AND indicator_id = ?",
                [*args, ind[name]],
            )
            while batch := cur.fetchmany(BATCH * 4):
                axis.scatter(out[name][None], [(int(position[r[0]]), r[1], r[2]) for r in batch])
    return out, sym_list, to_dates(axis.days)
