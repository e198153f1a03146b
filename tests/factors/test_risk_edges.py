"""Risk model on ragged universes, degenerate dates and bad inputs; thread-count independence."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ferroquant as fq
from ferroquant import errors, factors


def universe(n: int, t: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str]]:
    rng = np.random.default_rng(seed)
    close = 40 * np.exp(np.cumsum(rng.normal(0.0003, 0.02, (n, t)), axis=1))
    for i in range(0, n, 7):  # listed mid-sample
        close[i, : rng.integers(10, t // 2)] = np.nan
    for i in range(3, n, 11):  # delisted
        close[i, rng.integers(t // 2, t - 5) :] = np.nan
    close[rng.random((n, t)) < 0.003] = np.nan  # suspended days
    volume = rng.lognormal(11, 1, (n, t))
    caps = close * rng.uniform(1e6, 1e8, n)[:, None]
    industries = [f"ind{c}" for c in rng.integers(0, 6, n)]
    return close, volume, caps, industries


@pytest.fixture(scope="module")
def model() -> factors.RiskModel:
    close, volume, caps, ind = universe(90, 700, 1)
    return factors.risk_model(close, ind, volume, caps=caps)


def test_ragged_universe_gives_documented_nans_and_counts(model: factors.RiskModel) -> None:
    close, _, _, _ = universe(90, 700, 1)
    e = model.exposures
    # outside the universe (no price) every exposure is NaN; inside, none is after imputation
    inside = np.isfinite(close)
    assert np.isnan(e.values[:, ~inside]).all()
    kept = inside & np.isfinite(e.values).all(0)
    assert (np.isfinite(e.values[:, kept])).all()
    np.testing.assert_array_equal(e.universe, inside.sum(0))
    # early dates: descriptors missing for everyone -> dropped, counted, never silent
    assert e.dropped[5] == inside[:, 5].sum()
    assert (e.dropped + (kept.sum(0)) == e.universe).all()
    fr = model.factor_returns
    # residuals exist exactly for the assets used on a regressed date
    used = np.isfinite(fr.residuals).sum(0)
    np.testing.assert_array_equal(used[np.isfinite(fr.r2)], fr.n_obs[np.isfinite(fr.r2)])
    assert np.isnan(fr.returns[:, -1]).all()  # no next-period return at the last date
    # the first dates have too few assets with exposures: skipped, n_obs says why
    skipped = np.isnan(fr.returns[0])
    assert skipped[:15].all() and not skipped[300:-1].any()
    early = np.flatnonzero(skipped[:-1])
    assert (fr.n_obs[early] < fr.industries_used[early] + 10 + 1).all()
    cov = model.covariance.cov
    last = cov[-1]
    np.testing.assert_array_equal(last, last.T)
    assert np.linalg.eigvalsh(last).min() >= -1e-12 * np.abs(last).max()


def test_portfolio_risk_adds_up(model: factors.RiskModel) -> None:
    ok = np.isfinite(model.specific_variance[:, -2]) & np.isfinite(model.exposures.values[0, :, -1])
    w = np.where(ok, 1.0, 0.0) / ok.sum()
    r = model.portfolio_risk(w)
    x = model.loadings(-1)
    f = model.covariance.cov[-2]
    xw = x[ok].T @ w[ok]
    assert r.factor == pytest.approx(float(xw @ f @ xw), rel=1e-12)
    assert r.total == pytest.approx(r.factor + r.specific, rel=1e-15)
    assert r.contributions.sum() == pytest.approx(r.factor, rel=1e-12)
    assert r.names[0] == "country" and r.exposures[0] == pytest.approx(1.0)
    with pytest.raises(errors.InvalidParameterError, match="weight 0"):
        model.portfolio_risk(np.ones(90) / 90)


def test_too_few_assets_and_constant_exposure() -> None:
    rng = np.random.default_rng(2)
    n, t = 12, 4
    x = rng.normal(size=(2, n, t))
    x[1, :, 1] = 0.0  # a constant (standardised) style on date 1
    y = rng.normal(0, 0.01, (n, t))
    y[3:, 2] = np.nan  # three assets on date 2: fewer than industries + styles + 1
    ind = ["a", "b", "c"] * 4
    fr = factors.factor_returns(x, y, ind, lead=0)
    assert fr.styles_dropped[1] == 1 and fr.returns[-1, 1] == 0 and np.isnan(fr.tstats[-1, 1])
    assert np.isfinite(fr.returns[:, 1]).all()
    assert np.isnan(fr.returns[:, 2]).all() and fr.n_obs[2] == 3 and np.isnan(fr.r2[2])
    assert np.isnan(fr.residuals[:, 2]).all()
    # a standardised constant style is 0, not NaN
    raw = rng.normal(size=(2, n, 1))
    raw[0] = 7.0
    e = factors.standardize_exposures(raw, min_styles=1)
    assert (e.values[0] == 0).all()


def test_results_do_not_depend_on_the_thread_count() -> None:
    close, volume, caps, ind = universe(150, 640, 3)
    runs = []
    for n in (1, 2, 3):
        with fq.threads(n):
            m = factors.risk_model(close, ind, volume, caps=caps)
            adj = factors.eigen_adjust(m.covariance.cov[-2], n_sims=20, seed=5)
        runs.append((m, adj))
    base, base_adj = runs[0]
    for m, adj in runs[1:]:
        np.testing.assert_array_equal(m.exposures.values, base.exposures.values)
        np.testing.assert_array_equal(m.factor_returns.returns, base.factor_returns.returns)
        np.testing.assert_array_equal(m.factor_returns.residuals, base.factor_returns.residuals)
        np.testing.assert_array_equal(m.covariance.cov, base.covariance.cov)
        np.testing.assert_array_equal(m.specific_variance, base.specific_variance)
        np.testing.assert_array_equal(adj, base_adj)


def test_eigen_adjustment_is_seeded_psd_and_inflates_small_eigenvalues() -> None:
    rng = np.random.default_rng(4)
    a = rng.normal(size=(6, 6))
    cov = a @ a.T + 0.1 * np.eye(6)
    one = factors.eigen_adjust(cov, n_sims=200, n_periods=60, seed=1)
    np.testing.assert_array_equal(one, factors.eigen_adjust(cov, n_sims=200, n_periods=60, seed=1))
    assert not np.array_equal(one, factors.eigen_adjust(cov, n_sims=200, n_periods=60, seed=2))
    np.testing.assert_allclose(one, one.T, rtol=0, atol=1e-15 * np.abs(one).max())
    before, after = np.linalg.eigvalsh(cov), np.linalg.eigvalsh(one)
    assert after.min() > before.min()  # sample covariances understate the smallest eigenvalue
    assert after.min() >= 0


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(30, 120),
    k=st.integers(1, 4),
    g=st.integers(1, 5),
    seed=st.integers(0, 2**32 - 1),
)
def test_noise_free_factor_returns_are_recovered(n: int, k: int, g: int, seed: int) -> None:
    # y = X f with the constraint satisfied: f recovered to <= 1e-8 on any such cross-section.
    rng = np.random.default_rng(seed)
    codes = np.arange(n) % g
    x = rng.normal(size=(k, n, 1))
    caps = rng.lognormal(5, 2, (n, 1))
    f = rng.normal(0, 0.02, 1 + g + k)
    share = np.array([caps[codes == c, 0].sum() for c in range(g)])
    f[1 : 1 + g] -= share @ f[1 : 1 + g] / share.sum()
    y = (f[0] + f[1 + codes] + x[:, :, 0].T @ f[1 + g :])[:, None]
    fr = factors.factor_returns(x, y, [f"g{c}" for c in codes], caps=caps, lead=0)
    np.testing.assert_allclose(fr.returns[:, 0], f, rtol=0, atol=1e-8)
    assert abs(share @ fr.returns[1 : 1 + g, 0]) <= 1e-12 * share.sum()


def test_bad_inputs_raise_errors_that_say_how_to_fix() -> None:
    x = np.zeros((2, 5, 3))
    y = np.zeros((5, 3))
    with pytest.raises(errors.ShapeError, match="exposures"):
        factors.factor_returns(np.zeros((2, 4, 3)), y, ["a"] * 5)
    with pytest.raises(errors.ShapeError, match="one label per asset"):
        factors.factor_returns(x, y, ["a"] * 4)
    with pytest.raises(errors.InvalidParameterError, match="lead"):
        factors.factor_returns(x, y, ["a"] * 5, lead=-1)
    bad = y.copy()
    bad[1, 2] = np.inf
    with pytest.raises(errors.NonFiniteError, match="asset 1, bar 2"):
        factors.factor_returns(x, bad, ["a"] * 5)
    # Exposures are checked block by block during the regression; the error still names the
    # first infinity in row order (style 0, asset 20 comes before style 1, asset 7), a warm-up
    # column included.
    xs = np.random.default_rng(0).normal(size=(2, 30, 20))
    ys = np.random.default_rng(1).normal(0, 0.01, (30, 20))
    xs[1, 7, 3], xs[1, 9, 2], xs[0, 20, 19] = np.inf, -np.inf, np.inf
    with pytest.raises(errors.NonFiniteError, match="exposures holds inf at asset 20, bar 19"):
        factors.factor_returns(xs, ys, ["a", "b", "c"] * 10)
    xs[0, 20, 19] = 0.0
    with pytest.raises(errors.NonFiniteError, match="asset 7, bar 3"):
        factors.factor_returns(xs, ys, ["a", "b", "c"] * 10, start=12)
    with pytest.raises(errors.InvalidParameterError, match="min_styles"):
        factors.standardize_exposures(x, min_styles=3)
    with pytest.raises(errors.InvalidParameterError, match="orthogonalize"):
        factors.standardize_exposures(x, ["a", "b"], orthogonalize={"a": ["zz"]})
    with pytest.raises(errors.InvalidParameterError, match="half-life"):
        factors.factor_covariance(np.zeros((2, 10)), vol_half_life=-1)
    with pytest.raises(errors.InvalidParameterError, match="min_obs"):
        factors.factor_covariance(np.zeros((2, 10)), min_obs=0)
    with pytest.raises(errors.ShapeError, match="square"):
        factors.eigen_adjust(np.zeros((2, 3)))
    with pytest.raises(errors.InvalidParameterError, match="finite matrix"):
        factors.eigen_adjust(np.full((2, 2), np.nan))
    with pytest.raises(errors.ShapeError, match="like residuals"):
        factors.specific_risk(y, np.zeros((4, 3)))
    with pytest.raises(errors.InvalidParameterError, match="shrinkage"):
        factors.specific_risk(y, shrinkage=-1.0)
    with pytest.raises(errors.ShapeError, match="like close"):
        factors.risk_descriptors(y, np.zeros((4, 3)))
    with pytest.raises(errors.InvalidParameterError, match="clash"):
        factors.risk_descriptors(y, extra={"beta": y})
    with pytest.raises(errors.DTypeError):
        factors.risk_descriptors(np.array([["a", "b"]]))
    with pytest.raises(ValueError):
        factors.portfolio_risk([1.0], np.ones((1, 2)), np.ones((3, 3)), [0.1])


def test_user_exposures_join_by_name() -> None:
    close, volume, caps, _ = universe(40, 600, 5)
    value = np.log(caps) * 0.1 + np.random.default_rng(0).normal(size=caps.shape)
    d = factors.risk_descriptors(close, volume, caps=caps, extra={"value": value})
    assert d.names[-1] == "value"
    np.testing.assert_array_equal(d["value"], value)


def test_start_skips_warm_up_dates_without_changing_the_others() -> None:
    rng = np.random.default_rng(9)
    x = rng.normal(size=(2, 50, 140))
    y = rng.normal(0, 0.01, (50, 140))
    ind = ["a", "b"] * 25
    full = factors.factor_returns(x, y, ind)
    part = factors.factor_returns(x, y, ind, start=70)
    assert np.isnan(part.returns[:, :70]).all() and (part.n_obs[:70] == 0).all()
    assert np.isnan(part.residuals[:, :70]).all()
    np.testing.assert_array_equal(part.returns[:, 70:], full.returns[:, 70:])
    np.testing.assert_array_equal(part.residuals[:, 70:], full.residuals[:, 70:])


def test_fused_exposures_and_regression_equal_the_two_steps() -> None:
    close, volume, caps, ind = universe(70, 620, 6)
    d = factors.risk_descriptors(close, volume, caps=caps)
    ret = fq.indicators.returns(close)
    kw = {"caps": caps, "universe": np.isfinite(close), "orthogonalize": {"liquidity": ["size"]}}
    e, fr = factors.exposures_and_factor_returns(d.values, ret, ind, names=d.names, start=300, **kw)
    e2 = factors.standardize_exposures(d.values, d.names, **kw)
    fr2 = factors.factor_returns(e2.values, ret, ind, caps=caps, style_names=d.names, start=300)
    np.testing.assert_array_equal(e.values, e2.values)
    np.testing.assert_array_equal(e.imputed, e2.imputed)
    for name in ("returns", "tstats", "r2", "n_obs", "styles_dropped", "residuals"):
        np.testing.assert_array_equal(getattr(fr, name), getattr(fr2, name))
    assert fr.names == fr2.names
    with pytest.raises(errors.ShapeError, match="like one style"):
        factors.exposures_and_factor_returns(d.values, ret[:, :-1], ind)


def test_risk_model_applies_the_eigen_adjustment_to_the_latest_matrix() -> None:
    close, volume, caps, ind = universe(60, 620, 7)
    m = factors.risk_model(close, ind, volume, caps=caps, eigen={"n_sims": 20, "seed": 3})
    assert m.eigen_adjusted is not None
    np.testing.assert_array_equal(
        m.eigen_adjusted, factors.eigen_adjust(m.covariance.cov[-1], n_sims=20, seed=3)
    )
    assert factors.risk_model(close, ind, volume, caps=caps).eigen_adjusted is None


@pytest.mark.parametrize("winsor", [0.0, 3.0])
def test_zscores_stay_exact_when_an_outlier_comes_first(winsor: float) -> None:
    # The moments are taken about the first value in asset order; an extreme outlier there must
    # not cost digits (the kernel then sums the squares again about the mean).
    rng = np.random.default_rng(5)
    raw = rng.normal(size=(1, 4000, 9))
    raw[0, 0, :] = 1e6
    got = factors.standardize_exposures(raw, winsor=winsor, min_styles=1).values[0]
    for t in range(raw.shape[2]):
        x = raw[0, :, t].copy()
        if winsor:
            mu, sd = x.mean(), x.std(ddof=1)
            x = np.clip(x, mu - winsor * sd, mu + winsor * sd)
        want = (x - x.mean()) / x.std(ddof=1)
        np.testing.assert_allclose(got[:, t], want, rtol=1e-12, atol=1e-12)
