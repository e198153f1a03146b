"""Validation of a batch of bars: every problem, with its file, line and symbol, in one pass of
vectorised checks (no Python loop over valid rows)."""

from __future__ import annotations

import re

import numpy as np
from numpy.typing import NDArray

from ferroquant.ingest._report import Problem, ValidationReport
from ferroquant.store import Bars

__all__ = ["validate"]

_REF = re.compile(r"\{first:(\d+)\}")  # a reference to another row, rendered as its line


def validate(bars: Bars) -> ValidationReport:
    """Check ``bars``: what could not be parsed, duplicate ``(symbol, date)``, dates out of order
    within a file, non-positive or non-finite prices, high below low/open/close, low above
    open/close, and negative or non-finite volume.

    Examples
    --------
    >>> from ferroquant.store import Bars
    >>> b = Bars.from_arrays("A", ["2024-01-02", "2024-01-02"], open=[10, 10], high=[11, 9],
    ...                      low=[9, 10], close=[10, 10], volume=[5, -1])
    >>> print(validate(b))
    5 problems in 1 of 2 rows (nothing was written):
      row 2 [A]: duplicate of row 1 (same symbol and date 2024-01-02)
      row 2 [A]: high 9 is below low 10
      row 2 [A]: high 9 is below open 10
      row 2 [A]: high 9 is below close 10
      row 2 [A]: volume -1 is negative
    """
    n = len(bars)
    found: list[tuple[int, str, str]] = []  # (row, kind, message)
    parsed = list(bars.problems)
    day = bars.date
    nat = np.isnat(day)
    sym = bars.symbol.astype(str)
    file = bars.file if bars.file is not None else np.zeros(n, np.int32)
    _duplicates_and_order(sym, day, file, nat, found)
    _prices(bars, found)
    bad = np.zeros(n, bool)
    bad[[p.row for p in parsed if p.row >= 0]] = True
    rows = np.fromiter((r for r, _, _ in found), np.int64, len(found))
    bad[rows] = True
    problems = parsed + [
        _problem(bars, sym, r, k, _REF.sub(lambda m: _label(bars, int(m[1])), msg))
        for r, k, msg in found
    ]
    problems.sort(key=lambda p: (p.file, p.line, p.row))
    return ValidationReport(problems, ~bad)


def _where(bars: Bars, row: int) -> tuple[str, int]:
    if bars.line is None or bars.file is None or bars.file[row] < 0:
        return "row", row + 1
    return bars.files[int(bars.file[row])], int(bars.line[row])


def _problem(bars: Bars, sym: NDArray[np.str_], row: int, kind: str, message: str) -> Problem:
    file, line = _where(bars, row)
    if file == "row":
        return Problem(f"row {line}", 0, str(sym[row]), message, kind, row)
    return Problem(file, line, str(sym[row]), message, kind, row)


def _label(bars: Bars, row: int) -> str:
    file, line = _where(bars, row)
    return f"row {line}" if file == "row" else f"line {line}"


def _duplicates_and_order(
    sym: NDArray[np.str_],
    day: NDArray[np.datetime64],
    file: NDArray[np.int32],
    nat: NDArray[np.bool_],
    found: list[tuple[int, str, str]],
) -> None:
    ok = np.flatnonzero(~nat)
    if ok.size < 2:
        return
    d = day[ok].astype(np.int64)
    _, s = np.unique(sym[ok], return_inverse=True)
    # Duplicates across the whole batch: sort by (symbol, date, row).
    order = np.lexsort((ok, d, s))
    same = (s[order][1:] == s[order][:-1]) & (d[order][1:] == d[order][:-1])
    for k in np.flatnonzero(same).tolist():
        first, dup = int(ok[order[k]]), int(ok[order[k + 1]])
        found.append(
            (
                dup,
                "duplicate",
                f"duplicate of {{first:{first}}} (same symbol and date "
                f"{np.datetime64(int(d[order[k + 1]]), 'D')})",
            )
        )
    # Order within each file and symbol, in the order the rows were read.
    order = np.lexsort((ok, s, file[ok]))
    grp = (s[order][1:] == s[order][:-1]) & (file[ok][order][1:] == file[ok][order][:-1])
    back = grp & (d[order][1:] < d[order][:-1])
    for k in np.flatnonzero(back).tolist():
        row, prev = int(ok[order[k + 1]]), int(ok[order[k]])
        found.append(
            (
                row,
                "unsorted",
                f"date {np.datetime64(int(d[order[k + 1]]), 'D')} comes after "
                f"{np.datetime64(int(d[order[k]]), 'D')} ({{first:{prev}}}): sort by date",
            )
        )


def _fmt(x: float) -> str:
    return f"{x:g}"


def _prices(bars: Bars, found: list[tuple[int, str, str]]) -> None:
    cols = {
        "open": bars.open,
        "high": bars.high,
        "low": bars.low,
        "close": bars.close,
        "adj_close": bars.adj_close,
    }
    with np.errstate(invalid="ignore"):
        for name, v in cols.items():
            for r in np.flatnonzero(np.isinf(v)).tolist():
                found.append((r, "non-finite", f"{name} {_fmt(v[r])} is not finite"))
            for r in np.flatnonzero(v <= 0).tolist():
                found.append((r, "non-positive", f"{name} {_fmt(v[r])} is not positive"))
        hi, lo = bars.high, bars.low
        for r in np.flatnonzero(hi < lo).tolist():
            found.append((r, "high<low", f"high {_fmt(hi[r])} is below low {_fmt(lo[r])}"))
        for name in ("open", "close"):
            v = cols[name]
            for r in np.flatnonzero(hi < v).tolist():
                found.append(
                    (r, "high<" + name, f"high {_fmt(hi[r])} is below {name} {_fmt(v[r])}")
                )
            for r in np.flatnonzero(lo > v).tolist():
                found.append((r, "low>" + name, f"low {_fmt(lo[r])} is above {name} {_fmt(v[r])}"))
        vol = bars.volume
        for r in np.flatnonzero(vol < 0).tolist():
            found.append((r, "negative volume", f"volume {_fmt(vol[r])} is negative"))
        for r in np.flatnonzero(np.isinf(vol)).tolist():
            found.append((r, "non-finite", f"volume {_fmt(vol[r])} is not finite"))
