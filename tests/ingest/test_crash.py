"""``kill -9`` at any moment of an ingest leaves the store consistent (old or new state), and
running the ingest again completes it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from ferroquant.ingest import ingest
from ferroquant.store import Store

CHILD = """
import sys
import ferroquant.ingest._ingest as job
from ferroquant.ingest import ingest
from ferroquant.store import Store
job.CHUNK_ROWS = 20_000  # many progress points to be killed at
store = Store.open(sys.argv[1])
def progress(done, total):
    print(done, flush=True)
ingest(store, sys.argv[2], corporate_actions=sys.argv[3], progress=progress)
print("done", flush=True)
"""


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    d = tmp_path_factory.mktemp("crash")
    rng = np.random.default_rng(7)
    n_sym, n_day = 100, 1000
    dates = np.busday_offset(np.datetime64("2015-01-01", "D"), np.arange(n_day), roll="forward")
    close = np.round(20 * np.exp(np.cumsum(rng.normal(0, 0.02, (n_sym, n_day)), axis=1)), 4)
    rows = [
        f"{dates[j]},C{i:03d},{close[i, j]},{close[i, j]},{close[i, j]},{close[i, j]},{i + j}"
        for j in range(n_day)
        for i in range(n_sym)
    ]
    header = "date,symbol,open,high,low,close,volume\n"
    old, new = d / "old.csv", d / "new.csv"
    half = len(rows) // 2
    old.write_text(header + "\n".join(rows[:half]) + "\n")
    new.write_text(header + "\n".join(rows) + "\n")
    actions = d / "actions.csv"
    actions.write_text(
        "date,symbol,dividend_amount,split_coefficient\n"
        + "\n".join(f"{dates[700]},C{i:03d},0.1,2.0" for i in range(n_sym))
        + "\n"
    )
    return old, new, actions


def _state(path: Path) -> tuple[int, int]:
    with Store.open(path, readonly=True) as s, s.reader() as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert c.execute("PRAGMA foreign_key_check").fetchall() == []
        n_actions = c.execute("SELECT count(*) FROM corporate_actions").fetchone()[0]
        blocks = c.execute("SELECT coalesce(sum(n), 0) FROM bar_blocks").fetchone()[0]
        assert blocks == s.info()["bars"]  # the per-symbol totals moved with the blocks
        return s.info()["bars"], n_actions


# Kill after the k-th progress line (the 6th comes after the last chunk, before the adjusted
# closes are derived and the transaction commits), or after a delay from the start.
WHEN = ["line1", "line2", "line4", "line6", "0.7s", "1.0s", "1.3s", "1.6s"]


@pytest.mark.parametrize("when", WHEN)
def test_kill_9_mid_ingest(tmp_path: Path, files: tuple[Path, Path, Path], when: str) -> None:
    old, new, actions = files
    db = tmp_path / "k.db"
    with Store.open(db) as s:
        ingest(s, old)
    before = _state(db)
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(db), str(new), str(actions)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    if when.startswith("line"):
        for k, _ in enumerate(proc.stdout, 1):
            if k == int(when[4:]):
                break
    else:
        time.sleep(float(when[:-1]))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    if when.startswith("line"):
        assert proc.returncode == -signal.SIGKILL
    after = _state(db)
    full = (100_000, 100)
    assert after in (before, full), (before, after)
    with Store.open(db) as s:
        res = ingest(s, new, corporate_actions=actions)
        assert s.info()["bars"] == 100_000
        assert res.rows_written == (0 if after == full else 50_000)
        assert ingest(s, new, corporate_actions=actions).rows_written == 0
    assert _state(db) == full
