"""The ``ferroquant`` command line (also ``python -m ferroquant``): one module per command.

Examples
--------
>>> from ferroquant.cli import build_parser
>>> sorted(build_parser()._subparsers._group_actions[0].choices)
['indicators', 'info', 'ingest', 'optimize', 'run', 'show', 'value']
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from ferroquant.cli import indicators, info, ingest, optimize, run, show, value

__all__ = ["build_parser", "main"]

_EPILOG = """examples:
  ferroquant run                       the main job on the bundled sample (./ferroquant.db)
  ferroquant run --data prices.csv     the same on your files; run again for an incremental update
  ferroquant show AAPL                 latest bars and indicators of one symbol
  ferroquant value --holdings h.csv    value a portfolio at the latest closes
  ferroquant optimize                  certified optimal weights, stored as a portfolio
  ferroquant info                      what the database holds, and the build
  ferroquant COMMAND --help            options and examples of a command
exit codes: 0 success, 1 invalid data (with the validation report), 2 usage error
"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="ferroquant",
        description="Whole-universe technical indicators in Rust, stored in SQLite.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (run, ingest, indicators, show, value, optimize, info):
        module.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ferroquant`` console script; returns the exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except BrokenPipeError:
        # The reader went away (`ferroquant run --json | head`): stop quietly, as Unix tools do,
        # and keep Python from failing again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


if __name__ == "__main__":
    sys.exit(main())
