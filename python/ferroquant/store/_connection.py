"""Connections of a store: one writer, a pool of read-only readers, nested transactions."""

from __future__ import annotations

import contextlib
import queue
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from ferroquant.errors import StoreError
from ferroquant.store._schema import configure, migrate, read_version

__all__ = ["Connections"]


class Connections:
    """The connection plumbing :class:`~ferroquant.store.Store` is built on."""

    def __init__(
        self,
        path: Path,
        *,
        readonly: bool,
        cache_mb: int,
        mmap_mb: int,
        busy_ms: int,
        readers: int,
    ) -> None:
        self.path = path
        self.readonly = readonly
        self._settings = {"cache_mb": cache_mb, "mmap_mb": mmap_mb, "busy_ms": busy_ms}
        self._lock = threading.RLock()
        self._depth = 0
        self._owner: int | None = None
        self._pool: queue.LifoQueue[sqlite3.Connection] = queue.LifoQueue()
        self._all_readers: list[sqlite3.Connection] = []
        self._max_readers = readers
        self._ids: dict[str, int] = {}
        self._closed = False
        self._writer: sqlite3.Connection | None = None
        if readonly:
            if not path.is_file():
                raise StoreError(f"{path}: no such store (run `ferroquant ingest` first)")
            with self.reader() as c:
                self.schema_version = read_version(c)
            if self.schema_version == 0:
                raise StoreError(f"{path}: not a ferroquant store")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = self._connect(readonly=False)
            self.schema_version = migrate(self._writer)

    def _connect(self, *, readonly: bool) -> sqlite3.Connection:
        target = f"{self.path.resolve().as_uri()}?mode=ro" if readonly else str(self.path)
        conn = sqlite3.connect(
            target, uri=readonly, isolation_level=None, check_same_thread=False, timeout=60
        )
        configure(conn, readonly=readonly, **self._settings)
        return conn

    # ---------------------------------------------------------------- connections
    def close(self) -> None:
        """Close every connection (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            for c in self._all_readers:
                c.close()
            if self._writer is not None:
                with contextlib.suppress(sqlite3.Error):  # a busy database must not fail close()
                    self._writer.execute("PRAGMA optimize")
                self._writer.close()

    def __enter__(self) -> Connections:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def reader(self) -> Iterator[sqlite3.Connection]:
        """A read-only connection from the pool, for this thread until the block ends.

        Examples
        --------
        >>> import tempfile, pathlib
        >>> from ferroquant.store import Store
        >>> with tempfile.TemporaryDirectory() as d, Store.open(pathlib.Path(d) / "x.db") as s:
        ...     with s.reader() as c:
        ...         c.execute("SELECT count(*) FROM symbols").fetchone()
        (0,)
        """
        if self._closed:
            raise StoreError("the store is closed")
        try:
            conn = self._pool.get_nowait()
        except queue.Empty:
            conn = self._connect(readonly=True)
            with self._lock:
                self._all_readers.append(conn)
        try:
            yield conn
        finally:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if self._pool.qsize() < self._max_readers:
                self._pool.put(conn)
            else:
                with self._lock:
                    self._all_readers.remove(conn)
                conn.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """The writer inside ``BEGIN IMMEDIATE`` … ``COMMIT`` (rolled back on error).

        Nested calls join the outer transaction, so an ingest (symbols, bars, corporate actions,
        adjusted closes) commits all or nothing.
        """
        if self._writer is None:
            raise StoreError(f"{self.path}: the store is open read-only")
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self._writer
                finally:
                    self._depth -= 1
                return
            # IMMEDIATE takes the write lock up front: a deferred transaction upgrading later
            # fails with "database is locked" without waiting for busy_timeout.
            self._writer.execute("BEGIN IMMEDIATE")
            self._depth, self._owner = 1, threading.get_ident()
            try:
                yield self._writer
                self._writer.execute("COMMIT")
            except BaseException:
                self._writer.execute("ROLLBACK")
                self._ids.clear()  # ids assigned inside the rolled-back transaction are void
                raise
            finally:
                self._depth, self._owner = 0, None

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        # Inside this thread's write transaction, read its uncommitted state.
        if self._depth and self._owner == threading.get_ident() and self._writer is not None:
            yield self._writer
        else:
            with self.reader() as c:
                yield c

    def optimize(self) -> None:
        """``ANALYZE`` + ``PRAGMA optimize``: refresh the planner statistics after a bulk load."""
        if self._writer is not None:
            with self._lock:
                self._writer.execute("ANALYZE")
                self._writer.execute("PRAGMA optimize")
