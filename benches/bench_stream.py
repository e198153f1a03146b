"""Benchmark of the universe stream, ``ferroquant.stream.Stream``, against its peers.

A universe of ``n`` symbols is warmed on 252 bars of history, then advanced by 200 ticks (one new
close per symbol per tick). Every tick of every implementation is timed on its own with
``time.perf_counter``, in this one process, on the same data (seeded geometric Brownian motion,
the generator of ``bench_indicators.py``). The outputs are the six series of the standard set.

1. ferroquant ``Stream.update(close_vector, out=buf)`` (one reused block) and ``update(close)``
   (a fresh block per tick), with the full thread pool and inside ``fq.threads(1)``; ``peek``; and,
   as a diagnostic, the Rust core's update alone (no Python wrapper). Both conventions:
   ``"pandas"`` (the standard set) and ``"talib"`` (SMA 20/50 with TA-Lib warm-up, Wilder RSI 14,
   Bollinger 20/2 with ``ddof=0``). Each repeat restores the warmed stream from its checkpoint.
2. TA-Lib 0.8 stream handles (``talib.stream.SMA/RSI/BBANDS``: opened on the history, then
   ``handle.update(bar)``), four per symbol: SMA 20, SMA 50, RSI 14, BBANDS(20, 2, 2).
3. TA-Lib stateless, the pre-0.8 way of streaming: per tick and symbol, the close is written into
   a preallocated float64 buffer and the four functions are run on the history so far
   (``stream.X(buf[:t + 1]).value``, which in 0.8 opens a handle on the whole history). It costs
   O(history) per call, so it is timed on the last ``--slow-ticks`` ticks only.
4. talipp: ``SMA(20)``, ``SMA(50)``, ``RSI(14)``, ``BB(20, 2.0)`` per symbol, warmed with the
   history, then ``.add(close)`` and reading ``[-1]`` per tick.

The peers' closes are Python floats prepared outside the timing; ferroquant's are rows of a
``(ticks, n)`` array. The final tick's values of every peer are compared with ferroquant's
(relative tolerance 1e-10, per output); ferroquant's stream is also compared with its batch
functions on the whole panel (they should be bit-identical). Then ``checkpoint()`` and
``restore()`` are timed, and a verdict is printed for each target of the issue.

Run ``python benches/bench_stream.py --help`` for the options; ``--quick`` is a smoke run.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

import ferroquant as fq
from ferroquant.stream import Stream

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for bench_indicators
from bench_indicators import (
    cpu_noise,
    fmt_ratio,
    gbm_universe,
    machine_environment,
    print_environment,
)

FloatArray = npt.NDArray[np.float64]

FIELDS: tuple[str, ...] = ("sma20", "sma50", "rsi14", "bb_middle", "bb_upper", "bb_lower")
"""The six outputs, in ferroquant's order (``Stream(..., "standard").outputs``)."""
TOL = 1e-10
"""Agreement: ``|peer - ferroquant| <= TOL * |ferroquant|`` for every output of every symbol."""
CONVENTIONS = ("pandas", "talib")
TARGETS = {
    "tick_4000": 20e-6,  # seconds per 4,000-symbol tick, all six outputs
    "tick_100": 2e-6,  # seconds per 100-symbol tick (call overhead)
    "checkpoint_4000": 1e-3,  # seconds per checkpoint() of 4,000 symbols
    "talib_ratio": 140.0,  # "≈ 140x TA-Lib's stream handles"
}

FQ_OUT, FQ_FRESH, FQ_ONE, FQ_PEEK, FQ_CORE = (
    "out=",
    "fresh",
    "1 thread, out=",
    "peek",
    "core only",
)
FQ_MODES = (FQ_OUT, FQ_FRESH, FQ_ONE, FQ_PEEK, FQ_CORE)
TALIB_HANDLES, TALIB_STATELESS, TALIPP = (
    "TA-Lib 0.8 stream handles",
    "TA-Lib stateless (history so far)",
    "talipp objects",
)


# --------------------------------------------------------------------------------------------
# Data and measuring.
# --------------------------------------------------------------------------------------------


