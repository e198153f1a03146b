"""Corporate actions and the adjusted closes derived from them (blocks and tails alike)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ferroquant.errors import ValidationError
from ferroquant.store._bars import FIELDS, day_numbers, to_dates
from ferroquant.store._blocks import UPSERT, row
from ferroquant.store._runs import RUN_SHIFT, Run, load_runs, save_runs
from ferroquant.store._schema import BLOCK_SHIFT

__all__ = ["adjustment_factors", "derive_adj_close", "write_actions"]

_NF = len(FIELDS)
_CLOSE, _ADJ = FIELDS.index("close"), FIELDS.index("adj_close")


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
    runs: dict[int, Run] = {}  # the tail rows touched, written back at the end
    for (sid,) in c.execute(query, args).fetchall():
        blocks = c.execute(
            "SELECT days, bars FROM bar_blocks WHERE symbol_id = ? ORDER BY block", (sid,)
        ).fetchall()
        if sid >> RUN_SHIFT not in runs:
            runs.update(load_runs(c, "bar_tail", [sid >> RUN_SHIFT], _NF, -(2**31), 2**31 - 1))
        run = runs.get(sid >> RUN_SHIFT)
        mine = np.zeros(0, bool) if run is None else run.sids == sid
        tail_days, tail_vals = np.empty(0, np.int32), np.empty((0, _NF))
        if run is not None and mine.any():
            _, _, tail_days, v = run.cells(mine)
            tail_vals = v
        if not blocks and not tail_days.size:
            continue
        n_sealed = sum(len(b[0]) for b in blocks) // 4  # the tail's bars follow the blocks'
        days = np.concatenate([np.frombuffer(b"".join(b[0] for b in blocks), np.int32), tail_days])
        vals = np.concatenate(
            [np.frombuffer(b"".join(b[1] for b in blocks)).reshape(-1, _NF), tail_vals]
        )
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
        if diff[:n_sealed].any():
            d, v = days[:n_sealed], vals[:n_sealed]
            cut = np.flatnonzero(np.diff(d >> BLOCK_SHIFT)) + 1
            rows = [
                row(int(sid), dd, vv)
                for dd, vv in zip(np.split(d, cut), np.split(v, cut), strict=True)
            ]
            c.executemany(UPSERT, rows)
        if run is not None and diff[n_sealed:].any():
            ri = int(np.flatnonzero(mine)[0])
            if not run.vals.flags.writeable:
                run.vals = run.vals.copy()
            run.vals[ri, 0, np.searchsorted(run.days, tail_days), _ADJ] = adj[n_sealed:]
            run.dirty = True
    save_runs(c, "bar_tail", [r for r in runs.values() if r.dirty])
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
