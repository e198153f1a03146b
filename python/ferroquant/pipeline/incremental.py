"""What an indicator run has to (re)compute, and the bars it has to load for it.

Each symbol's indicators are computed over *its own* bars, as the per-stock pandas code does
(``read_sql_query`` of one stock's closes): a panel row with gaps (dates on which other symbols
of the chunk trade and it does not) is packed before the kernels run and unpacked after, so the
values never depend on which symbols share a chunk.

An update recomputes, per symbol, only the bars after the last date already stored, loading
``history`` bars in front of them. The kernels use running sums, so a value recomputed from that
shorter window can differ from a full recomputation in the last bits: the two agree to 1e-12
relative, with NaN in the same places (``tests/pipeline/test_incremental.py``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["Work", "pack", "plan", "unpack"]

FloatArray = NDArray[np.float64]
_DAY = np.timedelta64(1, "D")


@dataclass(frozen=True)
class Work:
    """Symbols whose stored indicators all end on ``since`` (``None``: nothing stored yet)."""

    symbols: list[str]
    since: np.datetime64 | None


def plan(
    last_bars: Mapping[str, np.datetime64],
    stored: Sequence[Mapping[str, np.datetime64]],
    *,
    full: bool = False,
    chunk: int = 256,
) -> list[Work]:
    """Group the symbols that need work by the date their stored indicators end on.

    ``stored`` holds, per indicator set, the last stored date of each symbol; a symbol is as far
    as its least advanced set. With ``full`` every symbol is recomputed from its first bar.

    Examples
    --------
    >>> d = np.datetime64
    >>> bars = {"A": d("2024-01-05"), "B": d("2024-01-05"), "C": d("2024-01-04")}
    >>> done = [{"A": d("2024-01-04"), "C": d("2024-01-04")}]
    >>> [(w.symbols, w.since) for w in plan(bars, done)]
    [(['B'], None), (['A'], np.datetime64('2024-01-04'))]
    """
    groups: dict[np.datetime64 | None, list[str]] = defaultdict(list)
    for symbol in sorted(last_bars):
        dates = [s.get(symbol) for s in stored]
        since = None if full or not dates or any(x is None for x in dates) else min(dates)  # type: ignore[type-var]
        if since is None or since < last_bars[symbol]:
            groups[since].append(symbol)
    order = sorted(groups, key=lambda k: (k is not None, k if k is not None else 0))
    return [
        Work(groups[k][i : i + chunk], k) for k in order for i in range(0, len(groups[k]), chunk)
    ]


def regroup(work: Sequence[Work], chunk: int) -> list[Work]:
    """Merge the chunks of each update group (``since`` set) into chunks of up to ``chunk``
    symbols: an update loads a short window, so it can take more symbols at a time.

    Examples
    --------
    >>> d = np.datetime64("2024-01-04")
    >>> [len(w.symbols) for w in regroup([Work(["A"], None), Work(["B"], d), Work(["C"], d)], 8)]
    [1, 2]
    """
    out: list[Work] = []
    for w in work:
        last = out[-1] if out else None
        if (
            w.since is not None
            and last is not None
            and last.since == w.since
            and len(last.symbols) + len(w.symbols) <= chunk
        ):
            out[-1] = Work([*last.symbols, *w.symbols], w.since)
        else:
            out.append(w)
    return out


def load_window(store: Any, work: Work, history: int | None) -> Iterator[tuple[Any, int]]:
    """Yield ``(panel, first_new)`` pairs covering ``work``: each panel holds at least
    ``history`` bars of every symbol before its column ``first_new`` (all bars when the symbol
    has fewer, or when ``history`` or ``work.since`` is ``None``)."""
    if work.since is None or history is None:
        panel = store.load_panel(symbols=work.symbols)
        yield panel, 0 if work.since is None else _first_after(panel.dates, work.since)
        return
    # Calendar days for `history` trading days, with room for holidays; widened when short.
    margin = int(history * 1.5) + 10
    symbols = list(work.symbols)
    while symbols:
        start = work.since - margin * _DAY
        panel = store.load_panel(symbols=symbols, start=start)
        first_new = _first_after(panel.dates, work.since)
        have = (~np.isnan(panel.close[:, :first_new])).sum(axis=1)
        short = have < history
        if not short.any() or margin > 40 * 366:
            yield panel, first_new
            return
        if not short.all():
            keep = np.flatnonzero(~short)
            yield subset(panel, keep), first_new
        symbols = [symbols[i] for i in np.flatnonzero(short)]
        margin *= 4


def _first_after(dates: NDArray[np.datetime64], since: np.datetime64) -> int:
    return int(np.searchsorted(dates, since, side="right"))


def subset(panel: Any, rows: NDArray[np.intp]) -> Any:
    """The panel restricted to ``rows`` (symbols)."""
    arrays = {
        name: getattr(panel, name)[rows]
        for name in ("open", "high", "low", "close", "adj_close", "volume")
        if hasattr(panel, name)
    }
    return replace(
        panel,
        symbols=[panel.symbols[i] for i in rows],
        sectors=[panel.sectors[i] for i in rows],
        **arrays,
    )


def pack(close: FloatArray) -> NDArray[np.intp] | None:
    """Column order that moves each row's bars (non-NaN closes) to its right end, keeping their
    order; ``None`` when no row has a gap (the common case: nothing to move).

    Examples
    --------
    >>> close = np.array([[1.0, 2.0, 3.0], [np.nan, 5.0, np.nan]])
    >>> order = pack(close)
    >>> np.take_along_axis(close, order, axis=1)
    array([[ 1.,  2.,  3.],
           [nan, nan,  5.]])
    """
    missing = np.isnan(close)
    if not missing.any():
        return None
    # A stable sort of "has a bar" puts the gaps first and keeps the bars in date order.
    return np.argsort(~missing, axis=1, kind="stable")


def unpack(block: FloatArray, order: NDArray[np.intp], close: FloatArray) -> FloatArray:
    """Undo :func:`pack` on an output block ``(k, n_assets, n_bars)``: values go back to their
    dates and dates without a bar get NaN.

    Examples
    --------
    >>> close = np.array([[np.nan, 5.0, np.nan]])
    >>> order = pack(close)
    >>> unpack(np.array([[[0.0, 0.0, 7.0]]]), order, close)
    array([[[nan,  7., nan]]])
    """
    out = np.empty_like(block)
    np.put_along_axis(out, np.broadcast_to(order, block.shape), block, axis=2)
    out[:, np.isnan(close)] = np.nan
    return out
