"""Benchmark of the standard set (SMA 20, SMA 50, RSI 14, Bollinger 20/2) against its peers.

Every peer runs in this one process, on the same data, side by side:

1. pandas, one Series per stock: the reference code of today's systems. It is slow, so it is timed
   on an evenly spaced subset of the stocks (``--pandas-subset``) and extrapolated linearly.
2. pandas on one wide frame (index dates, columns symbols), vectorised over the columns.
3. TA-Lib, four calls per stock (SMA 20, SMA 50, RSI 14, BBANDS 20/2).
4. polars, a long frame and window expressions ``.over("symbol")``.
5. ferroquant, ``fq.indicators.standard`` with the full thread pool and with one thread, with a
   fresh output block per call and with ``out=`` reusing one.

For each workload it prints the median and the min-max of the repeats, the speed-ups of
ferroquant, the peak RSS, and the largest differences of every peer from the pandas reference
(TA-Lib is compared with ferroquant's ``convention="talib"`` outputs instead: its RSI is Wilder's
and its Bollinger bands use the population standard deviation). It ends with a markdown table for
``benches/README.md``.

Run ``python benches/bench_indicators.py --help`` for the options; ``--quick`` is a smoke run.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import math
import os
import platform
import resource
import shlex
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

import ferroquant as fq

FloatArray = npt.NDArray[np.float64]

MB = 1e6
FQ_TOL = 1e-8
"""ferroquant must match the pandas reference to ``|Δ| <= FQ_TOL * max(1, |reference|)``."""

DEFAULT_SIZES = "4000x252,4000x2520,10000x2520,sp500,percall"
QUICK_SIZES = "500x252,1000x1260,sp500,percall"
SP500 = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
SP500_FILE = (SP500 / "sp500_adjclose_1999_2021.csv.gz").resolve()

TARGETS = {
    "10000x2520": 0.10,  # seconds, median, standard set
    "4000x252": 6e-3,
    "percall": 2e-6,  # seconds per call, one stock x 252 bars
    "rss_excess_mb": 60.0,  # peak RSS of the 4,000 x 252 run minus input and outputs
}


# --------------------------------------------------------------------------------------------
# Data.
# --------------------------------------------------------------------------------------------


def gbm_universe(n_assets: int, n_bars: int, seed: int, chunk: int = 256) -> FloatArray:
    """Seeded geometric Brownian motion, ``(n_assets, n_bars)``, no drift.

    Start prices are uniform in 5-500 and daily volatilities uniform in 1-4 %. The paths are made
    ``chunk`` stocks at a time, so the only large allocation is the result itself (this matters for
    the peak-RSS measurement); the numbers do not depend on ``chunk``.
    """
    rng = np.random.default_rng(seed)
    start = rng.uniform(5.0, 500.0, n_assets)
    vol = rng.uniform(0.01, 0.04, n_assets)
    close = np.empty((n_assets, n_bars))
    for lo in range(0, n_assets, chunk):
        hi = min(lo + chunk, n_assets)
        z = rng.standard_normal((hi - lo, n_bars))
        z[:, 0] = 0.0  # the first bar is the start price
        sigma = vol[lo:hi, None]
        z *= sigma
        z -= 0.5 * sigma**2
        z[:, 0] = 0.0
        np.cumsum(z, axis=1, out=z)
        np.exp(z, out=z)
        z *= start[lo:hi, None]
        close[lo:hi] = z
    return close


def load_sp500(path: Path) -> tuple[FloatArray, Any, list[str]]:
    """The 504-symbol adjusted-close panel as ``(n_assets, n_bars)`` (NaN before a listing)."""
    import pandas as pd

    wide = pd.read_csv(path, index_col="date", parse_dates=["date"]).astype(np.float64)
    close = np.ascontiguousarray(wide.to_numpy().T)
    return close, wide.index, [str(c) for c in wide.columns]


def parse_size(spec: str) -> tuple[int, int]:
    n_assets, n_bars = spec.lower().replace(",", "").split("x")
    return int(n_assets), int(n_bars)


# --------------------------------------------------------------------------------------------
# Measuring.
# --------------------------------------------------------------------------------------------


def time_calls(fn: Callable[[], object], repeats: int, budget_s: float) -> list[float]:
    """Wall seconds of ``repeats`` calls of ``fn`` (garbage collector off during each call).

    A slow peer stops early, after at least ``min(3, repeats)`` calls, once ``budget_s`` is spent.
    The result of a call is dropped after its clock stops, so freeing it is not timed.
    """
    samples: list[float] = []
    spent = 0.0
    while len(samples) < repeats:
        gc.collect()
        gc.disable()
        try:
            t0 = time.perf_counter()
            result = fn()
            elapsed = time.perf_counter() - t0
        finally:
            gc.enable()
        del result
        samples.append(elapsed)
        spent += elapsed
        if len(samples) >= min(3, repeats) and spent + elapsed > budget_s:
            break
    return samples


def peak_rss() -> int:
    """Peak resident set size of this process so far, in bytes.

    On Linux this is ``VmHWM``, which starts afresh at ``exec``; ``ru_maxrss`` does not (a child
    started by ``subprocess`` would report its parent's peak if that was higher).
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(peak) if sys.platform == "darwin" else int(peak) * 1024


def current_rss() -> int:
    """Resident set size of this process now, in bytes."""
    try:
        import psutil  # type: ignore[import-untyped, unused-ignore]

        return int(psutil.Process().memory_info().rss)
    except ImportError:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@dataclass
class CpuNoise:
    """CPU time that other processes used while a block ran (system-wide counters minus ours)."""

    wall_s: float = 0.0
    other_cpu_s: float = float("nan")
    steal_s: float = float("nan")

    @property
    def other_cores(self) -> float:
        return self.other_cpu_s / self.wall_s if self.wall_s > 0 else float("nan")

    def describe(self) -> str:
        if math.isnan(self.other_cpu_s):  # psutil missing
            return f"wall {self.wall_s:.1f} s (install psutil to measure other processes' CPU use)"
        text = (
            f"wall {self.wall_s:.1f} s; other processes used {self.other_cpu_s:.1f} CPU-s "
            f"({self.other_cores:.2f} cores on average), hypervisor steal {self.steal_s:.1f} s"
        )
        if self.other_cores > 0.2 or self.steal_s > 0.1 * self.wall_s:
            text += "  << DISTURBED: timings are not quiet-machine numbers"
        return text


@contextmanager
def cpu_noise() -> Iterator[CpuNoise]:
    noise = CpuNoise()
    try:
        import psutil  # type: ignore[import-untyped, unused-ignore]
    except ImportError:
        t0 = time.perf_counter()
        yield noise
        noise.wall_s = time.perf_counter() - t0
        return

    def sample() -> tuple[float, float, float]:
        c = psutil.cpu_times()
        busy = c.user + c.nice + c.system + getattr(c, "irq", 0.0) + getattr(c, "softirq", 0.0)
        me = psutil.Process().cpu_times()
        own = me.user + me.system + me.children_user + me.children_system
        return busy, own, float(getattr(c, "steal", 0.0))

    busy0, own0, steal0 = sample()
    t0 = time.perf_counter()
    yield noise
    noise.wall_s = time.perf_counter() - t0
    busy1, own1, steal1 = sample()
    noise.other_cpu_s = max(0.0, (busy1 - busy0) - (own1 - own0))
    noise.steal_s = steal1 - steal0


@dataclass
class Timing:
    """Repeated timings of one peer on one workload, in seconds for the whole workload."""

    peer: str
    threads: int
    samples: list[float]
    note: str = ""

    @property
    def median(self) -> float:
        return float(np.median(self.samples))

    @property
    def spread(self) -> tuple[float, float]:
        return min(self.samples), max(self.samples)


def fmt_time(seconds: float) -> str:
    if math.isnan(seconds):
        return "n/a"
    if seconds >= 1.0:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.3g} ms"
    return f"{seconds * 1e6:.3g} µs"


