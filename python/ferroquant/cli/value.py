"""``ferroquant value``: value a portfolio at the latest close of each holding."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path
from typing import Any

from ferroquant.cli._common import (
    EXIT_OK,
    UsageError,
    add_db,
    console,
    existing_db,
    existing_file,
    guarded,
    print_json,
)

HELP = "value a portfolio at the latest stored closes"
EXAMPLES = """examples:
  ferroquant value --holdings holdings.csv     set the holdings (CSV: symbol,quantity), value them
  ferroquant value                             value the stored portfolio "default"
  ferroquant value --portfolio growth --json
exit codes: 0 success, 1 invalid holdings file, 2 unknown symbol, portfolio or database
"""


def add_parser(sub: Any) -> None:
    """Register the command."""
    p = sub.add_parser(
        "value",
        help=HELP,
        description=f"{HELP[0].upper()}{HELP[1:]}.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_db(p)
    p.add_argument("--portfolio", default="default", metavar="NAME", help="portfolio name")
    p.add_argument(
        "--holdings",
        type=existing_file,
        metavar="PATH",
        help="CSV with columns symbol,quantity: replaces the portfolio's holdings first",
    )
    p.add_argument("--json", action="store_true", help="print JSON on stdout")
    p.set_defaults(func=main)


def read_holdings(path: Path) -> dict[str, float]:
    """``symbol,quantity`` rows of a CSV file (a header row is required)."""
    from ferroquant.errors import ValidationError

    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        fields = [c.strip().lower() for c in reader.fieldnames or []]
        if "symbol" not in fields or "quantity" not in fields:
            raise ValidationError(f"{path}: expected a header with columns symbol,quantity")
        holdings: dict[str, float] = {}
        problems = []
        for line, row in enumerate(reader, start=2):
            clean = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
            try:
                holdings[clean["symbol"]] = holdings.get(clean["symbol"], 0.0) + float(
                    clean["quantity"]
                )
            except ValueError:
                problems.append(f"line {line}: quantity {clean['quantity']!r} is not a number")
        if problems:
            raise ValidationError(f"{path}: {len(problems)} invalid row(s)", "\n".join(problems))
    return holdings


def _record(r: Any) -> dict[str, Any]:
    keys = ("symbol", "quantity", "date", "price", "market_value")
    if isinstance(r, dict):
        return {k: r.get(k) for k in keys}
    if hasattr(r, "_asdict"):
        return dict(r._asdict())
    return dict(zip(keys, r, strict=False))


@guarded
def main(args: argparse.Namespace) -> int:
    """Store the holdings when given, then print the valuation."""
    from rich.table import Table

    from ferroquant.store import Store

    holdings = read_holdings(args.holdings) if args.holdings else None
    with Store.open(existing_db(args.db), readonly=holdings is None) as store:
        if holdings is not None:
            store.write_holdings(args.portfolio, holdings)
        records = [_record(r) for r in store.valuation(args.portfolio)]
    if not records:
        raise UsageError(
            f"portfolio {args.portfolio!r} has no holdings: set them with --holdings FILE"
        )
    total = sum(float(r["market_value"] or 0.0) for r in records)
    if args.json:
        print_json({"portfolio": args.portfolio, "total": total, "holdings": records})
        return EXIT_OK
    table = Table(title=f"portfolio {args.portfolio}", show_edge=False)
    for c in ("symbol", "quantity", "date", "price", "market value", "weight"):
        table.add_column(c, justify="left" if c in ("symbol", "date") else "right")
    for r in records:
        mv = float(r["market_value"] or 0.0)
        table.add_row(
            str(r["symbol"]),
            f"{float(r['quantity']):,.4g}",
            str(r["date"]),
            f"{float(r['price']):,.2f}" if r["price"] is not None else "-",
            f"{mv:,.2f}",
            f"{mv / total:.1%}" if total else "-",
        )
    table.add_section()
    table.add_row("total", "", "", "", f"{total:,.2f}", "100.0%" if total else "-")
    console().print(table)
    return EXIT_OK
