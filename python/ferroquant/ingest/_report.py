"""What validation and ingestion report: :class:`Problem`, :class:`ValidationReport`,
:class:`IngestResult`."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

__all__ = ["IngestResult", "Problem", "ValidationReport"]

SHOWN = 30
"""Problems listed one by one in ``str(report)``; the rest are counted by kind."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input: where (file, 1-based line, symbol) and what.

    ``row`` is the index of the bar in the batch read (-1 when the line produced no bar), and
    ``kind`` a short category used to summarise many problems.
    """

    file: str
    line: int
    symbol: str | None
    message: str
    kind: str = "invalid"
    row: int = -1

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line > 0 else self.file
        sym = f" [{self.symbol}]" if self.symbol else ""
        return f"{where}{sym}: {self.message}"


@dataclass
class ValidationReport:
    """Every problem found in a batch of bars, and which bars are valid.

    Examples
    --------
    >>> import numpy as np
    >>> bad = Problem("p.csv", 3, "A", "high 9.0 is below low 10.0", "high<low", 1)
    >>> r = ValidationReport([bad], np.array([True, False]))
    >>> r.ok, r.n_invalid
    (False, 1)
    >>> print(r)
    1 problem in 1 of 2 rows (nothing was written):
      p.csv:3 [A]: high 9.0 is below low 10.0
    """

    problems: list[Problem]
    valid_mask: NDArray[np.bool_]
    written: bool = False

    @property
    def ok(self) -> bool:
        """True when there is nothing to report."""
        return not self.problems

    @property
    def n_invalid(self) -> int:
        """Rows (bars) with at least one problem."""
        return int(self.valid_mask.size - np.count_nonzero(self.valid_mask))

    def counts(self) -> dict[str, int]:
        """Problems per kind, most frequent first."""
        return dict(Counter(p.kind for p in self.problems).most_common())

    def __str__(self) -> str:
        if self.ok:
            return f"no problems in {self.valid_mask.size:,} rows"
        n = len(self.problems)
        outcome = "the valid rows were written" if self.written else "nothing was written"
        head = (
            f"{n:,} problem{'s' if n != 1 else ''} in {self.n_invalid:,} of "
            f"{self.valid_mask.size:,} rows ({outcome}):"
        )
        lines = [head, *(f"  {p}" for p in self.problems[:SHOWN])]
        if n > SHOWN:
            lines.append(f"  … and {n - SHOWN:,} more")
            lines.append("  by kind: " + ", ".join(f"{k} {v:,}" for k, v in self.counts().items()))
        return "\n".join(lines)


@dataclass
class IngestResult:
    """What an :func:`~ferroquant.ingest.ingest` did."""

    rows_read: int
    rows_written: int
    rows_skipped: int
    symbols: int
    seconds: float
    actions_written: int = 0
    adj_close_derived: int = 0
    report: ValidationReport | None = field(default=None, repr=False)
