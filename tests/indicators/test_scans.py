"""Chunked per-asset scans: results independent of the chunk size, memory-mapped float32 input and
output, NaN handling, max drawdown."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ferroquant import indicators as fq
from ferroquant import reference as ref


@pytest.fixture
def prices() -> np.ndarray:
    rng = np.random.default_rng(4)
    x = 30 * np.exp(np.cumsum(rng.normal(0, 0.03, size=(2500, 64)), axis=1))
    x[:100, :10] = np.nan  # listed later
    x[200:300, 50:] = np.nan  # delisted
    x[rng.random(x.shape) < 0.01] = np.nan
    return x


@pytest.mark.parametrize("chunk", [1, 7, 1024, 5000])
def test_chunk_size_does_not_change_bits(prices: np.ndarray, chunk: int) -> None:
    whole = fq.scans(prices, chunk_assets=10_000)
    part = fq.scans(prices, chunk_assets=chunk)
    for a, b in zip(whole, part, strict=True):
        assert np.array_equal(a, b, equal_nan=True)
    np.testing.assert_allclose(whole.drawdown, ref.drawdown(prices), rtol=1e-15, atol=0)
    np.testing.assert_allclose(
        whole.cumulative_return, ref.cumulative_return(prices), rtol=1e-15, atol=1e-15
    )


def test_memmap_float32_in_and_out(prices: np.ndarray, tmp_path: Path) -> None:
    src = np.lib.format.open_memmap(tmp_path / "x.npy", "w+", np.float32, prices.shape)
    src[:] = prices
    out = np.lib.format.open_memmap(tmp_path / "o.npy", "w+", np.float32, (3, *prices.shape))
    res = fq.scans(src, chunk_assets=300, out=out)
    assert np.shares_memory(res.drawdown, out)
    expect = fq.scans(src.astype(np.float64))
    for a, b in zip(expect, res, strict=True):
        assert np.array_equal(a.astype(np.float32), b, equal_nan=True)


def test_max_drawdown(prices: np.ndarray) -> None:
    mdd = fq.max_drawdown(prices)
    assert mdd.shape == (prices.shape[0],)
    np.testing.assert_allclose(mdd, ref.max_drawdown(prices), rtol=1e-15)
    assert np.isnan(fq.max_drawdown(np.array([np.nan, np.nan])))
    assert fq.max_drawdown(np.array([2.0, 1.0, 3.0])) == -0.5
