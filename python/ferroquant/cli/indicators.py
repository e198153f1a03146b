"""``ferroquant indicators``: compute and store indicators for the bars already in the store."""

from __future__ import annotations

import argparse
from typing import Any

from ferroquant.cli._common import (
    EXIT_OK,
    add_db,
    add_output,
    add_threads,
    existing_db,
    guarded,
    print_json,
    progress_for,
    threads_for,
)
from ferroquant.cli.run import add_indicator_options, print_summary

HELP = "compute and store indicators for the bars in the database (incremental)"
EXAMPLES = """examples:
  ferroquant indicators                       new bars only, standard set
  ferroquant indicators --indicators macd,atr other sets (recursive ones recompute the symbol)
  ferroquant indicators --full --threads 1    everything again, on one thread
"""


def add_parser(sub: Any) -> None:
    """Register the command."""
    p = sub.add_parser(
        "indicators",
        help=HELP,
        description=f"{HELP[0].upper()}{HELP[1:]}.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_db(p)
    add_indicator_options(p)
    add_threads(p)
    add_output(p)
    p.set_defaults(func=main)


@guarded
def main(args: argparse.Namespace) -> int:
    """Run the indicator stage alone (recorded as a run)."""
    from ferroquant.pipeline import JobOptions, run_job
    from ferroquant.pipeline.indicator_sets import resolve_sets

    sets = resolve_sets(args.indicators)
    options = JobOptions(
        db=existing_db(args.db),
        indicators=[s.name for s in sets],
        full=args.full,
        chunk=args.chunk,
        price=args.price,
        ingest=False,
        report=False,
        optimize=None,
    )
    with progress_for(args) as progress, threads_for(args):
        summary = run_job(options, progress=progress)
    if args.json:
        print_json(summary.as_dict())
    elif not args.quiet:
        print_summary(summary)
    return EXIT_OK