@dataclass
class Universe:
    """``close`` is ``(n, history + ticks)``; ``ticks[t]`` is the close vector of tick ``t``."""

    n: int
    history: int
    close: FloatArray
    ticks: FloatArray
    tick_lists: list[list[float]]
    symbols: list[str]

    @classmethod
    def make(cls, n: int, history: int, n_ticks: int, seed: int) -> Universe:
        close = gbm_universe(n, history + n_ticks, seed)
        ticks = np.ascontiguousarray(close[:, history:].T)
        return cls(n, history, close, ticks, ticks.tolist(), [f"S{i:05d}" for i in range(n)])

    @property
    def hist(self) -> FloatArray:
        return self.close[:, : self.history]


@dataclass
class Row:
    """Per-tick timings of one implementation on one universe, in seconds."""

    impl: str
    n: int
    samples: list[float]
    ticks: int  # ticks timed per repeat
    repeats: int = 1
    base: str | None = None  # the ferroquant row its ratio is taken against
    agreement: str = ""
    note: str = ""
    repeat_medians: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return float(np.median(self.samples))

    @property
    def p10_p90(self) -> tuple[float, float]:
        lo, hi = np.percentile(self.samples, [10, 90])
        return float(lo), float(hi)


def fq_label(conv: str, mode: str) -> str:
    return f"ferroquant {conv}, {mode}"


def timer_overhead() -> float:
    """Median of two back-to-back ``perf_counter`` calls: included in every per-tick sample."""
    pc = time.perf_counter
    d = []
    for _ in range(10_000):
        t0 = pc()
        d.append(pc() - t0)
    return float(np.median(d))


class GcOff:
    """Collects, then keeps the garbage collector off inside the block."""

    def __enter__(self) -> None:
        gc.collect()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        gc.enable()


def us(seconds: float) -> str:
    return f"{seconds * 1e6:,.2f}" if seconds < 1e-3 else f"{seconds * 1e6:,.0f}"


# --------------------------------------------------------------------------------------------
# Agreement.
# --------------------------------------------------------------------------------------------


@dataclass
class Diff:
    """How far ``got`` is from ``ref`` (both ``(n, 6)``), per output."""

    max_abs: dict[str, float]
    max_rel: dict[str, float]
    nan_mismatch: dict[str, int]

    @classmethod
    def of(cls, got: FloatArray, ref: FloatArray) -> Diff:
        max_abs, max_rel, mism = {}, {}, {}
        for k, name in enumerate(FIELDS):
            g, r = got[:, k], ref[:, k]
            both = np.isfinite(g) & np.isfinite(r)
            mism[name] = int(np.count_nonzero(np.isfinite(g) != np.isfinite(r)))
            d = np.abs(g[both] - r[both])
            rel = d / np.maximum(np.abs(r[both]), np.finfo(np.float64).tiny)
            max_abs[name] = float(d.max()) if d.size else 0.0
            max_rel[name] = float(rel.max()) if rel.size else 0.0
        return cls(max_abs, max_rel, mism)

    def ok(self, name: str) -> bool:
        return self.nan_mismatch[name] == 0 and self.max_rel[name] <= TOL

    @property
    def all_ok(self) -> bool:
        return all(self.ok(f) for f in FIELDS)

    @property
    def worst(self) -> str:
        return max(FIELDS, key=lambda f: self.max_rel[f])

    def summary(self) -> str:
        w = self.worst
        mism = sum(self.nan_mismatch.values())
        text = f"max rel {self.max_rel[w]:.1e} ({w}), max |Δ| {max(self.max_abs.values()):.1e}"
        return text + (f", {mism} NaN mismatches" if mism else "")


def batch_last(close: FloatArray, conv: str) -> FloatArray:
    """ferroquant's batch functions on the whole panel, the last bar: ``(n, 6)``."""
    ind = fq.indicators
    if conv == "pandas":
        cols = list(ind.standard(close))
    else:
        bands = ind.bollinger(close, 20, 2.0, convention="talib")
        cols = [
            ind.sma(close, 20, convention="talib"),
            ind.sma(close, 50, convention="talib"),
            ind.rsi(close, 14, convention="talib"),
            bands.middle,
            bands.upper,
            bands.lower,
        ]
    return np.stack([np.asarray(c)[:, -1] for c in cols], axis=1)


