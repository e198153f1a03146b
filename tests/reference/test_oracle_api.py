"""The oracle's own contract: argument errors, shapes, ``lookback``, 2-D = row by row, exact
moments, the standard set, and its docstring examples."""

from __future__ import annotations

import doctest
import importlib
import math
import time
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_array_equal

from ferroquant import reference as ref
from ferroquant.errors import DTypeError, InvalidParameterError, NonFiniteError, ShapeError

T = "talib"
Arr = np.ndarray[Any, Any]


def _hlc(x: Arr) -> tuple[Arr, Arr, Arr]:
    return x + 1.0, x - 1.0, x


# name -> (function of a 2-D/1-D close array, lookback name, lookback params)
INDICATORS: dict[str, tuple[Callable[[Arr, str], Any], str, dict[str, Any]]] = {
    "sma": (lambda x, c: ref.sma(x, 5, convention=c), "sma", {"period": 5}),
    "sma_mp": (
        lambda x, c: ref.sma(x, 5, min_periods=3, convention=c),
        "sma",
        {"period": 5, "min_periods": 3},
    ),
    "ema": (lambda x, c: ref.ema(x, 6, convention=c), "ema", {"period": 6}),
    "wma": (lambda x, c: ref.wma(x, 4), "wma", {"period": 4}),
    "rolling_sum": (lambda x, c: ref.rolling_sum(x, 4), "rolling_sum", {"window": 4}),
    "rolling_var": (
        lambda x, c: ref.rolling_var(x, 4, min_periods=1),
        "rolling_var",
        {"window": 4, "min_periods": 1},
    ),
    "stddev": (lambda x, c: ref.stddev(x, 5, convention=c), "stddev", {"period": 5}),
    "rsi": (lambda x, c: ref.rsi(x, 7, convention=c), "rsi", {"period": 7}),
    "bollinger": (
        lambda x, c: ref.bollinger(x, 8, convention=c).lower,
        "bollinger",
        {"period": 8},
    ),
    "macd": (
        lambda x, c: ref.macd(x, 4, 9, 3, convention=c).hist,
        "macd",
        {"fast": 4, "slow": 9, "signal": 3},
    ),
    "true_range": (lambda x, c: ref.true_range(*_hlc(x), convention=c), "true_range", {}),
    "atr": (lambda x, c: ref.atr(*_hlc(x), 6, convention=c), "atr", {"period": 6}),
    "natr": (lambda x, c: ref.natr(*_hlc(x), 6, convention=c), "natr", {"period": 6}),
    "cci": (lambda x, c: ref.cci(*_hlc(x), 6, convention=c), "cci", {"period": 6}),
    "willr": (lambda x, c: ref.willr(*_hlc(x), 6, convention=c), "willr", {"period": 6}),
    "ultosc": (
        lambda x, c: ref.ultosc(*_hlc(x), 2, 5, 3, convention=c),
        "ultosc",
        {"period1": 2, "period2": 5, "period3": 3},
    ),
    "returns": (lambda x, c: ref.returns(x, periods=2), "returns", {"periods": 2}),
    "cumulative_return": (lambda x, c: ref.cumulative_return(x), "cumulative_return", {}),
    "drawdown": (lambda x, c: ref.drawdown(x), "drawdown", {}),
}


def _walk(n_assets: int, n_bars: int, seed: int = 0) -> Arr:
    rng = np.random.default_rng(seed)
    return 100.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, (n_assets, n_bars)), axis=1))


@pytest.mark.parametrize("convention", ["pandas", T])
@pytest.mark.parametrize("name", list(INDICATORS))
def test_lookback_is_the_first_valid_bar(name: str, convention: str) -> None:
    func, lb_name, params = INDICATORS[name]
    out = func(_walk(1, 60)[0], convention)
    first = int(np.flatnonzero(~np.isnan(out))[0])
    assert ref.lookback(lb_name, convention=convention, **params) == first
    assert not np.isnan(out[first:]).any()


def test_lookback_table_defaults() -> None:
    assert ref.lookback("sma") == 0 and ref.lookback("sma", convention=T) == 19
    assert ref.lookback("ema") == 0 and ref.lookback("ema", convention=T) == 19
    assert ref.lookback("rsi") == ref.lookback("rsi", convention=T) == 14
    assert ref.lookback("macd") == 0 and ref.lookback("macd", convention=T) == 33
    assert ref.lookback("macd", convention=T, fast=26, slow=12) == 33  # TA-Lib swaps them
    assert ref.lookback("atr") == 13 and ref.lookback("atr", convention=T) == 14
    assert ref.lookback("true_range") == 0 and ref.lookback("true_range", convention=T) == 1
    assert ref.lookback("ultosc") == 28 and ref.lookback("stddev") == 4
    assert ref.lookback("rolling_std", window=10, min_periods=1) == 1  # ddof=1 needs 2 values
    assert ref.lookback("rolling_std", window=10, min_periods=1, ddof=0) == 0
    with pytest.raises(InvalidParameterError, match="window"):
        ref.lookback("rolling_mean")
    with pytest.raises(InvalidParameterError, match="never produces"):
        ref.lookback("stddev", period=1)
    with pytest.raises(InvalidParameterError, match="unknown indicator"):
        ref.lookback("nope")
    with pytest.raises(InvalidParameterError, match="no parameter 'window'"):
        ref.lookback("rsi", window=3)


