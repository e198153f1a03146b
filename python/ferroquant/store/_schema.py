"""The database schema, its forward migrations and the connection settings applied everywhere.

Bars and indicator values are stored as columnar blocks (see :mod:`ferroquant.store`): one row per
``(symbol, block of 256 calendar days)`` holding the day numbers as an ``int32`` BLOB and the
values as a ``float64`` BLOB. The scalar columns next to the BLOBs (``first_day``, ``last_day``,
``last_close``, ``n``) keep the questions SQL needs answered without decoding them. Version 3
adds the append tails (``bar_tail``, ``indicator_tail``: :mod:`ferroquant.store._tail`).
"""

from __future__ import annotations

import sqlite3
import time

from ferroquant.errors import StoreError
from ferroquant.store import _risk

__all__ = ["BLOCK_SHIFT", "MIGRATIONS", "SCHEMA_VERSION", "configure", "migrate"]

BLOCK_SHIFT = 8
"""A block holds the days ``d`` with ``d >> BLOCK_SHIFT`` equal: 256 calendar days, ~176 bars."""

_V1 = """
CREATE TABLE symbols (
    id INTEGER PRIMARY KEY,
    symbol TEXT NOT NULL UNIQUE,
    sector TEXT,
    industry TEXT,
    adj_derived INTEGER NOT NULL DEFAULT 1  -- 0 once a source supplied adjusted closes
);
-- Daily bars: days since 1970-01-01 (int32 BLOB) and (n, 6) float64 rows of
-- open, high, low, close, adj_close, volume (BLOB), NaN where a value is missing.
-- The BLOB tables carry no REFERENCES clause: the store writes them only with ids it has just
-- resolved, and the per-row parent lookups doubled the cost of a bulk write (measured).
CREATE TABLE bar_blocks (
    symbol_id INTEGER NOT NULL,
    block INTEGER NOT NULL,
    n INTEGER NOT NULL,
    first_day INTEGER NOT NULL,
    last_day INTEGER NOT NULL,
    last_close REAL,
    days BLOB NOT NULL,
    bars BLOB NOT NULL,
    PRIMARY KEY (symbol_id, block)
) WITHOUT ROWID;
CREATE TABLE corporate_actions (
    symbol_id INTEGER NOT NULL REFERENCES symbols(id),
    day INTEGER NOT NULL,
    dividend REAL NOT NULL DEFAULT 0,
    split REAL NOT NULL DEFAULT 1,
    PRIMARY KEY (symbol_id, day)
) WITHOUT ROWID;
CREATE TABLE indicators (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE indicator_blocks (
    indicator_id INTEGER NOT NULL,
    symbol_id INTEGER NOT NULL,
    block INTEGER NOT NULL,
    n INTEGER NOT NULL,
    last_day INTEGER NOT NULL,
    days BLOB NOT NULL,
    vals BLOB NOT NULL,
    PRIMARY KEY (indicator_id, symbol_id, block)
) WITHOUT ROWID;
CREATE TABLE portfolios (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE holdings (
    portfolio_id INTEGER NOT NULL REFERENCES portfolios(id) ON DELETE CASCADE,
    symbol_id INTEGER NOT NULL REFERENCES symbols(id),
    quantity REAL NOT NULL,
    PRIMARY KEY (portfolio_id, symbol_id)
) WITHOUT ROWID;
CREATE INDEX holdings_by_symbol ON holdings(symbol_id);
CREATE TABLE trades (
    id INTEGER PRIMARY KEY,
    portfolio_id INTEGER NOT NULL REFERENCES portfolios(id) ON DELETE CASCADE,
    symbol_id INTEGER NOT NULL REFERENCES symbols(id),
    ts TEXT NOT NULL,
    quantity REAL NOT NULL,
    price REAL NOT NULL
);
CREATE INDEX trades_by_time ON trades(ts);
CREATE INDEX trades_by_symbol ON trades(symbol_id, ts);
CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    started_at REAL NOT NULL,
    finished_at REAL,
    status TEXT NOT NULL,
    params TEXT NOT NULL,
    rows TEXT,
    timings TEXT
);
"""

