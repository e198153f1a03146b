"""``ferroquant optimize``: certified optimal long-only weights for the stored universe."""

from __future__ import annotations

import argparse
from typing import Any

from ferroquant.cli._common import EXIT_OK, add_db, console, existing_db, guarded, print_json

HELP = "optimise portfolio weights of the stored universe and store them as a portfolio"
EXAMPLES = """examples:
  ferroquant optimize                                max return - 1.0 x volatility, cap 10 %
  ferroquant optimize --objective min_variance --cap 0.05
  ferroquant optimize --objective utility --risk-aversion 4 --portfolio balanced
  ferroquant optimize --objective target_risk --target 0.12 --json
  ferroquant value --portfolio optimized             value the stored weights afterwards
risk model: the one `ferroquant run --factors` stored (--risk-model NAME), else a statistical factor
model of the last --lookback daily returns (--factors principal components); expected returns:
historical means shrunk halfway to their average (annualised).
exit codes: 0 success, 1 no certified optimum, 2 usage error or infeasible constraints
"""

OBJECTIVES = (
    "mean_volatility",
    "utility",
    "min_variance",
    "max_sharpe",
    "target_risk",
    "target_return",
)


def add_parser(sub: Any) -> None:
    """Register the command."""
    p = sub.add_parser(
        "optimize",
        help=HELP,
        description=f"{HELP[0].upper()}{HELP[1:]}.",
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_db(p)
    p.add_argument("--objective", choices=OBJECTIVES, default="mean_volatility")
    p.add_argument(
        "--risk-aversion",
        type=float,
        default=1.0,
        metavar="X",
        help="λ of mean - λ·volatility, δ of mean - δ/2·variance (default 1)",
    )
    p.add_argument(
        "--target",
        type=float,
        metavar="X",
        help="annual volatility or return for target_risk / target_return",
    )
    p.add_argument(
        "--cap",
        type=float,
        default=0.10,
        metavar="W",
        help="largest weight per asset (default 0.10)",
    )
    p.add_argument(
        "--lookback",
        type=int,
        default=504,
        metavar="N",
        help="daily returns used for the risk model (default 504)",
    )
    p.add_argument(
        "--factors", type=int, default=10, metavar="K", help="statistical factors (default 10)"
    )
    p.add_argument(
        "--risk-model",
        default="default",
        metavar="NAME",
        help="stored risk model to use when the store has it (default: default)",
    )
    p.add_argument(
        "--statistical",
        action="store_true",
        help="use the statistical model even when a risk model is stored",
    )
    p.add_argument(
        "--portfolio",
        default="optimized",
        metavar="NAME",
        help="portfolio the weights are stored as (default: optimized)",
    )
    p.add_argument(
        "--notional",
        type=float,
        default=1_000_000.0,
        metavar="X",
        help="money the weights are turned into quantities with (default 1,000,000)",
    )
    p.add_argument("--top", type=int, default=20, metavar="N", help="weights to print")
    p.add_argument("--json", action="store_true", help="print JSON on stdout")
    p.set_defaults(func=main)


@guarded
def main(args: argparse.Namespace) -> int:
    """Solve, store the holdings and print weights and certificate."""
    from ferroquant.pipeline.optimize_stage import OptimizeSettings, optimize_store
    from ferroquant.store import Store

    settings = OptimizeSettings(
        objective=args.objective,
        risk_aversion=args.risk_aversion,
        target=args.target,
        cap=args.cap,
        portfolio=args.portfolio,
        notional=args.notional,
        lookback=args.lookback,
        n_factors=args.factors,
        risk_model=None if args.statistical else args.risk_model,
    )
    with Store.open(existing_db(args.db)) as store:
        out = optimize_store(store, settings, frontier=False)
    res, cert = out.result, out.result.certificate
    order = sorted(range(len(res.weights)), key=lambda i: -res.weights[i])
    weights = [
        (out.inputs.symbols[i], float(res.weights[i])) for i in order if res.weights[i] > 1e-9
    ]
    if args.json:
        print_json(
            {
                "portfolio": args.portfolio,
                "objective": args.objective,
                "expected_return": res.expected_return,
                "volatility": res.volatility,
                "certificate": dict(cert.__dict__, kkt_residual=cert.kkt_residual),
                "weights": dict(weights),
                "window": [out.inputs.start, out.inputs.end],
                "risk_model": out.inputs.source,
            }
        )
        return EXIT_OK
    from rich.table import Table

    con = console()
    con.print(
        f"{args.objective} over {len(out.inputs.symbols)} symbols ({out.inputs.start} → "
        f"{out.inputs.end}): expected return {res.expected_return:.2%}, volatility "
        f"{res.volatility:.2%} a year, {len(weights)} holdings; risk: {out.inputs.source}"
    )
    con.print(
        f"certificate: {cert.status}, KKT residual {cert.kkt_residual:.1e} (stationarity "
        f"{cert.stationarity:.1e}, feasibility {cert.feasibility:.1e}, complementarity "
        f"{cert.complementarity:.1e}), {cert.iterations} iterations, {cert.seconds * 1e3:.1f} ms"
    )
    table = Table(show_edge=False)
    table.add_column("symbol")
    table.add_column("weight", justify="right")
    for sym, w in weights[: args.top]:
        table.add_row(sym, f"{w:.2%}")
    con.print(table)
    con.print(
        f"stored as portfolio {args.portfolio!r}: `ferroquant value --portfolio {args.portfolio}`"
    )
    return EXIT_OK
