"""Aligning stored blocks on a common date axis without holding them all in memory.

A read streams the value BLOBs in batches and scatters each batch into the output. The date
axis comes either from a first pass over the small day BLOBs (the indicator reads, and panel
loads whose batches keep bringing new days) or grows with the batches (a panel load: the first
batch usually brings every day, and a second pass would read every page twice). Peak memory is
the output plus one batch. Only the part of a block that may hold days ``>= lo`` is fetched
(:func:`suffix`): an update's window copies ~60 of a block's ~176 bars. Fresh memory is what
a short-lived process pays most for (measured ~1.5 ms per MB of first-touched pages).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import numpy as np
from numpy.typing import NDArray

__all__ = ["BATCH", "ONE_PASS_BYTES", "DateAxis", "snapshot", "suffix"]

BATCH = 256
"""Rows (blocks) per scatter: ~2 MB of bar BLOBs."""

ONE_PASS_BYTES = 16 << 20
"""A read whose values in range come to less than this (estimated) reads the blocks once,
holding them (an update's window of ~60 bars: ~12 MB for 4,000 symbols); a larger one reads
them twice, streaming the values (peak: the result plus a batch)."""


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


def suffix(values: str, width: int, lo: int) -> tuple[str, str]:
    """SQL for the days and values of a block (columns ``n``, ``last_day``, ``days``,
    ``values``) that may be ``>= lo``: its last ``min(n, last_day - lo + 1)`` entries, as the
    days are distinct and sorted. An update's window then copies a part of each block.
    """
    k = f"min(n, last_day - ({int(lo)}) + 1)"
    step = 8 * width
    return (
        f"substr(days, 1 + 4 * (n - {k}), 4 * {k})",
        f"substr({values}, 1 + {step} * (n - {k}), {step} * {k})",
    )


def _inside(day_blob: bytes, lo: int, hi: int) -> tuple[int, int]:
    """The slice of a (sorted) day BLOB inside ``[lo, hi]``."""
    a = np.frombuffer(day_blob, np.int32)
    return int(np.searchsorted(a, lo)), int(np.searchsorted(a, hi, side="right"))


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
        self.lo, self.hi = lo, hi
        self.days: NDArray[np.int32] = np.empty(0, np.int32)
        self._cols: dict[bytes, tuple[int, int, NDArray[np.intp]]] = {}
        self.add(day_blobs)

    def add(self, day_blobs: Iterable[bytes]) -> NDArray[np.intp] | None:
        """Take more day BLOBs in; when that adds days, return where the previous days are
        on the new axis (to move what was scattered), else None."""
        new = [b for b in dict.fromkeys(day_blobs) if b not in self._cols]
        if not new:
            return None
        cuts = {b: _inside(b, self.lo, self.hi) for b in new}
        parts = [np.frombuffer(b, np.int32)[i:j] for b, (i, j) in cuts.items()]
        days = np.union1d(self.days, np.concatenate(parts)).astype(np.int32)
        moved = None
        if days.size != self.days.size:
            moved = np.searchsorted(days, self.days)
            self.days = days
            self._cols = {b: (i, j, moved[c]) for b, (i, j, c) in self._cols.items()}
        for b, (i, j) in cuts.items():
            self._cols[b] = (i, j, np.searchsorted(days, np.frombuffer(b, np.int32)[i:j]))
        return moved

    def scatter(self, out: NDArray[np.float64], rows: Sequence[tuple[int, bytes, bytes]]) -> None:
        """Write blocks ``(output row, day BLOB, value BLOB)`` into ``out`` of shape
        ``(width, n_rows, len(days))``; a value BLOB holds ``(n_days, width)`` float64.

        Blocks sharing a day BLOB (usually most) are written together, with one numpy
        operation per field, not one per block."""
        width, plane = out.shape[0], out.shape[2]
        groups: dict[bytes, tuple[list[int], list[bytes]]] = {}
        for r, d, v in rows:
            g = groups.get(d)
            if g is None:
                g = groups[d] = ([], [])
            g[0].append(r)
            g[1].append(v)
        for d, (at, blobs) in groups.items():
            i, j, cols = self._cols[d]
            if i == j:
                continue
            vals = np.frombuffer(b"".join(blobs), np.float64).reshape(len(at), -1, width)
            flat = (np.array(at, np.int64) * plane)[:, None] + cols[None, :]
            for k in range(width):
                out[k].reshape(-1)[flat] = vals[:, i:j, k]
