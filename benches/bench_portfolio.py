"""Benchmark of portfolio optimisation (issue 7): max μ·w − λ·σ(w), Σw = 1, 0 ≤ w ≤ 10 %.

Problem generator (seeded): Σ = B F B' + diag(d) with 10 factors (market beta ~ N(1, 0.25), nine
styles ~ N(0, 0.4), factor vols 3–16 %), idiosyncratic vols log-normal around 25 %,
μ = 1 % + B·premia + α with α ~ N(0, 3 %), λ = 1. One thread everywhere.

Side by side in one run, each with its objective gap and KKT residual against the reference
optimum (ferroquant's interior point at tol 1e-12, cross-checked against Clarabel):

1. **ferroquant** ``optimize`` on the factor model (structured interior point + exact
   active-set polish; median of repeats).
2. **ferroquant** on the same Σ as a dense matrix (randomised low-rank guess + exact active set).
3. The issue's **SLSQP with finite differences** on the dense Σ (timed once: it takes seconds).
4. **PyPortfolioOpt** ``EfficientFrontier.convex_objective`` on the dense Σ.
5. **cvxpy + Clarabel**, dense Σ and factor form; **Clarabel** called directly on the factor SOCP.
6. **2,520 warm-started daily rebalances** at n = 1,000: μ drifts by N(0, 0.1 %) a day, every
   solve starts from the previous day's result, each must be certified.

    python benches/bench_portfolio.py               # n = 1,000 and 5,000, all peers
    python benches/bench_portfolio.py --quick       # n = 300, fewer repeats, no slow peers
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")
os.environ.setdefault("FERROQUANT_MAX_THREADS", "1")

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from bench_indicators import machine_environment, print_environment
from ferroquant.portfolio import Constraints, FactorModel, optimize
from ferroquant.portfolio.reference import certify_weights, reference_problem

SEED = 20261126
LAM = 1.0
CAP = 0.10


def problem(n: int, seed: int = SEED) -> tuple[np.ndarray, FactorModel]:
    rng = np.random.default_rng(seed + n)
    k = 10
    b = np.column_stack([rng.normal(1.0, 0.25, n), rng.normal(0.0, 0.4, (n, k - 1))])
    vols = rng.uniform(0.03, 0.16, k)
    f = np.diag(vols**2)
    d = np.exp(rng.normal(np.log(0.25), 0.25, n)) ** 2
    premia = rng.normal(0.0, 0.02, k)
    mu = 0.01 + b @ premia + rng.normal(0.0, 0.03, n)
    return mu, FactorModel(b, f, d)


def objective(mu: np.ndarray, model: FactorModel, w: np.ndarray) -> float:
    return float(mu @ w - LAM * np.sqrt(model.variance(w)))


def timed(fn: Callable[[], Any], repeats: int) -> tuple[Any, list[float]]:
    out = None
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, times


def fmt_ms(times: list[float]) -> str:
    med = statistics.median(times) * 1e3
    if len(times) == 1:
        return f"{med:9.2f} ms (1 run)"
    return (
        f"{med:9.2f} ms (min {min(times) * 1e3:.2f}, max {max(times) * 1e3:.2f}, {len(times)} runs)"
    )


def peers_for(
    mu: np.ndarray, model: FactorModel, slow: bool
) -> dict[str, Callable[[], np.ndarray]]:
    import clarabel
    import cvxpy as cp
    import scipy.sparse as sp
    from scipy.optimize import minimize

    n = model.n_assets
    sigma = model.covariance()
    chol = np.linalg.cholesky(sigma)
    lf = np.linalg.cholesky(model.factor_cov)
    out: dict[str, Callable[[], np.ndarray]] = {}

    def cvx_dense() -> np.ndarray:
        w = cp.Variable(n)
        p = cp.Problem(
            cp.Maximize(mu @ w - LAM * cp.norm(chol.T @ w)), [cp.sum(w) == 1, w >= 0, w <= CAP]
        )
        p.solve(solver="CLARABEL")
        return np.asarray(w.value)

    def cvx_factor() -> np.ndarray:
        w = cp.Variable(n)
        g = cp.hstack([lf.T @ (model.exposures.T @ w), cp.multiply(np.sqrt(model.specific_var), w)])
        p = cp.Problem(cp.Maximize(mu @ w - LAM * cp.norm(g)), [cp.sum(w) == 1, w >= 0, w <= CAP])
        p.solve(solver="CLARABEL")
        return np.asarray(w.value)

    # Clarabel directly: x = (w, t); min -μ'w + λ t; s.t. Σw = 1, -w ≤ 0, w ≤ cap, ‖G w‖ ≤ t.
    k = model.n_factors
    g = sp.vstack([sp.csc_matrix(lf.T @ model.exposures.T), sp.diags(np.sqrt(model.specific_var))])
    eye = sp.identity(n, format="csc")
    a = sp.vstack(
        [
            sp.hstack([sp.csc_matrix(np.ones((1, n))), sp.csc_matrix((1, 1))]),
            sp.hstack([-eye, sp.csc_matrix((n, 1))]),
            sp.hstack([eye, sp.csc_matrix((n, 1))]),
            sp.hstack([sp.csc_matrix((1, n)), sp.csc_matrix(-np.ones((1, 1)))]),
            sp.hstack([-g, sp.csc_matrix((k + n, 1))]),
        ]
    ).tocsc()
    b = np.r_[1.0, np.zeros(n), np.full(n, CAP), 0.0, np.zeros(k + n)]
    cones = [
        clarabel.ZeroConeT(1),
        clarabel.NonnegativeConeT(2 * n),
        clarabel.SecondOrderConeT(1 + k + n),
    ]
    q = np.r_[-mu, LAM]
    p0 = sp.csc_matrix((n + 1, n + 1))

    def clarabel_direct() -> np.ndarray:
        settings = clarabel.DefaultSettings()
        settings.verbose = False
        solver = clarabel.DefaultSolver(p0, q, a, b, cones, settings)
        sol = solver.solve()
        return np.asarray(sol.x[:n])

    def pypfopt() -> np.ndarray:
        from pypfopt import EfficientFrontier

        ef = EfficientFrontier(mu, sigma, weight_bounds=(0, CAP), solver="CLARABEL")
        ef.convex_objective(
            lambda w: -(mu @ w) + LAM * cp.norm(chol.T @ w), weights_sum_to_one=True
        )
        return np.array(list(ef.weights.values()) if isinstance(ef.weights, dict) else ef.weights)

    def slsqp_fd() -> np.ndarray:
        # The snippet: SLSQP with finite-difference gradients on the dense matrix.
        res = minimize(
            lambda w: -(mu @ w - LAM * np.sqrt(w @ sigma @ w)),
            np.full(n, 1.0 / n),
            method="SLSQP",
            bounds=[(0.0, CAP)] * n,
            constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0}],
        )
        return np.asarray(res.x)

    out["cvxpy + Clarabel, factor form"] = cvx_factor
    out["Clarabel direct, factor SOCP"] = clarabel_direct
    if slow:
        out["cvxpy + Clarabel, dense Σ"] = cvx_dense
        out["PyPortfolioOpt (dense Σ)"] = pypfopt
        out["SLSQP, finite differences (dense Σ)"] = slsqp_fd
    return out


def run_size(n: int, repeats: int, slow: bool) -> dict[str, Any]:
    mu, model = problem(n)
    cons = Constraints(upper=CAP)
    prob = reference_problem("mean_volatility", mu, model, cons, LAM)
    ref = optimize(mu, model, "mean_volatility", risk_aversion=LAM, constraints=cons, tol=1e-12)
    f_ref = objective(mu, model, ref.weights)
    optimize(mu, model, "mean_volatility", risk_aversion=LAM, constraints=cons)  # warm-up
    fast, times = timed(
        lambda: optimize(mu, model, "mean_volatility", risk_aversion=LAM, constraints=cons), repeats
    )
    rows = [
        (
            "ferroquant ipm (factor model)",
            times,
            objective(mu, model, fast.weights),
            fast.certificate.kkt_residual,
            np.abs(fast.weights - ref.weights).sum(),
        )
    ]
    if n <= 1000:
        sigma = model.covariance()
        optimize(mu, sigma, "mean_volatility", risk_aversion=LAM, constraints=cons)  # warm-up
        dense, dtimes = timed(
            lambda: optimize(mu, sigma, "mean_volatility", risk_aversion=LAM, constraints=cons),
            repeats,
        )
        rows.append(
            (
                "ferroquant active-set (dense Σ)",
                dtimes,
                objective(mu, model, dense.weights),
                dense.certificate.kkt_residual,
                np.abs(dense.weights - ref.weights).sum(),
            )
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, fn in peers_for(mu, model, slow).items():
            reps = (
                1
                if "SLSQP" in name or "PyPortfolioOpt" in name or "dense" in name
                else max(3, repeats // 4)
            )
            w, t = timed(fn, reps)
            kkt = certify_weights(prob, w, None, 1e-8, name).kkt_residual
            rows.append((name, t, objective(mu, model, w), kkt, np.abs(w - ref.weights).sum()))
    print(f"\n## n = {n:,} assets, 10 factors, λ = {LAM}, 0 ≤ w ≤ {CAP:.0%}")
    print(f"reference optimum: objective {f_ref:.12f}, KKT {ref.certificate.kkt_residual:.1e}")
    base = statistics.median(times)
    print(f"{'solver':40s} {'time':>44s} {'vs fq':>8s} {'gap':>10s} {'KKT':>9s} {'L1':>9s}")
    for name, t, f, kkt, l1 in rows:
        ratio = statistics.median(t) / base
        print(f"{name:40s} {fmt_ms(t):>44s} {ratio:7.1f}x {f_ref - f:10.1e} {kkt:9.1e} {l1:9.1e}")
    return {"n": n, "fq_ms": base * 1e3, "kkt": fast.certificate.kkt_residual}


def rebalances(n: int, days: int) -> None:
    mu, model = problem(n)
    cons = Constraints(upper=CAP)
    rng = np.random.default_rng(SEED)
    drift = rng.normal(0.0, 0.001, (days, n))
    prev = optimize(mu, model, "mean_volatility", risk_aversion=LAM, constraints=cons)
    worst = 0.0
    iters = []
    t0 = time.perf_counter()
    m = mu.copy()
    for day in range(days):
        m += drift[day]
        prev = optimize(
            m, model, "mean_volatility", risk_aversion=LAM, constraints=cons, start=prev
        )
        worst = max(worst, prev.certificate.kkt_residual)
        iters.append(prev.certificate.iterations)
    total = time.perf_counter() - t0
    print(f"\n## {days:,} warm-started daily rebalances, n = {n:,}")
    print(
        f"total {total:.2f} s ({total / days * 1e3:.2f} ms per rebalance), worst KKT {worst:.1e}, "
        f"interior-point iterations per rebalance: median {statistics.median(iters):.0f}, "
        f"max {max(iters)}"
    )


def literal_snippet() -> None:
    print(
        "\n(the issue's cost model in one line: SLSQP with finite differences evaluates the "
        "objective n+1 times per gradient, each O(n²) with a dense Σ: O(n³) per iteration)"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="n = 300, few repeats, no slow peers")
    ap.add_argument("--sizes", type=int, nargs="*", help="universe sizes (default 1000 5000)")
    ap.add_argument("--days", type=int, default=2520, help="rebalances to time")
    args = ap.parse_args()
    import clarabel
    import cvxpy
    import scipy

    env = machine_environment(
        {"scipy": scipy.__version__, "cvxpy": cvxpy.__version__, "clarabel": clarabel.__version__}
    )
    print_environment("ferroquant portfolio benchmark", env)
    print(
        f"threads: ferroquant 1 (the solver is serial), BLAS {os.environ['OPENBLAS_NUM_THREADS']}"
    )
    sizes = args.sizes or ([300] if args.quick else [1000, 5000])
    for n in sizes:
        run_size(n, 5 if args.quick else 21, slow=not args.quick and n <= 1000)
    rebalances(min(sizes) if args.quick else 1000, 100 if args.quick else args.days)
    literal_snippet()


if __name__ == "__main__":
    main()
