"""Indicator outputs: round trip, incremental tail writes, NaN semantics, last dates."""

from __future__ import annotations

import numpy as np
import pytest

from ferroquant.errors import ShapeError, UnknownSymbolError
from ferroquant.store import Store


def grid(n_assets: int, n_dates: int, seed: int = 0) -> tuple[list[str], np.ndarray, np.ndarray]:
    syms = [f"S{i}" for i in range(n_assets)]
    dates = np.busday_offset(np.datetime64("2021-01-01"), np.arange(n_dates), roll="forward")
    return syms, dates, np.random.default_rng(seed).normal(size=(n_assets, n_dates))


def test_round_trip_with_warmup_nans(store: Store) -> None:
    syms, dates, x = grid(5, 700)
    store.upsert_symbols(syms)
    x[:, :20] = np.nan
    x[3] = np.nan  # a symbol with no value at all
    store.write_indicators({"sma20": x, "rsi14": -x}, syms, dates)
    values, got_syms, got_dates = store.read_indicators()
    assert got_syms == ["S0", "S1", "S2", "S4"]  # S3 has nothing stored
    assert sorted(values) == ["rsi14", "sma20"]
    keep = [0, 1, 2, 4]
    # warm-up NaN columns inside a written block stay part of the date axis
    offset = dates.size - got_dates.size
    np.testing.assert_array_equal(got_dates, dates[offset:])
    np.testing.assert_array_equal(values["sma20"], x[keep, offset:])
    np.testing.assert_array_equal(values["rsi14"], -x[keep, offset:])
    assert store.info()["indicators"] == ["rsi14", "sma20"]


def test_subset_by_symbols_names_and_dates(store: Store) -> None:
    syms, dates, x = grid(4, 300)
    store.upsert_symbols(syms)
    store.write_indicators({"a": x, "b": 2 * x}, syms, dates)
    v, s, d = store.read_indicators(["b"], ["S2", "S0"], start=dates[10], end=dates[19])
    assert list(v) == ["b"] and s == ["S2", "S0"]
    np.testing.assert_array_equal(d, dates[10:20])
    np.testing.assert_array_equal(v["b"], 2 * x[[2, 0], 10:20])
    v, _, _ = store.read_indicators(["missing"], ["S1"])
    assert v["missing"].shape[0] == 1


def test_tail_update_rewrites_only_new_columns(store: Store) -> None:
    syms, dates, x = grid(3, 400)
    store.upsert_symbols(syms)
    store.write_indicators({"a": x}, syms, dates[:390] if False else dates, from_index=0)
    y = x.copy()
    y[:, :395] = 1e9  # must not be written: before from_index
    y[:, 395:] = 7.0
    store.write_indicators({"a": y}, syms, dates, from_index=395)
    v, _, _ = store.read_indicators(["a"], syms)
    np.testing.assert_array_equal(v["a"][:, :395], x[:, :395])
    np.testing.assert_array_equal(v["a"][:, 395:], 7.0)


def test_incremental_append_of_new_dates(store: Store) -> None:
    syms, dates, x = grid(2, 300)
    store.upsert_symbols(syms)
    store.write_indicators({"a": x[:, :250]}, syms, dates[:250])
    # the caller loads a window starting mid-block and appends the new dates only
    store.write_indicators({"a": x[:, 200:]}, syms, dates[200:], from_index=50)
    v, _, d = store.read_indicators(["a"])
    np.testing.assert_array_equal(d, dates)
    np.testing.assert_array_equal(v["a"], x)
    assert store.indicator_last_dates("a") == {"S0": dates[-1], "S1": dates[-1]}
    assert store.indicator_last_dates("nothing") == {}


def test_nan_erases_a_stored_value(store: Store) -> None:
    syms, dates, x = grid(1, 10)
    store.upsert_symbols(syms)
    store.write_indicators({"a": x}, syms, dates)
    store.write_indicators({"a": np.full((1, 10), np.nan)}, syms, dates)
    v, s, _ = store.read_indicators(["a"])
    assert s == [] and v["a"].shape == (0, 0)


def test_bad_arguments(store: Store) -> None:
    syms, dates, x = grid(2, 5)
    store.upsert_symbols(syms)
    with pytest.raises(ShapeError, match="'a' has shape"):
        store.write_indicators({"a": x[:, :4]}, syms, dates)
    with pytest.raises(ValueError, match="strictly increasing"):
        store.write_indicators({"a": x}, syms, dates[::-1])
    with pytest.raises(ValueError, match="from_index"):
        store.write_indicators({"a": x}, syms, dates, from_index=9)
    with pytest.raises(UnknownSymbolError, match="Q"):
        store.write_indicators({"a": x}, ["S0", "Q"], dates)
    assert store.read_indicators()[1] == []
