"""The ``ferroquant`` command line (also ``python -m ferroquant``)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import numpy as np

__all__ = ["main"]

_EPILOG = """examples:
  ferroquant run                 compute the standard indicator set on the bundled sample
  ferroquant run --threads 1     the same on one thread (results are identical)
  ferroquant info                build profile, version and thread count
"""


def _cmd_run(args: argparse.Namespace) -> int:
    import ferroquant as fq
    from ferroquant.sample import load_sample

    t0 = time.perf_counter()
    panel = load_sample()
    t1 = time.perf_counter()
    with fq.threads(args.threads) if args.threads else _nullcontext():
        std = fq.indicators.standard(panel.close)
        atr = fq.indicators.atr(panel.high, panel.low, panel.close, 14)
        dd = np.atleast_1d(fq.indicators.max_drawdown(panel.close))
    t2 = time.perf_counter()
    n_assets, n_bars = panel.shape
    print(
        f"ferroquant {fq.__version__} ({fq.build_info()['profile']} build, "
        f"{fq.thread_pool_size()} threads)"
    )
    print(
        f"sample: {n_assets} symbols x {n_bars} bars, {panel.dates[0]} -> {panel.dates[-1]} "
        f"(loaded in {t1 - t0:.2f} s)"
    )
    print(f"standard set + ATR 14 + drawdowns computed in {(t2 - t1) * 1e3:.1f} ms\n")
    last = -1
    header = f"{'sector':<24}{'n':>3}{'RSI14':>8}{'%>SMA50':>9}{'%BB up':>8}{'ATR%':>7}{'maxDD':>8}"
    print(header)
    print("-" * len(header))
    sectors = np.array(panel.sectors)
    close = panel.close[:, last]
    for sector in sorted(set(panel.sectors)):
        m = sectors == sector
        above = np.mean(close[m] > std.sma50[m, last]) * 100
        upper = np.mean(close[m] > std.bb_upper[m, last]) * 100
        atr_pct = np.mean(atr[m, last] / close[m]) * 100
        print(
            f"{sector:<24}{int(m.sum()):>3}{np.mean(std.rsi14[m, last]):>8.1f}{above:>8.0f}%"
            f"{upper:>7.0f}%{atr_pct:>6.2f}%{np.mean(dd[m]) * 100:>7.1f}%"
        )
    order = np.argsort(std.rsi14[:, last])
    lo = ", ".join(f"{panel.symbols[i]} {std.rsi14[i, last]:.0f}" for i in order[:3])
    hi = ", ".join(f"{panel.symbols[i]} {std.rsi14[i, last]:.0f}" for i in order[::-1][:3])
    print(f"\nlowest RSI14 on {panel.dates[-1]}: {lo}\nhighest RSI14: {hi}")
    return 0


class _nullcontext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _cmd_info(args: argparse.Namespace) -> int:
    import ferroquant as fq

    for key, value in fq.build_info().items():
        print(f"{key:>16}: {value}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ferroquant`` console script."""
    parser = argparse.ArgumentParser(
        prog="ferroquant",
        description="Whole-universe technical indicators in Rust.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser(
        "run",
        help="run the main job on the bundled sample",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("--threads", type=int, default=0, help="worker threads (default: all)")
    run.set_defaults(func=_cmd_run)
    info = sub.add_parser("info", help="show build information")
    info.set_defaults(func=_cmd_info)
    args = parser.parse_args(argv)
    if getattr(args, "threads", 0) < 0:
        parser.error("--threads must be >= 1 (or 0 for all cores)")
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
