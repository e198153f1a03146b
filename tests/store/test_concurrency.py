"""Readers (threads and another process) while the writer writes: no "database is locked"."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np

from ferroquant.store import Store

from ._store_helpers import make_bars

READER = """
import sys, time
from ferroquant.store import Store
s = Store.open(sys.argv[1], readonly=True)
seen, end = 0, time.time() + float(sys.argv[2])
while time.time() < end:
    n = s.info()["bars"]
    assert n % 100 == 0, n       # whole batches only: never a half-written transaction
    seen = max(seen, n)
    s.load_panel() if n else None
print(seen)
"""


def _write_batches(store: Store, n: int) -> None:
    for k in range(n):
        store.write_bars(make_bars(1, 100, prefix=f"W{k:03d}_"))


def test_threads_read_while_writing(tmp_path: Path) -> None:
    with Store.open(tmp_path / "c.db") as store:
        store.write_bars(make_bars(1, 100, prefix="init"))
        errors: list[BaseException] = []
        stop = threading.Event()

        def read() -> None:
            try:
                while not stop.is_set():
                    n = store.info()["bars"]
                    assert n % 100 == 0
                    with store.reader() as c:
                        c.execute("SELECT count(*) FROM bar_blocks").fetchone()
                    store.last_bars("init0000", 50)
            except BaseException as e:  # surfaced below
                errors.append(e)

        threads = [threading.Thread(target=read) for _ in range(4)]
        for t in threads:
            t.start()
        writer = threading.Thread(target=_write_batches, args=(store, 30))
        writer.start()
        writer.join()
        stop.set()
        for t in threads:
            t.join()
        assert not errors, errors[0]
        assert store.info()["bars"] == 3100


def test_other_process_reads_while_writing(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    with Store.open(path) as store:
        store.write_bars(make_bars(1, 100, prefix="init"))
        proc = subprocess.Popen(
            [sys.executable, "-c", READER, str(path), "3"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        t0 = time.time()
        k = 0
        while time.time() - t0 < 2.5:
            store.write_bars(make_bars(1, 100, prefix=f"P{k:04d}_", seed=k))
            k += 1
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert 100 <= int(out) <= 100 * (k + 1)


def test_two_writer_processes_wait_instead_of_failing(tmp_path: Path) -> None:
    path = tmp_path / "w.db"
    Store.open(path).close()
    code = (
        "import sys\n"
        "from ferroquant.store import Store, Bars\n"
        "s = Store.open(sys.argv[1])\n"
        "for k in range(40):\n"
        "    s.write_bars(Bars.from_arrays(sys.argv[2] + str(k), ['2024-01-02'], 1, 1, 1, 1,"
        " volume=1))\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, str(path), tag], stderr=subprocess.PIPE)
        for tag in ("A", "B")
    ]
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err.decode()
    with Store.open(path, readonly=True) as s:
        assert s.info()["bars"] == 80
        assert np.all([len(s.last_bars(f"A{k}")) == 1 for k in range(40)])
