"""Aligning stored blocks on a common date axis without holding them all in memory.

A read makes two passes over the same rows inside one read transaction: the first fetches only
the small day BLOBs to build the date axis, the second streams the value BLOBs in batches and
scatters each batch into the preallocated output. Peak memory is the output plus one batch.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np
from numpy.typing import NDArray

__all__ = ["BATCH", "DateAxis", "snapshot"]

BATCH = 256
"""Rows (blocks) per scatter: ~2 MB of bar BLOBs."""


@contextmanager
def snapshot(c: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run the enclosed reads in one transaction (one consistent snapshot under WAL)."""
    if c.in_transaction:
        yield c
        return
    c.execute("BEGIN")
    try:
        yield c
    finally:
        c.execute("COMMIT")


class DateAxis:
    """The sorted union of the days in ``[lo, hi]`` of some stored blocks, and for each distinct
    day BLOB its columns on that axis. Blocks written together share their day BLOB, so the day
    arithmetic runs once per distinct BLOB, not once per block.

    Examples
    --------
    >>> a = np.array([1, 2, 5], np.int32).tobytes()
    >>> b = np.array([2, 3], np.int32).tobytes()
    >>> axis = DateAxis([a, b, a], lo=2, hi=10)
    >>> axis.days.tolist()
    [2, 3, 5]
    >>> out = np.full((1, 2, 3), np.nan)
    >>> axis.scatter(out, [(0, a, np.array([1.0, 2.0, 5.0]).tobytes()),
    ...                    (1, b, np.array([2.0, 3.0]).tobytes())])
    >>> out[0].tolist()
    [[2.0, nan, 5.0], [2.0, 3.0, nan]]
    """

    def __init__(self, day_blobs: Iterable[bytes], lo: int, hi: int) -> None:
        arrays = {b: np.frombuffer(b, np.int32) for b in dict.fromkeys(day_blobs)}
        inside = {b: (a >= lo) & (a <= hi) for b, a in arrays.items()}
        parts = [a[inside[b]] for b, a in arrays.items()]
        self.days: NDArray[np.int32] = (
            np.unique(np.concatenate(parts)).astype(np.int32) if parts else np.empty(0, np.int32)
        )
        self._cols: dict[bytes, tuple[NDArray[np.intp], NDArray[np.bool_] | None]] = {}
        for b, a in arrays.items():
            m = inside[b]
            self._cols[b] = (np.searchsorted(self.days, a), None if m.all() else m)

    def scatter(self, out: NDArray[np.float64], rows: Sequence[tuple[int, bytes, bytes]]) -> None:
        """Write blocks ``(output row, day BLOB, value BLOB)`` into ``out`` of shape
        ``(width, n_rows, len(days))``; a value BLOB holds ``(n_days, width)`` float64."""
        if not rows:
            return
        width = out.shape[0]
        cols, counts, masks, any_mask = [], [], [], False
        for _, d, _ in rows:
            c, m = self._cols[d]
            cols.append(c)
            counts.append(c.size)
            masks.append(m)
            any_mask |= m is not None
        vals = np.frombuffer(b"".join([r[2] for r in rows]), np.float64).reshape(-1, width)
        row = np.repeat(np.fromiter((r[0] for r in rows), np.int64, len(rows)), counts)
        col = np.concatenate(cols)
        if any_mask:
            keep = np.concatenate(
                [np.ones(n, bool) if m is None else m for m, n in zip(masks, counts, strict=True)]
            )
            vals, row, col = vals[keep], row[keep], col[keep]
        for k in range(width):
            out[k][row, col] = vals[:, k]
