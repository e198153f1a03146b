"""End-to-end benchmark of the main job: SQLite bars → standard set → SQLite.

Side by side, in one run, on the same synthetic universe (seeded random walks, ingested through
``ferroquant.store``):

1. **pandas per stock** — the pipeline ``ferroquant run`` replaces: for every stock,
   ``read_sql_query`` of its closes, the six reference pandas expressions, ``to_sql`` append and a
   commit. It is slow, so on large universes it runs on the first ``--pandas-subset`` stocks and
   is extrapolated linearly per stock (the table says so).
2. **ferroquant** — the job's indicator stage (``ferroquant run --skip-ingest`` on a store holding
   only bars): chunked load → Rust kernels → store.
3. **daily update** — one new bar for every stock of the 4,000 × 252 store: the upsert of the new
   bars, then the incremental indicator stage (only the new column is computed and written).

Every configuration runs in its own subprocess, so its peak RSS (``ru_maxrss``) is its own.
Targets (issue 5 §4): 4,000 × 252 ≥ 5,000 stocks/s with peak RSS ≤ 100 MB; 10,000 × 2,520
≤ 15 s (stretch 5 s) with peak RSS ≤ 300 MB; the daily update ≤ 100 ms.

    python benches/bench_pipeline.py            # 4000x252 and 10000x2520 (needs ~3 GB of disk)
    python benches/bench_pipeline.py --quick    # 500x252 and 1000x1260, a smoke run (~1 min)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from _reference import reference_one

SIZES = "4000x252,10000x2520"
QUICK_SIZES = "500x252,1000x1260"
TARGETS = {
    "4000x252": ("stocks/s >= 5,000, RSS <= 100 MB", 5000.0, 100.0),
    "10000x2520": ("<= 15 s (stretch 5 s), RSS <= 300 MB", 15.0, 300.0),
    "update": ("<= 100 ms", 0.100, None),
}
SEED = 20241125


# ---------------------------------------------------------------------------------------------
# Synthetic universe (runs in a setup subprocess: not measured).
# ---------------------------------------------------------------------------------------------


def business_days(n: int, start: str = "2010-01-04") -> np.ndarray:
    """``n`` weekdays from ``start``."""
    return np.busday_offset(np.datetime64(start, "D"), np.arange(n), roll="forward")


def random_walk(n_assets: int, n_bars: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """OHLCV for ``n_assets`` symbols: log-normal closes, opens/highs/lows around them."""
    start = rng.uniform(5.0, 500.0, (n_assets, 1))
    vol = rng.uniform(0.01, 0.04, (n_assets, 1))
    close = start * np.exp(np.cumsum(rng.normal(0.0, 1.0, (n_assets, n_bars)) * vol, axis=1))
    open_ = close * (1.0 + rng.normal(0.0, 0.3, close.shape) * vol)
    wick = np.abs(rng.normal(0.0, 0.5, (2, *close.shape))) * vol
    high = np.maximum(open_, close) * (1.0 + wick[0])
    low = np.minimum(open_, close) * (1.0 - wick[1])
    volume = np.round(rng.lognormal(13.0, 1.0, close.shape))
    return {"open": open_, "high": high, "low": low, "close": close, "volume": volume}


def symbols_for(n_assets: int) -> list[str]:
    return [f"S{i:05d}" for i in range(n_assets)]


def bars_batch(symbols: list[str], dates: np.ndarray, f: dict[str, np.ndarray]) -> Any:
    """The store's columnar batch for a block of symbols × dates."""
    from ferroquant.store import Bars

    n, t = f["close"].shape
    return Bars(
        symbol=np.repeat(np.array(symbols, dtype=object), t),
        date=np.tile(dates, n),
        open=f["open"].ravel(),
        high=f["high"].ravel(),
        low=f["low"].ravel(),
        close=f["close"].ravel(),
        adj_close=f["close"].ravel(),
        volume=f["volume"].ravel(),
    )


def blocks(n_assets: int, n_bars: int, block: int = 500) -> Any:
    """``(symbols, dates, fields)`` blocks of the universe; the first ``k`` symbols are the same
    whatever ``n_assets`` is (one generator, consumed block by block)."""
    rng = np.random.default_rng(SEED)
    dates = business_days(n_bars)
    symbols = symbols_for(n_assets)
    for i in range(0, n_assets, block):
        yield symbols[i : i + block], dates, random_walk(min(block, n_assets - i), n_bars, rng)