def fmt_ratio(x: float) -> str:
    return f"{x:,.0f}x" if x >= 100 else f"{x:.1f}x"


def gap_free_rows(close: FloatArray) -> npt.NDArray[np.intp]:
    """The stocks (rows) with no missing price after their first one."""
    valid = np.isfinite(close)
    first = valid.argmax(axis=1)
    after_first = np.arange(close.shape[1]) >= first[:, None]
    return np.flatnonzero(~(after_first & ~valid).any(axis=1))


def subset_indices(n: int, k: int) -> npt.NDArray[np.intp]:
    """``k`` evenly spaced indices in ``range(n)`` (all of them if ``k >= n``)."""
    if k >= n:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, k).round().astype(np.intp))


# --------------------------------------------------------------------------------------------
# The ferroquant-only subprocess (peak RSS = input + outputs + overhead).
# --------------------------------------------------------------------------------------------


def rss_child(n_assets: int, n_bars: int, seed: int, repeats: int) -> dict[str, float]:
    """Runs in a fresh interpreter that imports only numpy and ferroquant."""
    baseline = current_rss()
    close = gbm_universe(n_assets, n_bars, seed)
    before = current_rss()
    for _ in range(repeats):
        result = fq.indicators.standard(close)
        del result
    buf = np.empty((6, n_assets, n_bars))
    for _ in range(repeats):
        fq.indicators.standard(close, out=buf)
    del buf
    peak = peak_rss()
    in_b, out_b = close.nbytes, 6 * close.nbytes
    return {
        "baseline_mb": baseline / MB,
        "rss_with_input_mb": before / MB,
        "input_mb": in_b / MB,
        "outputs_mb": out_b / MB,
        "peak_mb": peak / MB,
        "excess_mb": (peak - in_b - out_b) / MB,
        "excess_over_baseline_mb": (peak - baseline - in_b - out_b) / MB,
    }