# --------------------------------------------------------------------------------------------
# ferroquant.
# --------------------------------------------------------------------------------------------


def fq_run(ckpt: bytes, ticks: FloatArray, mode: str) -> tuple[FloatArray, FloatArray, bool]:
    """All the ticks, each timed on its own, on a stream restored from ``ckpt``.

    Returns the per-tick seconds, the final tick's ``(n, 6)`` values and, for ``peek``, whether
    every peek equalled the update that followed it (bit for bit).
    """
    same = True
    s = Stream.restore(ckpt)
    out = np.empty((len(s), len(s.outputs)))
    samples = np.empty(len(ticks))
    pc, update = time.perf_counter, s.update
    ctx: AbstractContextManager[Any] = fq.threads(1) if mode == FQ_ONE else nullcontext()
    with ctx, GcOff():
        if mode in (FQ_OUT, FQ_ONE):
            for t, x in enumerate(ticks):
                t0 = pc()
                update(x, out=out)
                samples[t] = pc() - t0
            final = out
        elif mode == FQ_FRESH:
            final = out
            for t, x in enumerate(ticks):
                t0 = pc()
                tick = update(x)
                t1 = pc()
                samples[t] = t1 - t0
                final = tick.values  # the previous block is freed here, untimed
                del tick
        elif mode == FQ_PEEK:
            peek = s.peek
            for t, x in enumerate(ticks):
                t0 = pc()
                seen = peek(x)
                t1 = pc()
                samples[t] = t1 - t0
                update(x, out=out)
                same = same and bool(np.array_equal(seen.values, out, equal_nan=True))
                del seen
            final = out
        elif mode == FQ_CORE:
            # Diagnostic: the Rust core's update alone, what update() wraps (private API).
            from ferroquant._threads import _requested

            core, req = s._core, _requested.get()
            for t, x in enumerate(ticks):
                t0 = pc()
                core.update(x, None, None, out, True, req)
                samples[t] = pc() - t0
            final = out
        else:
            raise ValueError(mode)
    return samples, np.array(final), same


@dataclass
class FqResult:
    rows: list[Row]
    final: FloatArray
    identical_modes: bool
    identical_batch: bool
    batch_diff: Diff
    warm_s: float


def bench_fq(u: Universe, conv: str, repeats: int) -> FqResult:
    t0 = time.perf_counter()
    warm = Stream.from_history(u.hist, "standard", symbols=u.symbols, convention=conv)
    warm_s = time.perf_counter() - t0
    assert warm.outputs == FIELDS, warm.outputs
    ckpt = warm.checkpoint()
    fq_run(ckpt, u.ticks[: min(20, len(u.ticks))], FQ_OUT)  # warm-up: pool, pages, caches
    rows, finals = [], []
    same_modes = True
    for mode in FQ_MODES:
        samples: list[float] = []
        medians = []
        for _ in range(repeats):
            s, final, peek_same = fq_run(ckpt, u.ticks, mode)
            same_modes = same_modes and peek_same
            samples += s.tolist()
            medians.append(float(np.median(s)))
            finals.append(final)
        note = "Rust core only, without the Python wrapper (diagnostic)" if mode == FQ_CORE else ""
        rows.append(
            Row(
                fq_label(conv, mode),
                u.n,
                samples,
                len(u.ticks),
                repeats,
                base=fq_label(conv, FQ_OUT),
                note=note,
                repeat_medians=medians,
            )
        )
    same = same_modes and all(np.array_equal(f, finals[0], equal_nan=True) for f in finals)
    ref = batch_last(u.close, conv)
    identical_batch = bool(np.array_equal(finals[0], ref, equal_nan=True))
    return FqResult(rows, finals[0], same, identical_batch, Diff.of(finals[0], ref), warm_s)


@dataclass
class CheckpointResult:
    n: int
    conv: str
    size_bytes: int
    checkpoint_s: list[float]
    restore_s: list[float]
    continues_identically: bool


