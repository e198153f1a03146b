"""Accuracy on hostile data: long series whose level swings across 12 orders of magnitude, tiny
and huge prices, constant runs. Rolling moments must stay within 1e-12 relative of an exact
two-pass computation; against pandas' own (drifting) rolling std we allow 1e-8."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _compare import assert_close
from numpy.lib.stride_tricks import sliding_window_view

from ferroquant import indicators as fq
from ferroquant import reference as ref


def exact_moments(x: np.ndarray, n: int, ddof: int) -> tuple[np.ndarray, np.ndarray]:
    """Two-pass mean and variance of every full window (math.fsum-exact sums)."""
    import math

    w = sliding_window_view(x, n)
    flat = np.all(w == w[:, :1], axis=1)
    # A window of one repeated value has that mean and no spread, exactly (as pandas says too).
    mean = np.array([r[0] if f else math.fsum(r) / n for r, f in zip(w, flat, strict=True)])
    var = np.array(
        [
            0.0 if f else math.fsum((r - m) ** 2) / (n - ddof)
            for r, m, f in zip(w, mean, flat, strict=True)
        ]
    )
    pad = np.full(n - 1, np.nan)
    return np.concatenate([pad, mean]), np.concatenate([pad, var])


def swinging_series(n: int = 6000, seed: int = 5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    level = 10.0 ** (6 * np.sin(np.linspace(0, 6 * np.pi, n)))  # 1e-6 .. 1e6 and back, 3 times
    x = level * np.exp(rng.normal(0, 0.02, n))
    x[1000:1040] = x[1000]  # a suspended quote
    x[3000:3003] = [1e6, 1e-6, 1e6]  # a violent spike
    return x


@pytest.mark.parametrize("n", [5, 20, 50])
def test_rolling_moments_exact_across_magnitudes(n: int) -> None:
    x = swinging_series()
    mean, var = exact_moments(x, n, 1)
    assert_close(fq.rolling_mean(x, n), mean, 1e-12, None, "mean")
    assert_close(fq.rolling_var(x, n), var, 1e-12, None, "var")
    assert_close(fq.rolling_std(x, n), np.sqrt(var), 1e-12, None, "std")
    b = fq.bollinger(x, n)
    assert_close(b.middle, mean, 1e-12, None, "middle")
    assert_close(b.upper - b.middle, 2 * np.sqrt(var), 1e-11, np.abs(mean), "band width")


def test_standard_set_exact_across_magnitudes() -> None:
    x = swinging_series()
    s = fq.standard(x)
    mean20, var20 = exact_moments(x, 20, 1)
    assert_close(s.bb_middle, mean20, 1e-12, None, "bb_middle")
    assert_close(s.bb_upper, mean20 + 2 * np.sqrt(var20), 1e-12, None, "bb_upper")
    mean50, _ = exact_moments(x, 50, 1)
    assert_close(s.sma50[49:], mean50[49:], 1e-12, None, "sma50")
    # Cutler RSI from exact window sums of gains and losses.
    d = np.diff(x, prepend=np.nan)
    g, lo = np.clip(d, 0, None), -np.clip(d, None, 0)
    import math

    gs = np.array([math.fsum(w) for w in sliding_window_view(g[1:], 14)])
    ls = np.array([math.fsum(w) for w in sliding_window_view(lo[1:], 14)])
    with np.errstate(all="ignore"):
        rsi = 100 - 100 / (1 + gs / ls)
    assert_close(s.rsi14[14:], rsi, 1e-12, 1.0, "rsi14")


def test_constant_windows_are_exact() -> None:
    x = np.concatenate([np.linspace(1, 5, 30), np.full(40, 0.1), np.full(40, 123456.789)])
    assert np.all(fq.rolling_std(x, 20)[50:70] == 0.0)
    assert np.all(fq.rolling_mean(x, 20)[50:70] == 0.1)
    assert np.all(fq.rolling_std(x, 20)[90:] == 0.0)
    s = fq.standard(x)
    assert np.all(s.bb_upper[90:] == s.bb_middle[90:])
    assert np.all(np.isnan(s.rsi14[45:70]))  # flat: no gains, no losses


def test_close_to_pandas_rolling_std() -> None:
    rng = np.random.default_rng(2)
    x = 300 * np.exp(np.cumsum(rng.normal(0, 0.03, 20000)))
    ours = fq.rolling_std(x, 20)
    pandas = pd.Series(x).rolling(20).std().to_numpy()
    assert_close(ours, pandas, 1e-8, None, "vs pandas")
    assert_close(ours, ref.rolling_std(x, 20), 1e-12, None, "vs exact")
