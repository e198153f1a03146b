"""ferroquant.factors against the per-date numpy/pandas/scipy oracle in _oracle.py, on random
ragged panels with ties, NaN cells, listings and delistings."""

from __future__ import annotations

import warnings

import _factor_oracle as oracle
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ferroquant as fq
from ferroquant import factors

TOL = 1e-12


def close_nan(a: np.ndarray, e: np.ndarray, tol: float = TOL) -> None:
    a, e = np.asarray(a, dtype=float), np.asarray(e, dtype=float)
    assert a.shape == e.shape
    np.testing.assert_array_equal(np.isnan(a), np.isnan(e))
    np.testing.assert_allclose(a[~np.isnan(a)], e[~np.isnan(e)], rtol=0, atol=tol)


def ragged_panel(seed: int, n: int, t: int, ties: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, (n, t)), axis=1))
    factor = rng.integers(0, 4, (n, t)).astype(float) if ties else rng.normal(size=(n, t))
    for i in range(n):  # listings and delistings
        if rng.random() < 0.2:
            close[i, : rng.integers(0, t)] = np.nan
        if rng.random() < 0.1:
            close[i, rng.integers(0, t) :] = np.nan
    close[rng.random((n, t)) < 0.03] = np.nan  # suspended days
    factor[np.isnan(close) | (rng.random((n, t)) < 0.05)] = np.nan
    return factor, close


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 30),
    t=st.integers(1, 25),
    ties=st.booleans(),
    q=st.integers(1, 6),
)
def test_matches_oracle(seed: int, n: int, t: int, ties: bool, q: int) -> None:
    factor, close = ragged_panel(seed, n, t, ties)
    horizons = (1, 3)
    fwd = factors.forward_returns(close, horizons)
    for k, h in enumerate(horizons):
        close_nan(fwd[k], oracle.forward_returns(close, h))
    res = factors.analyze(factor, forward=fwd, horizons=horizons, quantiles=q)
    # the common universe: names with a return at every horizon
    f = np.where(np.isfinite(fwd).all(axis=0), factor, np.nan)
    quant = oracle.quantiles(f, q)
    close_nan(res.quantile, quant)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k, h in enumerate(horizons):
            rank = [oracle.rank_ic(f[:, d], fwd[k][:, d]) for d in range(t)]
            pearson = [oracle.pearson_ic(f[:, d], fwd[k][:, d]) for d in range(t)]
            close_nan(res.ic[k], rank)
            close_nan(res.ic_pearson[k], pearson)
            close_nan(
                res.quantile_returns.by_date[k], oracle.quantile_means(quant, fwd[k], q, True)
            )
            close_nan(res.turnover[k], oracle.turnover(quant, q, h))
            close_nan(res.autocorrelation[k], oracle.rank_autocorrelation(f, h))
    # counts: used + missing return = names with a factor
    np.testing.assert_array_equal(
        res.n_used + res.n_missing_return, np.broadcast_to(res.n_factor, res.n_used.shape)
    )