def bench_checkpoint(u: Universe, conv: str, repeats: int) -> CheckpointResult:
    """``checkpoint()`` and ``restore()`` of a stream warmed on the history and all the ticks."""
    s = Stream.from_history(u.close, "standard", symbols=u.symbols, convention=conv)
    pc = time.perf_counter
    cps, rss = [], []
    data = s.checkpoint()
    Stream.restore(data)  # warm-up
    for _ in range(repeats):
        with GcOff():
            t0 = pc()
            data = s.checkpoint()
            t1 = pc()
        cps.append(t1 - t0)
        with GcOff():
            t0 = pc()
            restored = Stream.restore(data)
            t1 = pc()
        rss.append(t1 - t0)
        del restored
    restored = Stream.restore(data)
    bar = u.ticks[-1] * 1.001
    same = bool(np.array_equal(s.update(bar).values, restored.update(bar).values, equal_nan=True))
    return CheckpointResult(u.n, conv, len(data), cps, rss, same)


# --------------------------------------------------------------------------------------------
# Peers.
# --------------------------------------------------------------------------------------------

BBANDS_ORDER = [0, 1, 2, 4, 3, 5]
"""(sma20, sma50, rsi14, upper, middle, lower) -> FIELDS order."""


def bench_talib_handles(u: Universe) -> tuple[Row, FloatArray, float]:
    from talib import stream as ts

    t0 = time.perf_counter()
    handles = [
        (ts.SMA(row, 20), ts.SMA(row, 50), ts.RSI(row, 14), ts.BBANDS(row, 20, 2.0, 2.0))
        for row in u.hist
    ]
    open_s = time.perf_counter() - t0
    pc = time.perf_counter
    samples = []
    res: list[Any] = []
    with GcOff():
        for vals in u.tick_lists:
            t0 = pc()
            res = [
                (a.update(v), b.update(v), c.update(v), d.update(v))
                for (a, b, c, d), v in zip(handles, vals, strict=True)
            ]
            samples.append(pc() - t0)
    final = np.array([(a, b, c, *d) for a, b, c, d in res])[:, BBANDS_ORDER]
    return Row(TALIB_HANDLES, u.n, samples, len(samples)), final, open_s


def bench_talib_stateless(u: Universe, k: int) -> tuple[Row, FloatArray]:
    """The last ``k`` ticks: per symbol, write the close into its buffer and run the four
    functions on the history so far (``stream.X(view).value`` re-opens on the whole view)."""
    from talib import stream as ts

    n_ticks = len(u.ticks)
    k = min(k, n_ticks)
    buf = np.full(u.close.shape, np.nan)
    first = u.history + n_ticks - k  # bars already in the buffers when the timing starts
    buf[:, :first] = u.close[:, :first]
    rows = list(buf)
    SMA, RSI, BBANDS = ts.SMA, ts.RSI, ts.BBANDS
    pc = time.perf_counter
    samples = []
    res: list[Any] = []
    with GcOff():
        for j, vals in enumerate(u.tick_lists[n_ticks - k :]):
            end = first + j + 1
            t0 = pc()
            res = []
            for b, v in zip(rows, vals, strict=True):
                b[end - 1] = v
                view = b[:end]
                res.append(
                    (
                        SMA(view, 20).value,
                        SMA(view, 50).value,
                        RSI(view, 14).value,
                        BBANDS(view, 20, 2.0, 2.0).value,
                    )
                )
            samples.append(pc() - t0)
    final = np.array([(a, b, c, *d) for a, b, c, d in res])[:, BBANDS_ORDER]
    note = f"timed on the last {k} of {n_ticks} ticks (O(history) per call)"
    return Row(TALIB_STATELESS, u.n, samples, k, note=note), final


def bench_talipp(u: Universe) -> tuple[Row, FloatArray, float]:
    from talipp.indicators import BB, RSI, SMA

    t0 = time.perf_counter()
    objs = [
        (SMA(20, input_values=h), SMA(50, input_values=h), RSI(14, input_values=h), BB(20, 2.0, h))
        for h in u.hist.tolist()
    ]
    warm_s = time.perf_counter() - t0
    pc = time.perf_counter
    samples = []
    res: list[Any] = []
    with GcOff():
        for vals in u.tick_lists:
            t0 = pc()
            res = []
            append = res.append
            for (a, b, c, d), v in zip(objs, vals, strict=True):
                a.add(v)
                b.add(v)
                c.add(v)
                d.add(v)
                append((a[-1], b[-1], c[-1], d[-1]))
            samples.append(pc() - t0)
    final = np.array([(a, b, c, d.cb, d.ub, d.lb) for a, b, c, d in res], dtype=np.float64)
    return Row(TALIPP, u.n, samples, len(samples)), final, warm_s