def setup(db: Path, n_assets: int, n_bars: int) -> dict[str, Any]:
    """A ferroquant store with ``n_assets`` × ``n_bars`` bars and no indicators."""
    from ferroquant.store import Store

    t0 = time.perf_counter()
    with Store.open(db) as store:
        for symbols, dates, f in blocks(n_assets, n_bars):
            store.upsert_symbols(symbols, sectors=[f"Sector {int(s[1:]) % 11}" for s in symbols])
            store.write_bars(bars_batch(symbols, dates, f))
    return {"seconds": time.perf_counter() - t0}


def setup_legacy(db: Path, n_assets: int, n_bars: int) -> dict[str, Any]:
    """The same bars in the layout the pandas pipeline reads: one row per (symbol, date)."""
    import sqlite3

    t0 = time.perf_counter()
    con = sqlite3.connect(db)
    con.execute(
        "CREATE TABLE prices (symbol TEXT NOT NULL, date TEXT NOT NULL, open REAL, high REAL, "
        "low REAL, close REAL, volume REAL, PRIMARY KEY (symbol, date))"
    )
    for symbols, dates, f in blocks(n_assets, n_bars):
        day = dates.astype(str).tolist()
        rows = (
            (s, day[j], *(float(f[k][i, j]) for k in ("open", "high", "low", "close", "volume")))
            for i, s in enumerate(symbols)
            for j in range(len(day))
        )
        con.executemany("INSERT INTO prices VALUES (?, ?, ?, ?, ?, ?, ?)", rows)
        con.commit()
    con.close()
    return {"seconds": time.perf_counter() - t0}


# ---------------------------------------------------------------------------------------------
# Measured configurations (each in its own subprocess).
# ---------------------------------------------------------------------------------------------


def peak_rss_mb() -> float:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1e6 if sys.platform == "darwin" else peak * 1024 / 1e6


def measure_ferroquant(db: Path, chunk: int) -> dict[str, Any]:
    """The job's indicator stage on a store that holds only bars."""
    import ferroquant as fq
    from ferroquant.pipeline import JobOptions, run_job

    t0 = time.perf_counter()
    summary = run_job(JobOptions(db=db, ingest=False, report=False, chunk=chunk))
    seconds = time.perf_counter() - t0
    ind = summary.stage("indicators")
    assert ind is not None
    return {
        "seconds": seconds,
        "stage_seconds": ind.seconds,
        "parts": ind.detail.get("seconds", {}),
        "symbols": ind.detail["symbols"],
        "bars": ind.items,
        "threads": fq.thread_pool_size(),
        "peak_rss_mb": peak_rss_mb(),
        "pandas_imported": "pandas" in sys.modules,
    }


def measure_update(db: Path, chunk: int) -> dict[str, Any]:
    """One new bar for every symbol: upsert it, then the incremental indicator stage."""
    from ferroquant.pipeline import JobOptions, run_job
    from ferroquant.store import Store

    with Store.open(db, cache_mb=16, mmap_mb=0) as store:
        last = store.last_bar_dates()
        symbols = sorted(last)
        day = np.busday_offset(max(last.values()), 1, roll="forward")
        panel = store.load_panel(symbols=symbols, start=max(last.values()))
        rng = np.random.default_rng(SEED + 1)
        prev = panel.close[:, -1:]
        close = prev * np.exp(rng.normal(0.0, 0.02, prev.shape))
        f = {
            "open": prev.copy(),
            "high": np.maximum(prev, close) * 1.01,
            "low": np.minimum(prev, close) * 0.99,
            "close": close,
            "volume": np.full(prev.shape, 1e6),
        }
        batch = bars_batch(symbols, np.array([day]), f)
        t0 = time.perf_counter()
        store.write_bars(batch)
        t_bars = time.perf_counter() - t0
    t0 = time.perf_counter()
    summary = run_job(JobOptions(db=db, ingest=False, report=False, chunk=chunk))
    t_job = time.perf_counter() - t0
    ind = summary.stage("indicators")
    assert ind is not None
    return {
        "seconds": t_bars + ind.seconds,
        "write_bars_seconds": t_bars,
        "stage_seconds": ind.seconds,
        "job_seconds": t_job,
        "parts": ind.detail.get("seconds", {}),
        "symbols": ind.detail["symbols"],
        "bars": ind.items,
        "peak_rss_mb": peak_rss_mb(),
    }