def test_single_functions_agree_with_analyze() -> None:
    factor, close = ragged_panel(7, 40, 60, ties=True)
    fwd = factors.forward_returns(close, (1, 5))
    res = factors.analyze(factor, close, horizons=(1, 5), common_universe=False)
    close_nan(factors.information_coefficient(factor, fwd), res.ic, 0)
    close_nan(factors.information_coefficient(factor, fwd, "pearson"), res.ic_pearson, 0)
    close_nan(factors.information_coefficient(factor, fwd[0]), res.ic[0], 0)
    close_nan(factors.assign_quantiles(factor), res.quantile, 0)
    qr = factors.quantile_returns(factor, fwd)
    close_nan(qr.by_date, res.quantile_returns.by_date, 0)
    close_nan(factors.quantile_turnover(factor, lag=5), res.turnover[1], 0)
    close_nan(factors.rank_autocorrelation(factor, lag=5), res.autocorrelation[1], 0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = [oracle.rank_ic(factor[:, d], fwd[1][:, d]) for d in range(60)]
    close_nan(res.ic[1], expected)


def test_groups_match_per_group_oracle() -> None:
    factor, close = ragged_panel(3, 45, 30, ties=False)
    groups = np.array(["b", "a", None] * 15, dtype=object)
    fwd = factors.forward_returns(close, (1,))
    ic = factors.information_coefficient(factor, fwd, groups=groups)
    assert ic.shape == (1, 2, 30)
    qr = factors.quantile_returns(factor, fwd, quantiles=3, groups=groups)
    assert qr.groups == ["a", "b"] and qr.by_group is not None
    quant = oracle.quantiles(factor, 3)
    r = fwd[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for g, label in enumerate(["a", "b"]):
            sel = groups == label
            expected = [oracle.rank_ic(factor[sel, d], r[sel, d]) for d in range(30)]
            close_nan(ic[0, g], expected)
            # demeaned by the whole cross-section's mean, averaged within the group
            ok = np.isfinite(quant) & np.isfinite(r)
            mean = np.nansum(np.where(ok, r, np.nan), axis=0) / ok.sum(axis=0)
            for k in range(1, 4):
                cell = ok & sel[:, None] & (quant == k)
                x = np.where(cell, r - mean, 0.0).sum(axis=0)
                with np.errstate(invalid="ignore"):
                    close_nan(
                        qr.by_group[0, g, k - 1], np.where(cell.any(0), x / cell.sum(0), np.nan)
                    )


def test_results_do_not_depend_on_thread_count() -> None:
    factor, close = ragged_panel(11, 300, 200, ties=True)
    groups = np.arange(300) % 7
    runs = []
    for n in (1, 2, 3, 8):
        with fq.threads(n):
            runs.append(factors.analyze(factor, close, horizons=(1, 5), groups=groups))
    for other in runs[1:]:
        for name in ("quantile", "ic", "ic_pearson", "turnover", "autocorrelation", "ic_by_group"):
            np.testing.assert_array_equal(getattr(other, name), getattr(runs[0], name))
        np.testing.assert_array_equal(
            other.quantile_returns.by_date, runs[0].quantile_returns.by_date
        )


def test_long_lags_across_date_ranges() -> None:
    """The core splits the dates into ranges (more with more threads), re-ranking the `max(lag)`
    dates before each: lagged statistics at the range edges must not depend on the split."""
    f1, close = ragged_panel(5, 120, 700, ties=True)
    f2, _ = ragged_panel(6, 120, 700, ties=False)
    runs = []
    for n in (1, 2, 7):
        with fq.threads(n):
            runs.append(
                factors.analyze_many([f1, f2], close, horizons=(1, 5, 21), common_universe=False)
            )
    for other in runs[1:]:
        for a, b in zip(other, runs[0], strict=True):
            for name in ("quantile", "ic", "ic_pearson", "turnover", "autocorrelation", "n_used"):
                np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
            np.testing.assert_array_equal(a.quantile_returns.by_date, b.quantile_returns.by_date)
    # and the lagged statistics equal the oracle's at every date
    res = runs[-1][1]
    quant = res.quantile
    for k, lag in enumerate((1, 5, 21)):
        for d in range(lag, 700, 37):
            now, then = quant[:, d], quant[:, d - lag]
            for b in range(1, 6):
                cell = now == b
                if cell.any() and np.isfinite(then).any():
                    expected = (cell & (then != b)).sum() / cell.sum()
                    assert res.turnover[k, b - 1, d] == expected


@pytest.mark.parametrize("q", [1, 5])
def test_rank_ic_equals_spearmanr_with_heavy_ties(q: int) -> None:
    rng = np.random.default_rng(q)
    factor = rng.integers(0, 3, (200, 50)).astype(float)
    fwd = np.round(rng.normal(size=(200, 50)), 1)
    ic = factors.information_coefficient(factor, fwd)
    expected = [oracle.rank_ic(factor[:, d], fwd[:, d]) for d in range(50)]
    close_nan(ic, expected)


def test_analyze_many_equals_one_at_a_time() -> None:
    """Seven factors span two internal batches; each equals its own analyze() call."""
    _, close = ragged_panel(5, 60, 80, ties=False)
    rng = np.random.default_rng(5)
    block = np.where(np.isfinite(close), rng.integers(0, 6, (7, 60, 80)).astype(float), np.nan)
    many = factors.analyze_many(block, close, horizons=(1, 5), groups=np.arange(60) % 3)
    for k in range(7):
        one = factors.analyze(block[k], close, horizons=(1, 5), groups=np.arange(60) % 3)
        for name in ("quantile", "ic", "ic_pearson", "turnover", "autocorrelation", "n_used"):
            np.testing.assert_array_equal(getattr(many[k], name), getattr(one, name))
        np.testing.assert_array_equal(many[k].ic_by_group, one.ic_by_group)
        np.testing.assert_array_equal(
            many[k].quantile_returns.by_date, one.quantile_returns.by_date
        )