def run_rss_child(n_assets: int, n_bars: int, seed: int, repeats: int) -> dict[str, float]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--rss-child", f"{n_assets}x{n_bars}"]
    cmd += ["--seed", str(seed), "--repeats", str(repeats)]
    done = subprocess.run(cmd, capture_output=True, text=True, check=True)
    report: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


# --------------------------------------------------------------------------------------------
# One panel workload.
# --------------------------------------------------------------------------------------------


@dataclass
class PanelResult:
    name: str
    source: str
    n_assets: int
    n_bars: int
    input_mb: float
    outputs_mb: float
    timings: list[Timing] = field(default_factory=list)
    agreement: dict[str, Any] = field(default_factory=dict)
    fq_threads_identical: bool = True
    peak_rss_process_mb: float = 0.0
    rss_child: dict[str, float] | None = None
    noise: dict[str, float] = field(default_factory=dict)

    def timing(self, peer: str) -> Timing:
        return next(t for t in self.timings if t.peer == peer)


FQ_POOL, FQ_POOL_OUT = "ferroquant, full pool, fresh", "ferroquant, full pool, out="
FQ_ONE, FQ_ONE_OUT = "ferroquant, 1 thread, fresh", "ferroquant, 1 thread, out="
# A live process calling again and again: per-call time of LOOP_CALLS back-to-back calls. On this
# VM an idle second vCPU takes milliseconds to wake, which a lone call after a pause pays in full.
FQ_LOOP = "ferroquant, full pool, out=, back-to-back"
LOOP_CALLS = 10
PD_STOCK, PD_WIDE = "pandas per stock", "pandas wide frame"
TALIB, POLARS = "TA-Lib per stock", "polars long .over()"
PANEL_PEERS = (FQ_POOL, FQ_POOL_OUT, FQ_LOOP, FQ_ONE, FQ_ONE_OUT, PD_STOCK, PD_WIDE, TALIB, POLARS)


