"""The :class:`Store`: symbols, bars, indicators, portfolios, runs and totals."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ferroquant.errors import UnknownSymbolError
from ferroquant.sample import Panel
from ferroquant.store import _actions, _blocks, _indicators, _portfolio, _risk, _tail
from ferroquant.store._bars import Bars, to_dates
from ferroquant.store._connection import Connections
from ferroquant.store._portfolio import Valuation

__all__ = ["Store"]


class Store(Connections):
    """A ferroquant SQLite database. Open it with :meth:`Store.open`; see :mod:`ferroquant.store`.

    Every public method may be called from any thread. Writes go through one connection, one
    transaction at a time; reads use a pool of read-only connections, so they never wait for a
    write to finish (WAL mode), here or in another process.
    """

    def __enter__(self) -> Store:
        return self

    @classmethod
    def open(
        cls,
        path: str | PathLike[str],
        *,
        readonly: bool = False,
        cache_mb: int = 16,
        mmap_mb: int = 16,
        busy_ms: int = 60_000,
        readers: int = 8,
    ) -> Store:
        """Open (creating and migrating unless ``readonly``) the store at ``path``.

        Parameters
        ----------
        path : str or PathLike
            The database file.
        readonly : bool
            Open for reading only: no writer connection, the file must exist.
        cache_mb, mmap_mb : int
            Page cache and memory map per connection, in MiB. They count in the RSS; larger
            values help random reads of a big store, not the BLOB scans of a job.
        busy_ms : int
            How long a connection waits for a lock held by another process.
        readers : int
            Read connections kept open in the pool.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from ferroquant.store import Store
        >>> with tempfile.TemporaryDirectory() as d, Store.open(pathlib.Path(d) / "x.db") as s:
        ...     s.schema_version, s.symbols()
        (4, [])
        """
        return cls(
            Path(path),
            readonly=readonly,
            cache_mb=cache_mb,
            mmap_mb=mmap_mb,
            busy_ms=busy_ms,
            readers=readers,
        )

    # ---------------------------------------------------------------- symbols
    def upsert_symbols(
        self,
        symbols: Sequence[str],
        sectors: Sequence[str | None] | None = None,
        industries: Sequence[str | None] | None = None,
    ) -> None:
        """Add symbols; set their sector/industry where given (``None`` keeps the stored one)."""
        n = len(symbols)
        sec = list(sectors) if sectors is not None else [None] * n
        ind = list(industries) if industries is not None else [None] * n
        if len(sec) != n or len(ind) != n:
            raise ValueError("sectors and industries must have one entry per symbol")
        with self.transaction() as c:
            c.executemany(
                "INSERT INTO symbols(symbol, sector, industry) VALUES (?, ?, ?) "
                "ON CONFLICT(symbol) DO UPDATE SET "
                "sector = coalesce(excluded.sector, sector), "
                "industry = coalesce(excluded.industry, industry)",
                zip([str(s) for s in symbols], sec, ind, strict=True),
            )

    def symbol_ids(self, symbols: Sequence[str], *, create: bool = False) -> NDArray[np.int64]:
        """The integer ids of ``symbols`` (adding them when ``create``)."""
        missing = [s for s in dict.fromkeys(symbols) if s not in self._ids]
        if missing:
            if create:
                with self.transaction() as c:
                    c.executemany(
                        "INSERT OR IGNORE INTO symbols(symbol) VALUES (?)", ((s,) for s in missing)
                    )
            with self._read() as c:
                if len(missing) > 1000:  # a universe: one scan beats a seek per symbol
                    rows = c.execute("SELECT symbol, id FROM symbols").fetchall()
                else:
                    rows = c.execute(
                        "SELECT symbol, id FROM symbols "
                        "WHERE symbol IN (SELECT value FROM json_each(?))",
                        (json.dumps(missing),),
                    ).fetchall()
            self._ids.update(rows)
            unknown = [s for s in missing if s not in self._ids]
            if unknown:
                shown = ", ".join(unknown[:5]) + (" …" if len(unknown) > 5 else "")
                raise UnknownSymbolError(
                    f"{len(unknown)} symbol(s) not in the store: {shown} "
                    f"(ingest their bars first: `ferroquant ingest --data FILE`)"
                )
        return np.fromiter((self._ids[s] for s in symbols), np.int64, len(symbols))

    def symbols(self) -> list[str]:
        """Every symbol, sorted."""
        with self._read() as c:
            return [r[0] for r in c.execute("SELECT symbol FROM symbols ORDER BY symbol")]

    def sectors(self) -> dict[str, str | None]:
        """``symbol -> sector`` (``None`` when unknown)."""
        with self._read() as c:
            return dict(c.execute("SELECT symbol, sector FROM symbols ORDER BY symbol").fetchall())

    # ---------------------------------------------------------------- bars
    def write_bars(self, bars: Bars) -> int:
        """Upsert ``bars`` in one transaction; return the bars added or changed (0 on a re-run).

        A NaN field keeps the stored value. Duplicate ``(symbol, date)`` raise ValidationError.
        """
        with self.transaction() as c:
            ids = self.symbol_ids(np.unique(bars.symbol.astype(str)).tolist(), create=True)
            return _blocks.write_bars(c, bars, ids)

    def load_panel(
        self, symbols: Sequence[str] | None = None, start: Any = None, end: Any = None
    ) -> Panel:
        """Aligned ``(n_assets, n_bars)`` arrays of the bars in ``[start, end]`` (NaN: no bar).

        ``symbols`` defaults to every symbol (sorted); the dates are the union of theirs.
        """
        syms = self.symbols() if symbols is None else [str(s) for s in symbols]
        ids = self.symbol_ids(syms)
        with self._read() as c:
            sectors = dict(c.execute("SELECT id, sector FROM symbols").fetchall())
            return _blocks.load_panel(
                c, syms, ids, [sectors.get(i) for i in ids.tolist()], start, end
            )

    def last_bars(self, symbol: str, n: int = 252) -> Bars:
        """The last ``n`` bars of ``symbol`` (a quick index lookup of its last blocks)."""
        with self._read() as c:
            return _tail.last_bars(c, symbol, n)

    def last_bar_dates(self) -> dict[str, np.datetime64]:
        """``symbol -> date of its last bar`` for every symbol with bars."""
        with self._read() as c:
            rows = c.execute(
                "SELECT s.symbol, b.last_day FROM bar_stats b JOIN symbols s ON s.id = b.symbol_id"
            ).fetchall()
        return dict(
            zip([r[0] for r in rows], to_dates(np.array([r[1] for r in rows])), strict=True)
        )

    def write_corporate_actions(
        self,
        symbols: Sequence[str],
        dates: Any,
        dividends: Any = None,
        splits: Any = None,
    ) -> int:
        """Upsert dividends (cash per share) and splits (new shares per old share, 1 = none)."""
        with self.transaction() as c:
            ids = self.symbol_ids([str(s) for s in symbols], create=True)
            return _actions.write_actions(c, ids, dates, dividends, splits)

    def corporate_actions(self, symbol: str) -> list[tuple[np.datetime64, float, float]]:
        """``(date, dividend, split)`` of ``symbol``, by date."""
        with self._read() as c:
            rows = c.execute(
                "SELECT a.day, a.dividend, a.split FROM corporate_actions a "
                "JOIN symbols s ON s.id = a.symbol_id WHERE s.symbol = ? ORDER BY a.day",
                (symbol,),
            ).fetchall()
        return [(np.datetime64(int(d), "D"), float(v), float(k)) for d, v, k in rows]

    def derive_adj_close(self, symbols: Sequence[str] | None = None) -> int:
        """Recompute the adjusted closes of symbols whose sources never supplied any.

        ``adj_close = close × Π (1 − dividend / previous close) / split`` over the corporate
        actions after each bar (the CRSP/Yahoo convention); with no actions it equals ``close``.
        Returns the bars changed.
        """
        with self.transaction() as c:
            ids = None if symbols is None else self.symbol_ids(list(symbols))
            return _actions.derive_adj_close(c, ids)

    # ---------------------------------------------------------------- indicators
    def write_indicators(
        self,
        outputs: Mapping[str, NDArray[np.float64]],
        symbols: Sequence[str],
        dates: NDArray[np.datetime64],
        *,
        from_index: int = 0,
    ) -> None:
        """Upsert ``outputs[name][:, from_index:]`` (shape ``(len(symbols), len(dates))``), in
        one transaction. NaN means no value; only the blocks holding ``dates[from_index:]`` are
        rewritten."""
        ids = self.symbol_ids([str(s) for s in symbols])
        with self.transaction() as c:
            _indicators.write(c, outputs, ids, dates, from_index)

    def read_indicators(
        self,
        names: Sequence[str] | None = None,
        symbols: Sequence[str] | None = None,
        start: Any = None,
        end: Any = None,
    ) -> tuple[dict[str, NDArray[np.float64]], list[str], NDArray[np.datetime64]]:
        """``({name: (n_symbols, n_dates)}, symbols, dates)`` of stored indicator values."""
        with self._read() as c:
            return _indicators.read(c, self, names, symbols, start, end)

    def indicator_names(self) -> list[str]:
        """Names of the stored indicators."""
        with self._read() as c:
            return [r[0] for r in c.execute("SELECT name FROM indicators ORDER BY name")]

    def indicator_last_dates(self, name: str) -> dict[str, np.datetime64]:
        """``symbol -> last date written`` for indicator ``name`` (empty if never written)."""
        with self._read() as c:
            return _indicators.last_dates(c, name)

    # ---------------------------------------------------------------- portfolios
    def write_holdings(self, portfolio: str, holdings: Mapping[str, float]) -> None:
        """Replace the holdings (``symbol -> quantity``) of ``portfolio``."""
        ids = self.symbol_ids(list(holdings))
        with self.transaction() as c:
            _portfolio.write_holdings(c, portfolio, ids, [float(q) for q in holdings.values()])

    def valuation(self, portfolio: str) -> list[Valuation]:
        """Each holding at its latest close, largest market value first."""
        with self._read() as c:
            return _portfolio.valuation(c, portfolio)

    def write_trades(self, portfolio: str, trades: Sequence[tuple[str, str, float, float]]) -> None:
        """Append ``(timestamp ISO-8601, symbol, quantity, price)`` trades to ``portfolio``."""
        ids = self.symbol_ids([t[1] for t in trades])
        with self.transaction() as c:
            _portfolio.write_trades(c, portfolio, ids, trades)

    # ---------------------------------------------------------------- risk model
    def write_risk_model(
        self,
        model: str,
        symbols: Sequence[str],
        dates: Any,
        result: Any,
        *,
        exposure_dates: Sequence[int] = (-1,),
    ) -> int:
        """Store a :class:`ferroquant.factors.RiskModel` computed on ``symbols`` x ``dates``:
        factor returns and covariance of every date, exposures and specific variances at the
        positions ``exposure_dates`` (default: the last date). Returns the rows written."""
        ids = self.symbol_ids(symbols)
        days = np.asarray(dates, dtype="datetime64[D]").astype(np.int64)
        t = len(days)
        at = sorted({int(j) % t for j in exposure_dates}) if t else []
        with self.transaction() as c:
            return _risk.write_model(c, model, days, ids, result, at)

    def risk_factor_returns(
        self, model: str
    ) -> tuple[NDArray[np.datetime64], list[str], NDArray[np.float64], NDArray[np.float64]]:
        """Dates, factor names, factor returns and t-stats ``(n_factors, n_dates)`` of ``model``."""
        with self._read() as c:
            days, names, ret, ts = _risk.read_factor_returns(c, model)
        return to_dates(days), names, ret, ts

    def risk_covariance(
        self, model: str, date: Any = None
    ) -> tuple[np.datetime64, list[str], NDArray[np.float64]] | None:
        """``(date, factor names, F)`` at ``date`` (default: the latest), or ``None``."""
        day = None if date is None else int(np.datetime64(date, "D").astype(np.int64))
        with self._read() as c:
            got = _risk.read_covariance(c, model, day)
        if got is None:
            return None
        return to_dates(np.array([got[0]]))[0], got[1], got[2]

    def risk_exposures(
        self, model: str, date: Any = None
    ) -> (
        tuple[np.datetime64, list[str], list[str], NDArray[np.float64], NDArray[np.float64]] | None
    ):
        """``(date, styles, symbols, exposures (n_styles, n_symbols), specific variances)`` at
        ``date`` (default: the latest stored), or ``None``."""
        day = None if date is None else int(np.datetime64(date, "D").astype(np.int64))
        with self._read() as c:
            got = _risk.read_exposures(c, model, day)
            if got is None:
                return None
            names = dict(c.execute("SELECT id, symbol FROM symbols").fetchall())
        d, styles, sids, vals, spec = got
        syms = [names[int(i)] for i in sids]
        return to_dates(np.array([d]))[0], styles, syms, vals, spec

    # ---------------------------------------------------------------- runs and totals
    def begin_run(self, params: Mapping[str, object]) -> int:
        """Record the start of a job; return its run id."""
        with self.transaction() as c:
            cur = c.execute(
                "INSERT INTO runs(started_at, status, params) VALUES (?, 'running', ?)",
                (time.time(), json.dumps(dict(params), default=str)),
            )
            return int(cur.lastrowid or 0)

    def finish_run(
        self, run_id: int, status: str, rows: Mapping[str, int], timings: Mapping[str, float]
    ) -> None:
        """Record the end of run ``run_id``: its status, row counts and timings (seconds)."""
        with self.transaction() as c:
            c.execute(
                "UPDATE runs SET finished_at = ?, status = ?, rows = ?, timings = ? WHERE id = ?",
                (time.time(), status, json.dumps(dict(rows)), json.dumps(dict(timings)), run_id),
            )

    def runs(self) -> list[dict[str, Any]]:
        """Every run, oldest first, as plain dicts (times as ISO-8601 UTC strings)."""
        with self._read() as c:
            rows = c.execute(
                "SELECT id, started_at, finished_at, status, params, rows, timings FROM runs "
                "ORDER BY id"
            ).fetchall()
        out = []
        for rid, t0, t1, status, params, nrows, timings in rows:
            out.append(
                {
                    "id": rid,
                    "started_at": _iso(t0),
                    "finished_at": _iso(t1),
                    "seconds": None if t1 is None else round(t1 - t0, 6),
                    "status": status,
                    "params": json.loads(params),
                    "rows": json.loads(nrows) if nrows else {},
                    "timings": json.loads(timings) if timings else {},
                }
            )
        return out

    def info(self) -> dict[str, Any]:
        """Totals: symbols, bars, date range, indicators, runs, file size, schema version."""
        with self._read() as c:
            n_sym = c.execute("SELECT count(*) FROM symbols").fetchone()[0]
            n_bars, d0, d1 = c.execute(
                "SELECT coalesce(sum(n_bars), 0), min(first_day), max(last_day) FROM bar_stats"
            ).fetchone()
            ind = c.execute("SELECT name FROM indicators ORDER BY name").fetchall()
            n_runs = c.execute("SELECT count(*) FROM runs").fetchone()[0]
        size = sum(p.stat().st_size for p in (self.path, Path(f"{self.path}-wal")) if p.is_file())
        return {
            "path": str(self.path),
            "schema_version": self.schema_version,
            "symbols": int(n_sym),
            "bars": int(n_bars),
            "first_date": None if d0 is None else str(to_dates(np.array([d0]))[0]),
            "last_date": None if d1 is None else str(to_dates(np.array([d1]))[0]),
            "indicators": [r[0] for r in ind],
            "runs": int(n_runs),
            "file_size_bytes": int(size),
        }


def _iso(t: float | None) -> str | None:
    if t is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))
