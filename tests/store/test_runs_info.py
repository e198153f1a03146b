"""The runs table and the store totals."""

from __future__ import annotations

from ferroquant.store import Store

from ._store_helpers import make_bars


def test_runs_record_params_rows_timings(store: Store) -> None:
    rid = store.begin_run({"job": "run", "symbols": 3})
    (run,) = store.runs()
    assert run["status"] == "running" and run["finished_at"] is None
    store.finish_run(rid, "ok", {"bars": 10}, {"ingest": 0.5})
    (run,) = store.runs()
    assert run["id"] == rid and run["status"] == "ok"
    assert run["params"] == {"job": "run", "symbols": 3}
    assert run["rows"] == {"bars": 10} and run["timings"] == {"ingest": 0.5}
    assert run["seconds"] >= 0


def test_info(store: Store) -> None:
    assert store.info()["bars"] == 0 and store.info()["first_date"] is None
    store.write_bars(make_bars(2, 30))
    info = store.info()
    assert info["symbols"] == 2 and info["bars"] == 60
    assert info["last_date"] > info["first_date"]
    assert info["file_size_bytes"] > 0 and info["schema_version"] == store.schema_version