def bench_panel(
    name: str, source: str, close: FloatArray, index: Any, symbols: list[str], args: Any
) -> PanelResult:
    import polars as pl

    import _peers as peers

    n, m = close.shape
    res = PanelResult(name, source, n, m, close.nbytes / MB, 6 * close.nbytes / MB)
    print(
        f"\n### {name} ({source}): input {res.input_mb:,.1f} MB, outputs {res.outputs_mb:,.1f} MB"
    )
    reps, budget = args.repeats, args.budget
    pool = fq.thread_pool_size()

    def add(
        peer: str,
        threads: int,
        fn: Callable[..., object],
        *fn_args: Any,
        scale: float = 1.0,
        note: str = "",
    ) -> None:
        """Time ``fn(*fn_args)``; ``scale`` extrapolates a subset's time to the whole universe."""
        samples = [s * scale for s in time_calls(lambda: fn(*fn_args), reps, budget)]
        res.timings.append(Timing(peer, threads, samples, note))

    scale = peers.price_scale(close)

    def agree(
        peer: str,
        got: FloatArray,
        ref: FloatArray,
        against: str,
        rows: npt.NDArray[np.intp] | None = None,
        spot_check: bool = True,
    ) -> None:
        """Compare with ``ref`` (on the stocks ``rows``); spot-check the worst cell exactly."""
        a = peers.compare(got, ref, against, FQ_TOL, scale if rows is None else scale[rows])
        record = asdict(a)
        name, i, j, peer_value, ref_value, scaled = a.worst
        if spot_check and scaled > 0:
            stock = i if rows is None else int(rows[i])
            exact = peers.exact_cell(close[stock], name, j)
            record["spot_check"] = {"field": name, "stock": stock, "bar": j, "peer": peer_value}
            record["spot_check"] |= {"reference": ref_value, "exact": exact}
        res.agreement[peer] = record

    with cpu_noise() as noise:
        # The reference: the pandas code on the wide frame (per-stock is checked equal to it below).
        frame = peers.pandas_wide_input(close, index, symbols)
        ref = peers.stack_pandas_wide(peers.pandas_wide(frame))
        add(PD_WIDE, 1, peers.pandas_wide, frame)
        del frame

        # ferroquant: the first (untimed) call of each kind warms the pool and the pages.
        fresh = peers.stack_ferroquant(peers.ferroquant_fresh(close))
        agree(FQ_POOL, fresh, ref, "pandas reference")
        buf = np.empty((6, n, m))
        add(FQ_POOL, pool, peers.ferroquant_fresh, close)
        peers.ferroquant_out(close, buf)
        same = bool(np.array_equal(buf, fresh, equal_nan=True))
        add(FQ_POOL_OUT, pool, peers.ferroquant_out, close, buf)

        def loop(c: FloatArray, b: FloatArray) -> None:
            for _ in range(LOOP_CALLS):
                peers.ferroquant_out(c, b)

        note = f"{LOOP_CALLS} calls in a row, per call"
        add(FQ_LOOP, pool, loop, close, buf, scale=1 / LOOP_CALLS, note=note)
        with fq.threads(1):
            one = peers.stack_ferroquant(peers.ferroquant_fresh(close))
            same = same and bool(np.array_equal(one, fresh, equal_nan=True))
            del one
            add(FQ_ONE, 1, peers.ferroquant_fresh, close)
            peers.ferroquant_out(close, buf)
            add(FQ_ONE_OUT, 1, peers.ferroquant_out, close, buf)
        res.fq_threads_identical = same
        del buf, fresh

        # pandas per stock, on a subset, extrapolated linearly to all the stocks.
        sub = subset_indices(n, args.pandas_subset)
        series = peers.pandas_series_input(close[sub], index)
        got = peers.stack_pandas_per_stock(peers.pandas_per_stock(series))
        agree(PD_STOCK, got, ref[:, sub], "pandas reference", rows=sub)
        note = (
            f"timed on {len(sub):,} of {n:,} stocks (evenly spaced), "
            f"extrapolated linearly x{n / len(sub):.4g}"
            if len(sub) < n
            else ""
        )
        add(PD_STOCK, 1, peers.pandas_per_stock, series, scale=n / len(sub), note=note)
        del series, got

        # TA-Lib, compared with ferroquant's TA-Lib-convention outputs, on the stocks without a
        # missing price after their first one: from such a gap on, TA-Lib's SMA and BBANDS are NaN
        # to the end of the series and its RSI is 0.
        got = peers.stack_talib(peers.talib_per_stock(close))
        rows = gap_free_rows(close)
        against = 'fq convention="talib"'
        if len(rows) < n:
            against += f", {len(rows)} of {n} stocks: {n - len(rows)} with a gap left out"
        tal_ref = peers.ferroquant_talib_convention(close)
        agree(TALIB, got[:, rows], tal_ref[:, rows], against, rows=rows, spot_check=False)
        del got, tal_ref
        add(TALIB, 1, peers.talib_per_stock, close)

        # polars.
        long = peers.polars_long_input(close, symbols)
        got = peers.stack_polars(peers.polars_long(long), n, m)
        agree(POLARS, got, ref, "pandas reference")
        del got, ref
        add(POLARS, pl.thread_pool_size(), peers.polars_long, long)
        del long
        gc.collect()

    res.noise = asdict(noise)
    res.peak_rss_process_mb = peak_rss() / MB
    if source.startswith("synthetic") and not args.no_rss_child:
        res.rss_child = run_rss_child(n, m, args.seed, min(reps, 5))
    print_panel(res, noise)
    return res


