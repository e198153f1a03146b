"""Degenerate dates, ragged universes and bad arguments: documented results or typed errors."""

from __future__ import annotations

import numpy as np
import pytest

from ferroquant import errors, factors


def test_constant_factor_date_is_degenerate() -> None:
    factor = np.array([[1.0, 1.0, 4.0], [2.0, 1.0, 3.0], [3.0, 1.0, 2.0], [4.0, 1.0, 1.0]])
    close = np.array([[1.0, 1.1, 1.2], [1.0, 0.9, 1.0], [1.0, 1.2, 1.1], [1.0, 1.0, 1.3]])
    res = factors.analyze(factor, close, horizons=(1,), quantiles=2, common_universe=False)
    assert res.degenerate.tolist() == [False, True, False]
    assert np.isnan(res.quantile[:, 1]).all()
    assert np.isnan(res.ic[0, 1]) and np.isnan(res.quantile_returns.by_date[0, :, 1]).all()
    assert np.isfinite(res.ic[0, 0])
    # turnover after a degenerate date is NaN (nothing to compare with), not 100%
    assert np.isnan(res.turnover[0, :, 2]).all()
    assert np.isnan(res.autocorrelation[0, 1:]).all()


def test_quantile_codes_are_the_float_labels() -> None:
    """``quantile`` (float, NaN = none) is made from the uint8 ``quantile_codes`` (0 = none)."""
    rng = np.random.default_rng(3)
    factor = np.round(rng.normal(size=(40, 30)), 1)
    factor[rng.random(factor.shape) < 0.1] = np.nan
    factor[:, 7] = 2.0  # a degenerate date: no labels
    close = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, (40, 30)), axis=1))
    res = factors.analyze(factor, close, horizons=(1, 5), quantiles=4)
    codes = res.quantile_codes
    assert codes.dtype == np.uint8 and codes.shape == factor.shape
    assert res.quantile.dtype == np.float64
    np.testing.assert_array_equal(np.isnan(res.quantile), codes == 0)
    np.testing.assert_array_equal(res.quantile[codes > 0], codes[codes > 0])
    assert (codes[:, 7] == 0).all() and res.quantile is res.quantile  # computed once
    # dates with every horizon's return: the labels of the factor alone
    np.testing.assert_array_equal(
        factors.assign_quantiles(factor, 4)[:, 8:25], res.quantile[:, 8:25]
    )


def test_too_few_assets() -> None:
    one = factors.analyze(np.array([[1.0, 2.0]]), np.array([[1.0, 2.0]]), horizons=(1,))
    assert np.isnan(one.ic).all()
    assert one.n_used[0].tolist() == [1.0, 0.0]
    assert one.n_missing_return[0].tolist() == [0.0, 1.0]
    # two names and five quantiles: qcut edges are distinct, names get quantiles 1 and 5
    two = factors.assign_quantiles(np.array([[1.0], [2.0]]), quantiles=5)
    assert two[:, 0].tolist() == [1.0, 5.0]


def test_ragged_universe_counts_everything() -> None:
    nan = np.nan
    close = np.array(
        [
            [nan, nan, 10.0, 11.0, 12.0],  # listed mid-sample
            [10.0, 11.0, 12.0, nan, nan],  # delisted
            [10.0, nan, 10.5, 10.0, 10.2],  # suspended one day
            [10.0, 10.1, 10.2, 10.3, 10.4],
        ]
    )
    factor = np.array(
        [
            [nan, nan, 1.0, 2.0, 3.0],
            [1.0, 2.0, 3.0, nan, nan],
            [2.0, nan, 2.0, 1.0, 1.0],
            [3.0, 3.0, nan, 3.0, 2.0],
        ]
    )
    res = factors.analyze(factor, close, horizons=(1,), quantiles=2)
    assert res.n_factor.tolist() == [3, 2, 3, 3, 3]
    assert res.n_used[0].tolist() == [2, 2, 2, 3, 0]
    assert res.n_missing_return[0].tolist() == [1, 0, 1, 0, 3]
    assert res.n_missing_factor[0].tolist() == [0, 0, 1, 0, 0]
    np.testing.assert_array_equal(res.n_used + res.n_missing_return, res.n_factor[None])


def test_common_universe_off_uses_each_horizon_s_names() -> None:
    rng = np.random.default_rng(0)
    close = 100 + rng.normal(size=(20, 30)).cumsum(axis=1)
    factor = rng.normal(size=(20, 30))
    on = factors.analyze(factor, close, horizons=(1, 5))
    off = factors.analyze(factor, close, horizons=(1, 5), common_universe=False)
    assert np.isnan(on.ic[0, 25:]).all()  # no 5-date return on the last five dates
    assert np.isfinite(off.ic[0, 25:29]).all()
    assert on.n_incomplete[25:29].tolist() == [20] * 4
    assert (off.n_incomplete == 0).all()


def test_all_nan_factor() -> None:
    res = factors.analyze(np.full((5, 8), np.nan), np.ones((5, 8)), horizons=(1, 2))
    assert np.isnan(res.ic).all() and np.isnan(res.mean_ic).all()
    assert not res.degenerate.any() and (res.n_factor == 0).all()


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: factors.forward_returns(np.ones((2, 3)), (0,)), errors.InvalidParameterError),
        (lambda: factors.forward_returns(np.ones((2, 3)), ()), errors.InvalidParameterError),
        (lambda: factors.forward_returns(np.array([[1.0, np.inf]]), (1,)), errors.NonFiniteError),
        (lambda: factors.assign_quantiles(np.ones((2, 3)), 0), errors.InvalidParameterError),
        (lambda: factors.assign_quantiles(np.ones((2, 0))), errors.EmptyInputError),
        (lambda: factors.assign_quantiles(np.ones((2, 3, 4))), errors.ShapeError),
        (lambda: factors.assign_quantiles(np.array([["a"]])), errors.DTypeError),
        (
            lambda: factors.information_coefficient(np.ones((2, 3)), np.ones((2, 4))),
            errors.ShapeError,
        ),
        (
            lambda: factors.information_coefficient(np.ones((2, 3)), np.ones((2, 3)), "kendall"),
            errors.InvalidParameterError,
        ),
        (
            lambda: factors.information_coefficient(np.array([[np.inf, 1.0]]), np.ones((1, 2))),
            errors.NonFiniteError,
        ),
        (
            lambda: factors.quantile_returns(np.ones((2, 3)), np.ones((2, 3)), groups=["a"]),
            errors.ShapeError,
        ),
        (
            lambda: factors.rank_autocorrelation(np.ones((2, 3)), lag=0),
            errors.InvalidParameterError,
        ),
        (lambda: factors.analyze(np.ones((2, 3))), errors.InvalidParameterError),
        (
            lambda: factors.analyze(np.ones((2, 3)), forward=np.ones((1, 2, 3)), horizons=(1, 2)),
            errors.InvalidParameterError,
        ),
    ],
)
def test_bad_arguments_raise_typed_errors(call: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        call()  # type: ignore[operator]
