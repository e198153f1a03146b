"""The oracle's ``talib`` convention against the ta-lib wheel itself (TA-Lib C 0.8.1), function by
function, on SPY and on random OHLC data (clean data: TA-Lib has no NaN policy)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ferroquant import indicators as _rust
from ferroquant import reference as _oracle

ref: Any = _oracle  # rebound per test by the `implementation` fixture below


@pytest.fixture(autouse=True, params=["oracle", "rust"])
def implementation(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every comparison with the TA-Lib wheel runs on the oracle and on the Rust path."""
    monkeypatch.setattr(
        sys.modules[__name__], "ref", _oracle if request.param == "oracle" else _rust
    )
    return str(request.param)


talib = pytest.importorskip("talib")

T = "talib"
RTOL = 1e-9

Arr = np.ndarray[Any, Any]
HLC = tuple[Arr, Arr, Arr]


def random_ohlc(seed: int, n_bars: int, level: float = 100.0, vol: float = 0.02) -> HLC:
    """A geometric random walk with consistent bars: low <= open, close <= high."""
    rng = np.random.default_rng(seed)
    close = level * np.exp(np.cumsum(rng.normal(0.0, vol, n_bars)))
    open_ = np.concatenate([[level], close[:-1]]) * np.exp(rng.normal(0.0, vol / 4, n_bars))
    high = np.maximum(open_, close) * np.exp(np.abs(rng.normal(0.0, vol / 2, n_bars)))
    low = np.minimum(open_, close) * np.exp(-np.abs(rng.normal(0.0, vol / 2, n_bars)))
    return high, low, close


def _upper_middle_lower(bands: Any) -> tuple[Arr, Arr, Arr]:
    """TA-Lib's BBANDS output order."""
    return bands.upper, bands.middle, bands.lower


# name -> (oracle, wheel), each taking (high, low, close) and returning a tuple of outputs
CASES: dict[str, tuple[Callable[[HLC], tuple[Arr, ...]], Callable[[HLC], tuple[Arr, ...]]]] = {}


def case(name: str, ours: Callable[[HLC], Any], theirs: Callable[[HLC], Any]) -> None:
    def as_tuple(f: Callable[[HLC], Any]) -> Callable[[HLC], tuple[Arr, ...]]:
        return lambda d: tuple(r) if isinstance(r := f(d), tuple | list) else (r,)

    CASES[name] = (as_tuple(ours), as_tuple(theirs))


for p in (2, 5, 20, 50):
    case(
        f"SMA{p}", lambda d, p=p: ref.sma(d[2], p, convention=T), lambda d, p=p: talib.SMA(d[2], p)
    )
    case(
        f"EMA{p}", lambda d, p=p: ref.ema(d[2], p, convention=T), lambda d, p=p: talib.EMA(d[2], p)
    )
    case(f"WMA{p}", lambda d, p=p: ref.wma(d[2], p), lambda d, p=p: talib.WMA(d[2], p))
    case(
        f"STDDEV{p}",
        lambda d, p=p: ref.stddev(d[2], p, 1.5, convention=T),
        lambda d, p=p: talib.STDDEV(d[2], p, 1.5),
    )
    case(
        f"BBANDS{p}",
        lambda d, p=p: _upper_middle_lower(ref.bollinger(d[2], p, 2.5, convention=T)),
        lambda d, p=p: talib.BBANDS(d[2], p, 2.5, 2.5),
    )
    case(
        f"BBANDS{p}-EMA",
        lambda d, p=p: _upper_middle_lower(ref.bollinger(d[2], p, 2.0, matype="ema", convention=T)),
        lambda d, p=p: talib.BBANDS(d[2], p, 2.0, 2.0, matype=1),
    )
    case(
        f"RSI{p}", lambda d, p=p: ref.rsi(d[2], p, convention=T), lambda d, p=p: talib.RSI(d[2], p)
    )
    case(
        f"ATR{p}",
        lambda d, p=p: ref.atr(*d, p, convention=T),
        lambda d, p=p: talib.ATR(*d, p),
    )
    case(
        f"NATR{p}",
        lambda d, p=p: ref.natr(*d, p, convention=T),
        lambda d, p=p: talib.NATR(*d, p),
    )
    case(
        f"CCI{p}",
        lambda d, p=p: ref.cci(*d, p, convention=T),
        lambda d, p=p: talib.CCI(*d, p),
    )
    case(
        f"WILLR{p}",
        lambda d, p=p: ref.willr(*d, p, convention=T),
        lambda d, p=p: talib.WILLR(*d, p),
    )
for p in (1, 14):  # period 1 is allowed by TA-Lib for these
    case(
        f"SMA{p}x", lambda d, p=p: ref.sma(d[2], p, convention=T), lambda d, p=p: talib.SMA(d[2], p)
    )
    case(f"ATR{p}x", lambda d, p=p: ref.atr(*d, p, convention=T), lambda d, p=p: talib.ATR(*d, p))
    case(
        f"NATR{p}x", lambda d, p=p: ref.natr(*d, p, convention=T), lambda d, p=p: talib.NATR(*d, p)
    )
