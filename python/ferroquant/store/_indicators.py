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
from ferroquant.store import _itail
from ferroquant.store._bars import day_numbers, to_dates
from ferroquant.store._scatter import BATCH, ONE_PASS_BYTES, DateAxis, snapshot, suffix
from ferroquant.store._schema import BLOCK_SHIFT
from ferroquant.store._tail import TAIL_MAX

if TYPE_CHECKING:
    from ferroquant.store._store import Store

__all__ = ["last_dates", "read", "write", "write_blocks"]

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
    new = {ind[name]: a[:, from_index:] for name, a in arrays.items()}
    # An append (fewer than TAIL_MAX dates: the daily update) goes into the tails, except for
    # symbols with no value at all for an indicator (their blocks may have to go): they and
    # long writes take the blocks, after the tails of those symbols (which may overlap).
    lone = np.full(ids.size, day.size >= TAIL_MAX)
    if not lone.all():
        for a in new.values():
            lone |= np.isnan(a).all(axis=1)
    folds: list[_itail.Fold] = []
    if not lone.any():
        folds = _itail.merge(c, new, ids, day)
    elif not lone.all():
        folds = _itail.merge(c, {k: v[~lone] for k, v in new.items()}, ids[~lone], day)
    if lone.any():
        folds += _itail.take(c, ids[lone])
    for iid, sids, fdays, vals in folds:
        write_blocks(c, {iid: vals}, sids, fdays)
    if lone.all():
        write_blocks(c, new, ids, day)
    elif lone.any():
        write_blocks(c, {k: v[lone] for k, v in new.items()}, ids[lone], day)


_APPEND = (
    "INSERT INTO indicator_blocks VALUES (?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT(indicator_id, symbol_id, block) DO UPDATE SET n = n + excluded.n, "
    "last_day = excluded.last_day, days = CAST(days || excluded.days AS BLOB), "
    "vals = CAST(vals || excluded.vals AS BLOB)"
)
"""Days after every stored day of their block: concatenated to its BLOBs inside SQLite (``||``
copies the bytes of BLOBs as they are and types the result TEXT, hence the CAST; the store is
UTF-8, so the CAST changes no byte)."""


