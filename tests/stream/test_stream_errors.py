"""Bad input to a stream: typed errors that name the symbol or argument, and nothing changed."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ferroquant as fq
from ferroquant.errors import (
    CheckpointError,
    DTypeError,
    InvalidParameterError,
    NonFiniteError,
    ShapeError,
    UnknownSymbolError,
)
from ferroquant.stream import Stream


@pytest.fixture
def stream() -> Stream:
    rng = np.random.default_rng(1)
    c = 10 * np.exp(np.cumsum(rng.normal(0, 0.01, size=(3, 60)), axis=1))
    return Stream.from_history(c, ["standard", "macd"], symbols=["AAA", "BBB", "CCC"])


def test_wrong_length_unknown_symbol_inf_and_dtype(stream: Stream) -> None:
    before = stream.checkpoint()
    with pytest.raises(ShapeError, match="2 values but the stream has 3 symbols"):
        stream.update(np.array([1.0, 2.0]))
    with pytest.raises(UnknownSymbolError, match="'ZZZ'"):
        stream.update({"AAA": 1.0, "ZZZ": 2.0})
    with pytest.raises(NonFiniteError, match="'BBB'"):
        stream.update(np.array([1.0, np.inf, 2.0]))
    with pytest.raises(DTypeError):
        stream.update(np.array(["a", "b", "c"]))
    with pytest.raises(DTypeError, match="'CCC'"):
        stream.update({"CCC": "x"})
    with pytest.raises(ShapeError, match="1-D"):
        stream.update(np.ones((3, 1)))
    with pytest.raises(ShapeError, match="out must be"):
        stream.update(np.ones(3), out=np.empty((3, 2)))
    assert stream.checkpoint() == before
    # ints, lists and strided views are accepted and converted, with the same results
    twin = Stream.restore(stream.checkpoint())
    a = stream.update(np.array([1, 2, 3])).values
    b = twin.update(np.array([[1.0, 0.0], [2.0, 0.0], [3.0, 0.0]])[:, 0]).values
    assert np.array_equal(a, b, equal_nan=True)
    assert stream.update([1, 2, 3]).values.shape == (3, 9)


def test_invalid_specs_and_symbols() -> None:
    with pytest.raises(InvalidParameterError, match="invalid indicator 'foo'"):
        Stream(["A"], "foo")
    with pytest.raises(InvalidParameterError, match="at most 1 parameters"):
        Stream(["A"], "rsi(14, 3)")
    with pytest.raises(InvalidParameterError, match="whole number"):
        Stream(["A"], "sma(2.5)")
    with pytest.raises(InvalidParameterError, match="period"):
        Stream(["A"], "sma(0)")
    with pytest.raises(InvalidParameterError, match="same output twice"):
        Stream(["A"], ["standard", "sma(20)"])
    with pytest.raises(InvalidParameterError, match="duplicate symbols"):
        Stream(["A", "A"], "standard")
    with pytest.raises(InvalidParameterError, match="convention"):
        Stream(["A"], "standard", convention="excel")
    with pytest.raises(InvalidParameterError, match="high"):
        Stream(["A"], "atr(14)").update(np.ones(1))
    with pytest.raises(InvalidParameterError, match="already in the stream"):
        Stream(["A"], "standard").add_symbols(["A"])
    with pytest.raises(UnknownSymbolError):
        Stream(["A"], "standard").remove_symbols(["B"])


def test_checkpoint_refuses_foreign_and_corrupt_bytes(stream: Stream) -> None:
    good = stream.checkpoint()
    for bad in (b"", b"hello world, not a checkpoint", good[:-1], good[: len(good) // 2]):
        with pytest.raises(CheckpointError):
            Stream.restore(bad)
    with pytest.raises(CheckpointError):
        Stream.restore("text")  # type: ignore[arg-type]
    with pytest.raises(CheckpointError, match="format"):
        Stream.restore(good[:8] + (99).to_bytes(4, "little") + good[12:])


@settings(max_examples=50, deadline=None)
@given(st.data())
def test_any_flipped_byte_is_detected(data: st.DataObject) -> None:
    s = Stream(["A", "B"], ["rsi(3)", "ema(4)"])
    for v in (1.0, 2.0, 1.5, 3.0, 2.5):
        s.update(np.array([v, v * 2]))
    raw = bytearray(s.checkpoint())
    pos = data.draw(st.integers(0, len(raw) - 1))
    raw[pos] ^= 1 << data.draw(st.integers(0, 7))
    with pytest.raises(CheckpointError):
        Stream.restore(bytes(raw))


def test_required_history_and_repr() -> None:
    s = Stream(["A"], ["standard", "ema(12)"])
    assert s.required_history(0) is None
    assert s.required_history(1e-10) > 50
    assert "2 symbols" not in repr(s) and "1 symbols" in repr(s)
    assert fq.stream.Stream(["A"], "bollinger(30, 2)").required_history() == 30