for f, s, g in ((12, 26, 9), (3, 10, 16), (5, 5, 1), (26, 12, 9)):
    case(
        f"MACD{f},{s},{g}",
        lambda d, f=f, s=s, g=g: ref.macd(d[2], f, s, g, convention=T),
        lambda d, f=f, s=s, g=g: talib.MACD(d[2], f, s, g),
    )
for periods in ((7, 14, 28), (2, 3, 4), (28, 7, 14), (1, 1, 1)):
    case(
        f"ULTOSC{periods}",
        lambda d, q=periods: ref.ultosc(*d, *q, convention=T),
        lambda d, q=periods: talib.ULTOSC(*d, *q),
    )
case("TRANGE", lambda d: ref.true_range(*d, convention=T), lambda d: talib.TRANGE(*d))


def _compare(name: str, data: HLC, same_nan_close: Callable[..., None]) -> None:
    ours_fn, theirs_fn = CASES[name]
    ours, theirs = ours_fn(data), theirs_fn(data)
    assert len(ours) == len(theirs)
    for k, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        if name.startswith("STDDEV"):
            # TA-Lib forms the variance as E[x²] - E[x]², whose rounding error is a few ulps of
            # x²: large next to the variance of a near-flat window (e.g. σ = 4e-9 at prices of
            # 1e-4). Compare variances, with that absolute budget on top of RTOL.
            budget = 16 * np.finfo(np.float64).eps * float(np.nanmax(data[2] ** 2, initial=0.0))
            same_nan_close(a**2, b**2, rtol=RTOL, atol=budget, what=f"{name}[{k}] squared")
            continue
        # Oscillators cross 0, MACD crosses 0: allow 1e-9 of the output's own scale there.
        atol = RTOL * float(np.nanmax(np.abs(b), initial=0.0)) * 1e-3
        same_nan_close(a, b, rtol=RTOL, atol=atol, what=f"{name}[{k}]")


@pytest.mark.parametrize("name", list(CASES))
def test_wheel_on_spy(name: str, spy: pd.DataFrame, same_nan_close: Callable[..., None]) -> None:
    data = tuple(spy[k].to_numpy(np.float64) for k in ("high", "low", "close"))
    _compare(name, data, same_nan_close)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", list(CASES))
@pytest.mark.parametrize(
    ("seed", "level"), [(1, 100.0), (2, 0.01), (3, 5000.0), (4, 1e-5), (5, 1e-9)]
)
def test_wheel_on_random_walks(
    name: str, seed: int, level: float, same_nan_close: Callable[..., None]
) -> None:
    _compare(name, random_ohlc(seed, 400, level), same_nan_close)


@pytest.mark.parametrize(
    "name", ["RSI5", "BBANDS20", "MACD12,26,9", "ATR14x", "CCI20", "ULTOSC(7, 14, 28)"]
)
def test_wheel_row_by_row_on_a_panel(name: str, same_nan_close: Callable[..., None]) -> None:
    """A 2-D panel through the oracle equals the wheel run on each asset."""
    assets = [random_ohlc(seed, 300, level) for seed, level in enumerate([1.0, 30.0, 900.0])]
    panel: HLC = tuple(np.stack([a[i] for a in assets]) for i in range(3))  # type: ignore[assignment]
    ours_fn, theirs_fn = CASES[name]
    ours = ours_fn(panel)
    for asset, data in enumerate(assets):
        for k, expected in enumerate(theirs_fn(data)):
            same_nan_close(ours[k][asset], expected, rtol=RTOL, atol=1e-12, what=f"{name} {asset}")


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_bars=st.integers(1, 120),
    level=st.sampled_from([1e-4, 1.0, 250.0, 1e5]),
    name=st.sampled_from(sorted(CASES)),
)
@example(seed=110, n_bars=92, level=1e-4, name="STDDEV2")  # TA-Lib's cancellation, see _compare
def test_wheel_property(
    seed: int, n_bars: int, level: float, name: str, same_nan_close: Callable[..., None]
) -> None:
    _compare(name, random_ohlc(seed, n_bars, level), same_nan_close)


@pytest.mark.parametrize("ulps", [0, 1, 10, 50, 100, 150, 200, 1000])
def test_wheel_zero_tests_on_near_flat_windows(
    ulps: int, same_nan_close: Callable[..., None]
) -> None:
    """TA-Lib 0.8.1's divide-by-zero guards: exact for RSI/NATR/ULTOSC, 1e-14-relative for
    CCI/WILLR, none for STDDEV; the oracle reproduces each, on either side of the band."""
    step = ulps * np.spacing(100.0)
    flat = np.full(12, 100.0)
    bumpy = flat + step * (np.arange(12) % 3 == 1)
    for h, lo, c in ((bumpy, flat, flat), (bumpy, flat, bumpy), (bumpy, bumpy - step, flat)):
        data: HLC = (h, lo, c)
        for name in ("CCI2", "WILLR2", "RSI2", "STDDEV2", "NATR2", "ULTOSC(2, 3, 4)"):
            ours_fn, theirs_fn = CASES[name]
            for a, b in zip(ours_fn(data), theirs_fn(data), strict=True):
                same_nan_close(a, b, rtol=RTOL, atol=0.0, what=f"{name} ulps={ulps}")
