"""Stream ≡ batch, bit for bit, at every bar (NaN positions included), and the properties built on
it: peek changes nothing, checkpoints continue exactly, thread count does not matter."""

from __future__ import annotations

import pickle
import subprocess
import sys
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import ferroquant as fq
from ferroquant.stream import Stream

IND = fq.indicators
ALL = ["standard", "sma(30)", "ema(12)", "rsi(9)", "bollinger(20, 2)", "macd", "atr(14)"]


def batch(spec: str, c: Any, h: Any, lo: Any, conv: str) -> list[Any]:
    """The batch outputs of one indicator spec, as the stream names them, in order."""
    if spec == "standard":
        if conv == "pandas":
            return list(IND.standard(c))
        b = IND.bollinger(c, 20, 2.0, convention=conv)
        return [
            IND.sma(c, 20, convention=conv),
            IND.sma(c, 50, convention=conv),
            IND.rsi(c, 14, convention=conv),
            *b,
        ]
    if spec == "sma(30)":
        return [IND.sma(c, 30, convention=conv)]
    if spec == "ema(12)":
        return [IND.ema(c, 12, convention=conv)]
    if spec == "rsi(9)":
        return [IND.rsi(c, 9, convention=conv)]
    if spec == "bollinger(20, 2)":
        return list(IND.bollinger(c, 20, 2.0, convention=conv))
    if spec == "macd":
        return list(IND.macd(c, convention=conv))
    if spec == "atr(14)":
        return [IND.atr(h, lo, c, 14, convention=conv)]
    raise AssertionError(spec)


def expected(specs: list[str], c: Any, h: Any, lo: Any, conv: str) -> Any:
    """`(n_bars, n_symbols, n_outputs)`."""
    cols = [o for s in specs for o in batch(s, c, h, lo, conv)]
    return np.stack(cols, axis=-1).transpose(1, 0, 2)


@st.composite
def panels(draw: st.DrawFn) -> Any:
    n = draw(st.integers(1, 5))
    bars = draw(st.integers(1, 160))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    level = 10.0 ** rng.uniform(-3, 4, size=(n, 1))
    c = level * np.exp(np.cumsum(rng.normal(0, 0.02, size=(n, bars)), axis=1))
    for a in range(n):
        if draw(st.booleans()):  # listed mid-panel
            c[a, : rng.integers(0, bars + 1)] = np.nan
        if draw(st.booleans()):  # delisted
            c[a, rng.integers(0, bars + 1) :] = np.nan
        if draw(st.booleans()):  # halt
            s = rng.integers(0, bars)
            c[a, s : s + rng.integers(1, 30)] = np.nan
        if draw(st.booleans()):  # flat run
            s = rng.integers(0, bars)
            c[a, s : s + rng.integers(1, 60)] = c[a, s] if not np.isnan(c[a, s]) else 1.0
    spread = np.abs(rng.normal(0, 0.01, size=(n, bars))) * np.nan_to_num(c, nan=1.0)
    return c, c + spread, c - spread


def run_stream(stream: Stream, c: Any, h: Any, lo: Any, start: int = 0) -> Any:
    rows = []
    for t in range(start, c.shape[1]):
        kw = (
            {"high": h[:, t].copy(), "low": lo[:, t].copy()}
            if "atr(14)" in stream.indicators
            else {}
        )
        rows.append(stream.update(c[:, t].copy(), **kw).values.copy())
    return np.array(rows)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(panels(), st.sampled_from(["pandas", "talib"]), st.integers(0, 2**16))
def test_every_bar_equals_batch(panel: Any, conv: str, pick: int) -> None:
    c, h, lo = panel
    specs = [s for i, s in enumerate(ALL) if pick >> i & 1] or ["standard"]
    stream = Stream([f"S{i}" for i in range(len(c))], specs, convention=conv)
    got = run_stream(stream, c, h, lo)
    want = expected(specs, c, h, lo, conv)
    assert np.array_equal(got, want, equal_nan=True)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(panels(), st.sampled_from(["pandas", "talib"]), st.data())
def test_peek_checkpoint_and_warm_start_continue_exactly(panel: Any, conv: str, data: Any) -> None:
    c, h, lo = panel
    bars = c.shape[1]
    cut = data.draw(st.integers(0, bars))
    syms = [f"S{i}" for i in range(len(c))]
    warm = Stream.from_history(
        c[:, :cut], ALL, symbols=syms, high=h[:, :cut], low=lo[:, :cut], convention=conv
    )
    restored = Stream.restore(warm.checkpoint())
    want = expected(ALL, c, h, lo, conv)[cut:]
    for t in range(cut, bars):
        kw = {"high": h[:, t], "low": lo[:, t]}
        before = restored.checkpoint()
        peeked = restored.peek(c[:, t], **kw).values.copy()
        assert restored.checkpoint() == before
        got = restored.update(c[:, t], **kw).values
        assert np.array_equal(peeked, got, equal_nan=True)
        assert np.array_equal(got, want[t - cut], equal_nan=True)