# --------------------------------------------------------------------------------------------
# One universe.
# --------------------------------------------------------------------------------------------


@dataclass
class UniverseResult:
    n: int
    rows: list[Row]
    fq: dict[str, dict[str, Any]]
    peers: dict[str, dict[str, Any]]
    checkpoints: list[CheckpointResult]
    noise: dict[str, float]


def agreement_text(d: Diff, against: str) -> str:
    return f"{'ok' if d.all_ok else 'DIFFERS'} vs fq {against} ({d.summary()})"


def bench_universe(n: int, args: argparse.Namespace) -> UniverseResult:
    u = Universe.make(n, args.history, args.ticks, args.seed)
    print(
        f"\n### {n:,} symbols: {args.history} bars of history, then {args.ticks} ticks "
        f"(synthetic GBM, seed {args.seed})"
    )
    rows: list[Row] = []
    fq_info: dict[str, dict[str, Any]] = {}
    finals: dict[str, FloatArray] = {}
    peers: dict[str, dict[str, Any]] = {}
    checkpoints = []
    with cpu_noise() as noise:
        for conv in CONVENTIONS:
            r = bench_fq(u, conv, args.repeats)
            rows += r.rows
            finals[conv] = r.final
            fq_info[conv] = {
                "warm_s": r.warm_s,
                "modes_identical": r.identical_modes,
                "batch_identical": r.identical_batch,
                "batch_diff": asdict(r.batch_diff),
            }
            for row in r.rows:
                row.agreement = (
                    "bit-identical to fq batch"
                    if r.identical_batch
                    else f"NOT bit-identical to fq batch ({r.batch_diff.summary()})"
                )
            if n >= args.checkpoint_min:
                checkpoints.append(bench_checkpoint(u, conv, args.checkpoint_repeats))

        # TA-Lib: compared with ferroquant's convention="talib" stream.
        row, got, open_s = bench_talib_handles(u)
        d = Diff.of(got, finals["talib"])
        row.base, row.agreement = fq_label("talib", FQ_OUT), agreement_text(d, 'conv="talib"')
        row.note = f"opening the {4 * n:,} handles on the history took {open_s * 1e3:,.1f} ms"
        rows.append(row)
        peers[TALIB_HANDLES] = {"diff": asdict(d), "ok": d.all_ok, "open_s": open_s}

        row, got = bench_talib_stateless(u, args.slow_ticks)
        d = Diff.of(got, finals["talib"])
        row.base, row.agreement = fq_label("talib", FQ_OUT), agreement_text(d, 'conv="talib"')
        rows.append(row)
        peers[TALIB_STATELESS] = {"diff": asdict(d), "ok": d.all_ok}

        # talipp: compared with both conventions, output by output.
        if not args.no_talipp:
            row, got, warm_s = bench_talipp(u)
            diffs = {conv: Diff.of(got, finals[conv]) for conv in CONVENTIONS}
            match = {f: [c for c in CONVENTIONS if diffs[c].ok(f)] or ["neither"] for f in FIELDS}
            best = "talib" if diffs["talib"].all_ok or not diffs["pandas"].all_ok else "pandas"
            row.base = fq_label(best, FQ_OUT)
            row.agreement = agreement_text(diffs[best], f'conv="{best}"')
            row.note = f"warming the {4 * n:,} objects on the history took {warm_s:,.1f} s"
            rows.append(row)
            peers[TALIPP] = {
                "diff": {c: asdict(diffs[c]) for c in CONVENTIONS},
                "matches": match,
                "best": best,
                "warm_s": warm_s,
            }
        gc.collect()
    print_universe(u, rows, fq_info, peers, checkpoints)
    print(f"noise: {noise.describe()}")
    return UniverseResult(n, rows, fq_info, peers, checkpoints, asdict(noise))