def print_panel(res: PanelResult, noise: CpuNoise) -> None:
    base, base_out = res.timing(FQ_POOL).median, res.timing(FQ_POOL_OUT).median
    print(
        f"{'peer':<31} {'thr':>3} {'runs':>4} {'median':>10} {'min - max':>21} "
        f"{'vs fq':>9} {'vs fq out=':>10}"
    )
    for t in sorted(res.timings, key=lambda t: PANEL_PEERS.index(t.peer)):
        lo, hi = t.spread
        print(
            f"{t.peer:<31} {t.threads:>3} {len(t.samples):>4} {fmt_time(t.median):>10} "
            f"{fmt_time(lo) + ' - ' + fmt_time(hi):>21} "
            f"{fmt_ratio(t.median / base):>9} {fmt_ratio(t.median / base_out):>10}"
        )
    print(
        "(vs fq / vs fq out= = this median over ferroquant's, full pool, fresh / out=: how many "
        "times faster ferroquant is)"
    )
    for t in res.timings:
        if t.note:
            print(f"  {t.peer}: {t.note}")
    print(
        "agreement: max |Δ|, max |Δ|/|ref|, NaN-pattern mismatches, max |Δ|/scale and its field"
        " (scale = max(1, |ref|), and for price outputs also the stock's highest price so far)"
    )
    for peer, a in res.agreement.items():
        flag = "ok" if a["ok"] else f"NOT within {a['tol']:.0e}"
        if peer != FQ_POOL and not a["ok"]:
            flag = "differs (informational)"
        print(
            f"  {peer:<31} {a['max_abs']:9.2e} {a['max_rel']:9.2e} {a['nan_mismatch']:>6} "
            f"{a['worst'][5]:9.2e} {a['worst'][0]:>10}  vs {a['against']}: {flag}"
        )
        spot = a.get("spot_check")
        if spot and a["max_abs"] > 1e-12:
            exact = spot["exact"]
            print(
                f"{'':<6}worst cell {spot['field']}[stock {spot['stock']}, bar {spot['bar']}]: "
                f"peer {spot['peer']:.14g}, reference {spot['reference']:.14g}, exact "
                f"{exact:.14g}: |peer - exact| {abs(spot['peer'] - exact):.1e}, "
                f"|reference - exact| {abs(spot['reference'] - exact):.1e}"
            )
    same = "yes" if res.fq_threads_identical else "NO"
    print(f"  ferroquant 1 thread / out= bit-identical to full pool / fresh: {same}")
    print(f"peak RSS of this process so far: {res.peak_rss_process_mb:,.0f} MB")
    if res.rss_child:
        c = res.rss_child
        print(
            f"ferroquant-only subprocess: peak RSS {c['peak_mb']:,.1f} MB = input "
            f"{c['input_mb']:,.1f} + outputs {c['outputs_mb']:,.1f} + excess "
            f"{c['excess_mb']:,.1f} MB (the excess includes the interpreter, numpy and "
            f"ferroquant: {c['baseline_mb']:,.1f} MB at start)"
        )
    print(f"noise: {noise.describe()}")


# --------------------------------------------------------------------------------------------
# One stock x 252 bars, per call.
# --------------------------------------------------------------------------------------------


