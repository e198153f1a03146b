"""The columnar batch of bars (:class:`Bars`) and the block codec shared by bars and indicators."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ferroquant.errors import ShapeError

if TYPE_CHECKING:
    from ferroquant.ingest._report import Problem

__all__ = ["FIELDS", "Bars", "day_numbers", "to_dates"]

FIELDS = ("open", "high", "low", "close", "adj_close", "volume")
"""The value columns of a bar, in their order inside a stored block."""

F64 = NDArray[np.float64]


def day_numbers(dates: ArrayLike) -> NDArray[np.int64]:
    """Days since 1970-01-01 of anything numpy reads as dates.

    Examples
    --------
    >>> day_numbers(np.array(["1970-01-02", "2000-01-01"], dtype="datetime64[D]")).tolist()
    [1, 10957]
    """
    return np.asarray(dates, dtype="datetime64[D]").astype(np.int64)


def to_dates(days: NDArray[Any]) -> NDArray[np.datetime64]:
    """The inverse of :func:`day_numbers`."""
    return np.asarray(days, dtype=np.int64).astype("datetime64[D]")


@dataclass(frozen=True, eq=False)
class Bars:
    """A batch of daily bars as parallel columns (one entry per bar, no per-row objects).

    ``adj_close`` may be NaN (not supplied); so may ``open``..``volume`` for sources holding only
    some columns (a wide adjusted-close file): a NaN never overwrites a stored value. ``line``,
    ``file`` and ``files`` say where each bar came from (for validation reports), and ``problems``
    carries what could not be parsed while reading.

    Examples
    --------
    >>> b = Bars.from_arrays(["A", "A"], ["2024-01-02", "2024-01-03"], [1, 2], [1, 2], [1, 2],
    ...                      [1, 2], volume=[10, 20])
    >>> len(b), b.date.dtype, bool(np.isnan(b.adj_close).all())
    (2, dtype('<M8[D]'), True)
    """

    symbol: NDArray[Any]
    date: NDArray[np.datetime64]
    open: F64
    high: F64
    low: F64
    close: F64
    adj_close: F64
    volume: F64
    line: NDArray[np.int64] | None = None
    file: NDArray[np.int32] | None = None
    files: tuple[str, ...] = ()
    problems: tuple[Problem, ...] = field(default=())

    @classmethod
    def from_arrays(
        cls,
        symbol: ArrayLike,
        date: ArrayLike,
        open: ArrayLike,
        high: ArrayLike,
        low: ArrayLike,
        close: ArrayLike,
        adj_close: ArrayLike | None = None,
        volume: ArrayLike | None = None,
    ) -> Bars:
        """Coerce array-likes to the column types (``symbol`` may also be one string)."""
        d = np.asarray(date, dtype="datetime64[D]").ravel()
        n = d.size
        sym = np.asarray(symbol)
        sym = np.full(n, str(sym), dtype=object) if sym.ndim == 0 else sym.astype(object).ravel()
        cols = [
            np.full(n, np.nan) if c is None else np.asarray(c, dtype=np.float64).ravel()
            for c in (open, high, low, close, adj_close, volume)
        ]
        for name, c in zip(("symbol", *FIELDS), [sym, *cols], strict=True):
            if c.shape != (n,):
                raise ShapeError(f"Bars.{name} has {c.shape[0]} entries, date has {n}")
        return from_columns(sym, d, cols)

    def __len__(self) -> int:
        return int(self.date.size)

    def values(self) -> F64:
        """The ``(n, 6)`` float64 matrix of :data:`FIELDS` (the layout of a stored block)."""
        return np.column_stack([getattr(self, f) for f in FIELDS])

    def take(self, index: NDArray[Any]) -> Bars:
        """The bars at ``index`` (an integer or boolean array), with their provenance."""
        return from_columns(
            self.symbol[index],
            self.date[index],
            [getattr(self, f)[index] for f in FIELDS],
            line=None if self.line is None else self.line[index],
            file=None if self.file is None else self.file[index],
            files=self.files,
            problems=self.problems,
        )

    @classmethod
    def concat(cls, parts: Sequence[Bars]) -> Bars:
        """One batch from several, keeping lines and renumbering files."""
        files: list[str] = []
        file_ids: list[NDArray[np.int32]] = []
        lines: list[NDArray[np.int64]] = []
        problems: list[Problem] = []
        for p in parts:
            n, offset = len(p), sum(x.size for x in lines)
            problems += [replace(x, row=x.row + offset) if x.row >= 0 else x for x in p.problems]
            fid = np.full(n, -1, np.int32) if p.file is None else p.file + len(files)
            file_ids.append(np.where(fid < len(files), -1, fid).astype(np.int32))
            lines.append(np.zeros(n, np.int64) if p.line is None else p.line)
            files.extend(p.files)
        return from_columns(
            np.concatenate([p.symbol for p in parts]),
            np.concatenate([p.date for p in parts]),
            [np.concatenate([getattr(p, f) for p in parts]) for f in FIELDS],
            line=np.concatenate(lines),
            file=np.concatenate(file_ids),
            files=tuple(files),
            problems=tuple(problems),
        )


def from_columns(
    symbol: NDArray[Any],
    date: NDArray[np.datetime64],
    cols: Sequence[F64],
    *,
    line: NDArray[np.int64] | None = None,
    file: NDArray[np.int32] | None = None,
    files: tuple[str, ...] = (),
    problems: tuple[Problem, ...] = (),
) -> Bars:
    """A :class:`Bars` from its symbol and date columns and the :data:`FIELDS` columns."""
    o, h, lo, c, a, v = cols
    return Bars(symbol, date, o, h, lo, c, a, v, line, file, files, problems)


def merge_rows(
    old_days: NDArray[Any],
    old_vals: F64,
    new_days: NDArray[Any],
    new_vals: F64,
) -> tuple[NDArray[np.int32], F64]:
    """Upsert sorted ``new`` rows into sorted ``old`` rows; a NaN in ``new`` keeps the old value."""
    days = np.union1d(old_days, new_days).astype(np.int32)
    vals = np.full((days.size, *old_vals.shape[1:]), np.nan)
    vals[np.searchsorted(days, old_days)] = old_vals
    at = np.searchsorted(days, new_days)
    vals[at] = np.where(np.isnan(new_vals), vals[at], new_vals)
    return days, vals


def same(a: F64, b: F64) -> bool:
    """Equal shapes and values, NaN equal to NaN."""
    return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=True))