def print_universe(
    u: Universe,
    rows: list[Row],
    fq_info: dict[str, dict[str, Any]],
    peers: dict[str, dict[str, Any]],
    checkpoints: list[CheckpointResult],
) -> None:
    for conv, info in fq_info.items():
        modes = "yes" if info["modes_identical"] else "NO"
        batch = "yes" if info["batch_identical"] else "NO"
        print(
            f'ferroquant convention="{conv}": from_history {info["warm_s"] * 1e3:,.2f} ms; final '
            f"tick bit-identical across modes and repeats, every peek to its update: {modes}; "
            f"bit-identical to the batch "
            f"functions on the whole panel: {batch}"
        )
    for r in rows:
        if r.impl.startswith("ferroquant") and r.repeat_medians:
            meds = ", ".join(us(m) for m in r.repeat_medians)
            print(f"  {r.impl:<36} median µs/tick of each repeat: {meds}")
    for r in rows:
        if r.note:
            print(f"  {r.impl}: {r.note}")
    if TALIB_HANDLES in peers:
        print_fields("TA-Lib handles vs fq talib", peers[TALIB_HANDLES]["diff"])
    if TALIB_STATELESS in peers:
        print_fields("TA-Lib stateless vs fq talib", peers[TALIB_STATELESS]["diff"])
    if TALIPP in peers:
        p = peers[TALIPP]
        for conv in CONVENTIONS:
            print_fields(f"talipp vs fq {conv}", p["diff"][conv])
        print(
            "  talipp matches (to 1e-10 rel): "
            + ", ".join(f"{f} {'/'.join(c)}" for f, c in p["matches"].items())
        )
    for c in checkpoints:
        cp, rs = np.median(c.checkpoint_s), np.median(c.restore_s)
        cont = "yes" if c.continues_identically else "NO"
        print(
            f'checkpoint, {c.n:,} symbols, convention="{c.conv}": {c.size_bytes:,} bytes; '
            f"checkpoint() {us(float(cp))} µs (p10-p90 "
            f"{us(float(np.percentile(c.checkpoint_s, 10)))}-"
            f"{us(float(np.percentile(c.checkpoint_s, 90)))}), restore() {us(float(rs))} µs "
            f"(p10-p90 {us(float(np.percentile(c.restore_s, 10)))}-"
            f"{us(float(np.percentile(c.restore_s, 90)))}), {len(c.checkpoint_s)} repeats; "
            f"restored stream continues bit-identically: {cont}"
        )


def print_fields(label: str, d: dict[str, Any]) -> None:
    cells = []
    for f in FIELDS:
        flag = "" if d["max_rel"][f] <= TOL and d["nan_mismatch"][f] == 0 else " (!)"
        cells.append(f"{f} {d['max_rel'][f]:.1e}/{d['max_abs'][f]:.1e}{flag}")
    print(f"  {label:<28} max rel/abs: " + ", ".join(cells))


# --------------------------------------------------------------------------------------------
# Report.
# --------------------------------------------------------------------------------------------


def print_table(results: list[UniverseResult]) -> None:
    rows = [r for res in results for r in res.rows]
    by = {(r.impl, r.n): r for r in rows}
    print(
        "\n## Per-tick times (all six outputs for every symbol; median and p10-p90 over the "
        "timed ticks; x fq = this median / the ferroquant row named, same symbols)\n"
    )
    head = (
        f"| implementation | symbols | µs/tick median | p10-p90 | ticks x repeats | x fq "
        f"| agreement (final tick, rel tol {TOL:.0e}) |"
    )
    print(head)
    print("|---|---:|---:|---:|---:|---:|---|")
    for r in rows:
        lo, hi = r.p10_p90
        ratio = "base" if r.base == r.impl else ""
        if r.base and r.base != r.impl:
            base = by[(r.base, r.n)]
            ratio = f"{fmt_ratio(r.median / base.median)} vs {r.base.removeprefix('ferroquant ')}"
        print(
            f"| {r.impl} | {r.n:,} | {us(r.median)} | {us(lo)}-{us(hi)} | "
            f"{r.ticks} x {r.repeats} | {ratio} | {r.agreement} |"
        )


