"""The ferroquant store: bars, corporate actions, indicators, portfolios and runs in SQLite.

It uses the standard library's :mod:`sqlite3` (the one SQLite copy in the process). Every
connection gets WAL, ``synchronous=NORMAL``, 64 KiB pages, a page cache and a memory map (16 MiB
each by default, ``Store.open(cache_mb=, mmap_mb=)``; both count in the RSS, which the job keeps
small), ``temp_store=MEMORY``, ``wal_autocheckpoint``, ``busy_timeout`` and foreign keys. One
writer connection takes ``BEGIN IMMEDIATE`` transactions; readers come from a pool of read-only
connections, so threads and other processes read while a job writes. Bulk loads end with
``ANALYZE`` + ``PRAGMA optimize`` (:meth:`Store.optimize`, run by the ingest).

Layout. Bars and indicator values are stored in **columnar blocks**: one row per ``(symbol, block
of 256 calendar days)`` (``~176`` bars) with the day numbers as an ``int32`` BLOB and the values as
a ``float64`` BLOB, keyed ``(symbol_id, block)`` in a ``WITHOUT ROWID`` table. A row table of
bars costs one Python tuple per bar to write and to read (measured: ~0.65 M rows/s bulk insert,
~1 s to read 4,000 x 252 bars); blocks turn a panel load into a few thousand BLOB fetches and one
numpy scatter, and a bulk load into one INSERT per block. Reads stream the BLOBs in batches
into the preallocated result (peak memory: the result plus ~10 MB). The scalar columns of a block
(``first_day``, ``last_day``, ``last_close``, ``n``) answer SQL questions without decoding it: the
valuation query reads each holding's row of ``bar_stats`` (per-symbol totals kept by every
write). Everything stays queryable through the API below (:meth:`Store.load_panel`,
:meth:`Store.last_bars`, :meth:`Store.read_indicators`).

Append tails (schema version 3). Appending a day to a block rewrites the block: ~68 MB for a
daily update of 4,000 symbols (measured 425 ms). So the newest days live apart, in
``bar_tail`` and ``indicator_tail``: one row per *run* of 256 consecutive symbol ids holding
its symbols' recent bars (or indicator values) as one matrix with a mask of the cells held
(:mod:`ferroquant.store._runs`). A daily update reads and rewrites 16 such rows (measured: a
4,000-symbol update, bars and the job's indicator stage, ~90 ms). Bars in a tail are always
after every day of their symbol's blocks; corrections of older days and bulk loads (an append
that would fill a tail: :data:`~ferroquant.store._tail.TAIL_MAX` days) take the block path.
Indicator tails take every short write (under ``TAIL_MAX`` dates) and win over the blocks on a
day both hold. A run's tail is **folded** into the blocks when it fills, and on the trading
days ``d`` with ``(business days to d + run) % 16 == 0``, so each day folds a different 1/16
of the symbols (amortised: a daily update rewrites the tails, ~8 days each on average, plus
the last blocks of 1/16 of the symbols: ~7 MB for 4,000 symbols). Every read sees blocks and
tails in one snapshot; every write is still one transaction, idempotent (the same bars again
change nothing and return 0).

API contract::

    store = Store.open(path, *, readonly=False)   # context manager; store.close()
    store.path; store.schema_version
    store.upsert_symbols(symbols, sectors=None, industries=None)
    store.write_bars(bars: Bars) -> int            # rows added or changed; one transaction
    store.write_corporate_actions(symbols, dates, dividends=None, splits=None) -> int
    store.symbols(); store.sectors(); store.last_bar_dates()
    store.load_panel(symbols=None, start=None, end=None) -> Panel   # incl. adj_close
    store.last_bars(symbol, n=252) -> Bars
    store.write_indicators(outputs, symbols, dates, *, from_index=0)
    store.read_indicators(names=None, symbols=None, start=None, end=None)
        -> (dict name -> (n_symbols, n_dates), symbols, dates)
    store.indicator_last_dates(name) -> dict symbol -> date
    store.begin_run(params) -> id; store.finish_run(id, status, rows, timings); store.runs()
    store.write_holdings(portfolio, {symbol: quantity}); store.valuation(portfolio)
        -> [Valuation(symbol, quantity, date, price, market_value)], largest value first
    store.info() -> dict; store.reader() -> pooled read-only sqlite3.Connection
    store.transaction() -> the writer inside BEGIN IMMEDIATE ... COMMIT (calls inside join it)

Adjusted closes: a source's ``adj_close`` is stored as given. For symbols whose sources never
had one, :meth:`Store.derive_adj_close` (run by :func:`ferroquant.ingest.ingest`) derives it from
the stored splits and dividends; with no corporate actions it equals ``close``.

Examples
--------
>>> import tempfile, pathlib, numpy as np
>>> from ferroquant.store import Store, Bars
>>> tmp = tempfile.TemporaryDirectory()
>>> store = Store.open(pathlib.Path(tmp.name) / "fq.db")
>>> bars = Bars.from_arrays(["A", "A", "B"], ["2024-01-02", "2024-01-03", "2024-01-03"],
...                         open=[10, 11, 5], high=[11, 12, 6], low=[9, 10, 4],
...                         close=[10.5, 11.5, 5.5], volume=[100, 200, 300])
>>> store.write_bars(bars), store.write_bars(bars)        # the second write changes nothing
(3, 0)
>>> panel = store.load_panel()
>>> panel.symbols, panel.close.tolist()
(['A', 'B'], [[10.5, 11.5], [nan, 5.5]])
>>> store.write_holdings("main", {"A": 10, "B": 100})
>>> [(v.symbol, v.market_value) for v in store.valuation("main")]
[('B', 550.0), ('A', 115.0)]
>>> store.close(); tmp.cleanup()
"""

from __future__ import annotations

from ferroquant.sample import Panel
from ferroquant.store._bars import FIELDS, Bars
from ferroquant.store._portfolio import VALUATION_SQL, Valuation
from ferroquant.store._schema import SCHEMA_VERSION
from ferroquant.store._store import Store

__all__ = ["FIELDS", "SCHEMA_VERSION", "VALUATION_SQL", "Bars", "Panel", "Store", "Valuation"]
