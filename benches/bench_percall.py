"""Per-call cost of ``fq.indicators.standard`` on one stock of 252 bars, robust to a shared machine.

``bench_indicators.py --sizes percall`` times runs of thousands of calls; on a machine whose other
users compile, every such run is cut by the scheduler, and its median measures them as much as
ferroquant. This script times many short batches (50 calls, about 0.1 ms) in rotation over the
paths and reports the median and the 5th and 95th percentiles of the batches: a batch is rarely
interrupted, so the median is close to the uncontended cost. To compare two builds, run it
alternately with each (``PYTHONPATH=<other checkout>/python``), a few rounds each.

Paths: ``fresh`` is ``standard(x)`` (a new output block per call), ``out`` is
``standard(x2, out=buf)`` (one block reused), ``core`` is the bare ``_core.standard`` kernel call.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np

import ferroquant as fq
from ferroquant import _core


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--paths", default="core,out,fresh", help="comma-separated: core, out, fresh")
    ap.add_argument("--batches", type=int, default=2000, help="batches per path (default 2000)")
    ap.add_argument("--calls", type=int, default=50, help="calls per batch (default 50)")
    ap.add_argument("--bars", type=int, default=252)
    args = ap.parse_args()

    rng = np.random.default_rng(42)
    x = 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.01, args.bars)))
    x2 = x.reshape(1, -1)
    buf = np.empty((6, 1, x.size))
    standard = fq.indicators.standard
    core = _core.standard
    standard(x2, out=buf)
    calls = range(args.calls)

    def fresh() -> None:
        for _ in calls:
            standard(x)

    def out() -> None:
        for _ in calls:
            standard(x2, out=buf)

    def bare() -> None:
        for _ in calls:
            core(x2, buf, 1)

    paths: dict[str, Callable[[], None]] = {"core": bare, "out": out, "fresh": fresh}
    chosen = [p.strip() for p in args.paths.split(",")]
    samples: dict[str, list[float]] = {p: [] for p in chosen}
    for _ in range(args.batches):
        for p in chosen:
            t0 = time.perf_counter()
            paths[p]()
            samples[p].append((time.perf_counter() - t0) / args.calls * 1e6)
    for p in chosen:
        s = np.sort(samples[p])
        p5, med, p95 = np.percentile(s, [5, 50, 95])
        print(
            f"{p:6s} median {med:.3f} µs/call  (p5 {p5:.3f}, p95 {p95:.3f}; "
            f"{args.batches} batches of {args.calls})"
        )


if __name__ == "__main__":
    main()