def verdicts(results: list[UniverseResult], overhead: float) -> list[str]:
    rows = {(r.impl, r.n): r for res in results for r in res.rows}
    ckpts = {(c.n, c.conv): c for res in results for c in res.checkpoints}
    lines = []

    def verdict(value: float, limit: float) -> str:
        return "MET" if value <= limit else f"MISSED ({value / limit:.1f}x the target)"

    def tick_line(n: int, key: str, what: str) -> None:
        limit = TARGETS[key]
        main = rows.get((fq_label("pandas", FQ_OUT), n))
        if main is None:
            lines.append(f"{what} <= {us(limit)} µs: not measured (no {n:,}-symbol run)")
            return
        others = ", ".join(
            f"{c} {m} {us(rows[(fq_label(c, m), n)].median)}"
            for c in CONVENTIONS
            for m in (FQ_OUT, FQ_FRESH, FQ_ONE, FQ_CORE)
            if (c, m) != ("pandas", FQ_OUT)
        )
        reps = main.repeat_medians
        lines.append(
            f"{what} <= {us(limit)} µs: {verdict(main.median, limit)}: "
            f"{us(main.median)} µs (pandas standard set, update(out=), full pool; medians of the "
            f"{len(reps)} repeats {us(min(reps))}-{us(max(reps))}); others (µs): {others}"
        )

    tick_line(4000, "tick_4000", "4,000-symbol tick, six outputs,")
    handles = rows.get((TALIB_HANDLES, 4000))
    # The issue's "≈ 140x" is its 20 µs target for the standard set against the handles' 2.8 ms;
    # the talib-convention set (what the handles compute) is shown beside it.
    ratios = [
        f"{fmt_ratio(handles.median / base.median)} faster than the {conv} set "
        f"({us(base.median)} µs)"
        for conv in CONVENTIONS
        if handles and (base := rows.get((fq_label(conv, FQ_OUT), 4000)))
    ]
    if handles and ratios:
        lines.append(
            f"vs TA-Lib stream handles at 4,000 symbols ({us(handles.median)} µs; issue: "
            f"≈ {TARGETS['talib_ratio']:.0f}x for the standard set): {'; '.join(ratios)}"
        )
    tick_line(100, "tick_100", "100-symbol tick (call overhead)")
    limit = TARGETS["checkpoint_4000"]
    for conv in CONVENTIONS:
        c = ckpts.get((4000, conv))
        if c is None:
            lines.append(
                f'checkpoint of 4,000 symbols, convention="{conv}", <= 1 ms: not measured '
                "(no 4,000-symbol run)"
            )
            continue
        cp = float(np.median(c.checkpoint_s))
        lines.append(
            f'checkpoint of 4,000 symbols, convention="{conv}", <= 1 ms: {verdict(cp, limit)}: '
            f"{us(cp)} µs for {c.size_bytes / 1e6:.2f} MB; restore() "
            f"{us(float(np.median(c.restore_s)))} µs"
        )
    sizes = sorted({r.n for r in rows.values()})
    for conv in CONVENTIONS:
        parts = []
        for n in sizes:
            per = [rows[(fq_label(conv, m), n)].median / n * 1e9 for m in (FQ_OUT, FQ_ONE, FQ_CORE)]
            parts.append(f"{n:,} symbols {per[0]:.1f} / {per[1]:.1f} / {per[2]:.1f}")
        small = sizes[0]
        wrap = (
            rows[(fq_label(conv, FQ_OUT), small)].median
            - rows[(fq_label(conv, FQ_CORE), small)].median
        )
        lines.append(
            f"where the time goes, {conv}: ns per symbol per tick (out= / 1 thread, out= / core "
            f"only): {'; '.join(parts)}; Python wrapper (out= minus core only, {small:,} symbols) "
            f"{us(wrap)} µs"
        )
    lines.append(
        f"(every per-tick sample includes one perf_counter pair, {overhead * 1e9:.0f} ns here)"
    )
    return lines


