"""Bars: upserts, idempotence, incremental appends, panel loads and the last-bars query."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ferroquant.errors import UnknownSymbolError, ValidationError
from ferroquant.store import FIELDS, Bars, Store

from ._store_helpers import assert_stats_consistent, make_bars


def dense(bars: Bars) -> tuple[list[str], np.ndarray, dict[str, np.ndarray]]:
    """The expected panel of a batch, built the slow obvious way."""
    syms = sorted(set(bars.symbol.tolist()))
    dates = np.unique(bars.date)
    out = {f: np.full((len(syms), dates.size), np.nan) for f in FIELDS}
    for i in range(len(bars)):
        r, c = syms.index(bars.symbol[i]), int(np.searchsorted(dates, bars.date[i]))
        for f in FIELDS:
            out[f][r, c] = getattr(bars, f)[i]
    return syms, dates, out


def assert_panel(store: Store, bars: Bars) -> None:
    syms, dates, expected = dense(bars)
    p = store.load_panel()
    assert p.symbols == syms
    np.testing.assert_array_equal(p.dates, dates)
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(p, f), expected[f], err_msg=f)


def test_round_trip_and_idempotent(store: Store) -> None:
    bars = make_bars(7, 600)
    assert store.write_bars(bars) == len(bars)
    assert store.write_bars(bars) == 0
    assert_panel(store, bars)
    info = store.info()
    assert info["bars"] == len(bars) and info["symbols"] == 7
    assert info["first_date"] == str(bars.date.min())


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    data=st.data(),
    n_assets=st.integers(1, 4),
    n_bars=st.integers(1, 700),
)
def test_random_subsets_in_any_order_and_batches(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject, n_assets: int, n_bars: int
) -> None:
    full = make_bars(n_assets, n_bars, seed=n_bars)
    keep = np.array(data.draw(st.lists(st.booleans(), min_size=len(full), max_size=len(full))))
    if not keep.any():
        keep[0] = True
    subset = full.take(np.flatnonzero(keep))
    perm = np.random.default_rng(n_bars).permutation(len(subset))
    shuffled = subset.take(perm)
    cut = data.draw(st.integers(0, len(shuffled)))
    with Store.open(tmp_path_factory.mktemp("h") / "h.db") as store:
        n1 = store.write_bars(shuffled.take(np.arange(cut)))
        n2 = store.write_bars(shuffled.take(np.arange(cut, len(shuffled))))
        assert n1 + n2 == len(subset)
        assert store.write_bars(subset) == 0
        assert_panel(store, subset)
        assert_stats_consistent(store)


def test_incremental_append_and_changed_values(store: Store) -> None:
    full = make_bars(3, 300)
    first = full.take(np.flatnonzero(full.date < full.date[250]))
    store.write_bars(first)
    new = full.take(np.flatnonzero(full.date >= full.date[250]))
    assert store.write_bars(new) == len(new)
    assert_panel(store, full)
    last = store.last_bar_dates()
    assert last == {s: full.date.max() for s in ("S0000", "S0001", "S0002")}
    changed = full.take(np.array([5]))
    changed = Bars.from_arrays(changed.symbol, changed.date, 1.0, 2.0, 0.5, 1.5, 1.4, 10.0)
    assert store.write_bars(changed) == 1
    p = store.load_panel(["S0000"])
    assert p.close[0, 5] == 1.5
    assert_stats_consistent(store)
    latest = full.take(np.array([299]))
    latest = Bars.from_arrays(latest.symbol, latest.date, 2.0, 3.0, 1.0, 2.5, 2.4, 10.0)
    assert store.write_bars(latest) == 1
    assert_stats_consistent(store)
    store.write_holdings("p", {"S0000": 2})
    assert store.valuation("p")[0].price == 2.5


def test_nan_field_keeps_stored_value(store: Store) -> None:
    bars = make_bars(1, 5)
    store.write_bars(bars)
    adj_only = Bars.from_arrays(
        bars.symbol, bars.date, *[np.full(5, np.nan)] * 4, adj_close=np.arange(1.0, 6.0)
    )
    assert store.write_bars(adj_only) == 5
    p = store.load_panel()
    np.testing.assert_array_equal(p.close[0], bars.close)
    np.testing.assert_array_equal(p.adj_close[0], np.arange(1.0, 6.0))
    assert store.write_bars(adj_only) == 0


def test_duplicates_and_missing_dates_are_refused_without_writing(store: Store) -> None:
    bars = make_bars(2, 3)
    dup = Bars.concat([bars, bars.take(np.array([4]))])
    with pytest.raises(ValidationError, match="duplicate bar S0001"):
        store.write_bars(dup)
    nat = Bars.from_arrays("A", np.array(["NaT"], "datetime64[D]"), 1, 1, 1, 1, 1, 1)
    with pytest.raises(ValidationError, match="missing date"):
        store.write_bars(nat)
    assert store.info()["bars"] == 0


def test_panel_subsets_dates_and_unknown_symbols(store: Store) -> None:
    a = make_bars(1, 400, prefix="A")
    b = make_bars(1, 100, prefix="B", start="2020-06-01")
    store.write_bars(Bars.concat([a, b]))
    p = store.load_panel(["B0000", "A0000"], start="2020-06-01", end="2020-06-30")
    assert p.symbols == ["B0000", "A0000"]
    assert str(p.dates[0]) == "2020-06-01" and str(p.dates[-1]) == "2020-06-30"
    assert p.shape == (2, 22) and not np.isnan(p.close).any()
    p2 = store.load_panel(["B0000"], end="2020-05-01")
    assert p2.shape == (1, 0)
    with pytest.raises(UnknownSymbolError, match="ZZZ"):
        store.load_panel(["ZZZ"])


def test_last_bars(store: Store) -> None:
    bars = make_bars(2, 1000)
    store.write_bars(bars)
    got = store.last_bars("S0001", 252)
    mine = np.flatnonzero(bars.symbol == "S0001")[-252:]
    np.testing.assert_array_equal(got.date, bars.date[mine])
    np.testing.assert_array_equal(got.close, bars.close[mine])
    assert len(store.last_bars("S0001", 5000)) == 1000
    with pytest.raises(UnknownSymbolError):
        store.last_bars("NOPE")


def test_corporate_actions_and_derived_adj_close(store: Store) -> None:
    d = np.array(["2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"], "datetime64[D]")
    close = np.array([100.0, 102.0, 51.0, 50.0])
    store.write_bars(Bars.from_arrays("X", d, close, close, close, close, volume=[1, 1, 1, 1]))
    # 2:1 split on the 4th, a 1.02 dividend on the 3rd (previous close 100).
    n = store.write_corporate_actions(["X", "X"], d[[1, 2]], [1.0, 0.0], [1.0, 2.0])
    assert n == 2
    assert store.write_corporate_actions(["X", "X"], d[[1, 2]], [1.0, 0.0], [1.0, 2.0]) == 0
    store.derive_adj_close(["X"])
    adj = store.load_panel().adj_close[0]
    np.testing.assert_allclose(adj, [100 * 0.99 / 2, 102 / 2, 51, 50])
    assert store.corporate_actions("X")[1][2] == 2.0
    with pytest.raises(ValidationError, match="split"):
        store.write_corporate_actions(["X"], d[:1], [0.0], [-1.0])


def test_given_adj_close_is_never_overwritten_by_derivation(store: Store) -> None:
    bars = make_bars(1, 10)
    store.write_bars(bars)
    store.write_corporate_actions(["S0000"], bars.date[5:6], None, [2.0])
    assert store.derive_adj_close() == 0
    np.testing.assert_array_equal(store.load_panel().adj_close[0], bars.adj_close)