@settings(max_examples=40, deadline=None)
@given(
    x=hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 4), st.integers(1, 40)),
        elements=st.one_of(st.floats(0.5, 200.0), st.just(np.nan)),
    ),
    convention=st.sampled_from(["pandas", T]),
)
def test_two_d_is_row_by_row(x: Arr, convention: str) -> None:
    before = x.copy()
    for func, _, _ in INDICATORS.values():
        panel = func(x, convention)
        assert panel.shape == x.shape and panel.dtype == np.float64
        for asset in range(x.shape[0]):
            assert_array_equal(panel[asset], func(x[asset], convention))
    assert_array_equal(x, before)  # inputs are never written to


def test_fifty_by_six_hundred_is_fast_enough() -> None:
    x = _walk(50, 600)
    start = time.perf_counter()
    for func, _, _ in INDICATORS.values():
        for convention in ("pandas", T):
            func(x, convention)
    assert time.perf_counter() - start < 5.0


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    "call",
    [
        lambda: ref.sma([1.0, 2.0], 0),
        lambda: ref.sma([1.0, 2.0], 2.5),
        lambda: ref.sma([1.0, 2.0], True),
        lambda: ref.rsi([1.0, 2.0], -1),
        lambda: ref.rolling_mean([1.0], 3, min_periods=4),
        lambda: ref.rolling_mean([1.0], 3, min_periods=0),
        lambda: ref.rolling_var([1.0], 3, ddof=-1),
        lambda: ref.rsi([1.0], 3, convention=T, min_periods=2),
        lambda: ref.ema([1.0], 3, convention="TA"),
        lambda: ref.macd([1.0], signal=0),
        lambda: ref.bollinger([1.0], k=float("inf")),
        lambda: ref.bollinger([1.0], matype="wma"),
        lambda: ref.returns([1.0], kind="pct"),
        lambda: ref.ultosc([1.0], [1.0], [1.0], 7, 0, 28),
    ],
)
def test_invalid_parameters(call: Callable[[], Any]) -> None:
    with pytest.raises(InvalidParameterError) as info:
        call()
    assert isinstance(info.value, ValueError)
    assert "expected" in str(info.value) or "pass" in str(info.value)


def test_shape_and_value_errors() -> None:
    with pytest.raises(ShapeError, match="2-D array"):
        ref.sma(np.ones((2, 2, 2)), 2)
    with pytest.raises(ShapeError):
        ref.sma(3.0, 2)
    with pytest.raises(ShapeError, match="close has shape"):
        ref.atr(np.ones(5), np.ones(5), np.ones(4))
    with pytest.raises(NonFiniteError, match=r"asset 1, bar 2"):
        ref.rsi(np.array([[1.0, 2.0, 3.0], [1.0, 2.0, -np.inf]]), 2)
    with pytest.raises(NonFiniteError, match="low holds inf"):
        ref.cci([1.0], [np.inf], [1.0], 1)
    with pytest.raises(DTypeError):
        ref.sma(["a", "b"], 2)
    assert ref.sma([True, False], 1).dtype == np.float64  # bools and ints are numbers
    assert ref.sma(pd.Series([1, 2, 3]), 2, convention=T)[2] == 2.5
    assert_array_equal(
        ref.atr([2.0, 3.0], [1.0, 1.0], [1.5, 2.0], 1, convention="stockcharts"),
        ref.atr([2.0, 3.0], [1.0, 1.0], [1.5, 2.0], 1),
    )
    assert_array_equal(
        ref.ema([1.0, 2.0], 2, convention="ta-lib"), ref.ema([1.0, 2.0], 2, convention=T)
    )


# ---------------------------------------------------------------- exact moments


def _exact_var(window: list[float], ddof: int) -> float:
    values = [Fraction(v) for v in window if not np.isnan(v)]
    if len(values) <= ddof:
        return np.nan
    mean = sum(values, Fraction(0)) / len(values)
    return float(sum(((v - mean) ** 2 for v in values), Fraction(0)) / (len(values) - ddof))


@settings(max_examples=40, deadline=None)
@given(
    x=hnp.arrays(
        np.float64,
        st.integers(1, 30),
        elements=st.one_of(st.floats(-1e6, 1e6), st.floats(99.0, 101.0), st.just(np.nan)),
    ),
    window=st.integers(1, 8),
    ddof=st.integers(0, 2),
)
def test_rolling_var_is_exact(x: Arr, window: int, ddof: int) -> None:
    ours = ref.rolling_var(x, window, ddof=ddof, min_periods=1)
    for t in range(len(x)):
        expected = _exact_var(list(x[max(0, t - window + 1) : t + 1]), ddof)
        if np.isnan(expected):
            assert np.isnan(ours[t])
        else:
            assert abs(ours[t] - expected) <= 1e-14 * expected + 1e-300


