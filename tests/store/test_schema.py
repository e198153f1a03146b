"""Schema versioning, migrations and the connection settings."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from ferroquant.errors import StoreError
from ferroquant.store import SCHEMA_VERSION, Store, _schema

from ._store_helpers import assert_stats_consistent, make_bars


def test_new_store_has_current_version_and_tables(store: Store) -> None:
    assert store.schema_version == SCHEMA_VERSION
    with store.reader() as c:
        names = {r[0] for r in c.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")}
    assert {
        "symbols",
        "bar_blocks",
        "corporate_actions",
        "indicator_blocks",
        "bar_tail",
        "indicator_tail",
        "holdings",
        "portfolios",
        "trades",
        "runs",
        "schema_version",
    } <= names


def test_settings_applied_to_writer_and_readers(store: Store) -> None:
    assert store._writer is not None
    conns = [store._writer]
    with store.reader() as r:
        conns.append(r)
        for c in conns:
            assert c.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
            assert c.execute("PRAGMA foreign_keys").fetchone()[0] == 1
            assert c.execute("PRAGMA temp_store").fetchone()[0] == 2  # MEMORY
            assert c.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
            assert c.execute("PRAGMA cache_size").fetchone()[0] <= -16 * 1024
            assert c.execute("PRAGMA mmap_size").fetchone()[0] > 0
        assert store._writer.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
        assert store._writer.execute("PRAGMA wal_autocheckpoint").fetchone()[0] > 0
        assert store._writer.execute("PRAGMA page_size").fetchone()[0] == _schema.PAGE_SIZE


def test_reopen_keeps_data_and_does_not_migrate_twice(tmp_path: Path) -> None:
    with Store.open(tmp_path / "a.db") as s:
        s.upsert_symbols(["A"], ["Tech"])
    with Store.open(tmp_path / "a.db") as s:
        assert s.sectors() == {"A": "Tech"}
        with s.reader() as c:
            assert c.execute("SELECT count(*) FROM schema_version").fetchone()[0] == SCHEMA_VERSION


def test_forward_migration_from_older_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Store.open(tmp_path / "m.db") as s:
        s.upsert_symbols(["A"])
    extra = "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)"
    monkeypatch.setattr(_schema, "MIGRATIONS", (*_schema.MIGRATIONS, extra))
    monkeypatch.setattr(_schema, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    assert _schema.migrate(sqlite3.connect(tmp_path / "m.db", isolation_level=None)) == (
        SCHEMA_VERSION + 1
    )
    with Store.open(tmp_path / "m.db", readonly=True) as s:
        assert s.symbols() == ["A"]
        assert s.schema_version == SCHEMA_VERSION + 1


def test_migration_2_backfills_bar_stats_of_a_version_1_store(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    with Store.open(path) as s:
        s.write_bars(make_bars(3, 700))
        with s.reader() as c:
            expected = c.execute("SELECT * FROM bar_stats ORDER BY symbol_id").fetchall()
        with s.transaction() as c:  # turn it back into what version 1 wrote
            c.execute("DROP TABLE bar_stats")
            c.execute("DROP TABLE bar_tail")
            c.execute("DROP TABLE indicator_tail")
            for table in ("risk_factor_returns", "risk_covariance", "risk_exposures"):
                c.execute(f"DROP TABLE {table}")
            c.execute("DELETE FROM schema_version WHERE version >= 2")
    with Store.open(path) as s:
        assert s.schema_version == SCHEMA_VERSION
        with s.reader() as c:
            assert c.execute("SELECT * FROM bar_stats ORDER BY symbol_id").fetchall() == expected
        assert_stats_consistent(s)
        assert s.info()["bars"] == 2100


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    with Store.open(tmp_path / "n.db") as s, s.transaction() as c:
        c.execute("INSERT INTO schema_version VALUES (?, 0)", (SCHEMA_VERSION + 5,))
    with pytest.raises(StoreError, match="newer"):
        Store.open(tmp_path / "n.db")


def test_foreign_database_is_refused(tmp_path: Path) -> None:
    c = sqlite3.connect(tmp_path / "other.db")
    c.execute("CREATE TABLE t (x)")
    c.commit()
    c.close()
    with pytest.raises(StoreError, match="not a ferroquant store"):
        Store.open(tmp_path / "other.db")


def test_readonly_requires_existing_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no such store"):
        Store.open(tmp_path / "missing.db", readonly=True)
    with Store.open(tmp_path / "r.db"):
        pass
    with (
        Store.open(tmp_path / "r.db", readonly=True) as s,
        pytest.raises(StoreError, match="read-only"),
    ):
        s.upsert_symbols(["A"])


def test_closed_store_refuses_reads(tmp_path: Path) -> None:
    s = Store.open(tmp_path / "c.db")
    s.close()
    s.close()  # idempotent
    with pytest.raises(StoreError, match="closed"):
        s.symbols()
