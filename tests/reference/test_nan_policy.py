"""Small hand-worked cases pinning the NaN policy of docs/conventions.md, in both conventions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from ferroquant import reference as ref

nan = np.nan
T = "talib"


def same(actual: object, expected: object) -> None:
    """Exact-ish equality with NaN == NaN (values here are hand-computed)."""
    assert_allclose(
        np.asarray(actual), np.asarray(expected), rtol=1e-14, atol=1e-14, equal_nan=True
    )


# ---------------------------------------------------------------- rolling windows


def test_sma_nan_mid_series() -> None:
    x = [1.0, 2.0, nan, 4.0, 5.0, 6.0]
    # pandas: min_periods=1, the window skips the NaN, defined even where x[t] is NaN
    same(ref.sma(x, 3), [1.0, 1.5, 1.5, 3.0, 4.5, 5.0])
    # talib: needs 3 valid values in the last 3 positions
    same(ref.sma(x, 3, convention=T), [nan, nan, nan, nan, nan, 5.0])
    same(ref.sma(x, 3, min_periods=2), [nan, 1.5, 1.5, 3.0, 4.5, 5.0])
    same(ref.rolling_sum(x, 3, min_periods=1), [1.0, 3.0, 3.0, 6.0, 9.0, 15.0])


def test_leading_and_trailing_nans() -> None:
    x = [nan, nan, 1.0, 2.0, 3.0, 4.0, nan, nan]
    same(ref.sma(x, 2, convention=T), [nan, nan, nan, 1.5, 2.5, 3.5, nan, nan])
    same(ref.sma(x, 2), [nan, nan, 1.0, 1.5, 2.5, 3.5, 4.0, nan])
    same(ref.rolling_max(x, 2, min_periods=1), [nan, nan, 1.0, 2.0, 3.0, 4.0, 4.0, nan])
    same(ref.ema(x, 2, convention=T), [nan, nan, nan, 1.5, 2.5, 3.5, nan, nan])
    same(ref.ema(x, 3), [nan, nan, 1.0, 1.5, 2.25, 3.125, nan, nan])
    same(ref.wma(x, 2), [nan, nan, nan, 5 / 3, 8 / 3, 11 / 3, nan, nan])
    same(ref.wma(x, 2, min_periods=1), [nan, nan, 1.0, 5 / 3, 8 / 3, 11 / 3, 4.0, nan])


def test_window_longer_than_series() -> None:
    x = [1.0, 2.0, 3.0]
    same(ref.sma(x, 10, convention=T), [nan, nan, nan])
    same(ref.sma(x, 10), [1.0, 1.5, 2.0])  # pandas min_periods=1: an expanding mean
    same(ref.rolling_std(x, 10), [nan, nan, nan])
    same(ref.rolling_std(x, 10, min_periods=2), [nan, np.sqrt(0.5), 1.0])
    for conv in ("pandas", T):
        same(ref.rsi(x, 5, convention=conv), [nan, nan, nan])
        same(ref.atr(x, x, x, 5, convention=conv), [nan, nan, nan])
        same(
            ref.macd(x, convention=conv).signal,
            [nan, nan, nan] if conv == T else ref.macd(x).signal,
        )
        same(ref.cci(x, x, x, 5, convention=conv), [nan, nan, nan])
        same(ref.ultosc(x, x, x, convention=conv), [nan, nan, nan])
    same(ref.wma(x, 4), [nan, nan, nan])
    same(ref.returns(x, periods=3), [nan, nan, nan])
    same(ref.returns(x, periods=7, kind="log"), [nan, nan, nan])
    same(ref.wma(x, 4, min_periods=1), [1.0, (3 * 1 + 4 * 2) / 7, (2 * 1 + 3 * 2 + 4 * 3) / 9])


@pytest.mark.parametrize("shape", [(0,), (3, 0), (0, 5)])
def test_empty_input_is_an_error(shape: tuple[int, ...]) -> None:
    """No bars or no assets: EmptyInputError (a ValueError), as on the Rust path."""
    from ferroquant import indicators
    from ferroquant.errors import EmptyInputError

    x = np.empty(shape)
    for impl in (ref, indicators):
        for call in (
            lambda impl=impl: impl.sma(x, 3),
            lambda impl=impl: impl.rsi(x, 3, convention=T),
            lambda impl=impl: impl.bollinger(x, 3),
            lambda impl=impl: impl.macd(x),
            lambda impl=impl: impl.atr(x, x, x, 3),
            lambda impl=impl: impl.ultosc(x, x, x),
            lambda impl=impl: impl.returns(x),
            lambda impl=impl: impl.drawdown(x),
        ):
            with pytest.raises(EmptyInputError, match="empty"):
                call()


def test_constant_run_gives_exactly_zero_std() -> None:
    x = [5.0, 0.1, 0.1, 0.1, 0.1, 0.3, 0.3, 0.3]
    for ddof in (0, 1):
        std = ref.rolling_std(x, 3, ddof=ddof)
        assert std[3] == 0.0 and std[4] == 0.0 and std[7] == 0.0
        assert std[2] > 0.0 and std[5] > 0.0
        assert ref.pandas_rolling_std(x, 3, ddof=ddof)[4] == 0.0
    bands = ref.bollinger(x, 3)
    assert bands.upper[4] == bands.middle[4] == bands.lower[4]
    assert ref.stddev(x, 3, convention=T)[7] == 0.0
    assert ref.rolling_var([7.0], 1, ddof=0)[0] == 0.0
    assert np.isnan(ref.rolling_var([7.0], 1, ddof=1)[0])  # fewer than ddof + 1 values


def test_rsi_nan_mid_series() -> None:
    x = [1.0, 2.0, 1.0, nan, 2.0, 1.5, 3.0]
    # changes (previous *bar*): nan, 1, -1, nan, nan, -0.5, 1.5
    cutler = ref.rsi(x, 2)
    same(cutler, [nan, nan, 50.0, nan, nan, nan, 75.0])
    same(ref.rsi(x, 2, min_periods=1), [nan, 100.0, 50.0, 0.0, nan, 0.0, 75.0])
    # Wilder over the valid changes 1, -1 | -0.5, 1.5; state held across the NaN bars
    g, loss = 0.5, 0.5
    first = 100 * g / (g + loss)
    g, loss = (g * 1 + 0.0) / 2, (loss * 1 + 0.5) / 2
    second = 100 * g / (g + loss)
    g, loss = (g * 1 + 1.5) / 2, (loss * 1 + 0.0) / 2
    third = 100 * g / (g + loss)
    same(ref.rsi(x, 2, convention=T), [nan, nan, first, nan, nan, second, third])


def test_rsi_flat_and_all_gains() -> None:
    flat = [3.0] * 6
    assert np.isnan(ref.rsi(flat, 3)[3:]).all()  # Cutler: G = L = 0 -> NaN
    same(ref.rsi(flat, 3, convention=T)[3:], [0.0] * 3)  # Wilder: G + L = 0 -> 0
    up = [1.0, 2.0, 3.5, 3.6, 10.0, 11.0]
    same(ref.rsi(up, 3)[3:], [100.0] * 3)
    same(ref.rsi(up, 3, convention=T)[3:], [100.0] * 3)
    down = up[::-1]
    same(ref.rsi(down, 3)[3:], [0.0] * 3)
    same(ref.rsi(down, 3, convention=T)[3:], [0.0] * 3)
    # a flat stretch after a move: the window holds only zeros again -> NaN (not a residue)
    after = [1.0, 1.3, 1.7, 1.7, 1.7, 1.7]
    assert np.isnan(ref.rsi(after, 3)[5])


# ---------------------------------------------------------------- recursive indicators


def test_ema_nan_mid_series_and_in_seed() -> None:
    same(ref.ema([1.0, nan, 3.0], 3), [1.0, nan, 2.0])
    k = 2 / 3
    same(ref.ema([1.0, 2.0, nan, 4.0], 2, convention=T), [nan, 1.5, nan, (4 - 1.5) * k + 1.5])
    # the seed is the mean of the first 2 *valid* values
    same(ref.ema([1.0, nan, 3.0, 5.0], 2, convention=T), [nan, nan, 2.0, (5 - 2) * k + 2])


def test_macd_nan_bar_is_skipped() -> None:
    rng = np.random.default_rng(7)
    clean = 100 + np.cumsum(rng.normal(size=80))
    holed = np.insert(clean, [10, 40, 40], nan)
    keep = ~np.isnan(holed)
    for conv in ("pandas", T):
        for got, want in zip(
            ref.macd(holed, 5, 11, 4, convention=conv),
            ref.macd(clean, 5, 11, 4, convention=conv),
            strict=True,
        ):
            assert np.isnan(got[~keep]).all()
            assert_array_equal(got[keep], want)


def test_atr_nan_mid_series() -> None:
    h = np.array([2.0, 3.0, 5.0, 4.0, 6.0, 5.5])
    lo = np.array([1.0, 2.5, 4.0, 3.0, 5.0, 4.5])
    c = np.array([1.5, 2.8, nan, 3.5, 5.5, 5.0])
    # a bar is missing when any of h, l, c is NaN: bar 2 has no TR; at bar 3 the previous close
    # is NaN -> pandas h - l, talib NaN
    same(ref.true_range(h, lo, c), [1.0, 1.5, nan, 1.0, 2.5, 1.0])
    same(ref.true_range(h, lo, c, convention=T), [nan, 1.5, nan, nan, 2.5, 1.0])
    # pandas (StockCharts): TRs 1, 1.5 | skip | 1, 2.5, 1 -> seed 1.25 at bar 1, state held
    same(ref.atr(h, lo, c, 2), [nan, 1.25, nan, 1.125, 1.8125, 1.40625])
    # talib: TRs 1.5 | skip | skip | 2.5, 1.0 -> seed (1.5 + 2.5) / 2 at bar 4
    same(ref.atr(h, lo, c, 2, convention=T), [nan, nan, nan, nan, 2.0, 1.5])
    natr = ref.natr(h, lo, c, 2)
    assert np.isnan(natr[2]) and natr[3] == 100 * 1.125 / 3.5
    # a NaN high makes the bar missing the same way
    h2, c2 = h.copy(), c.copy()
    h2[2], c2[2] = nan, 4.5
    assert_array_equal(ref.atr(h2, lo, c2, 2), ref.atr(h, lo, c, 2))
    assert_array_equal(ref.willr(h2, lo, c2, 2), ref.willr(h, lo, c, 2))
    assert_array_equal(ref.ultosc(h2, lo, c2, 1, 2, 2), ref.ultosc(h, lo, c, 1, 2, 2))


def test_recursions_resume_as_if_the_nan_bar_did_not_exist() -> None:
    x = np.array([1.0, 2.0, 4.0, 3.0, 5.0, 6.0, 4.0])
    holed = np.array([1.0, 2.0, nan, 4.0, 3.0, nan, nan, 5.0, 6.0, 4.0])
    keep = ~np.isnan(holed)
    for conv in ("pandas", T):
        got = ref.ema(holed, 3, convention=conv)
        assert np.isnan(got[~keep]).all()
        assert_array_equal(got[keep], ref.ema(x, 3, convention=conv))


@settings(max_examples=50, deadline=None)
@given(
    data=st.lists(st.floats(1.0, 100.0), min_size=1, max_size=60),
    holes=st.lists(st.integers(0, 60), max_size=10),
    period=st.integers(1, 8),
)
def test_ema_macd_insertion_invariance(data: list[float], holes: list[int], period: int) -> None:
    clean = np.array(data)
    holed = np.insert(clean, np.clip(np.asarray(holes, dtype=np.intp), 0, len(data)), nan)
    keep = ~np.isnan(holed)
    for conv in ("pandas", T):
        got = ref.ema(holed, period, convention=conv)
        assert np.isnan(got[~keep]).all()
        assert_array_equal(got[keep], ref.ema(clean, period, convention=conv))
        for g, w in zip(
            ref.macd(holed, period, period + 3, 2, convention=conv),
            ref.macd(clean, period, period + 3, 2, convention=conv),
            strict=True,
        ):
            assert_array_equal(g[keep], w)


# ---------------------------------------------------------------- 0/0 and no leaking


def test_flat_windows_cci_willr_ultosc() -> None:
    flat = [1.1] * 5
    assert np.isnan(ref.cci(flat, flat, flat, 3)[2:]).all()
    same(ref.cci(flat, flat, flat, 3, convention=T)[2:], [0.0] * 3)
    assert np.isnan(ref.willr(flat, flat, flat, 3)[2:]).all()
    same(ref.willr(flat, flat, flat, 3, convention=T)[2:], [0.0] * 3)
    assert np.isnan(ref.ultosc(flat, flat, flat, 1, 2, 3)[3:]).all()
    same(ref.ultosc(flat, flat, flat, 1, 2, 3, convention=T)[3:], [0.0] * 2)
    # TA-Lib 0.8.1 treats a range within 1e-14 of the window's price level as flat
    hi = [100.0, 100.0 + 50 * np.spacing(100.0), 100.0]
    same(ref.willr(hi, [100.0] * 3, [100.0] * 3, 2, convention=T), [nan, 0.0, 0.0])
    same(ref.willr(hi, [100.0] * 3, [100.0] * 3, 2), [nan, -100.0, -100.0])


def test_nothing_leaks_between_assets() -> None:
    rng = np.random.default_rng(3)
    c = 50 + np.cumsum(rng.normal(size=(3, 40)), axis=1)
    c[0] = nan  # never listed
    c[1, :15] = nan  # listed late
    c[2, 30:] = nan  # delisted
    h, lo = c + 1, c - 1
    for conv in ("pandas", T):
        for f in (
            lambda a, conv=conv: ref.rsi(a, 5, convention=conv),
            lambda a, conv=conv: ref.ema(a, 5, convention=conv),
            lambda a, conv=conv: ref.sma(a, 5, convention=conv),
            lambda a, conv=conv: ref.macd(a, 3, 6, 2, convention=conv).hist,
        ):
            panel = f(c)
            assert np.isnan(panel[0]).all()
            for asset in (1, 2):
                assert_array_equal(panel[asset], f(c[asset]))
        panel = ref.atr(h, lo, c, 5, convention=conv)
        for asset in range(3):
            assert_array_equal(
                panel[asset], ref.atr(h[asset], lo[asset], c[asset], 5, convention=conv)
            )


def test_returns_and_drawdown_nans() -> None:
    x = [nan, 100.0, 110.0, nan, 99.0, 120.0]
    same(ref.returns(x), [nan, nan, 0.1, nan, nan, 120 / 99 - 1])
    same(ref.returns(x, periods=2), [nan, nan, nan, nan, 99 / 110 - 1, nan])
    same(ref.cumulative_return(x), [nan, 0.0, 0.1, nan, -0.01, 0.2])
    same(ref.running_max(x), [nan, 100.0, 110.0, nan, 110.0, 120.0])
    same(ref.drawdown(x), [nan, 0.0, 0.0, nan, 99 / 110 - 1, 0.0])
    same(ref.max_drawdown(x), 99 / 110 - 1)
    same(ref.max_drawdown([[nan, nan], [2.0, 1.0]]), [nan, -0.5])
