"""Benchmark of the SQLite store against what a pandas/sqlite3 user does today.

Every peer runs in this one process, on the same synthetic bars (seeded geometric Brownian
motion, business days), each with its own database file in a temporary directory:

1. bulk load of ``--assets x --bars`` daily bars (default 4,000 x 2,520 = 10.08 M rows):
   ferroquant ``Store.write_bars`` (one transaction per chunk of ``--chunk`` symbols) against
   ``executemany`` row inserts into a ``(symbol, date)``-keyed table (all in one transaction, the
   conversion of the arrays to tuples included) and pandas ``DataFrame.to_sql`` (timed on a
   subset of ``--pandas-rows`` rows and reported as rows/s).
2. "the last 252 bars of one symbol", random symbols, with 1 and 2 threads (queries/s per
   thread): ``Store.last_bars`` against ``SELECT ... ORDER BY date DESC LIMIT 252`` + fetchall on
   the row table, and ``pandas.read_sql_query`` of that query.
3. valuation of a 500-holding portfolio over those 10 M bars (median ms): ``Store.valuation``
   against the query written for the row table (tuned to seek each holding's newest bar; the
   obvious JOIN is timed too), and ``pandas.read_sql_query`` of it.
4. the panel and indicator paths the job needs, on ``--panel`` (default 4,000 x 252): panel load,
   write of 6 new indicator outputs, rewrite of stored ones, rewrite of the last date only, read
   back; against ``read_sql_query`` + ``pivot`` and ``executemany`` of ``(symbol, date, name,
   value)`` rows; and the peak RSS of a fresh process doing load + write.

It prints the machine (cores, ferroquant build profile and thread pool, SQLite version), the
medians, ratios and targets, and a markdown table for ``benches/README.md``. ``--quick`` is a
small smoke run (~20 s).
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

import ferroquant as fq
from ferroquant.store import Bars, Store

FloatArray = npt.NDArray[np.float64]

TARGETS = {
    "bulk_rows_per_s": 1_000_000.0,
    "last252_qps_per_thread": 5_000.0,
    "valuation_ms": 2.0,
    "panel_load_s": 0.150,
    "indicator_write_s": 0.150,
}
NAIVE_DDL = (
    "CREATE TABLE bars (symbol TEXT NOT NULL, date TEXT NOT NULL, open REAL, high REAL, "
    "low REAL, close REAL, adj_close REAL, volume REAL, PRIMARY KEY (symbol, date))"
)


# --------------------------------------------------------------------------------------------
# Data and timing helpers.
# --------------------------------------------------------------------------------------------


def symbols_of(n: int) -> list[str]:
    return [f"S{i:05d}" for i in range(n)]


def business_days(n: int, start: str = "2011-01-03") -> npt.NDArray[np.datetime64]:
    return np.busday_offset(np.datetime64(start, "D"), np.arange(n), roll="forward")


def chunk_bars(first: int, n_assets: int, n_bars: int, seed: int) -> Bars:
    """Bars of symbols ``first .. first + n_assets`` (deterministic per symbol range)."""
    rng = np.random.default_rng([seed, first])
    dates = business_days(n_bars)
    close = rng.uniform(5, 500, (n_assets, 1)) * np.exp(
        np.cumsum(rng.normal(0.0, 0.02, (n_assets, n_bars)), axis=1)
    )
    opn = close * np.exp(rng.normal(0.0, 0.005, close.shape))
    syms = np.array(symbols_of(first + n_assets)[first:])
    return Bars.from_arrays(
        np.repeat(syms, n_bars),
        np.tile(dates, n_assets),
        opn.ravel(),
        np.maximum(opn, close).ravel() * 1.01,
        np.minimum(opn, close).ravel() * 0.99,
        close.ravel(),
        close.ravel() * 0.98,
        rng.integers(1_000, 10**7, close.size).astype(np.float64),
    )


def naive_rows(b: Bars) -> Iterator[tuple[Any, ...]]:
    """What a sqlite3 user binds: one tuple per bar, dates as ISO text."""
    return zip(
        b.symbol.tolist(),
        b.date.astype(str).tolist(),
        b.open.tolist(),
        b.high.tolist(),
        b.low.tolist(),
        b.close.tolist(),
        b.adj_close.tolist(),
        b.volume.tolist(),
        strict=True,
    )


def naive_connect(path: Path) -> sqlite3.Connection:
    # The settings a careful user would pick; the schema is the obvious row table.
    c = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    c.execute("PRAGMA journal_mode = WAL")
    c.execute("PRAGMA synchronous = NORMAL")
    return c


def median_time(fn: Callable[[], object], repeats: int) -> float:
    samples = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def per_thread_qps(fn: Callable[[int], object], n_threads: int, seconds: float) -> float:
    """Queries per second per thread, each thread calling ``fn(i)`` for ``seconds``."""
    counts = [0] * n_threads
    stop = time.perf_counter() + seconds

    def work(k: int) -> None:
        rng = np.random.default_rng(k)
        n = 0
        while time.perf_counter() < stop:
            for i in rng.integers(0, 1 << 30, 64).tolist():
                fn(i)
            n += 64
        counts[k] = n

    threads = [threading.Thread(target=work, args=(k,)) for k in range(n_threads)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(counts) / (time.perf_counter() - t0) / n_threads


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --------------------------------------------------------------------------------------------
# The workloads.
# --------------------------------------------------------------------------------------------


def bench_bulk(args: argparse.Namespace, tmp: Path) -> tuple[dict[str, float], Store, Path]:
    n_assets, n_bars, chunk = args.assets, args.bars, args.chunk
    total = n_assets * n_bars
    store = Store.open(tmp / "fq.db")
    naive = naive_connect(tmp / "naive.db")
    naive.execute(NAIVE_DDL)
    fq_s = naive_s = 0.0
    naive.execute("BEGIN")
    for first in range(0, n_assets, chunk):
        b = chunk_bars(first, min(chunk, n_assets - first), n_bars, args.seed)
        t0 = time.perf_counter()
        store.write_bars(b)
        fq_s += time.perf_counter() - t0
        t0 = time.perf_counter()
        naive.executemany("INSERT INTO bars VALUES (?, ?, ?, ?, ?, ?, ?, ?)", naive_rows(b))
        naive_s += time.perf_counter() - t0
    t0 = time.perf_counter()
    naive.execute("COMMIT")
    naive_s += time.perf_counter() - t0
    t0 = time.perf_counter()
    store.optimize()
    analyze_s = time.perf_counter() - t0
    naive.execute("ANALYZE")  # both peers get planner statistics (not timed)
    pandas_rate = bench_to_sql(args, tmp)
    out = {
        "rows": float(total),
        "fq_rows_per_s": total / fq_s,
        "naive_rows_per_s": total / naive_s,
        "pandas_rows_per_s": pandas_rate,
        "analyze_s": analyze_s,
    }
    naive.close()
    return out, store, tmp / "naive.db"


def bench_to_sql(args: argparse.Namespace, tmp: Path) -> float:
    import pandas as pd

    n_bars = min(args.bars, 1000)
    n_assets = max(1, args.pandas_rows // n_bars)
    b = chunk_bars(0, n_assets, n_bars, args.seed)
    df = pd.DataFrame(
        {
            "symbol": b.symbol,
            "date": b.date.astype(str),
            **{f: getattr(b, f) for f in ("open", "high", "low", "close", "adj_close", "volume")},
        }
    )
    c = naive_connect(tmp / "pandas.db")
    t0 = time.perf_counter()
    df.to_sql("bars", c, index=False, chunksize=100_000)
    rate = len(df) / (time.perf_counter() - t0)
    c.close()
    return rate


def bench_last252(args: argparse.Namespace, store: Store, naive_path: Path) -> dict[str, float]:
    import pandas as pd

    syms = symbols_of(args.assets)
    q = (
        "SELECT date, open, high, low, close, adj_close, volume FROM bars WHERE symbol = ? "
        "ORDER BY date DESC LIMIT 252"
    )
    local = threading.local()

    def naive_query(i: int) -> object:
        if not hasattr(local, "conn"):
            local.conn = naive_connect(naive_path)
        return local.conn.execute(q, (syms[i % len(syms)],)).fetchall()

    def fq_query(i: int) -> object:
        return store.last_bars(syms[i % len(syms)], 252)

    pd_conn = naive_connect(naive_path)

    def pandas_query(i: int) -> object:
        return pd.read_sql_query(q, pd_conn, params=(syms[i % len(syms)],))

    sec = args.seconds
    out = {}
    for n in (1, 2):
        out[f"fq_{n}t"] = per_thread_qps(fq_query, n, sec)
        out[f"naive_{n}t"] = per_thread_qps(naive_query, n, sec)
    out["pandas_1t"] = per_thread_qps(pandas_query, 1, sec / 2)
    return out


def bench_valuation(args: argparse.Namespace, store: Store, naive_path: Path) -> dict[str, float]:
    import pandas as pd

    rng = np.random.default_rng(args.seed)
    syms = symbols_of(args.assets)
    n_hold = min(500, len(syms))
    picks = sorted(rng.choice(len(syms), n_hold, replace=False).tolist())
    holdings = {syms[i]: float(rng.integers(1, 1000)) for i in picks}
    store.write_holdings("bench", holdings)
    naive = naive_connect(naive_path)
    naive.execute("DROP TABLE IF EXISTS holdings")
    naive.execute("CREATE TABLE holdings (symbol TEXT PRIMARY KEY, quantity REAL)")
    naive.executemany("INSERT INTO holdings VALUES (?, ?)", holdings.items())
    # The obvious query: SQLite scans bars for it (plan printed). The tuned one seeks each
    # holding's newest bar by the (symbol, date) index; the table reports the tuned one.
    natural = (
        "SELECT h.symbol, h.quantity, b.date, b.close, h.quantity * b.close AS mv "
        "FROM holdings h JOIN bars b ON b.symbol = h.symbol "
        "AND b.date = (SELECT max(date) FROM bars x WHERE x.symbol = h.symbol) "
        "ORDER BY mv DESC"
    )
    sql = (
        "SELECT h.symbol, h.quantity, b.date, b.close, h.quantity * b.close AS mv "
        "FROM holdings h, bars b WHERE b.rowid = (SELECT rowid FROM bars x "
        "WHERE x.symbol = h.symbol ORDER BY x.date DESC LIMIT 1) ORDER BY mv DESC"
    )
    for q in (natural, sql):
        plan = [r[3] for r in naive.execute("EXPLAIN QUERY PLAN " + q)]
        print(f"  sqlite3 valuation plan: {'; '.join(plan)}", flush=True)
    fq_rows = store.valuation("bench")
    naive_rows_ = naive.execute(sql).fetchall()
    assert [r.symbol for r in fq_rows] == [r[0] for r in naive_rows_], "valuations disagree"
    reps = args.repeats * 20
    out = {
        "fq_ms": 1e3 * median_time(lambda: store.valuation("bench"), reps),
        "naive_ms": 1e3 * median_time(lambda: naive.execute(sql).fetchall(), reps),
        "natural_ms": 1e3 * median_time(lambda: naive.execute(natural).fetchall(), args.repeats),
        "pandas_ms": 1e3 * median_time(lambda: pd.read_sql_query(sql, naive), args.repeats * 4),
        "holdings": float(n_hold),
    }
    naive.close()
    return out


def bench_panel(args: argparse.Namespace, tmp: Path) -> dict[str, float]:
    import pandas as pd

    n_assets, n_bars = args.panel
    b = chunk_bars(0, n_assets, n_bars, args.seed + 1)
    store = Store.open(tmp / "panel.db")
    store.write_bars(b)
    naive = naive_connect(tmp / "panel_naive.db")
    naive.execute(NAIVE_DDL)
    naive.execute("BEGIN")
    naive.executemany("INSERT INTO bars VALUES (?, ?, ?, ?, ?, ?, ?, ?)", naive_rows(b))
    naive.execute("COMMIT")
    reps = args.repeats
    out: dict[str, float] = {}
    out["fq_load_s"] = median_time(store.load_panel, reps)
    panel = store.load_panel()

    def naive_load() -> object:
        df = pd.read_sql_query("SELECT * FROM bars", naive)
        return {f: df.pivot(index="symbol", columns="date", values=f) for f in ("close",)}

    out["pandas_load_s"] = median_time(naive_load, max(1, reps // 2))
    close = panel.close
    outputs = {f"ind{k}": close * (1 + 0.01 * k) for k in range(6)}
    fresh = iter(range(10**6))

    def write_fresh() -> None:  # new indicator names: inserts, as in a first run
        k = next(fresh)
        named = {f"{name}_{k}": v for name, v in outputs.items()}
        store.write_indicators(named, panel.symbols, panel.dates)

    out["fq_ind_fresh_s"] = median_time(write_fresh, reps)
    out["fq_ind_write_s"] = median_time(
        lambda: store.write_indicators(outputs, panel.symbols, panel.dates), reps
    )
    out["fq_ind_tail_s"] = median_time(
        lambda: store.write_indicators(
            outputs, panel.symbols, panel.dates, from_index=panel.dates.size - 1
        ),
        reps,
    )
    out["fq_ind_read_s"] = median_time(lambda: store.read_indicators(list(outputs)), reps)
    out.update(rss_child(tmp / "panel.db"))
    naive.execute(
        "CREATE TABLE ind (symbol TEXT, date TEXT, name TEXT, value REAL, "
        "PRIMARY KEY (name, symbol, date))"
    )
    dates = panel.dates.astype(str).tolist()

    def naive_ind_write() -> None:
        naive.execute("BEGIN")
        naive.execute("DELETE FROM ind")
        for name, arr in outputs.items():
            naive.executemany(
                "INSERT INTO ind VALUES (?, ?, ?, ?)",
                (
                    (s, d, name, v)
                    for s, row in zip(panel.symbols, arr.tolist(), strict=True)
                    for d, v in zip(dates, row, strict=True)
                ),
            )
        naive.execute("COMMIT")

    out["naive_ind_write_s"] = median_time(naive_ind_write, max(1, reps // 2))
    got, _, _ = store.read_indicators(list(outputs))
    assert all(np.array_equal(got[k], v, equal_nan=True) for k, v in outputs.items())
    store.close()
    naive.close()
    return out


RSS_CHILD = """
import sys
import numpy as np
from ferroquant.store import Store
def rss():  # VmHWM: ru_maxrss would carry the parent's peak across fork + exec
    with open("/proc/self/status") as f:
        return next(int(x.split()[1]) for x in f if x.startswith("VmHWM")) / 1024
