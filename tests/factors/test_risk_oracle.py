"""The risk-model steps against the plain NumPy/SciPy oracle (``_risk_oracle``), on ragged panels
(listings mid-sample, delistings, suspended days). Tolerances are stated per test."""

from __future__ import annotations

import _risk_oracle as oracle
import numpy as np
import pytest
from numpy.typing import NDArray

import ferroquant as fq
from ferroquant import factors

F64 = NDArray[np.float64]


def ragged(n: int, t: int, seed: int) -> tuple[F64, F64, F64]:
    """close, volume, caps with late listings, delistings and 1% suspended (NaN) days."""
    rng = np.random.default_rng(seed)
    market = rng.normal(0.0003, 0.01, t)
    beta = rng.uniform(0.5, 1.5, n)
    r = beta[:, None] * market + rng.normal(0, 0.015, (n, t))
    close = 30 * np.exp(np.cumsum(r, axis=1))
    shares = rng.uniform(1e6, 1e8, n)[:, None] * np.ones(t)
    volume = rng.lognormal(12, 1, (n, t))
    for i in range(0, n, 4):
        close[i, : rng.integers(1, t // 2)] = np.nan
    for i in range(1, n, 5):
        close[i, rng.integers(t // 2, t) :] = np.nan
    close[rng.random((n, t)) < 0.01] = np.nan
    volume[~np.isfinite(close)] = np.nan
    return close, volume, close * shares


def close_nan(a: F64, b: F64, rtol: float, atol: float = 0.0) -> None:
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)


def test_descriptors_equal_the_oracle() -> None:
    # Recursive O(1) windows vs explicit weight vectors: <= 1e-9 relative, 1e-12 absolute.
    close, volume, caps = ragged(6, 620, 1)
    d = factors.risk_descriptors(close, volume, caps=caps)
    want = oracle.descriptors(close, close * volume, caps)
    for j, name in enumerate(factors.STYLE_NAMES[:6]):
        close_nan(d[name], want[j], rtol=1e-9, atol=1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_allclose(d["size"], np.log(caps), rtol=1e-15)
    # without caps: equal-weighted market, size = the dollar-volume proxy
    d = factors.risk_descriptors(close, volume)
    want = oracle.descriptors(close, close * volume, None)
    close_nan(d["beta"], want[0], rtol=1e-9, atol=1e-12)
    close_nan(d["size"], want[6], rtol=1e-9, atol=1e-12)


def test_technical_descriptors_equal_the_indicator_engine() -> None:
    # Same kernels in the descriptor pass: bit-identical to ferroquant.indicators.
    close, _, _ = ragged(5, 300, 2)
    d = factors.risk_descriptors(close)
    np.testing.assert_array_equal(d["rsi"], fq.indicators.rsi(close, 14))
    _, upper, lower = fq.indicators.bollinger(close, 20, 2.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        b = (close - lower) / (upper - lower)
        p2s = close / fq.indicators.sma(close, 50) - 1.0
    np.testing.assert_array_equal(d["bollinger_b"], np.where(np.isfinite(b), b, np.nan))
    np.testing.assert_array_equal(d["price_to_sma"], p2s)
    assert np.isnan(d["liquidity"]).all()  # no volume given


@pytest.mark.parametrize("with_caps", [True, False])
def test_standardisation_equals_the_oracle(with_caps: bool) -> None:
    # <= 1e-10 absolute on z-scores; imputed and dropped counts exact.
    rng = np.random.default_rng(3)
    k, n, t = 4, 80, 12
    raw = rng.standard_t(3, (k, n, t))
    raw[rng.random((k, n, t)) < 0.1] = np.nan
    raw[:, :5, 3] = np.nan  # five names without any style on date 3
    raw[2, :, 7] = 1.5  # a constant style on date 7
    caps = rng.lognormal(10, 1, (n, t)) if with_caps else None
    universe = rng.random((n, t)) < 0.9
    orth = {"s2": ["s0", "s1"]}
    e = factors.standardize_exposures(
        raw,
        ["s0", "s1", "s2", "s3"],
        caps=caps,
        universe=universe,
        min_styles=2,
        orthogonalize=orth,
    )
    want, imputed, dropped = oracle.standardize(raw, caps, universe, 3.0, 2, [(2, [0, 1])])
    close_nan(e.values, want, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(e.imputed, imputed)
    np.testing.assert_array_equal(e.dropped, dropped)
    np.testing.assert_array_equal(e.universe, universe.sum(0))
    assert e.dropped[3] >= 1 and e.imputed.sum() > 0


def regression_inputs(n: int, t: int, k: int, g: int, seed: int):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(k, n, t))
    x[rng.random((k, n, t)) < 0.01] = np.nan
    codes = rng.integers(0, g, n)
    caps = rng.lognormal(10, 1.5, (n, t))
    caps[rng.random((n, t)) < 0.02] = np.nan
    y = 0.01 * rng.standard_t(4, (n, t))
    y[rng.random((n, t)) < 0.03] = np.nan
    return x, y, codes, caps


def test_factor_returns_equal_the_dense_kkt_oracle() -> None:
    # Factor returns <= 1e-9 absolute (issue 6 §3); t-stats, R² and residuals <= 1e-9 relative;
    # the industry constraint holds to <= 1e-12.
    k, n, t, g = 5, 300, 20, 8
    x, y, codes, caps = regression_inputs(n, t, k, g, 4)
    caps[codes == 3, :5] = np.nan  # industry 3 empty on dates 0..4
    fr = factors.factor_returns(x, y, codes, caps=caps, lead=1)
    assert fr.names[:3] == ("country", "0", "1") and len(fr.names) == 1 + g + k
    for d in range(t - 1):
        f, tv, r2, e = oracle.regression_date(
            x[:, :, d].T, y[:, d + 1], np.sqrt(caps[:, d]), caps[:, d], codes, g
        )
        np.testing.assert_allclose(fr.returns[:, d], f, rtol=0, atol=1e-9)
        close_nan(fr.tstats[:, d], tv, rtol=1e-9)
        assert fr.r2[d] == pytest.approx(r2, rel=1e-9)
        close_nan(fr.residuals[:, d], e, rtol=0, atol=1e-12)
        ok = np.isfinite(e)
        share = np.array([np.nansum(caps[ok & (codes == c), d]) for c in range(g)])
        assert abs(share @ fr.returns[1 : 1 + g, d]) / share.sum() <= 1e-12
    assert np.isnan(fr.returns[:, -1]).all()  # no next-period return
    assert (fr.returns[1 + 3, :5] == 0).all() and np.isnan(fr.tstats[1 + 3, :5]).all()
    assert (fr.industries_used[:5] == g - 1).all() and (fr.industries_used[5:-1] == g).all()


def test_noise_free_returns_recover_the_factors() -> None:
    # y = X f exactly (with f satisfying the constraint): recovered to <= 1e-8.
    k, n, t, g = 10, 2000, 6, 30
    x, _, codes, caps = regression_inputs(n, t, k, g, 5)
    rng = np.random.default_rng(6)
    f = rng.normal(0, 0.01, (1 + g + k, t))
    y = np.full((n, t), np.nan)
    for d in range(t):
        ok = np.isfinite(caps[:, d]) & np.isfinite(x[:, :, d]).all(0)
        share = np.array([caps[ok & (codes == c), d].sum() for c in range(g)])
        f[1 : 1 + g, d] -= (share @ f[1 : 1 + g, d]) / share.sum()
        y[:, d] = f[0, d] + f[1 + codes, d] + x[:, :, d].T @ f[1 + g :, d]
    labels = [f"sector{c:02d}" for c in codes]  # sorted label order = code order
    fr = factors.factor_returns(x, y, labels, caps=caps, lead=0)
    np.testing.assert_allclose(fr.returns, f, rtol=0, atol=1e-8)
    assert np.nanmax(np.abs(fr.residuals)) < 1e-12


def test_covariance_equals_the_oracle_and_is_psd() -> None:
    # Against explicit weights over the whole history: <= 1e-10 relative; symmetric to the bit;
    # eigenvalues >= -1e-12 times the largest.
    rng = np.random.default_rng(7)
    k, t = 5, 260
    fr = rng.multivariate_normal(np.zeros(k), np.eye(k) + 0.5, t).T * 0.01
    fr[:, 1:] += 0.3 * fr[:, :-1]  # serial correlation so Newey-West matters
    fr[:, 100] = np.nan  # a skipped regression date
    c = factors.factor_covariance(
        fr, vol_half_life=30, corr_half_life=90, nw_lags=2, vra_half_life=20, min_obs=40
    )
    want, vra = oracle.covariance(fr, 30, 90, 2, 20, 40)
    close_nan(c.cov, want, rtol=1e-10, atol=1e-18)
    close_nan(c.vra, vra, rtol=1e-10)
    np.testing.assert_array_equal(c.cov[100], c.cov[99])
    last = c.cov[-1]
    np.testing.assert_array_equal(last, last.T)
    ev = np.linalg.eigvalsh(last)
    assert ev.min() >= -1e-12 * ev.max()


def test_specific_risk_equals_the_oracle() -> None:
    # <= 1e-10 relative.
    rng = np.random.default_rng(8)
    n, t = 40, 60
    e = rng.normal(0, 0.02, (n, t)) * rng.uniform(0.5, 2, (n, 1))
    e[rng.random((n, t)) < 0.1] = np.nan
    size = rng.lognormal(10, 1, (n, t))
    got = factors.specific_risk(e, size, half_life=20, min_obs=10, shrinkage=0.3, n_groups=4)
    want = oracle.specific(e, size, 20, 10, 0.3, 4)
    close_nan(got, want, rtol=1e-10)
    raw = factors.specific_risk(e, None, half_life=20, min_obs=10)
    close_nan(raw, oracle.specific(e, None, 20, 10, 0.0, 4), rtol=1e-10)
    assert not np.allclose(got[:, -1], raw[:, -1])  # the shrinkage did something
