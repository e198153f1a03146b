"""Input forms: 1-D, 2-D, Fortran order, float32, lists, Series, wide and long frames, out=,
dtype=float32 output."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ferroquant import errors
from ferroquant import indicators as fq


@pytest.fixture
def panel() -> np.ndarray:
    rng = np.random.default_rng(11)
    return 20 * np.exp(np.cumsum(rng.normal(0, 0.02, size=(5, 120)), axis=1))


def test_one_dimensional_matches_row_of_panel(panel: np.ndarray) -> None:
    full = fq.rsi(panel)
    for i in range(panel.shape[0]):
        assert np.array_equal(fq.rsi(panel[i]), full[i], equal_nan=True)


def test_fortran_float32_and_lists_are_coerced(panel: np.ndarray) -> None:
    expect = fq.sma(panel, 10)
    assert np.array_equal(fq.sma(np.asfortranarray(panel), 10), expect, equal_nan=True)
    assert np.array_equal(fq.sma(panel.tolist(), 10), expect, equal_nan=True)
    as32 = panel.astype(np.float32)
    assert np.array_equal(fq.sma(as32, 10), fq.sma(as32.astype(np.float64), 10), equal_nan=True)
    strided = np.repeat(panel, 2, axis=1)[:, ::2]
    assert np.array_equal(fq.sma(strided, 10), expect, equal_nan=True)


def test_float32_output_is_float64_rounded_once(panel: np.ndarray) -> None:
    s64 = fq.standard(panel)
    s32 = fq.standard(panel, dtype=np.float32)
    for a, b in zip(s64, s32, strict=True):
        assert b.dtype == np.float32
        assert np.array_equal(a.astype(np.float32), b, equal_nan=True)
        ok = ~np.isnan(a)
        # Rounding once: within half a float32 ulp, i.e. 2**-24 relative.
        assert np.all(np.abs(b[ok] - a[ok]) <= 2.0**-24 * np.abs(a[ok]))


def test_out_buffers_are_reused(panel: np.ndarray) -> None:
    out = np.empty((6, *panel.shape))
    res = fq.standard(panel, out=out)
    assert np.shares_memory(res.sma20, out)
    assert np.array_equal(res.rsi14, fq.standard(panel).rsi14, equal_nan=True)
    single = np.empty(panel.shape, dtype=np.float32)
    r = fq.ema(panel, 5, out=single)
    assert np.shares_memory(r, single)
    with pytest.raises(errors.ShapeError, match="shape"):
        fq.standard(panel, out=np.empty((5, *panel.shape)))
    with pytest.raises(errors.ShapeError, match="C-contiguous"):
        fq.ema(panel, 5, out=np.empty(panel.shape, order="F"))
    with pytest.raises(errors.DTypeError):
        fq.ema(panel, 5, out=np.empty(panel.shape, dtype=np.int64))


def test_series_and_wide_frame_keep_labels(panel: np.ndarray) -> None:
    dates = pd.bdate_range("2020-01-01", periods=panel.shape[1])
    wide = pd.DataFrame(panel.T, index=dates, columns=[f"S{i}" for i in range(panel.shape[0])])
    res = fq.sma(wide, 20)
    assert isinstance(res, pd.DataFrame)
    assert res.index.equals(wide.index) and list(res.columns) == list(wide.columns)
    expect = wide.rolling(20, min_periods=1).mean()
    np.testing.assert_allclose(res.to_numpy(), expect.to_numpy(), rtol=1e-12)
    s = fq.rsi(wide["S0"])
    assert isinstance(s, pd.Series) and s.index.equals(dates) and s.name == "S0"
    bands = fq.bollinger(wide)
    assert isinstance(bands.upper, pd.DataFrame) and bands.upper.index.equals(dates)


def test_long_frame_results_align_with_rows(panel: np.ndarray) -> None:
    dates = pd.bdate_range("2020-01-01", periods=panel.shape[1])
    wide = pd.DataFrame(panel.T, index=dates, columns=[f"S{i}" for i in range(panel.shape[0])])
    long = wide.stack().rename("close").rename_axis(["date", "symbol"]).reset_index()
    long = long.sample(frac=1.0, random_state=0)  # any row order
    long["high"], long["low"] = long["close"] * 1.01, long["close"] * 0.99
    res = fq.rsi(long)
    assert isinstance(res, pd.Series) and res.index.equals(long.index)
    wide_rsi = fq.rsi(wide)
    lookup = wide_rsi.stack(future_stack=True)
    expect = lookup.loc[list(zip(long["date"], long["symbol"], strict=True))].to_numpy()
    assert np.array_equal(res.to_numpy(), expect, equal_nan=True)
    atr = fq.atr(long)
    assert isinstance(atr, pd.Series) and len(atr) == len(long)
    dup = pd.concat([long, long.iloc[:1]])
    with pytest.raises(errors.ShapeError, match="duplicate"):
        fq.rsi(dup)


def test_non_numeric_frame_columns_are_a_type_error(panel: np.ndarray) -> None:
    wide = pd.DataFrame(panel.T)
    wide["name"] = "x"
    with pytest.raises(errors.DTypeError, match="non-numeric"):
        fq.sma(wide)
    with pytest.raises(TypeError):
        fq.sma(np.array([1 + 2j, 3 + 0j]))


def test_repeated_out_calls_reuse_views_and_stay_correct(panel: np.ndarray) -> None:
    out = np.empty((6, panel.shape[1]))
    first = fq.standard(panel[0], out=out)
    second = fq.standard(panel[1], out=out)
    assert second.rsi14 is first.rsi14  # the same views, refreshed in place
    assert np.array_equal(second.rsi14, fq.rsi(panel[1]), equal_nan=True)
    other = np.empty((6, panel.shape[1]))
    third = fq.standard(panel[2], out=other)
    assert np.shares_memory(third.sma50, other)
    assert np.array_equal(third.sma50, fq.sma(panel[2], 50), equal_nan=True)
