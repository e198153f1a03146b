"""``ferroquant info``: what the database holds, the recent runs, and the build."""

from __future__ import annotations

import argparse
from typing import Any

from ferroquant.cli._common import EXIT_OK, add_db, console, guarded, print_json

HELP = "summarise the database (symbols, bars, indicators, runs) and the build"
EXAMPLES = """examples:
  ferroquant info                      ./ferroquant.db and the build profile
  ferroquant info --db my.db --json
  ferroquant info --build              the build only (version, profile, threads)
"""


def add_parser(sub: Any) -> None:
    """Register the command."""
    p = sub.add_parser(
        "info",
        help=HELP,
        description=f"{HELP[0].upper()}{HELP[1:]}.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_db(p)
    p.add_argument("--build", action="store_true", help="show the build information only")
    p.add_argument("--runs", type=int, default=5, metavar="N", help="recent runs to list")
    p.add_argument("--json", action="store_true", help="print JSON on stdout")
    p.set_defaults(func=main)


@guarded
def main(args: argparse.Namespace) -> int:
    """Print the summary."""
    import ferroquant as fq

    build = fq.build_info()
    store_info: dict[str, Any] | None = None
    runs: list[dict[str, Any]] = []
    if not args.build and args.db.exists():
        from ferroquant.store import Store

        with Store.open(args.db, readonly=True) as store:
            store_info = dict(store.info())
            runs = list(store.runs())[-args.runs :] if args.runs > 0 else []
    if args.json:
        print_json({"build": build, "store": store_info, "runs": runs})
        return EXIT_OK
    out = console()
    if not args.build:
        if store_info is None:
            out.print(f"no database at {args.db} (create it with `ferroquant run`)")
        else:
            out.print(f"[bold]database[/bold] {args.db}")
            for key, value in store_info.items():
                out.print(f"{key:>18}: {_short(value)}")
            for run in runs:
                out.print(f"{'run':>18}: {_short(run)}")
        out.print()
    out.print("[bold]build[/bold]")
    for key, value in build.items():
        out.print(f"{key:>18}: {value}")
    return EXIT_OK


def _short(value: Any, limit: int = 100) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
