"""The real sample shipped inside the package (see ``data/PROVENANCE.md``): 99 S&P 500 stocks,
daily OHLCV 2016-04-22 → 2021-04-21, with sectors. Read with the standard library and numpy only.
"""

from __future__ import annotations

import csv
import gzip
from dataclasses import dataclass
from importlib import resources
from importlib.resources import abc as resources_abc

import numpy as np
from numpy.typing import NDArray

__all__ = ["Panel", "load_sample"]


@dataclass(frozen=True)
class Panel:
    """Aligned ``(n_assets, n_bars)`` OHLCV arrays with their labels (NaN where no bar)."""

    symbols: list[str]
    dates: NDArray[np.datetime64]
    sectors: list[str]
    open: NDArray[np.float64]
    high: NDArray[np.float64]
    low: NDArray[np.float64]
    close: NDArray[np.float64]
    volume: NDArray[np.float64]
    adj_close: NDArray[np.float64] | None = None
    """Adjusted closes (splits and dividends) when known, same shape; ``None`` otherwise."""

    @property
    def shape(self) -> tuple[int, int]:
        """``(n_assets, n_bars)``."""
        return (len(self.symbols), len(self.dates))


def load_sample(*, adjust_splits: bool = True) -> Panel:
    """Load the bundled sample as a :class:`Panel`.

    Parameters
    ----------
    adjust_splits : bool
        Divide prices before each split by its coefficient (and multiply volumes), using the
        bundled corporate actions, so that splits do not show as crashes. Dividends are not
        adjusted for.

    Examples
    --------
    >>> from ferroquant.sample import load_sample
    >>> p = load_sample()
    >>> p.shape, str(p.dates[0]), len(set(p.sectors))
    ((99, 1258), '2016-04-22', 11)
    """
    root = resources.files("ferroquant") / "data"
    with (root / "sample_sectors.csv").open("r", encoding="utf-8") as f:
        sector_of = {row["symbol"]: row["sector"] for row in csv.DictReader(f)}
    with (
        (root / "sample_ohlcv.csv.gz").open("rb") as raw,
        gzip.open(raw, "rt", encoding="utf-8", newline="") as f,
    ):
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    if header != ["date", "symbol", "open", "high", "low", "close", "volume"]:
        raise ValueError(f"unexpected sample header {header}")
    table = np.array(body, dtype=object)
    dates, date_idx = np.unique(table[:, 0].astype("datetime64[D]"), return_inverse=True)
    symbols, sym_idx = np.unique(table[:, 1].astype(str), return_inverse=True)
    fields = []
    for col in range(2, 7):
        panel = np.full((symbols.size, dates.size), np.nan)
        panel[sym_idx, date_idx] = table[:, col].astype(np.float64)
        fields.append(panel)
    syms = [str(s) for s in symbols]
    if adjust_splits:
        _adjust_splits(root, syms, dates, fields)
    return Panel(syms, dates, [sector_of.get(s, "Unknown") for s in syms], *fields)


def _adjust_splits(
    root: resources_abc.Traversable,
    symbols: list[str],
    dates: NDArray[np.datetime64],
    fields: list[NDArray[np.float64]],
) -> None:
    row_of = {s: i for i, s in enumerate(symbols)}
    with (root / "sample_corporate_actions.csv").open("r", encoding="utf-8") as f:
        for action in csv.DictReader(f):
            ratio = float(action["split_coefficient"])
            row = row_of.get(action["symbol"])
            if ratio == 1.0 or row is None:
                continue
            before = dates < np.datetime64(action["date"], "D")
            for price in fields[:4]:
                price[row, before] /= ratio
            fields[4][row, before] *= ratio
