"""Benchmark of the multi-factor risk model (issue 6 §1/§4).

Reference workload (seeded): N = 4,000 assets, T = 2,520 regression dates after 525 warm-up days
(plus the day whose return the last regression explains), 10 style factors, 30 industries +
country (41 regressors), 15 % of the names listed mid-sample, 0.3 % of stock-days suspended (NaN).

Metric: **factor-dates per second** = (style factors x regression dates) / wall time of exposures
(descriptors + standardisation) + regressions + covariance + specific risk, as ``risk_model`` runs
them (standardisation and regressions fused per block of dates, so they are timed together; the
regressions alone are timed separately on the same exposures, not counted in the total). Medians
of ``--repeat`` runs per stage; the CPU time of the total (all threads) is printed too, as the
wall time depends on what else the machine runs. The same steps in plain NumPy
(``_risk_numpy.py``: recursions vectorised over assets, batched dense normal equations for the
regressions) run once in the same process; their results are checked against ferroquant's and
the speed ratio printed. The literal
``returns @ loadings.T; np.cov`` snippet (T = 252, N = 1,000, K = 10) is timed for reference.

    python benches/bench_risk.py              # the reference workload
    python benches/bench_risk.py --quick      # 600 assets, 120 dates: a smoke run
    python benches/bench_risk.py --retain-memory   # glibc keeps freed memory (see below)

Every run's total is printed with the system CPU time it spent. On the reference VM the kernel
hands memory that stays free for two seconds back to the host (virtio-balloon free page
reporting), and touching it again costs 0.4-1.1 s per GB (measured: a 1 GB fill takes 0.06 s
right after a free and 0.46-1.13 s after a 2-5 s pause). Each run frees ~1.2 GB of results and
allocates as much, so some runs pay that in system time and others do not. ``--retain-memory``
re-runs the bench with glibc told to keep freed memory in the process (``MALLOC_MMAP_MAX_=0``,
``MALLOC_TRIM_THRESHOLD_`` = 64 GiB), for ferroquant and NumPy alike: the compute alone.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import _risk_numpy as ref
import ferroquant as fq
from ferroquant import factors

SEED = 20261126
WARMUP = 525
ALONE = "regressions alone"
CPU = "CPU time of the total (all threads)"
SYS = "system CPU time of the total"
RETAIN_ENV = {"MALLOC_MMAP_MAX_": "0", "MALLOC_TRIM_THRESHOLD_": str(64 << 30)}
"""glibc tunables that keep freed memory in the process (read at start-up: the bench re-executes
itself with them)."""
ORTH = {"residual_volatility": ["beta", "size"], "liquidity": ["size"]}


def workload(n: int, dates: int, seed: int = SEED) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    t = WARMUP + dates + 1
    market = rng.normal(0.0003, 0.01, t)
    beta = rng.uniform(0.4, 1.6, n)
    r = beta[:, None] * market + rng.normal(0, 0.018, (n, t))
    close = 50 * np.exp(np.cumsum(r, axis=1))
    late = rng.random(n) < 0.15
    starts = rng.integers(1, t - 50, n)
    for i in np.flatnonzero(late):
        close[i, : starts[i]] = np.nan
    close[rng.random((n, t)) < 0.003] = np.nan
    volume = rng.lognormal(12, 1, (n, t))
    caps = close * rng.lognormal(17, 1.5, n)[:, None]
    codes = rng.integers(0, 30, n)
    return {
        "close": close,
        "volume": volume,
        "caps": caps,
        "industries": [f"ind{c:02d}" for c in codes],
        "codes": codes,
    }


def cpu_seconds() -> float:
    """User + system CPU time of this process, all threads."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def sys_seconds() -> float:
    """System CPU time of this process, all threads (page faults are counted here)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_stime


def run_ferroquant(w: dict[str, Any]) -> tuple[dict[str, float], dict[str, Any]]:
    """The model as ``factors.risk_model`` runs it: descriptors, then standardisation and the
    regressions fused per block of dates, covariance, specific risk."""
    close, caps = w["close"], w["caps"]
    ret = fq.indicators.returns(close)
    c0, s0 = cpu_seconds(), sys_seconds()
    t0 = time.perf_counter()
    d = factors.risk_descriptors(close, w["volume"], caps=caps)
    t1 = time.perf_counter()
    e, fr = factors.exposures_and_factor_returns(
        d.values,
        ret,
        w["industries"],
        names=d.names,
        caps=caps,
        universe=np.isfinite(close),
        orthogonalize=ORTH,
        inplace=True,
        start=WARMUP,
    )
    t2 = time.perf_counter()
    cov = factors.factor_covariance(fr.returns[:, WARMUP:-1])
    t3 = time.perf_counter()
    spec = factors.specific_risk(fr.residuals, caps)
    t4 = time.perf_counter()
    c4, s4 = cpu_seconds(), sys_seconds()
    # The regressions alone, on the exposures just computed (not part of the total).
    t5 = time.perf_counter()
    factors.factor_returns(e.values, ret, w["industries"], caps=caps, start=WARMUP)
    t6 = time.perf_counter()
    times = {
        "descriptors": t1 - t0,
        "standardise + regressions": t2 - t1,
        "covariance": t3 - t2,
        "specific": t4 - t3,
        "regressions alone": t6 - t5,
        CPU: c4 - c0,
        SYS: s4 - s0,
    }
    return times, {
        "exposures": e.values,
        "fr": fr.returns,
        "resid": fr.residuals,
        "cov": cov.cov,
        "spec": spec,
    }


def run_numpy(w: dict[str, Any]) -> tuple[dict[str, float], dict[str, Any]]:
    close, caps = w["close"], w["caps"]
    orth = [(1, [0, 6]), (5, [6])]
    ret = np.full_like(close, np.nan)
    ret[:, 1:] = close[:, 1:] / close[:, :-1] - 1
    t0 = time.perf_counter()
    raw = ref.descriptors(close, w["volume"], caps)
    ta = time.perf_counter()
    x = ref.standardize(raw, caps, np.isfinite(close), orth)
    t1 = time.perf_counter()
    f, resid = ref.regressions(x, ret, caps, w["codes"], 30, WARMUP)
    t2 = time.perf_counter()
    cov = ref.covariance(f[:, WARMUP:-1])
    t3 = time.perf_counter()
    spec = ref.specific(resid, caps)
    t4 = time.perf_counter()
    times = {
        "descriptors": ta - t0,
        "standardise + regressions": t2 - ta,
        "covariance": t3 - t2,
        "specific": t4 - t3,
        "regressions alone": t2 - t1,
    }
    return times, {"exposures": x, "fr": f, "resid": resid, "cov": cov, "spec": spec}


def agreement(a: dict[str, Any], b: dict[str, Any]) -> dict[str, float]:
    """Largest difference per output: absolute; covariance relative to each date's largest entry,
    specific variance relative."""
    out = {}
    for key, full in a.items():
        x, y = full, b[key]
        if key == "exposures":  # compared where the regressions use them (after the warm-up)
            x, y = x[:, :, WARMUP:], y[:, :, WARMUP:]
        if not np.array_equal(np.isnan(x), np.isnan(y)):
            out[key] = float("inf")
            continue
        if key == "cov":  # relative to each date's largest entry
            scale = np.abs(np.nan_to_num(y)).max(axis=(1, 2), keepdims=True)
            scale[scale == 0] = 1.0
            x, y = x / scale, y / scale
        ok = np.isfinite(x)
        d = np.abs(x[ok] - y[ok])
        if key == "spec":
            d = d / np.maximum(np.abs(y[ok]), 1e-300)
        out[key] = float(d.max()) if d.size else 0.0
    return out


def median_of(
    fn: Callable[[], tuple[dict[str, float], Any]], repeat: int
) -> tuple[dict[str, float], Any]:
    runs = []
    result = None
    for _ in range(repeat):
        result = None  # release the previous run's arrays before the next allocates its own
        times, result = fn()
        runs.append(times)
    med = {k: float(np.median([r[k] for r in runs])) for k in runs[0]}
    totals = [sum(v for k, v in r.items() if k not in (ALONE, CPU, SYS)) for r in runs]
    med["total"] = float(np.median(totals))
    if repeat > 1 and SYS in runs[0]:
        print(
            "runs: total s (system s, regressions alone s): "
            + ", ".join(
                f"{tot:.3f} ({r[SYS]:.2f}, {r[ALONE]:.3f})"
                for tot, r in zip(totals, runs, strict=True)
            )
        )
    return med, result


def snippet() -> float:
    rng = np.random.default_rng(0)
    returns = rng.normal(0, 0.01, (252, 1000))
    loadings = rng.normal(size=(10, 1000))
    ts = []
    for _ in range(20):
        t0 = time.perf_counter()
        f = returns @ loadings.T
        np.cov(f.T)
        ts.append(time.perf_counter() - t0)
    return float(np.median(ts))


def main() -> None:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--assets", type=int, default=4000)
    p.add_argument("--dates", type=int, default=2520)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--no-numpy", action="store_true", help="skip the NumPy reference")
    p.add_argument("--quick", action="store_true")
    p.add_argument(
        "--retain-memory",
        action="store_true",
        help="re-run with glibc keeping freed memory in the process (see the module docstring)",
    )
    a = p.parse_args()
    if a.retain_memory and any(os.environ.get(k) != v for k, v in RETAIN_ENV.items()):
        os.execve(sys.executable, [sys.executable, *sys.argv], {**os.environ, **RETAIN_ENV})
    if a.quick:
        a.assets, a.dates, a.repeat = 600, 120, 2
    print(
        f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"ferroquant {fq.__version__}, {fq.thread_pool_size()} threads, numpy {np.__version__}, "
        f"build {fq.build_info()['profile']}"
    )
    if a.retain_memory:
        print("# memory retained: " + " ".join(f"{k}={v}" for k, v in RETAIN_ENV.items()))
    w = workload(a.assets, a.dates)
    styles = 10
    fq_times, fq_res = median_of(lambda: run_ferroquant(w), a.repeat)
    rate = styles * a.dates / fq_times["total"]
    print(
        f"workload: {a.assets} assets x {a.dates} dates (+{WARMUP} warm-up), {styles} styles, "
        "30 industries + country"
    )
    print(
        f"| stage | ferroquant (s, median of {a.repeat}) |"
        + (" NumPy (s) | ratio |" if not a.no_numpy else "")
    )
    print("|---|---|" + ("---|---|" if not a.no_numpy else ""))
    np_times: dict[str, float] = {}
    if not a.no_numpy:
        np_times, np_res = median_of(lambda: run_numpy(w), 1)
    stages = ("descriptors", "standardise + regressions", "covariance", "specific", "total", ALONE)
    for k in (*stages, CPU, SYS):
        if k not in fq_times:
            continue
        row = f"| {k} | {fq_times[k]:.3f} |"
        if np_times and k in np_times:
            row += f" {np_times[k]:.3f} | {np_times[k] / fq_times[k]:.1f}x |"
        print(row)
    print(
        f"factor-dates/s: ferroquant {rate:,.0f}"
        + (f", NumPy {styles * a.dates / np_times['total']:,.0f}" if np_times else "")
    )
    print(f"regressions alone: {a.dates / fq_times[ALONE]:,.0f} dates/s")
    if np_times:
        for key, diff in agreement(fq_res, np_res).items():
            print(f"agreement {key}: max diff {diff:.2e}")
    print(f"snippet returns @ loadings.T; np.cov (T=252, N=1000, K=10): {snippet() * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
