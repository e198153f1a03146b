"""``ferroquant run``: the main job (ingest → indicators → (factors) → summary → optimize →
report)."""

from __future__ import annotations

import argparse
from typing import Any

from ferroquant.cli._common import (
    EXIT_OK,
    add_db,
    add_output,
    add_threads,
    console,
    existing_file,
    guarded,
    positive_int,
    print_json,
    progress_for,
    threads_for,
)

HELP = (
    "ingest prices, compute and store indicators, optimise a portfolio, print a summary, "
    "write a report"
)
EXAMPLES = """examples:
  ferroquant run                              the bundled sample into ./ferroquant.db (+ report)
  ferroquant run                              again: incremental, nothing new to do
  ferroquant run --data prices.csv --db my.db your files; only new bars are processed
  ferroquant run --indicators standard,atr    more indicator sets (see `--indicators help`)
  ferroquant run --full --json                recompute everything, JSON summary on stdout
  ferroquant run --factors                    also fit and store the risk model (report section)
  ferroquant run --report out/report.html --report-symbols AAPL,MSFT
exit codes: 0 success, 1 invalid data (the validation report is printed), 2 usage error
"""


def add_parser(sub: Any) -> None:
    """Register the command."""
    p = sub.add_parser(
        "run",
        help=HELP,
        description=f"{HELP[0].upper()}{HELP[1:]}. Without --data it uses the real sample "
        "shipped with ferroquant (99 S&P 500 stocks, 2016-2021).",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_db(p)
    p.add_argument(
        "--data", type=existing_file, metavar="PATH", help="price CSV file or folder to ingest"
    )
    p.add_argument("--sectors", type=existing_file, metavar="PATH", help="symbol,sector CSV")
    p.add_argument(
        "--corporate-actions", type=existing_file, metavar="PATH", help="splits/dividends CSV"
    )
    p.add_argument("--skip-ingest", action="store_true", help="only compute indicators")
    p.add_argument(
        "--skip-invalid", action="store_true", help="drop invalid rows instead of failing"
    )
    add_indicator_options(p)
    p.add_argument("--report", metavar="PATH", help="HTML report (default: beside the database)")
    p.add_argument("--no-report", action="store_true", help="write no report")
    p.add_argument(
        "--no-optimize",
        action="store_true",
        help="skip the optimisation stage (see `ferroquant optimize` for its options)",
    )
    p.add_argument(
        "--report-symbols", metavar="LIST", help="comma-separated symbols to plot in the report"
    )
    p.add_argument(
        "--factors",
        action="store_true",
        help="also fit the risk model (factor returns, covariance, exposures) and store it",
    )
    add_threads(p)
    add_output(p)
    p.set_defaults(func=main)


def add_indicator_options(p: argparse.ArgumentParser) -> None:
    """``--indicators``, ``--full``, ``--chunk``."""
    from ferroquant.pipeline.indicator_sets import INDICATOR_SETS

    p.add_argument(
        "--indicators",
        metavar="LIST",
        help="comma-separated indicator sets (default: standard); one of: "
        + ", ".join(f"{k} ({v.description})" for k, v in INDICATOR_SETS.items()),
    )
    p.add_argument("--full", action="store_true", help="recompute every symbol from its first bar")
    p.add_argument(
        "--price",
        choices=("adj_close", "close"),
        default="adj_close",
        help="prices the indicators read: split- and dividend-adjusted (default) or as stored",
    )
    p.add_argument(
        "--chunk",
        type=positive_int,
        default=256,
        metavar="N",
        help="symbols per batch (bounds memory; default 256)",
    )


@guarded
def main(args: argparse.Namespace) -> int:
    """Run the job and print its summary."""
    from dataclasses import replace
    from pathlib import Path

    from ferroquant.pipeline import JobOptions, Source, run_job
    from ferroquant.pipeline.indicator_sets import resolve_sets

    sets = resolve_sets(args.indicators)  # a bad name is a usage error before any work
    source = None
    if args.data is not None:
        source = Source(args.data, args.sectors, args.corporate_actions)
    report: Path | bool | None = False if args.no_report else args.report and Path(args.report)
    options = JobOptions(
        db=args.db,
        data=source,
        indicators=[s.name for s in sets],
        full=args.full,
        chunk=args.chunk,
        price=args.price,
        skip_invalid=args.skip_invalid,
        ingest=not args.skip_ingest,
        report=report,
        report_symbols=_split(args.report_symbols),
        factors=args.factors,
    )
    if args.no_optimize:
        options = replace(options, optimize=None)
    with progress_for(args) as progress, threads_for(args):
        summary = run_job(options, progress=progress)
    if args.json:
        print_json(summary.as_dict())
    elif not args.quiet:
        print_summary(summary)
    return EXIT_OK


def _split(text: str | None) -> list[str] | None:
    return [s.strip() for s in text.split(",") if s.strip()] if text else None


def print_summary(summary: Any) -> None:
    """The summary table: totals, then one row per stage (time, throughput, memory)."""
    from rich.table import Table

    import ferroquant as fq

    out = console()
    t = summary.totals
    info = fq.build_info()
    out.print(
        f"ferroquant {fq.__version__} ({info['profile']} build, {fq.thread_pool_size()} threads)"
        f" · run #{summary.run_id} · {summary.db}"
    )
    span = f"{t.get('first_date', '?')} → {t.get('last_date', '?')}"
    out.print(
        f"store: {int(t.get('symbols', 0) or 0):,} symbols, {int(t.get('bars', 0) or 0):,} bars,"
        f" {span}"
    )
    table = Table(show_edge=False, header_style="bold")
    for col, justify in (
        ("stage", "left"),
        ("time", "right"),
        ("processed", "right"),
        ("throughput", "right"),
        ("peak RSS", "right"),
        ("notes", "left"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for r in summary.stages:
        rate = f"{r.throughput:,.0f} {r.unit}/s" if r.throughput and r.items else "-"
        table.add_row(
            r.name,
            f"{r.seconds * 1e3:,.1f} ms",
            f"{r.items:,} {r.unit}",
            rate,
            f"{r.peak_rss_mb:,.0f} MB",
            _notes(r),
        )
    out.print(table)
    for note in summary.report_notes:
        out.print(f"note: {note}")


def _notes(r: Any) -> str:
    d = r.detail
    if r.name == "indicators":
        parts = " / ".join(f"{k} {v * 1e3:,.0f}" for k, v in d.get("seconds", {}).items())
        return f"{d.get('mode')}, {d.get('symbols', 0):,} symbols; {parts} ms"
    if r.name == "ingest":
        return f"{d.get('rows_written', 0):,} new or changed, {d.get('rows_skipped', 0):,} skipped"
    if r.name == "report":
        return str(d.get("path", ""))
    if r.name == "optimize":
        if "skipped" in d:
            return f"skipped: {d['skipped']}"
        return (
            f"{d.get('objective')}: {d.get('holdings', 0)} holdings, return "
            f"{d.get('expected_return', 0):.1%}, vol {d.get('volatility', 0):.1%}, "
            f"{d.get('status')} (KKT {d.get('kkt_residual', 0):.0e}) → portfolio "
            f"'{d.get('portfolio')}'"
        )
    return ""