def measure_pandas(db: Path, limit: int) -> dict[str, Any]:
    """Today's per-stock pipeline on the first ``limit`` symbols of a legacy ``prices`` table."""
    import sqlite3

    import pandas as pd

    con = sqlite3.connect(db)
    symbols = [r[0] for r in con.execute("SELECT DISTINCT symbol FROM prices ORDER BY symbol")]
    symbols = symbols[:limit]
    t0 = time.perf_counter()
    n_bars = 0
    for symbol in symbols:
        frame = pd.read_sql_query(BARS_QUERY, con, params=(symbol,), index_col="date")
        out = pd.DataFrame(
            dict(
                zip(
                    ("sma20", "sma50", "rsi14", "bb_middle", "bb_upper", "bb_lower"),
                    reference_one(frame["close"]),
                    strict=True,
                )
            )
        )
        out.insert(0, "symbol", symbol)
        out.to_sql("pandas_indicators", con, if_exists="append")
        con.commit()
        n_bars += len(frame)
    seconds = time.perf_counter() - t0
    con.close()
    return {
        "seconds": seconds,
        "symbols": len(symbols),
        "bars": n_bars,
        "peak_rss_mb": peak_rss_mb(),
    }


BARS_QUERY = "SELECT date, close FROM prices WHERE symbol = ? ORDER BY date"
"""The per-stock read of the pandas pipeline."""


# ---------------------------------------------------------------------------------------------
# Orchestration.
# ---------------------------------------------------------------------------------------------