def test_restore_in_a_new_process_continues_bit_identically(tmp_path: Any) -> None:
    rng = np.random.default_rng(5)
    c = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, size=(4, 300)), axis=1))
    s = Stream.from_history(c[:, :200], ["standard", "macd", "rsi(9)"], symbols=list("ABCD"))
    (tmp_path / "state.bin").write_bytes(s.checkpoint())
    np.save(tmp_path / "rest.npy", c[:, 200:])
    code = (
        "import numpy as np, sys; from ferroquant.stream import Stream;"
        f"s = Stream.restore(open({str(tmp_path / 'state.bin')!r}, 'rb').read());"
        f"r = np.load({str(tmp_path / 'rest.npy')!r});"
        "out = np.array([s.update(r[:, t]).values for t in range(r.shape[1])]);"
        f"np.save({str(tmp_path / 'out.npy')!r}, out)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    child = np.load(tmp_path / "out.npy")
    assert np.array_equal(child, run_stream(s, c[:, 200:], c, c), equal_nan=True)


@pytest.mark.parametrize("threads", [1, 2, 3])
@pytest.mark.parametrize("specs", [["standard"], ["standard", "ema(12)"]])
def test_results_do_not_depend_on_threads(threads: int, specs: list[str]) -> None:
    # 3,000 symbols: with more than one thread, updates share their chunks with the crew's
    # helpers (both the ring layout of the standard set alone and the general one).
    rng = np.random.default_rng(9)
    c = 50 * np.exp(np.cumsum(rng.normal(0, 0.01, size=(3000, 80)), axis=1))
    c[::7, 30:40] = np.nan
    with fq.threads(threads):
        s = Stream.from_history(c[:, :60], specs, symbols=[str(i) for i in range(3000)])
        got = run_stream(s, c, c, c, start=60)
    assert np.array_equal(got, expected(specs, c, c, c, "pandas")[60:], equal_nan=True)


def test_symbols_come_and_go_without_touching_the_others() -> None:
    rng = np.random.default_rng(2)
    c = 20 * np.exp(np.cumsum(rng.normal(0, 0.01, size=(4, 120)), axis=1))
    want = expected(["standard"], c, c, c, "pandas")
    s = Stream.from_history(c[:3, :70], "standard", symbols=["A", "B", "C"])
    s.remove_symbols(["B"])
    s.add_symbols(["D"], history=c[3:, :70])
    s.add_symbols(["E"])
    assert s.symbols == ("A", "C", "D", "E")
    for t in range(70, 120):
        tick = s.update({"A": c[0, t], "C": c[2, t], "D": c[3, t]})
        assert np.array_equal(tick.values[:3], want[t][[0, 2, 3]], equal_nan=True)
        assert np.isnan(tick.values[3]).all()
    assert tick.symbol("D")["sma20"] == want[119][3][0]
    assert list(tick) == list(s.outputs)


def test_single_series_classes_equal_batch() -> None:
    rng = np.random.default_rng(4)
    x = 30 * np.exp(np.cumsum(rng.normal(0, 0.02, 200)))
    h, lo = x * 1.01, x * 0.99
    for conv in ("pandas", "talib"):
        r = fq.stream.RSI(14, convention=conv)
        assert np.array_equal(
            [r.update(v) for v in x], IND.rsi(x, 14, convention=conv), equal_nan=True
        )
        b = fq.stream.Bollinger(20, 2.0, convention=conv)
        got = np.array([b.update(v) for v in x]).T
        assert np.array_equal(
            got, np.array(IND.bollinger(x, 20, 2.0, convention=conv)), equal_nan=True
        )
        m = fq.stream.MACD(convention=conv)
        m.warm(x[:150])
        got = np.array([m.update(v) for v in x[150:]]).T
        assert np.array_equal(got, np.array(IND.macd(x, convention=conv))[:, 150:], equal_nan=True)
        a = fq.stream.ATR(14, convention=conv)
        got = np.array([a.update(c, hi, lo) for c, hi, lo in zip(x, h, lo, strict=True)])
        assert np.array_equal(got, IND.atr(h, lo, x, 14, convention=conv), equal_nan=True)
    e, s = fq.stream.EMA(10), fq.stream.SMA(10)
    assert np.array_equal([e.update(v) for v in x], IND.ema(x, 10), equal_nan=True)
    assert s.peek(1.0) == 1.0 and np.array_equal([s.update(v) for v in x], IND.sma(x, 10))
    std = fq.stream.StandardSet()
    last = std.warm(x)
    assert last == tuple(col[-1] for col in IND.standard(x))
    std.restore(std.checkpoint())
    assert std.update(x[-1]).sma20 == IND.standard(np.append(x, x[-1])).sma20[-1]
    assert pickle.loads(pickle.dumps(std.checkpoint())) == std.checkpoint()


def test_from_history_takes_a_sample_panel_and_a_wide_frame() -> None:
    import pandas as pd

    from ferroquant.sample import load_sample

    panel = load_sample()
    s = Stream.from_history(panel, ["standard", "atr(14)"])
    assert s.symbols == tuple(panel.symbols)
    want = IND.standard(panel.close)
    tick = s.peek(panel.close[:, -1], high=panel.high[:, -1], low=panel.low[:, -1])
    assert tick.values.shape == (len(panel.symbols), 7)
    ext = [np.concatenate([a, a[:, -1:]], axis=1) for a in (panel.high, panel.low, panel.close)]
    assert np.array_equal(tick["atr14"], IND.atr(*ext, 14)[:, -1], equal_nan=True)
    frame = pd.DataFrame(panel.close[:5, :-1].T, index=panel.dates[:-1], columns=panel.symbols[:5])
    w = Stream.from_history(frame, "standard")
    tick = w.update(panel.close[:5, -1])
    assert np.array_equal(tick.values, np.stack([c[:5, -1] for c in want], axis=1), equal_nan=True)
    assert w.symbols == tuple(panel.symbols[:5])