def bench_per_call(args: Any) -> dict[str, Any]:
    import pandas as pd

    import _peers as peers

    calls = args.calls
    x = np.ascontiguousarray(gbm_universe(1, 252, args.seed)[0])
    x2 = x.reshape(1, -1)
    buf = np.empty((6, 1, x.size))
    series = pd.Series(x, index=pd.bdate_range("2000-01-03", periods=x.size))
    standard, talib_one, reference_one = (
        fq.indicators.standard,
        peers.talib_one,
        peers.reference_one,
    )
    pandas_calls = max(1, min(calls // 40, 500))

    def fq_1d() -> None:
        for _ in range(calls):
            standard(x)

    def fq_out() -> None:
        for _ in range(calls):
            standard(x2, out=buf)

    def ta() -> None:
        for _ in range(calls):
            talib_one(x)

    def pd_ref() -> None:
        for _ in range(pandas_calls):
            reference_one(series)

    ref = np.stack([s.to_numpy() for s in reference_one(series)])[:, None, :]
    got = peers.stack_ferroquant(standard(x))[:, None, :]
    scale = peers.price_scale(x2)
    agreement = asdict(peers.compare(got, ref, "pandas reference", FQ_TOL, scale))
    standard(x2, out=buf)
    agreement["out_identical"] = bool(np.array_equal(buf, got, equal_nan=True))

    rows = [
        ("ferroquant standard(x1d)", fq_1d, calls),
        ("ferroquant standard(x2d_1row, out=buf)", fq_out, calls),
        ("TA-Lib SMA, SMA, RSI, BBANDS", ta, calls),
        ("pandas reference (one Series)", pd_ref, pandas_calls),
    ]
    print(f"\n### one stock x 252 bars, all six outputs, per call ({calls:,} calls per run)")
    result: dict[str, Any] = {"calls": calls, "agreement": agreement, "timings": []}
    with cpu_noise() as noise:
        for label, fn, n_calls in rows:
            fn()  # warm-up
            samples = [s / n_calls for s in time_calls(fn, args.repeats, args.budget)]
            result["timings"].append({"peer": label, "calls": n_calls, "samples": samples})
    fq_med = float(np.median(result["timings"][0]["samples"]))
    for row in result["timings"]:
        med = float(np.median(row["samples"]))
        lo, hi = min(row["samples"]), max(row["samples"])
        print(
            f"{row['peer']:<40} {med * 1e6:9.3f} µs/call  ({lo * 1e6:.3f} - {hi * 1e6:.3f}, "
            f"{len(row['samples'])} runs of {row['calls']:,} calls)  {fmt_ratio(med / fq_med)}"
        )
    a = agreement
    print(
        f"ferroquant vs pandas: max |Δ| {a['max_abs']:.2e}, NaN mismatches {a['nan_mismatch']}, "
        f"{'ok' if a['ok'] else 'NOT OK'}; out= identical: {a['out_identical']}"
    )
    print(f"noise: {noise.describe()}")
    result["noise"] = asdict(noise)
    return result


# --------------------------------------------------------------------------------------------
# Report.
# --------------------------------------------------------------------------------------------


def machine_environment(peers: dict[str, str]) -> dict[str, Any]:
    """What every benchmark prints about its run: date, command, machine, versions (ferroquant,
    numpy and the ``peers`` given), build, thread count and load average. Shared by the benches."""
    return {
        "date_utc": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": " ".join(shlex.quote(a) for a in sys.argv),
        "machine": f"{platform.machine()}, {os.cpu_count()} logical CPUs, {platform.platform()}",
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "versions": {"ferroquant": fq.__version__, "numpy": np.__version__, **peers},
        "build": fq.build_info(),
        "fq_threads": fq.thread_pool_size(),
        "loadavg_start": os.getloadavg(),
    }


def print_environment(title: str, env: dict[str, Any]) -> None:
    """The header lines of a benchmark's output (see :func:`machine_environment`)."""
    print(f"# {title} — {env['date_utc']}")
    print(f"command: {env['command']}")
    print(f"machine: {env['cpu']}; {env['machine']}; Python {env['python']}")
    print(
        "versions: "
        + ", ".join(f"{k} {v}" for k, v in env["versions"].items())
        + f"; ferroquant build profile: {env['build'].get('profile')}"
    )


def environment() -> dict[str, Any]:
    import pandas as pd
    import polars as pl
    import talib

    info = machine_environment(
        {"pandas": pd.__version__, "polars": pl.__version__, "talib": talib.__version__}
    )
    info["polars_threads"] = pl.thread_pool_size()
    return info


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def markdown(
    env: dict[str, Any], panels: list[PanelResult], per_call: dict[str, Any] | None
) -> str:
    pool = env["fq_threads"]
    lines = [
        f"Measured {env['date_utc']} with `{env['command']}`; {env['cpu']} ({env['machine']}); "
        f"ferroquant {env['versions']['ferroquant']} ({env['build']['profile']} build), "
        f"pandas {env['versions']['pandas']}, polars {env['versions']['polars']} "
        f"({env['polars_threads']} threads), TA-Lib {env['versions']['talib']}, "
        f"numpy {env['versions']['numpy']}. Medians; (x) = how many times slower than ferroquant "
        "(full pool, fresh allocation).",
        "",
        f"| workload | ferroquant {pool} thr | ferroquant {pool} thr, out= "
        f"| ferroquant {pool} thr, out=, back-to-back² | ferroquant 1 thr "
        "| pandas per stock¹ | pandas wide | TA-Lib per stock | polars |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for p in panels:
        base = p.timing(FQ_POOL).median
        cells = []
        for peer in (FQ_POOL, FQ_POOL_OUT, FQ_LOOP, FQ_ONE, PD_STOCK, PD_WIDE, TALIB, POLARS):
            med = p.timing(peer).median
            cells.append(
                fmt_time(med) if peer == FQ_POOL else f"{fmt_time(med)} ({fmt_ratio(med / base)})"
            )
        lines.append(f"| {p.name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "¹ timed on an evenly spaced subset of stocks and extrapolated linearly per stock.",
        f"² {LOOP_CALLS} calls in a row into one reused block (a live process); the other columns "
        "time single calls after a garbage collection, which on this VM also lets the idle second "
        "vCPU fall asleep (waking it costs a few ms, visible at 4,000 x 252).",
    ]
    if per_call:
        lines += ["", "| one stock x 252 bars, six outputs | µs per call |", "|---|---:|"]
        for row in per_call["timings"]:
            lines.append(f"| {row['peer']} | {np.median(row['samples']) * 1e6:.2f} |")
    lines += ["", "| target | limit | measured | |", "|---|---|---|---|"]
    for p in panels:
        key = f"{p.n_assets}x{p.n_bars}"
        if key in ("10000x2520", "4000x252"):
            limit = TARGETS[key]
            for label, peer in (
                ("fresh", FQ_POOL),
                ("out=", FQ_POOL_OUT),
                ("back-to-back", FQ_LOOP),
            ):
                med = p.timing(peer).median
                ok = "PASS" if med <= limit else "FAIL"
                lines.append(
                    f"| {p.name} standard set, {label}, median | ≤ {fmt_time(limit)} | "
                    f"{fmt_time(med)} | {ok} |"
                )
        if key == "4000x252" and p.rss_child:
            c = p.rss_child
            limit = c["input_mb"] + c["outputs_mb"] + TARGETS["rss_excess_mb"]
            ok = "PASS" if c["peak_mb"] <= limit else "FAIL"
            lines.append(
                f"| peak RSS, {p.name} ferroquant-only run | ≤ {c['input_mb']:.1f} + "
                f"{c['outputs_mb']:.1f} + 60 = {limit:.1f} MB | {c['peak_mb']:.1f} MB "
                f"(excess {c['excess_mb']:.1f}) | {ok} |"
            )
    if per_call:
        meds = [float(np.median(r["samples"])) for r in per_call["timings"][:2]]
        ok = "PASS" if min(meds) <= TARGETS["percall"] else "FAIL"
        lines.append(
            f"| one stock x 252, per call | ≤ 2 µs | {meds[0] * 1e6:.2f} µs (1-D), "
            f"{meds[1] * 1e6:.2f} µs (out=) | {ok} |"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Main.
# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument(
        "--sizes",
        help=f"comma-separated workloads: NxM synthetic universes, 'sp500', 'percall' "
        f"(default {DEFAULT_SIZES}; with --quick {QUICK_SIZES})",
    )
    ap.add_argument("--repeats", type=int, help="timed runs per peer (default 5; --quick 3)")
    ap.add_argument("--quick", action="store_true", help="small sizes and fewer runs: a smoke run")
    ap.add_argument("--json", type=Path, metavar="PATH", help="save all results as JSON")
    ap.add_argument("--seed", type=int, default=42, help="seed of the synthetic universes")
    ap.add_argument(
        "--pandas-subset",
        type=int,
        help="stocks the per-stock pandas peer is timed on (default 200; --quick 50)",
    )
    ap.add_argument("--calls", type=int, help="calls per run of the per-call benchmark (20000)")
    ap.add_argument(
        "--budget",
        type=float,
        help="seconds a slow peer may spend per workload before stopping at 3 runs (default 30)",
    )
    ap.add_argument("--sp500", type=Path, default=SP500_FILE, help="the S&P 500 panel (.csv.gz)")
    ap.add_argument("--no-rss-child", action="store_true", help="skip the peak-RSS subprocesses")
    ap.add_argument("--rss-child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    quick = args.quick
    args.sizes = args.sizes or (QUICK_SIZES if quick else DEFAULT_SIZES)
    args.repeats = args.repeats or (3 if quick else 5)
    args.pandas_subset = args.pandas_subset or (50 if quick else 200)
    args.calls = args.calls or (2_000 if quick else 20_000)
    args.budget = args.budget or (5.0 if quick else 30.0)
    return args


def bench_workload(spec: str, args: argparse.Namespace) -> PanelResult | None:
    """A synthetic ``NxM`` universe or the S&P 500 panel (``None`` if its file is missing)."""
    import pandas as pd

    if spec == "sp500":
        if not args.sp500.exists():
            print(f"\n### S&P 500 panel: skipped, {args.sp500} not found")
            return None
        close, index, symbols = load_sp500(args.sp500)
        n, m = close.shape
        return bench_panel(f"S&P 500 {n} x {m:,}", "real", close, index, symbols, args)
    n, m = parse_size(spec)
    close = gbm_universe(n, m, args.seed)
    index = pd.bdate_range("2000-01-03", periods=m)
    symbols = [f"S{i:05d}" for i in range(n)]
    return bench_panel(
        f"{n:,} x {m:,}", f"synthetic GBM, seed {args.seed}", close, index, symbols, args
    )


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.rss_child:
        print(json.dumps(rss_child(*parse_size(args.rss_child), args.seed, args.repeats)))
        return 0

    sys.path.insert(0, str(Path(__file__).resolve().parent))  # for _peers
    env = environment()
    build = env["build"]
    print_environment("ferroquant standard set vs peers", env)
    print(
        f"threads: ferroquant pool {env['fq_threads']} (default {build.get('default_threads')}), "
        f"polars {env['polars_threads']}, pandas and TA-Lib 1; repeats {args.repeats}; "
        f"load average at start {', '.join(f'{x:.2f}' for x in env['loadavg_start'])}"
    )
    if build.get("profile") != "release":
        print("WARNING: ferroquant is not a release build; its timings mean nothing.")

    panels: list[PanelResult] = []
    per_call: dict[str, Any] | None = None
    t_start = time.perf_counter()
    for spec in (s.strip() for s in args.sizes.split(",") if s.strip()):
        if spec == "percall":
            per_call = bench_per_call(args)
        else:
            panel = bench_workload(spec, args)
            if panel is not None:
                panels.append(panel)
        gc.collect()

    env["loadavg_end"] = os.getloadavg()
    env["total_s"] = time.perf_counter() - t_start
    table = markdown(env, panels, per_call)
    print(f"\n## Markdown for benches/README.md (total {env['total_s']:.0f} s)\n")
    print(table)
    print(f"\nload average at end: {', '.join(f'{x:.2f}' for x in env['loadavg_end'])}")
    if args.json:
        doc: dict[str, Any] = {"environment": env, "panels": [asdict(p) for p in panels]}
        doc["per_call"] = per_call
        doc["markdown"] = table
        args.json.write_text(json.dumps(doc, indent=2, default=str))
        print(f"results saved to {args.json}")
    failed = [
        p.name for p in panels if not p.agreement[FQ_POOL]["ok"] or not p.fq_threads_identical
    ]
    if per_call and not per_call["agreement"]["ok"]:
        failed.append("per call")
    if failed:
        print(f"ferroquant did NOT agree with the pandas reference on: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