def child(kind: str, *args: str) -> dict[str, Any]:
    """Run one configuration in a fresh interpreter; returns its JSON result."""
    cmd = [sys.executable, __file__, "--child", kind, *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def run_child(argv: list[str]) -> None:
    kind, db, arg = argv[0], Path(argv[1]), int(argv[2])
    if kind in ("setup", "legacy"):
        n_assets, n_bars = arg, int(argv[3])
        result = (setup if kind == "setup" else setup_legacy)(db, n_assets, n_bars)
    elif kind == "ferroquant":
        result = measure_ferroquant(db, arg)
    elif kind == "update":
        result = measure_update(db, arg)
    elif kind == "pandas":
        result = measure_pandas(db, arg)
    else:
        raise SystemExit(f"unknown child {kind}")
    print(json.dumps(result))


def parse_size(spec: str) -> tuple[int, int]:
    a, b = spec.lower().split("x")
    return int(a), int(b)


def build_store(workdir: Path, n_assets: int, n_bars: int, kind: str = "setup") -> Path:
    """The bars-only store of a size, made once and cached in ``workdir``."""
    name = "bars" if kind == "setup" else "legacy"
    db = workdir / f"{name}_{n_assets}x{n_bars}.db"
    done = db.with_suffix(".ok")
    if not done.exists():
        for p in (db, done):
            p.unlink(missing_ok=True)
        print(f"  generating {n_assets:,} x {n_bars:,} random walks into {db} ...", flush=True)
        info = child(kind, str(db), str(n_assets), str(n_bars))
        print(f"  ... ingested in {info['seconds']:.1f} s (not part of any timing)", flush=True)
        done.touch()
    return db


def fresh_copy(db: Path, name: str) -> Path:
    """A copy of a bars-only store (each measurement writes into its own)."""
    target = db.with_name(f"{db.stem}_{name}.db")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(db, target)
    return target


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        run_child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help=f"sizes {QUICK_SIZES}")
    parser.add_argument("--sizes", default=None, help=f"comma-separated NxT (default {SIZES})")
    parser.add_argument("--chunk", type=int, default=256, help="symbols per batch (default 256)")
    parser.add_argument(
        "--pandas-bars",
        type=int,
        default=4000 * 252,
        help="bars the pandas pipeline is timed on per size: the first stocks up to this many "
        "bars (all of 4000x252 by default), extrapolated linearly per stock beyond",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "ferroquant-bench-pipeline",
        help="where the generated stores are kept (reused by later runs)",
    )
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args()
    sizes = [
        parse_size(s) for s in (args.sizes or (QUICK_SIZES if args.quick else SIZES)).split(",")
    ]
    pandas_bars = min(args.pandas_bars, 200 * 252) if args.quick else args.pandas_bars
    args.workdir.mkdir(parents=True, exist_ok=True)

    import ferroquant as fq

    info = fq.build_info()
    print(
        f"ferroquant {fq.__version__}, {info['profile']} build, {fq.thread_pool_size()} threads, "
        f"{os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}"
    )
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}\n")
    rows: list[dict[str, Any]] = []
    for n_assets, n_bars in sizes:
        label = f"{n_assets}x{n_bars}"
        print(f"{label}:", flush=True)
        db = build_store(args.workdir, n_assets, n_bars)
        pandas_subset = max(1, min(n_assets, pandas_bars // n_bars))
        fq_db = fresh_copy(db, "ferroquant")
        fq_res = child("ferroquant", str(fq_db), str(args.chunk))
        # The pandas pipeline reads its own row-per-bar table; it only needs the stocks it is
        # timed on (the same first ones: the generator makes them identical).
        legacy = build_store(args.workdir, min(n_assets, pandas_subset), n_bars, "legacy")
        pd_db = fresh_copy(legacy, "pandas")
        pd_res = child("pandas", str(pd_db), str(pandas_subset))
        pd_db.unlink()
        per_stock = pd_res["seconds"] / max(pd_res["symbols"], 1)
        pd_seconds = per_stock * n_assets
        row = {
            "size": label,
            "ferroquant": fq_res,
            "pandas": pd_res,
            "pandas_seconds_all": pd_seconds,
            "pandas_extrapolated": pd_res["symbols"] < n_assets,
            "speedup": pd_seconds / fq_res["seconds"],
        }
        rows.append(row)
        if n_bars == 252:
            upd = child("update", str(fq_db), str(args.chunk))
            rows.append({"size": f"{label} update", "update": upd})
        fq_db.unlink()
        print_row(row)
    report(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


def print_row(row: dict[str, Any]) -> None:
    f, p = row["ferroquant"], row["pandas"]
    print(
        f"  ferroquant {f['seconds']:.3f} s ({f['symbols'] / f['seconds']:,.0f} stocks/s, "
        f"RSS {f['peak_rss_mb']:.0f} MB); pandas {row['pandas_seconds_all']:.2f} s "
        f"({p['symbols'] / p['seconds']:,.0f} stocks/s"
        + (f", timed on {p['symbols']:,} stocks" if row["pandas_extrapolated"] else "")
        + f", RSS {p['peak_rss_mb']:.0f} MB); x{row['speedup']:,.0f}",
        flush=True,
    )


def report(rows: list[dict[str, Any]]) -> None:
    """The markdown table of the run."""
    print(
        "\n| configuration | ferroquant | stocks/s | peak RSS | pandas per stock | stocks/s "
        "| peak RSS | ratio | target |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        if "update" in row:
            u = row["update"]
            print(
                f"| {row['size']} (1 new bar x {u['symbols']:,}) | {u['seconds'] * 1e3:.0f} ms "
                f"(bars {u['write_bars_seconds'] * 1e3:.0f} ms + indicators "
                f"{u['stage_seconds'] * 1e3:.0f} ms) | | {u['peak_rss_mb']:.0f} MB | | | | "
                f"| {TARGETS['update'][0]} |"
            )
            continue
        f, p = row["ferroquant"], row["pandas"]
        target = TARGETS.get(row["size"], ("",))[0]
        extra = f" (timed on {p['symbols']:,})" if row["pandas_extrapolated"] else ""
        print(
            f"| {row['size']} | {f['seconds']:.3f} s | {f['symbols'] / f['seconds']:,.0f} "
            f"| {f['peak_rss_mb']:.0f} MB | {row['pandas_seconds_all']:.1f} s{extra} "
            f"| {p['symbols'] / p['seconds']:,.0f} | {p['peak_rss_mb']:.0f} MB "
            f"| x{row['speedup']:,.0f} | {target} |"
        )
    for row in rows:
        if "ferroquant" in row:
            parts = ", ".join(f"{k} {v:.3f} s" for k, v in row["ferroquant"]["parts"].items())
            print(f"\n{row['size']} ferroquant stage split: {parts}", end="")
    print()


if __name__ == "__main__":
    main()
