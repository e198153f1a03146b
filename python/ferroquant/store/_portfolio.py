"""Portfolios: holdings, trades and the valuation query."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

__all__ = ["VALUATION_SQL", "Valuation", "valuation", "write_holdings", "write_trades"]


class Valuation(NamedTuple):
    """One holding at its latest close (``date``/``price``/``market_value`` None: no bars)."""

    symbol: str
    quantity: float
    date: str | None
    price: float | None
    market_value: float | None


# Each holding's latest close is one primary-key seek in bar_stats (kept by every bar write),
# so the query costs the same however long the history: it never reads a bar block.
VALUATION_SQL = """
SELECT s.symbol, h.quantity, b.last_day, b.last_close, h.quantity * b.last_close AS mv
FROM holdings h
JOIN symbols s ON s.id = h.symbol_id
LEFT JOIN bar_stats b ON b.symbol_id = h.symbol_id
WHERE h.portfolio_id = (SELECT id FROM portfolios WHERE name = ?)
ORDER BY mv DESC NULLS LAST, s.symbol
"""


def valuation(c: sqlite3.Connection, portfolio: str) -> list[Valuation]:
    """Run :data:`VALUATION_SQL`."""
    out = []
    for sym, qty, day, price, mv in c.execute(VALUATION_SQL, (portfolio,)):
        date = None if day is None else str(np.datetime64(int(day), "D"))
        out.append(Valuation(sym, float(qty), date, price, mv))
    return out


def _portfolio_id(c: sqlite3.Connection, name: str) -> int:
    c.execute("INSERT OR IGNORE INTO portfolios(name) VALUES (?)", (name,))
    return int(c.execute("SELECT id FROM portfolios WHERE name = ?", (name,)).fetchone()[0])


def write_holdings(
    c: sqlite3.Connection, portfolio: str, ids: NDArray[np.int64], quantities: Sequence[float]
) -> None:
    """Replace the holdings of ``portfolio``."""
    pid = _portfolio_id(c, portfolio)
    c.execute("DELETE FROM holdings WHERE portfolio_id = ?", (pid,))
    c.executemany(
        "INSERT INTO holdings VALUES (?, ?, ?)",
        ((pid, s, q) for s, q in zip(ids.tolist(), quantities, strict=True)),
    )


def write_trades(
    c: sqlite3.Connection,
    portfolio: str,
    ids: NDArray[np.int64],
    trades: Sequence[tuple[str, str, float, float]],
) -> None:
    """Append trades ``(timestamp, symbol, quantity, price)``."""
    pid = _portfolio_id(c, portfolio)
    c.executemany(
        "INSERT INTO trades(portfolio_id, symbol_id, ts, quantity, price) VALUES (?, ?, ?, ?, ?)",
        (
            (pid, s, str(t[0]), float(t[2]), float(t[3]))
            for s, t in zip(ids.tolist(), trades, strict=True)
        ),
    )