def write_blocks(
    c: sqlite3.Connection, arrays: Mapping[int, F64], ids: NDArray[np.int64], day: NDArray[Any]
) -> None:
    """Merge ``arrays[indicator id]`` (``(len(ids), len(day))``) into the blocks."""
    blk = day >> BLOCK_SHIFT
    cut = np.flatnonzero(np.diff(blk)) + 1
    segments = list(zip(np.r_[0, cut].tolist(), np.r_[cut, day.size].tolist(), strict=True))
    id_json = json.dumps(ids.tolist())
    for iid, a in arrays.items():
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
        appends: list[tuple[Any, ...]] = []
        for lo, hi in segments:
            seg = a[:, lo:hi]
            _segment(c, iid, int(blk[lo]), ids, day[lo:hi], seg, stored, rows, deletes, appends)
        # Key order makes the inserts B-tree appends (no page splits); the segments are sorted
        # runs already, so this is a linear merge.
        rows.sort(key=itemgetter(1, 2))
        c.executemany("INSERT OR REPLACE INTO indicator_blocks VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        c.executemany(
            "DELETE FROM indicator_blocks WHERE indicator_id = ? AND symbol_id = ? AND block = ?",
            deletes,
        )
        c.executemany(_APPEND, appends)


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
    appends: list[tuple[Any, ...]],
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
        if od.size and od[-1] < day[0]:  # after every stored day (a fold): SQL appends them
            d_bytes, last, n, width = day.tobytes(), int(day[-1]), int(day.size), int(day.size) * 8
            buf = memoryview(np.ascontiguousarray(seg[idx]).tobytes())
            for j, s in enumerate(sids):
                appends.append((iid, s, block, n, last, d_bytes, buf[j * width : (j + 1) * width]))
            continue
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
    # last_day: a block ending before ``start`` is skipped without reading its BLOBs (the
    # newest days are usually in the tails).
    args.append(lo)
    where = (
        "indicator_id IN (SELECT value FROM json_each(?)) AND block BETWEEN ? AND ? "
        "AND last_day >= ?"
    )
    if symbols is not None:
        sym_list = [str(s) for s in symbols]
        sym_ids = store.symbol_ids(sym_list)
        where += " AND symbol_id IN (SELECT value FROM json_each(?))"
        args.append(json.dumps(sym_ids.tolist()))
    days_sql, vals_sql = suffix("vals", 1, lo)
    # A small bounded read (the job's check of one day) takes one pass, holding what it reads.
    one_pass = (
        symbols is not None
        and start is not None
        and end is not None
        and len(sym_list) * (hi - lo + 1) * 8 * len(ind) <= ONE_PASS_BYTES
    )
    cols = f"symbol_id, {days_sql}" + (f", {vals_sql}, indicator_id" if one_pass else "")
    with snapshot(c):
        keys = c.execute(f"SELECT {cols} FROM indicator_blocks WHERE {where}", args).fetchall()
        wanted = np.array(sorted(ind.values()), np.int32)
        runs = _itail.load(c, None if symbols is None else sym_ids, lo, hi)
        if symbols is None:
            id_to_sym = dict(c.execute("SELECT id, symbol FROM symbols").fetchall())
            held = {k[0] for k in keys} | {s for r in runs for s in _held(r, wanted, lo, hi)}
            pairs = sorted((id_to_sym[s], s) for s in held)
            sym_list = [p[0] for p in pairs]
            sym_ids = np.array([p[1] for p in pairs], np.int64)
        top = max(int(sym_ids.max(initial=0)), 0)
        position = np.full(top + 1, -1, np.int64)
        position[sym_ids] = np.arange(sym_ids.size)
        tails = [
            (iid, *r.pick(position, lo, hi, j))
            for r in runs
            for j, iid in enumerate(r.ids.tolist())
            if iid in ind.values()
        ]
        axis = DateAxis(
            [*(k[1] for k in keys), *(np.unique(t[2]).tobytes() for t in tails)], lo, hi
        )
        out = {name: np.full((len(sym_list), axis.days.size), np.nan) for name in names}
        for name in names:
            if name not in ind:
                continue
            if one_pass:
                rows = [(int(position[r[0]]), r[1], r[2]) for r in keys if r[3] == ind[name]]
                axis.scatter(out[name][None], rows)
            else:
                cur = c.execute(
                    f"SELECT symbol_id, {days_sql}, {vals_sql} FROM indicator_blocks "
                    f"WHERE {where} AND indicator_id = ?",
                    [*args, ind[name]],
                )
                while batch := cur.fetchmany(BATCH * 4):
                    rows = [(int(position[r[0]]), r[1], r[2]) for r in batch]
                    axis.scatter(out[name][None], rows)
            for iid, at, days, vals in tails:  # after the blocks: the tails win
                if iid == ind[name]:
                    out[name][at, np.searchsorted(axis.days, days)] = vals[:, 0]
    return out, sym_list, to_dates(axis.days)


def _held(r: _itail.Run, wanted: NDArray[np.int32], lo: int, hi: int) -> list[int]:
    """Symbols of tail row ``r`` with a value of an indicator in ``wanted`` in ``[lo, hi]``."""
    inside = (r.days >= lo) & (r.days <= hi)
    m = r.mask[:, np.isin(r.ids, wanted), :][:, :, inside]
    held: list[int] = r.sids[m.any(axis=(1, 2))].tolist()
    return held


def last_dates(c: sqlite3.Connection, name: str) -> dict[str, np.datetime64]:
    """``symbol -> last date written`` for indicator ``name`` (blocks and tails)."""
    row = c.execute("SELECT id FROM indicators WHERE name = ?", (name,)).fetchone()
    if row is None:
        return {}
    with snapshot(c):  # blocks and tails of one state
        last = dict(
            c.execute(
                "SELECT symbol_id, max(last_day) FROM indicator_blocks WHERE indicator_id = ? "
                "GROUP BY symbol_id",
                (row[0],),
            ).fetchall()
        )
        for s, d in _itail.last_days(c, row[0]).items():
            last[s] = max(d, last.get(s, d))
        names = dict(c.execute("SELECT id, symbol FROM symbols").fetchall())
    days = to_dates(np.array(list(last.values()), np.int64))
    return dict(zip([names[s] for s in last], days, strict=True))
