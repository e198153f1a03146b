"""Bars as columnar blocks: upsert, panel load, last bars, corporate actions, adjusted closes.

A block is one row of ``bar_blocks``: the bars of one symbol whose days share ``day >>
BLOCK_SHIFT``, as an ``int32`` BLOB of day numbers and an ``(n, 6)`` ``float64`` BLOB of
:data:`~ferroquant.store._bars.FIELDS`. Reading a panel is a handful of BLOB fetches and one
numpy scatter, with no Python object per bar.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ferroquant.errors import UnknownSymbolError, ValidationError
from ferroquant.sample import Panel
from ferroquant.store._bars import FIELDS, Bars, day_numbers, merge_rows, same, to_dates
from ferroquant.store._scatter import BATCH, DateAxis, snapshot
from ferroquant.store._schema import BLOCK_SHIFT

__all__ = ["derive_adj_close", "last_bars", "load_panel", "write_actions", "write_bars"]

_NF = len(FIELDS)
_CLOSE, _ADJ = FIELDS.index("close"), FIELDS.index("adj_close")
_UPSERT = "INSERT OR REPLACE INTO bar_blocks VALUES (?, ?, ?, ?, ?, ?, ?, ?)"


def _row(sid: int, days: NDArray[Any], vals: NDArray[np.float64]) -> tuple[Any, ...]:
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
    blk = day >> BLOCK_SHIFT
    cut = np.flatnonzero((sid[1:] != sid[:-1]) | (blk[1:] != blk[:-1])) + 1
    starts, stops = np.r_[0, cut], np.r_[cut, day.size]
    stored = _stored_blocks(c, sid, blk)
    rows, changed = [], 0
    stats: dict[int, list[Any]] = {}  # symbol -> [bars added, first day, last day, its close]
    for a, b in zip(starts.tolist(), stops.tolist(), strict=True):
        s, k = int(sid[a]), int(blk[a])
        d: NDArray[Any] = day[a:b]
        v = vals[a:b]
        old = stored.get((s, k))
        if old is None:
            changed += b - a
            rows.append(_row(s, d, v))
            _tally(stats, s, b - a, rows[-1])
            continue
        od = np.frombuffer(old[0], np.int32)
        ov = np.frombuffer(old[1], np.float64).reshape(-1, _NF)
        if old[0] == d.tobytes() and same(np.where(np.isnan(v), ov, v), ov):
            continue  # the common re-ingest: same days, nothing new
        d, v = merge_rows(od, ov, d, v)
        kept = np.searchsorted(d, od)
        n_changed = d.size - od.size + int(np.count_nonzero(~_rows_equal(v[kept], ov)))
        if n_changed:
            changed += n_changed
            rows.append(_row(s, d, v))
            _tally(stats, s, d.size - od.size, rows[-1])
    c.executemany(_UPSERT, rows)
    c.executemany(
        "INSERT INTO bar_stats VALUES (?, ?, ?, ?, ?) ON CONFLICT(symbol_id) DO UPDATE SET "
        "n_bars = n_bars + excluded.n_bars, first_day = min(first_day, excluded.first_day), "
        "last_close = CASE WHEN excluded.last_day >= last_day THEN excluded.last_close "
        "ELSE last_close END, "
        "last_day = max(last_day, excluded.last_day)",
        [(s, *t) for s, t in stats.items()],
    )
    given = np.unique(sid[~np.isnan(vals[:, _ADJ])])
    if given.size:
        c.execute(
            "UPDATE symbols SET adj_derived = 0 WHERE id IN (SELECT value FROM json_each(?))",
            (json.dumps(given.tolist()),),
        )
    return changed


def _tally(stats: dict[int, list[Any]], sid: int, added: int, row: tuple[Any, ...]) -> None:
    """Fold one written block (a ``_row`` tuple) into the per-symbol ``bar_stats`` delta."""
    first, last, close = row[3], row[4], row[5]
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
    where = "symbol_id IN (SELECT value FROM json_each(?)) AND block BETWEEN ? AND ?"
    args = (json.dumps(ids.tolist()), lo >> BLOCK_SHIFT, hi >> BLOCK_SHIFT)
    position = np.full(int(ids.max(initial=0)) + 1, -1, np.int64)
    position[ids] = np.arange(n)
    with snapshot(c):
        days = (r[0] for r in c.execute(f"SELECT days FROM bar_blocks WHERE {where}", args))
        axis = DateAxis(days, lo, hi)
        out = np.full((_NF, n, axis.days.size), np.nan)
        cur = c.execute(f"SELECT symbol_id, days, bars FROM bar_blocks WHERE {where}", args)
        while batch := cur.fetchmany(BATCH):
            axis.scatter(out, [(int(position[r[0]]), r[1], r[2]) for r in batch])
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


def last_bars(c: sqlite3.Connection, symbol: str, n: int) -> Bars:
    """The last ``n`` bars of ``symbol``: newest blocks first until ``n`` bars are gathered."""
    cur = c.execute(
        "SELECT n, days, bars FROM bar_blocks WHERE symbol_id = "
        "(SELECT id FROM symbols WHERE symbol = ?) ORDER BY block DESC",
        (symbol,),
    )
    days_parts: list[bytes] = []
    val_parts: list[bytes] = []
    got = 0
    for count, d, v in cur:
        days_parts.append(d)
        val_parts.append(v)
        got += count
        if got >= n:
            break
    cur.close()
    if (
        not days_parts
        and c.execute("SELECT 1 FROM symbols WHERE symbol = ?", (symbol,)).fetchone() is None
    ):
        raise UnknownSymbolError(f"symbol {symbol!r} is not in the store")
    days: NDArray[Any] = np.frombuffer(b"".join(reversed(days_parts)), np.int32)[-n:]
    vals = np.frombuffer(b"".join(reversed(val_parts)), np.float64).reshape(-1, _NF)[-n:]
    cols = vals.T if n else np.empty((_NF, 0))
    return Bars.from_arrays(symbol, to_dates(np.asarray(days)), *cols)


def write_actions(
    c: sqlite3.Connection, ids: NDArray[np.int64], dates: Any, dividends: Any, splits: Any
) -> int:
    """Upsert corporate actions; return the rows added or changed."""
    day = day_numbers(dates)
    n = day.size
    div = np.zeros(n) if dividends is None else np.asarray(dividends, np.float64)
    spl = np.ones(n) if splits is None else np.asarray(splits, np.float64)
    if not (ids.size == div.size == spl.size == n):
        raise ValueError("symbols, dates, dividends and splits must have the same length")
    bad = ~np.isfinite(div) | (div < 0) | ~np.isfinite(spl) | (spl <= 0)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValidationError(
            f"corporate action {to_dates(day[i : i + 1])[0]}: dividend {div[i]} must be >= 0 and "
            f"split {spl[i]} > 0"
        )
    before = c.total_changes
    c.executemany(
        "INSERT INTO corporate_actions VALUES (?, ?, ?, ?) ON CONFLICT(symbol_id, day) DO "
        "UPDATE SET dividend = excluded.dividend, split = excluded.split "
        "WHERE (dividend, split) IS NOT (excluded.dividend, excluded.split)",
        zip(ids.tolist(), day.tolist(), div.tolist(), spl.tolist(), strict=True),
    )
    return c.total_changes - before


def derive_adj_close(c: sqlite3.Connection, ids: NDArray[np.int64] | None) -> int:
    """Recompute ``adj_close`` of the given symbols (all when ``None``) that have
    ``adj_derived = 1``; return the bars whose value changed."""
    query = "SELECT id FROM symbols WHERE adj_derived = 1"
    args: tuple[Any, ...] = ()
    if ids is not None:
        query += " AND id IN (SELECT value FROM json_each(?))"
        args = (json.dumps(ids.tolist()),)
    changed = 0
    for (sid,) in c.execute(query, args).fetchall():
        blocks = c.execute(
            "SELECT days, bars FROM bar_blocks WHERE symbol_id = ? ORDER BY block", (sid,)
        ).fetchall()
        if not blocks:
            continue
        days = np.frombuffer(b"".join(b[0] for b in blocks), np.int32)
        vals = np.frombuffer(b"".join(b[1] for b in blocks), np.float64).reshape(-1, _NF).copy()
        actions = c.execute(
            "SELECT day, dividend, split FROM corporate_actions WHERE symbol_id = ? ORDER BY day",
            (sid,),
        ).fetchall()
        adj = vals[:, _CLOSE] * adjustment_factors(days, vals[:, _CLOSE], actions)
        diff = ~((adj == vals[:, _ADJ]) | (np.isnan(adj) & np.isnan(vals[:, _ADJ])))
        if not diff.any():
            continue
        changed += int(np.count_nonzero(diff))
        vals[:, _ADJ] = adj
        cut = np.flatnonzero(np.diff(days >> BLOCK_SHIFT)) + 1
        rows = [
            _row(int(sid), d, v)
            for d, v in zip(np.split(days, cut), np.split(vals, cut), strict=True)
        ]
        c.executemany(_UPSERT, rows)
    return changed


def adjustment_factors(
    days: NDArray[Any], close: NDArray[np.float64], actions: Sequence[tuple[int, float, float]]
) -> NDArray[np.float64]:
    """Per bar, ``Π (1 − dividend / close before the ex-date) / split`` over later actions.

    Examples
    --------
    >>> adjustment_factors(np.array([1, 2, 3], np.int32), np.array([10.0, 20.0, 10.0]),
    ...                    [(3, 0.0, 2.0)]).tolist()
    [0.5, 0.5, 1.0]
    """
    step = np.ones(days.size)
    for day, dividend, split in actions:
        i = int(np.searchsorted(days, day))  # first bar on or after the ex-date
        if i == 0 or i > days.size:
            continue
        prev = close[i - 1]
        f = 1.0 / split
        if dividend and np.isfinite(prev) and prev > 0:
            f *= 1.0 - dividend / prev
        step[i - 1] *= f
    return np.asarray(np.cumprod(step[::-1])[::-1], dtype=np.float64)
