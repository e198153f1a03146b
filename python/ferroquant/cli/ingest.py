"""``ferroquant ingest``: validate price files and upsert their bars into the store."""

from __future__ import annotations

import argparse
from typing import Any

from ferroquant.cli._common import (
    EXIT_OK,
    add_db,
    add_output,
    existing_file,
    guarded,
    print_json,
    progress_for,
)

HELP = "validate price files and add their bars to the database"
EXAMPLES = """examples:
  ferroquant ingest prices.csv                     one long CSV (date,symbol,open,high,...)
  ferroquant ingest --data prices.csv              the same
  ferroquant ingest data/ --sectors sectors.csv    a folder of CSV files, with sectors
  ferroquant ingest prices.csv --skip-invalid      drop invalid rows instead of failing
  ferroquant ingest                                the sample shipped with ferroquant
exit codes: 0 success, 1 invalid data (nothing written; the report lists every problem),
2 usage error
"""


def add_parser(sub: Any) -> None:
    """Register the command."""
    p = sub.add_parser(
        "ingest",
        help=HELP,
        description=f"{HELP[0].upper()}{HELP[1:]}. Ingesting the same file again adds nothing.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("data", nargs="?", type=existing_file, metavar="PATH", help="CSV file or folder")
    add_db(p)
    p.add_argument("--sectors", type=existing_file, metavar="PATH", help="symbol,sector CSV")
    p.add_argument(
        "--corporate-actions", type=existing_file, metavar="PATH", help="splits/dividends CSV"
    )
    p.add_argument(
        "--skip-invalid", action="store_true", help="drop invalid rows instead of failing"
    )
    add_output(p)
    p.set_defaults(func=main)


@guarded
def main(args: argparse.Namespace) -> int:
    """Ingest and print what was added."""
    from ferroquant.pipeline import Context, IngestStage, NullProgress, Source
    from ferroquant.store import Store

    data = args.data or args.data_option
    source = Source(data, args.sectors, args.corporate_actions) if data else None
    stage = IngestStage(source, skip_invalid=args.skip_invalid)
    with progress_for(args) as progress, Store.open(args.db) as store:
        ctx = Context(store, progress=progress or NullProgress())
        result = stage.run(ctx)
        totals = store.info()
    if args.json:
        print_json({"db": str(args.db), "ingest": result.as_dict(), "totals": totals})
    elif not args.quiet:
        detail = ", ".join(
            f"{k}: {v:,}" if isinstance(v, int) else f"{k}: {v}" for k, v in result.detail.items()
        )
        print(f"ingested {result.items:,} {result.unit} in {result.seconds:.2f} s ({detail})")
        print(
            f"{args.db}: {int(totals.get('symbols', 0) or 0):,} symbols, "
            f"{int(totals.get('bars', 0) or 0):,} bars"
        )
    return EXIT_OK