def test_pandas_rolling_std_agrees_to_1e8(spy: pd.DataFrame) -> None:
    close = spy["close"].to_numpy(np.float64)
    for window in (5, 20, 50):
        exact = ref.rolling_std(close, window)
        online = ref.pandas_rolling_std(close, window)
        assert_array_equal(np.isnan(exact), np.isnan(online))
        ok = ~np.isnan(exact)
        assert np.max(np.abs(online[ok] - exact[ok]) / exact[ok]) < 1e-8


def test_rolling_sum_and_mean_are_exact_where_pandas_drifts() -> None:
    rng = np.random.default_rng(0)
    x = np.repeat(10.0 ** rng.uniform(-6, 6, 20), 30) * (1 + 1e-3 * rng.random(600))
    x[::7] = np.nan
    for window in (5, 20, 50):
        valid = [x[max(0, t - window + 1) : t + 1] for t in range(len(x))]
        fsum = np.array([math.fsum(w[~np.isnan(w)]) for w in valid])
        count = np.array([np.sum(~np.isnan(w)) for w in valid])
        fsum[count < 3] = np.nan
        ours_sum = ref.rolling_sum(x, window, min_periods=3)
        ours_mean = ref.rolling_mean(x, window, min_periods=3)
        assert_array_equal(np.isnan(ours_sum), np.isnan(fsum))
        ok = ~np.isnan(fsum)
        assert np.max(np.abs(ours_sum[ok] - fsum[ok]) / fsum[ok]) < 1e-14
        assert np.max(np.abs(ours_mean[ok] - fsum[ok] / count[ok]) / (fsum[ok] / count[ok])) < 1e-15
    # a price level that drops by orders of magnitude: pandas' online window sum keeps a residue
    rng = np.random.default_rng(2)
    y = np.repeat(10.0 ** rng.uniform(-6, 6, 10), 30) * (1 + 1e-3 * rng.random(300))
    drift = ref.pandas_rolling_mean(y, 20) / ref.rolling_mean(y, 20) - 1
    assert np.nanmax(np.abs(drift)) > 1e-10  # 1.2e-9 here


def test_rolling_mean_agrees_with_pandas_on_real_prices(spy: pd.DataFrame) -> None:
    close = spy["close"].to_numpy(np.float64)
    for window in (5, 20, 200):
        np.testing.assert_allclose(
            ref.rolling_mean(close, window), ref.pandas_rolling_mean(close, window), rtol=1e-13
        )


def test_pandas_rolling_std_drifts_where_the_exact_path_does_not() -> None:
    rng = np.random.default_rng(1)
    x = 1e6 + 1e-3 * rng.random(500)
    x[:50] += 1e5  # a large level shift that later leaves the window
    truth = np.array([_exact_var(list(x[t - 19 : t + 1]), 1) for t in range(100, 500)]) ** 0.5
    exact = ref.rolling_std(x, 20)[100:]
    online = ref.pandas_rolling_std(x, 20)[100:]
    assert np.max(np.abs(exact - truth) / truth) < 1e-14
    assert np.max(np.abs(online - truth) / truth) > 1e-8  # pandas' online update, 2.6e-6 here


# ---------------------------------------------------------------- standard set, doctests


def test_standard_is_the_rows_of_the_table() -> None:
    x = _walk(3, 120)
    x[1, :30] = np.nan
    s = ref.standard(x)
    assert s._fields == ("sma20", "sma50", "rsi14", "bb_middle", "bb_upper", "bb_lower")
    assert_array_equal(s.sma20, ref.sma(x, 20, min_periods=1))
    pandas_sma20 = pd.DataFrame(x.T).rolling(20, min_periods=1).mean().to_numpy().T
    np.testing.assert_allclose(s.sma20, pandas_sma20, rtol=1e-14)
    assert_array_equal(s.sma50, ref.sma(x, 50, min_periods=1))
    assert_array_equal(s.rsi14, ref.rsi(x, 14))
    bands = ref.bollinger(x, 20, 2.0, ddof=1)
    assert_array_equal(s.bb_upper, bands.upper)
    assert_array_equal(s.bb_lower, bands.lower)
    assert_array_equal(ref.standard(x[0]).rsi14, s.rsi14[0])


@pytest.mark.parametrize(
    "module", ["", ".moving", ".oscillators", ".volatility", ".returns", ".standard"]
)
def test_docstring_examples(module: str) -> None:
    mod = importlib.import_module("ferroquant.reference" + module)
    result = doctest.testmod(mod, extraglobs={"np": np})
    assert result.failed == 0
    assert result.attempted > 0