def environment() -> dict[str, Any]:
    import talib
    import talipp

    talipp_version = getattr(talipp, "__version__", _dist_version("talipp"))
    return machine_environment({"talib": talib.__version__, "talipp": talipp_version})


def _dist_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "?"


# --------------------------------------------------------------------------------------------
# Main.
# --------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument(
        "--symbols", help="comma-separated universe sizes (default 100,4000; --quick 100,500)"
    )
    ap.add_argument("--history", type=int, default=252, help="bars of history (default 252)")
    ap.add_argument("--ticks", type=int, help="ticks after the history (default 200; --quick 50)")
    ap.add_argument(
        "--repeats", type=int, help="ferroquant runs over all ticks (default 5; --quick 3)"
    )
    ap.add_argument(
        "--slow-ticks",
        type=int,
        help="ticks the stateless TA-Lib peer is timed on (default 20; --quick 10)",
    )
    ap.add_argument(
        "--checkpoint-repeats",
        type=int,
        help="timed checkpoint()/restore() calls (default 21; --quick 7)",
    )
    ap.add_argument(
        "--checkpoint-min",
        type=int,
        default=1000,
        help="time checkpoints for universes of at least this many symbols (1000)",
    )
    ap.add_argument("--no-talipp", action="store_true", help="skip talipp (slow to warm)")
    ap.add_argument("--quick", action="store_true", help="small sizes and fewer ticks: a smoke run")
    ap.add_argument("--seed", type=int, default=42, help="seed of the synthetic universes")
    ap.add_argument("--json", type=Path, metavar="PATH", help="save all results as JSON")
    args = ap.parse_args(argv)
    q = args.quick
    args.symbols = args.symbols or ("100,500" if q else "100,4000")
    args.ticks = args.ticks or (50 if q else 200)
    args.repeats = args.repeats or (3 if q else 5)
    args.slow_ticks = args.slow_ticks or (10 if q else 20)
    args.checkpoint_repeats = args.checkpoint_repeats or (7 if q else 21)
    if q and args.checkpoint_min == 1000:
        args.checkpoint_min = 500
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    env = environment()
    build = env["build"]
    print_environment("ferroquant.stream.Stream vs peers", env)
    print(
        f"threads: ferroquant pool {env['fq_threads']} (default {build.get('default_threads')}), "
        f"TA-Lib and talipp 1; ferroquant repeats {args.repeats}; load average at start "
        f"{', '.join(f'{x:.2f}' for x in env['loadavg_start'])}"
    )
    if build.get("profile") != "release":
        print("WARNING: ferroquant is not a release build; its timings mean nothing.")
    overhead = timer_overhead()

    results = []
    t_start = time.perf_counter()
    for n in (int(s) for s in args.symbols.split(",") if s.strip()):
        results.append(bench_universe(n, args))
        gc.collect()
    total = time.perf_counter() - t_start

    print_table(results)
    print(
        '\n(TA-Lib is compared with ferroquant\'s convention="talib" stream; talipp with the '
        "convention it matches best. The peers' closes are Python floats made outside the timing.)"
    )
    print("\n## Targets\n")
    lines = verdicts(results, overhead)
    for line in lines:
        print(line)
    env["loadavg_end"] = os.getloadavg()
    print(
        f"\ntotal {total:.0f} s; load average at end "
        f"{', '.join(f'{x:.2f}' for x in env['loadavg_end'])}"
    )
    if args.json:
        doc = {
            "environment": env,
            "timer_overhead_s": overhead,
            "universes": [asdict(r) for r in results],
            "verdicts": lines,
        }
        args.json.write_text(json.dumps(doc, indent=2, default=str))
        print(f"results saved to {args.json}")

    failed = []
    for res in results:
        for conv, info in res.fq.items():
            if not (info["modes_identical"] and info["batch_identical"]):
                failed.append(f"{res.n:,} symbols, {conv}: stream vs batch / modes")
        for peer in (TALIB_HANDLES, TALIB_STATELESS):
            if not res.peers[peer]["ok"]:
                failed.append(f"{res.n:,} symbols: {peer} vs ferroquant talib")
    if failed:
        print("ferroquant did NOT agree on: " + "; ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