base = rss()
with Store.open(sys.argv[1]) as s:
    p = s.load_panel()
    load = rss()
    outs = {f"rss{k}": p.close * (1 + k) for k in range(6)}
    s.write_indicators(outs, p.symbols, p.dates)
    print(base, load, rss())
"""


def rss_child(path: Path) -> dict[str, float]:
    """Peak RSS of a fresh process that loads the panel and writes 6 outputs (MB)."""
    import subprocess

    res = subprocess.run(
        [sys.executable, "-c", RSS_CHILD, str(path)], capture_output=True, text=True, check=True
    )
    base, load, write = (float(x) for x in res.stdout.split())
    return {"rss_base_mb": base, "rss_load_mb": load, "rss_write_mb": write}


# --------------------------------------------------------------------------------------------
# Report.
# --------------------------------------------------------------------------------------------


def environment() -> str:
    info = fq.build_info()
    return (
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}, numpy {np.__version__}; "
        f"ferroquant {info['version']} ({info['profile']} build, thread pool "
        f"{fq.thread_pool_size()})"
    )


def verdict(value: float, target: float, higher_is_better: bool) -> str:
    ok = value >= target if higher_is_better else value <= target
    return "meets" if ok else "MISSES"


def report(args: argparse.Namespace, r: dict[str, dict[str, float]], seconds: float) -> str:
    b, q, v, p = r["bulk"], r["last252"], r["valuation"], r["panel"]
    t = TARGETS
    na, nb = args.panel
    rows = [
        (
            "workload",
            "ferroquant",
            "sqlite3 rows",
            "pandas",
            "fq / sqlite3",
            "fq / pandas",
            "target",
        ),
        (
            f"bulk load {args.assets:,} x {args.bars:,} bars (rows/s)",
            f"{b['fq_rows_per_s'] / 1e6:.2f} M",
            f"{b['naive_rows_per_s'] / 1e6:.2f} M",
            f"{b['pandas_rows_per_s'] / 1e6:.2f} M",
            f"{b['fq_rows_per_s'] / b['naive_rows_per_s']:.1f}x",
            f"{b['fq_rows_per_s'] / b['pandas_rows_per_s']:.1f}x",
            f">= 1 M ({verdict(b['fq_rows_per_s'], t['bulk_rows_per_s'], True)})",
        ),
    ]
    for n in (1, 2):
        rows.append(
            (
                f"last 252 bars of one symbol, {n} thread{'s' if n > 1 else ''} (queries/s/thread)",
                f"{q[f'fq_{n}t']:,.0f}",
                f"{q[f'naive_{n}t']:,.0f}",
                f"{q['pandas_1t']:,.0f}" if n == 1 else "-",
                f"{q[f'fq_{n}t'] / q[f'naive_{n}t']:.1f}x",
                f"{q[f'fq_{n}t'] / q['pandas_1t']:.0f}x" if n == 1 else "-",
                f">= 5,000 ({verdict(q[f'fq_{n}t'], t['last252_qps_per_thread'], True)})",
            )
        )
    rows += [
        (
            f"valuation, {v['holdings']:.0f} holdings over {b['rows'] / 1e6:.1f} M bars (ms)",
            f"{v['fq_ms']:.2f}",
            f"{v['naive_ms']:.2f}",
            f"{v['pandas_ms']:.2f}",
            f"{v['naive_ms'] / v['fq_ms']:.1f}x",
            f"{v['pandas_ms'] / v['fq_ms']:.1f}x",
            f"<= 2 ms ({verdict(v['fq_ms'], t['valuation_ms'], False)})",
        ),
        (
            f"panel load {na:,} x {nb:,} (ms)",
            f"{1e3 * p['fq_load_s']:.0f}",
            "-",
            f"{1e3 * p['pandas_load_s']:.0f}",
            "-",
            f"{p['pandas_load_s'] / p['fq_load_s']:.1f}x",
            f"<~150 ms ({verdict(p['fq_load_s'], t['panel_load_s'], False)})",
        ),
        (
            f"write 6 new indicator outputs {na:,} x {nb:,} (ms)",
            f"{1e3 * p['fq_ind_fresh_s']:.0f}",
            f"{1e3 * p['naive_ind_write_s']:.0f}",
            "-",
            f"{p['naive_ind_write_s'] / p['fq_ind_fresh_s']:.1f}x",
            "-",
            f"<~150 ms ({verdict(p['fq_ind_fresh_s'], t['indicator_write_s'], False)})",
        ),
        (
            f"rewrite 6 stored indicator outputs {na:,} x {nb:,} (ms)",
            f"{1e3 * p['fq_ind_write_s']:.0f}",
            f"{1e3 * p['naive_ind_write_s']:.0f}",
            "-",
            f"{p['naive_ind_write_s'] / p['fq_ind_write_s']:.1f}x",
            "-",
            f"<~150 ms ({verdict(p['fq_ind_write_s'], t['indicator_write_s'], False)})",
        ),
        (
            f"rewrite the last date of 6 outputs, {na:,} symbols (ms)",
            f"{1e3 * p['fq_ind_tail_s']:.0f}",
            "-",
            "-",
            "-",
            "-",
            "-",
        ),
        (
            f"read 6 indicator outputs {na:,} x {nb:,} (ms)",
            f"{1e3 * p['fq_ind_read_s']:.0f}",
            "-",
            "-",
            "-",
            "-",
            "-",
        ),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in rows
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    cmd = " ".join([Path(sys.executable).name, *sys.argv])
    return "\n".join(
        [
            f"Machine: {environment()}",
            f"Command: `{cmd}` ({seconds:.0f} s, peak RSS {peak_rss_mb():.0f} MB)",
            f"pandas to_sql timed on {args.pandas_rows:,} rows; ANALYZE after the load "
            f"{b['analyze_s'] * 1e3:.0f} ms (not in the load time); the sqlite3 valuation is the "
            f"tuned query (index seek per holding); the obvious JOIN: {v['natural_ms']:.1f} ms",
            f"Peak RSS of a fresh process loading the {na:,} x {nb:,} panel: "
            f"{p['rss_base_mb']:.0f} MB after imports, {p['rss_load_mb']:.0f} MB after the load, "
            f"{p['rss_write_mb']:.0f} MB after also writing 6 outputs",
            "",
            *lines,
        ]
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    ap.add_argument("--assets", type=int, default=4000, help="symbols of the bulk load (4000)")
    ap.add_argument("--bars", type=int, default=2520, help="bars per symbol (2520)")
    ap.add_argument("--chunk", type=int, default=500, help="symbols per write_bars call (500)")
    ap.add_argument("--panel", type=str, default="4000x252", help="panel workload (4000x252)")
    ap.add_argument("--pandas-rows", type=int, default=500_000, help="rows for to_sql (500k)")
    ap.add_argument("--repeats", type=int, default=5, help="timed runs per measurement (5)")
    ap.add_argument("--seconds", type=float, default=3.0, help="per query-rate run (3)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--dir", type=Path, default=None, help="where the databases go (a tmp dir)")
    ap.add_argument("--quick", action="store_true", help="small smoke run (~20 s)")
    args = ap.parse_args(argv)
    if args.quick:
        args.assets, args.bars, args.chunk = 500, 1000, 250
        args.panel, args.pandas_rows, args.repeats, args.seconds = "1000x252", 100_000, 3, 1.0
    a, _, b = args.panel.partition("x")
    args.panel = (int(a), int(b))
    print(f"Machine: {environment()}", flush=True)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(dir=args.dir) as d:
        tmp = Path(d)
        results: dict[str, dict[str, float]] = {}
        print(f"bulk load {args.assets:,} x {args.bars:,} ...", flush=True)
        results["bulk"], store, naive_path = bench_bulk(args, tmp)
        print("last 252 bars queries ...", flush=True)
        results["last252"] = bench_last252(args, store, naive_path)
        print("valuation ...", flush=True)
        results["valuation"] = bench_valuation(args, store, naive_path)
        store.close()
        print("panel and indicators ...", flush=True)
        results["panel"] = bench_panel(args, tmp)
    print()
    print(report(args, results, time.perf_counter() - t0))
    return 0


if __name__ == "__main__":
    sys.exit(main())