# Per-symbol totals of the bars, kept by every bar write in the same transaction: the valuation
# and "last bar" queries then read one small row per symbol instead of a 64 KiB block page, and
# ``info()`` does not scan every block. Backfilled from the blocks for stores made by version 1.
_V2 = """
CREATE TABLE bar_stats (
    symbol_id INTEGER PRIMARY KEY REFERENCES symbols(id),
    n_bars INTEGER NOT NULL,
    first_day INTEGER NOT NULL,
    last_day INTEGER NOT NULL,
    last_close REAL
);
INSERT INTO bar_stats
SELECT b.symbol_id, t.n, t.first_day, b.last_day, b.last_close
FROM (SELECT symbol_id, sum(n) AS n, min(first_day) AS first_day, max(block) AS block
      FROM bar_blocks GROUP BY symbol_id) t
JOIN bar_blocks b ON b.symbol_id = t.symbol_id AND b.block = t.block
"""

# Append tails (see :mod:`ferroquant.store._tail`): the newest bars and indicator values of each
# run of 256 consecutive symbol ids, as one matrix row (:mod:`ferroquant.store._runs`), kept
# apart from the sealed blocks so that a daily append rewrites 16 rows of ~100 KB instead of
# each symbol's last 256-day block; folded into the blocks now and then. ``sids`` (int64),
# ``ids`` (int32 layers: indicator ids, 0 for bars) and ``days`` (int32) index a
# (symbols, layers, days) uint8 ``mask`` of the cells held and their float64 ``vals``.
_TAIL_COLUMNS = """(
    run INTEGER PRIMARY KEY,
    first_day INTEGER NOT NULL,
    last_day INTEGER NOT NULL,
    sids BLOB NOT NULL,
    ids BLOB NOT NULL,
    days BLOB NOT NULL,
    mask BLOB NOT NULL,
    vals BLOB NOT NULL
)"""
_V3 = f"CREATE TABLE bar_tail {_TAIL_COLUMNS}; CREATE TABLE indicator_tail {_TAIL_COLUMNS}"

# Risk-model results (see :mod:`ferroquant.store._risk`).
_V4 = _risk.V4

MIGRATIONS: tuple[str, ...] = (_V1, _V2, _V3, _V4)
"""``MIGRATIONS[k]`` takes a database from version ``k`` to ``k + 1``. Only append to it."""

SCHEMA_VERSION = len(MIGRATIONS)

PAGE_SIZE = 65536
"""Large pages keep a block's BLOBs on its leaf page (no overflow chains): measured 2-3x faster
BLOB writes and reads than the 4 KiB default."""

WAL_PAGES = 2048
"""``wal_autocheckpoint`` in pages (128 MiB): a bulk load is not interrupted by checkpoints."""


def configure(
    conn: sqlite3.Connection, *, readonly: bool, cache_mb: int, mmap_mb: int, busy_ms: int
) -> None:
    """Apply the connection settings every connection of a store gets."""
    pragmas = [
        f"page_size = {PAGE_SIZE}",  # no-op once the file has tables
        f"busy_timeout = {int(busy_ms)}",
        f"cache_size = -{int(cache_mb) * 1024}",  # negative: KiB, not pages
        "temp_store = MEMORY",
        f"mmap_size = {int(mmap_mb) << 20}",
        "foreign_keys = ON",
    ]
    if not readonly:
        # WAL lets readers (threads or other processes) run while the one writer commits.
        pragmas += [
            "journal_mode = WAL",
            "synchronous = NORMAL",
            f"wal_autocheckpoint = {WAL_PAGES}",
        ]
    for p in pragmas:
        conn.execute(f"PRAGMA {p}")


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema to :data:`SCHEMA_VERSION`, one migration per transaction; return it."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_version "
            "(version INTEGER PRIMARY KEY, applied_at REAL NOT NULL)"
        )
        (current,) = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
        if (
            current == 0
            and conn.execute(
                "SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' "
                "AND name != 'schema_version'"
            ).fetchone()[0]
        ):
            raise StoreError("not a ferroquant store: the file holds other tables")
        if current > SCHEMA_VERSION:
            raise StoreError(
                f"the store has schema version {current}, newer than this ferroquant "
                f"({SCHEMA_VERSION}); upgrade ferroquant"
            )
        for version in range(current, SCHEMA_VERSION):
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute("INSERT INTO schema_version VALUES (?, ?)", (version + 1, time.time()))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return SCHEMA_VERSION


def read_version(conn: sqlite3.Connection) -> int:
    """The schema version of an existing store (0 if it has none)."""
    try:
        row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_version").fetchone()
    except sqlite3.OperationalError:
        return 0
    return int(row[0])
