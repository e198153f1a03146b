"""``ferroquant show SYMBOL``: a symbol's latest bars with its stored indicators."""

from __future__ import annotations

import argparse
from typing import Any

import numpy as np

from ferroquant.cli._common import (
    EXIT_OK,
    add_db,
    console,
    existing_db,
    guarded,
    positive_int,
    print_json,
)

HELP = "show a symbol's latest bars and indicators"
EXAMPLES = """examples:
  ferroquant show AAPL                 the last 10 bars with the standard set
  ferroquant show MSFT --last 30 --json
exit codes: 0 success, 2 unknown symbol or no database
"""


def add_parser(sub: Any) -> None:
    """Register the command."""
    p = sub.add_parser(
        "show",
        help=HELP,
        description=f"{HELP[0].upper()}{HELP[1:]}.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("symbol", metavar="SYMBOL", help="ticker, e.g. AAPL")
    add_db(p)
    p.add_argument(
        "--last", type=positive_int, default=10, metavar="N", help="bars to show (default 10)"
    )
    p.add_argument("--json", action="store_true", help="print JSON on stdout")
    p.set_defaults(func=main)


@guarded
def main(args: argparse.Namespace) -> int:
    """Print the table."""
    from rich.table import Table

    from ferroquant.errors import UnknownSymbolError
    from ferroquant.store import Store

    symbol = args.symbol.upper() if args.symbol.upper() != args.symbol else args.symbol
    with Store.open(existing_db(args.db), readonly=True) as store:
        last = store.last_bar_dates()
        if symbol not in last:
            if args.symbol in last:
                symbol = args.symbol
            else:
                raise UnknownSymbolError(
                    f"unknown symbol {args.symbol!r}: {args.db} has {len(last):,} symbols; "
                    "add it with `ferroquant ingest`"
                )
        # 3 calendar days per bar is plenty (weekends, holidays) for the rows asked for.
        start = last[symbol] - np.timedelta64(3 * args.last + 10, "D")
        panel = store.load_panel(symbols=[symbol], start=start)
        values, _, ind_dates = store.read_indicators(symbols=[symbol], start=start)
        sector = store.sectors().get(symbol)
    keep = np.flatnonzero(~np.isnan(panel.close[0]))[-args.last :]
    dates = panel.dates[keep]
    names = sorted(values)
    pos = {d: i for i, d in enumerate(ind_dates.tolist())}
    rows = []
    for j, d in zip(keep, dates.tolist(), strict=True):
        row: dict[str, Any] = {
            "date": str(d),
            "open": float(panel.open[0, j]),
            "high": float(panel.high[0, j]),
            "low": float(panel.low[0, j]),
            "close": float(panel.close[0, j]),
            "volume": float(panel.volume[0, j]),
        }
        i = pos.get(d)
        for n in names:
            v = float(np.asarray(values[n])[0, i]) if i is not None else float("nan")
            row[n] = None if np.isnan(v) else v
        rows.append(row)
    if args.json:
        print_json({"symbol": symbol, "sector": sector, "bars": rows})
        return EXIT_OK
    table = Table(title=f"{symbol} · {sector or 'no sector'}", show_edge=False)
    cols = ["date", "close", "volume", *names]
    for c in cols:
        table.add_column(c, justify="left" if c == "date" else "right")
    for row in rows:
        table.add_row(*(_cell(row[c], c) for c in cols))
    console().print(table)
    return EXIT_OK


def _cell(value: Any, column: str) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if column == "volume":
        return f"{value:,.0f}"
    return f"{value:,.2f}"
