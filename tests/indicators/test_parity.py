"""Property tests: the Rust path equals the oracle (`ferroquant.reference`) on random panels.

Panels have random lengths (1..600 bars), 1..4 assets each at its own price level between 1e-6 and
1e6, NaN runs at the start, middle and end, constant runs, and windows longer than the series.
Tolerance: 1e-12 relative (for outputs that are differences of prices, relative to the asset's
price level), with identical NaN positions.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from _compare import assert_close, row_scale
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ferroquant import indicators as fq
from ferroquant import reference as ref

RTOL = 1e-12


@st.composite
def panels(draw: st.DrawFn, max_bars: int = 600) -> Any:
    n_assets = draw(st.integers(1, 4))
    n_bars = draw(st.integers(1, max_bars))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    level = 10.0 ** rng.uniform(-6, 6, size=(n_assets, 1))
    vol = rng.uniform(0.005, 0.05, size=(n_assets, 1))
    x = level * np.exp(np.cumsum(rng.normal(0, 1, size=(n_assets, n_bars)) * vol, axis=1))
    for a in range(n_assets):
        if draw(st.booleans()):  # not yet listed
            x[a, : rng.integers(0, n_bars + 1)] = np.nan
        if draw(st.booleans()):  # delisted
            x[a, rng.integers(0, n_bars + 1) :] = np.nan
        for _ in range(draw(st.integers(0, 3))):  # halts
            s = rng.integers(0, n_bars)
            x[a, s : s + rng.integers(1, 30)] = np.nan
        if draw(st.booleans()):  # a constant run (suspended quote)
            s = rng.integers(0, n_bars)
            x[a, s : s + rng.integers(1, 60)] = x[a, s] if not np.isnan(x[a, s]) else level[a, 0]
    return x


def hlc_from(close: Any, seed: int) -> tuple[Any, Any, Any]:
    rng = np.random.default_rng(seed)
    spread = np.abs(close) * rng.uniform(0.0, 0.03, size=close.shape)
    high = close + spread * rng.uniform(0, 1, size=close.shape)
    low = close - spread * rng.uniform(0, 1, size=close.shape)
    return high, low, close


periods = st.integers(1, 70)
conventions = st.sampled_from(["pandas", "talib"])
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# name -> (params strategy, output is a price difference)
SINGLE: dict[str, tuple[Callable[..., Any], bool]] = {
    "sma": (lambda d: {"period": d(periods), "convention": d(conventions)}, False),
    "ema": (lambda d: {"period": d(periods), "convention": d(conventions)}, False),
    "wma": (lambda d: {"period": d(periods)}, False),
    "rolling_sum": (lambda d: {"window": d(periods)}, False),
    "rolling_mean": (lambda d: {"window": d(periods)}, False),
    "rolling_var": (
        lambda d: {"window": d(st.integers(2, 70)), "ddof": d(st.integers(0, 1))},
        False,
    ),
    "rolling_std": (
        lambda d: {"window": d(st.integers(2, 70)), "ddof": d(st.integers(0, 1))},
        False,
    ),
    "rolling_min": (lambda d: {"window": d(periods)}, False),
    "rolling_max": (lambda d: {"window": d(periods)}, False),
    "rsi": (lambda d: {"period": d(st.integers(2, 40)), "convention": d(conventions)}, False),
    "stddev": (lambda d: {"period": d(st.integers(2, 40)), "convention": d(conventions)}, False),
    "returns": (
        lambda d: {"kind": d(st.sampled_from(["simple", "log"])), "periods": d(st.integers(1, 5))},
        True,
    ),
    "cumulative_return": (lambda d: {}, True),
    "running_max": (lambda d: {}, False),
    "drawdown": (lambda d: {}, True),
}


@pytest.mark.parametrize("name", sorted(SINGLE))
@SETTINGS
@given(data=st.data())
def test_single_input_matches_oracle(name: str, data: st.DataObject) -> None:
    x = data.draw(panels())
    params_of, is_difference = SINGLE[name]
    params = params_of(data.draw)
    ours = getattr(fq, name)(x, **params)
    expect = getattr(ref, name)(x, **params)
    scale = 1.0 if is_difference else None
    assert_close(ours, expect, RTOL if name != "returns" else 1e-15, scale, f"{name}{params}")


@SETTINGS
@given(x=panels(), k=st.floats(0.5, 3.0), period=st.integers(2, 60), conv=conventions)
def test_bollinger_matches_oracle(x: Any, k: float, period: int, conv: str) -> None:
    ours = fq.bollinger(x, period, k, convention=conv)
    expect = ref.bollinger(x, period, k, convention=conv)
    for o, e, n in zip(ours, expect, ours._fields, strict=True):
        assert_close(o, e, RTOL, None, n)


@SETTINGS
@given(
    x=panels(),
    fast=st.integers(1, 20),
    extra=st.integers(1, 30),
    signal=st.integers(1, 15),
    conv=conventions,
)
def test_macd_matches_oracle(x: Any, fast: int, extra: int, signal: int, conv: str) -> None:
    ours = fq.macd(x, fast, fast + extra, signal, convention=conv)
    expect = ref.macd(x, fast, fast + extra, signal, convention=conv)
    for o, e, n in zip(ours, expect, ours._fields, strict=True):
        assert_close(o, e, RTOL, row_scale(x), n)


HLC: dict[str, Callable[..., dict[str, Any]]] = {
    "true_range": lambda d: {},
    "atr": lambda d: {"period": d(st.integers(1, 40))},
    "natr": lambda d: {"period": d(st.integers(1, 40))},
    "cci": lambda d: {"period": d(st.integers(2, 40))},
    "willr": lambda d: {"period": d(st.integers(1, 40))},
    "ultosc": lambda d: dict(
        zip(
            ("period1", "period2", "period3"),
            sorted(d(st.sets(st.integers(1, 40), min_size=3, max_size=3))),
            strict=True,
        )
    ),
}


def cci_price_scale(h: Any, lo: Any, c: Any, period: int) -> Any:
    from numpy.lib.stride_tricks import sliding_window_view

    tp = (h + lo + c) / 3
    out = np.full(tp.shape, np.inf)
    if tp.shape[-1] >= period:
        w = sliding_window_view(tp, period, axis=-1)
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN windows: NaN, on purpose
            md = np.nanmean(np.abs(w - np.nanmean(w, axis=-1, keepdims=True)), axis=-1)
            out[..., period - 1 :] = np.abs(tp[..., period - 1 :]) / (0.015 * md)
    return np.where(np.isfinite(out), out, np.inf)


@pytest.mark.parametrize("name", sorted(HLC))
@SETTINGS
@given(data=st.data())
def test_hlc_matches_oracle(name: str, data: st.DataObject) -> None:
    close = data.draw(panels())
    h, lo, c = hlc_from(close, data.draw(st.integers(0, 1000)))
    params = {**HLC[name](data.draw), "convention": data.draw(conventions)}
    ours = getattr(fq, name)(h, lo, c, **params)
    expect = getattr(ref, name)(h, lo, c, **params)
    scale = row_scale(c) if name in ("true_range", "atr") else None
    if name == "cci":
        # tp - mean cancels: the attainable accuracy is eps * |tp| / (0.015 * meandev), i.e. the
        # output's sensitivity to one ulp of the price level. Judge CCI against that scale.
        scale = cci_price_scale(h, lo, c, params["period"])
    assert_close(ours, expect, RTOL, scale, f"{name}{params}")


@SETTINGS
@given(x=panels())
def test_standard_matches_oracle(x: Any) -> None:
    ours = fq.standard(x)
    expect = ref.standard(x)
    for o, e, n in zip(ours, expect, ours._fields, strict=True):
        assert_close(o, e, RTOL, None, n)


@pytest.mark.parametrize(
    "name",
    [
        "sma",
        "ema",
        "rsi",
        "macd",
        "bollinger",
        "atr",
        "ultosc",
        "cci",
        "willr",
        "true_range",
        "wma",
        "stddev",
        "returns",
    ],
)
@pytest.mark.parametrize("conv", ["pandas", "talib"])
def test_lookback_matches_first_valid_bar(name: str, conv: str) -> None:
    rng = np.random.default_rng(3)
    c = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, 200)))
    h, lo = c * 1.01, c * 0.99
    func = getattr(fq, name)
    kwargs: dict[str, Any] = {} if name in ("wma", "returns") else {"convention": conv}
    if name in ("atr", "ultosc", "cci", "willr", "true_range"):
        out = func(h, lo, c, **kwargs)
    else:
        out = func(c, **kwargs)
    first = out[0] if isinstance(out, tuple) else out
    assert int(np.argmax(~np.isnan(first))) == fq.lookback(name, convention=conv)
    assert fq.lookback(name, convention=conv) == ref.lookback(name, convention=conv)
