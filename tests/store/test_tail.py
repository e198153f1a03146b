"""Append tails: daily appends read exactly like one bulk write, fold into the blocks, take
corrections, stay idempotent, and arrive in older stores by migration."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ferroquant.store import FIELDS, SCHEMA_VERSION, Bars, Store, _blocks, _tail
from ferroquant.store._runs import RUN_SHIFT

from ._store_helpers import assert_stats_consistent, make_bars


def day_of(bars: Bars, k: int) -> Bars:
    """The bars of the ``k``-th date of a full grid."""
    dates = np.unique(bars.date)
    return bars.take(np.flatnonzero(bars.date == dates[k]))


def until(bars: Bars, k: int) -> Bars:
    dates = np.unique(bars.date)
    return bars.take(np.flatnonzero(bars.date < dates[k]))


def tail_rows(store: Store, table: str = "bar_tail") -> list[tuple[object, ...]]:
    with store.reader() as c:
        return c.execute(f"SELECT * FROM {table} ORDER BY run").fetchall()


def assert_same_bars(a: Store, b: Store, start: object = None, end: object = None) -> None:
    pa, pb = a.load_panel(start=start, end=end), b.load_panel(start=start, end=end)
    assert pa.symbols == pb.symbols
    np.testing.assert_array_equal(pa.dates, pb.dates)
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(pa, f), getattr(pb, f), err_msg=f)


@pytest.fixture
def bulk(tmp_path: Path) -> Store:
    return Store.open(tmp_path / "bulk.db")


def test_daily_appends_read_like_one_bulk_write(store: Store, bulk: Store) -> None:
    # 300 symbols: two runs of ids; 60 appended days fold every run at least once
    bars = make_bars(300, 260)
    dates = np.unique(bars.date)
    assert bulk.write_bars(bars) == len(bars)
    assert store.write_bars(until(bars, 200)) == 300 * 200
    saw_tail = folded = False
    for k in range(200, 260):
        before = len(tail_rows(store))
        assert store.write_bars(day_of(bars, k)) == 300
        saw_tail |= len(tail_rows(store)) > 0
        folded |= len(tail_rows(store)) < before
        if k % 9 == 0:
            assert_same_bars(store, _Prefix(bulk, dates[k]))  # type: ignore[arg-type]
            assert_stats_consistent(store)
    assert saw_tail and folded
    assert_same_bars(store, bulk)
    assert_same_bars(store, bulk, start=dates[230], end=dates[250])  # a window in the tails
    assert_same_bars(store, bulk, start=dates[259])
    for sym in ("S0000", "S0150", "S0299"):
        for n in (1, 5, 40, 252, 1000):
            got, want = store.last_bars(sym, n), bulk.last_bars(sym, n)
            np.testing.assert_array_equal(got.date, want.date)
            np.testing.assert_array_equal(got.values(), want.values())
    assert store.last_bar_dates() == bulk.last_bar_dates()
    assert store.info()["bars"] == bulk.info()["bars"] == 300 * 260
    store.write_holdings("p", {"S0001": 3.0, "S0200": 1.0})
    bulk.write_holdings("p", {"S0001": 3.0, "S0200": 1.0})
    assert store.valuation("p") == bulk.valuation("p")
    assert_stats_consistent(store)
    bulk.close()


class _Prefix:
    """A store's panel up to a date (the reference while appending)."""

    def __init__(self, store: Store, last: np.datetime64) -> None:
        self.store, self.last = store, last

    def load_panel(self, start: object = None, end: object = None) -> object:
        return self.store.load_panel(start=start, end=self.last if end is None else end)


def test_a_tail_never_reaches_tail_max_and_each_run_folds(store: Store) -> None:
    bars = make_bars(2, 150)
    store.write_bars(until(bars, 10))
    for k in range(10, 150):
        store.write_bars(day_of(bars, k))
        for row in tail_rows(store):
            days = np.frombuffer(row[5], np.int32)
            assert days.size < _tail.TAIL_MAX
            assert (row[0] + _tail.phase(int(days[-1]))) % _tail.FOLD_EVERY != 0  # would fold
    assert_stats_consistent(store)
    assert store.info()["bars"] == 300


def test_rewriting_appended_bars_changes_nothing(store: Store) -> None:
    bars = make_bars(3, 40)
    store.write_bars(until(bars, 30))
    for k in range(30, 33):
        store.write_bars(day_of(bars, k))
    rows = tail_rows(store)
    assert rows  # the appends are in the tail
    with store.reader() as c:
        blocks = c.execute("SELECT * FROM bar_blocks ORDER BY 1, 2").fetchall()
    for k in range(30, 33):
        assert store.write_bars(day_of(bars, k)) == 0
    assert store.write_bars(until(bars, 33)) == 0
    assert tail_rows(store) == rows
    with store.reader() as c:
        assert c.execute("SELECT * FROM bar_blocks ORDER BY 1, 2").fetchall() == blocks


def test_corrections_inside_the_tail_and_inside_a_sealed_block(store: Store) -> None:
    bars = make_bars(2, 40)
    dates = np.unique(bars.date)
    store.write_bars(until(bars, 30))
    for k in range(30, 34):
        store.write_bars(day_of(bars, k))
    assert tail_rows(store)
    nan = float("nan")
    # a tail day: a new close, the NaN fields keep the stored values
    fix = Bars.from_arrays(["S0001"], [dates[32]], nan, nan, nan, [99.0], volume=nan)
    assert store.write_bars(fix) == 1
    assert store.write_bars(fix) == 0
    # a sealed day
    old = Bars.from_arrays(["S0000"], [dates[3]], 1, 2, 0.5, [1.5], volume=7)
    assert store.write_bars(old) == 1
    p = store.load_panel()
    assert p.close[1, 32] == 99.0 and p.volume[1, 32] == bars.volume[40 + 32]
    assert p.close[0, 3] == 1.5 and p.volume[0, 3] == 7
    last = store.last_bars("S0001", 3)
    assert last.close.tolist() == [bars.close[40 + 31], 99.0, bars.close[40 + 33]]
    assert_stats_consistent(store)
    assert store.info()["bars"] == 68


def test_a_long_append_takes_the_blocks_after_the_tail(store: Store, bulk: Store) -> None:
    bars = make_bars(3, 200)
    bulk.write_bars(bars)
    store.write_bars(until(bars, 100))
    for k in range(100, 103):
        store.write_bars(day_of(bars, k))
    rest = bars.take(np.flatnonzero(bars.date >= np.unique(bars.date)[101]))  # overlaps the tail
    assert store.write_bars(rest) == 3 * 97
    assert_same_bars(store, bulk)
    assert_stats_consistent(store)
    bulk.close()


def test_a_new_symbol_and_a_gap_day_among_appends(store: Store, bulk: Store) -> None:
    bars = make_bars(4, 60)
    late = make_bars(1, 60, prefix="N", seed=3)
    late = late.take(np.flatnonzero(late.date >= np.unique(late.date)[50]))
    gap = np.flatnonzero((bars.symbol == "S0002") & (bars.date == np.unique(bars.date)[55]))
    keep = np.setdiff1d(np.arange(len(bars)), gap)
    everything = Bars.concat([bars.take(keep), late])
    bulk.write_bars(everything)
    store.write_bars(until(everything, 50))
    for k in range(50, 60):
        store.write_bars(day_of(everything, k))
    assert_same_bars(store, bulk)
    assert_stats_consistent(store)
    bulk.close()


def test_adjusted_closes_derived_for_tail_bars(store: Store, bulk: Store) -> None:
    raw = make_bars(2, 60)
    bars = Bars.from_arrays(raw.symbol, raw.date, raw.open, raw.high, raw.low, raw.close,
                            volume=raw.volume)  # fmt: skip
    dates = np.unique(bars.date)
    for s in (store, bulk):
        s.write_corporate_actions(["S0000", "S0001"], [dates[57], dates[20]], [0.5, 0.0],
                                  [1.0, 2.0])  # fmt: skip
    bulk.write_bars(bars)
    bulk.derive_adj_close()
    store.write_bars(until(bars, 50))
    store.derive_adj_close()
    for k in range(50, 60):
        store.write_bars(day_of(bars, k))
        store.derive_adj_close(["S0000", "S0001"])
    assert tail_rows(store)
    assert_same_bars(store, bulk)
    assert store.derive_adj_close() == 0
    bulk.close()


def test_indicator_appends_read_like_one_bulk_write(store: Store, bulk: Store) -> None:
    n, t = 260, 120
    syms = [f"S{i:03d}" for i in range(n)]
    dates = np.busday_offset(np.datetime64("2022-01-03"), np.arange(t), roll="forward")
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(n, t)), rng.normal(size=(n, t))
    x[:, :5] = np.nan  # a warm-up
    y[rng.random((n, t)) < 0.05] = np.nan  # scattered holes
    for s in (store, bulk):
        s.upsert_symbols(syms)
    bulk.write_indicators({"x": x, "y": y}, syms, dates)
    store.write_indicators({"x": x[:, :80], "y": y[:, :80]}, syms, dates[:80])
    saw_tail = False
    for k in range(80, t):
        lo = k - 10  # the job writes the new column of a short window
        store.write_indicators(
            {"x": x[:, lo : k + 1], "y": y[:, lo : k + 1]}, syms, dates[lo : k + 1],
            from_index=k - lo,
        )  # fmt: skip
        saw_tail |= bool(tail_rows(store, "indicator_tail"))
        if k % 13 == 0:
            got, gs, gd = store.read_indicators(start=dates[k - 30], end=dates[k])
            want, ws, wd = bulk.read_indicators(start=dates[k - 30], end=dates[k])
            assert gs == ws
            np.testing.assert_array_equal(gd, wd)
            for name in ("x", "y"):
                np.testing.assert_array_equal(got[name], want[name])
    assert saw_tail
    for start, end in ((None, None), (dates[100], None), (dates[t - 1], dates[t - 1])):
        got, gs, gd = store.read_indicators(start=start, end=end)
        want, ws, wd = bulk.read_indicators(start=start, end=end)
        assert gs == ws
        np.testing.assert_array_equal(gd, wd)
        for name in ("x", "y"):
            np.testing.assert_array_equal(got[name], want[name])
    got1, _, _ = store.read_indicators(["y"], ["S007", "S200"])
    want1, _, _ = bulk.read_indicators(["y"], ["S007", "S200"])
    np.testing.assert_array_equal(got1["y"], want1["y"])
    for name in ("x", "y"):
        assert store.indicator_last_dates(name) == bulk.indicator_last_dates(name)
    bulk.close()


def test_indicator_corrections_and_long_writes_override_the_tail(store: Store) -> None:
    syms = ["A", "B"]
    dates = np.busday_offset(np.datetime64("2022-01-03"), np.arange(60), roll="forward")
    x = np.arange(120.0).reshape(2, 60)
    store.upsert_symbols(syms)
    store.write_indicators({"x": x[:, :50]}, syms, dates[:50])
    for k in range(50, 55):
        store.write_indicators({"x": x[:, : k + 1]}, syms, dates[: k + 1], from_index=k)
    assert tail_rows(store, "indicator_tail")
    rows = tail_rows(store, "indicator_tail")
    store.write_indicators({"x": x[:, 52:53]}, syms, dates[52:53])  # the same values again
    assert tail_rows(store, "indicator_tail") == rows
    x2 = x.copy()
    x2[:, 52] = -1.0  # a correction of a tail day
    x2[:, 40] = -2.0  # and of a sealed one (a short write: into the tail, which wins)
    store.write_indicators({"x": x2[:, 40:53]}, syms, dates[40:53])
    got, _, _ = store.read_indicators(["x"], end=dates[54])
    np.testing.assert_array_equal(got["x"], x2[:, :55])
    x3 = x2 + 1000.0  # a long write (a full recompute) replaces everything
    store.write_indicators({"x": x3[:, :55]}, syms, dates[:55])
    assert tail_rows(store, "indicator_tail") == []
    got, _, _ = store.read_indicators(["x"])
    np.testing.assert_array_equal(got["x"], x3[:, :55])
    assert store.indicator_last_dates("x") == {"A": dates[54], "B": dates[54]}


def test_an_indicator_written_alone_keeps_its_own_last_date(store: Store) -> None:
    syms = ["A"]
    dates = np.busday_offset(np.datetime64("2022-01-03"), np.arange(40), roll="forward")
    x = np.ones((1, 40))
    store.upsert_symbols(syms)
    store.write_indicators({"a": x[:, :38], "b": x[:, :38]}, syms, dates[:38])
    store.write_indicators({"a": x[:, :39]}, syms, dates[:39], from_index=38)
    store.write_indicators({"a": x, "b": x}, syms, dates, from_index=39)
    assert store.indicator_last_dates("a") == {"A": dates[39]}
    assert store.indicator_last_dates("b") == {"A": dates[39]}
    got, _, d = store.read_indicators(["b"])
    np.testing.assert_array_equal(d, np.delete(dates, 38))  # "b" was not written on day 38
    assert (got["b"] == 1.0).all()
    got, _, d = store.read_indicators(["b"], start=dates[38], end=dates[38])
    assert d.size == 0  # "b" has nothing on that day


def test_migration_3_adds_the_tails_to_a_version_2_store(tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    bars = make_bars(3, 50)
    with Store.open(path) as s:
        s.write_bars(until(bars, 45))
        with s.transaction() as c:  # turn it back into what version 2 wrote
            c.execute("DROP TABLE bar_tail")
            c.execute("DROP TABLE indicator_tail")
            for table in ("risk_factor_returns", "risk_covariance", "risk_exposures"):
                c.execute(f"DROP TABLE {table}")
            c.execute("DELETE FROM schema_version WHERE version >= 3")
    with Store.open(path, readonly=True) as s:
        assert s.schema_version == 2
    with Store.open(path) as s:
        assert s.schema_version == SCHEMA_VERSION
        for k in range(45, 50):
            assert s.write_bars(day_of(bars, k)) == 3
        assert tail_rows(s)
        assert s.info()["bars"] == 150
        assert_stats_consistent(s)


def test_runs_group_consecutive_ids() -> None:
    assert RUN_SHIFT == 8
    ids = np.array([0, 255, 256, 1000])
    assert (ids >> RUN_SHIFT).tolist() == [0, 0, 1, 3]


@pytest.mark.parametrize(("groups", "two_pass"), [(1, False), (3, False), (30, True)])
def test_panel_load_whose_batches_bring_new_days(
    store: Store, monkeypatch: pytest.MonkeyPatch, groups: int, two_pass: bool
) -> None:
    # symbols listed at different times: later batches of blocks bring days the first lacked
    # (the axis grows; past two growths the load starts over in two passes)
    parts = []
    for g in range(groups):
        b = make_bars(1200 // groups, 5, start=f"2021-{1 + g % 12:02d}-{1 + g // 12:02d}",
                      seed=g, prefix=f"G{g:02d}_")  # fmt: skip
        parts.append(b)
    bars = Bars.concat(parts)
    store.write_bars(bars)
    calls = []
    original = _blocks._two_pass
    monkeypatch.setattr(_blocks, "_two_pass", lambda *a: calls.append(1) or original(*a))
    p = store.load_panel()
    assert bool(calls) == two_pass
    dates = np.unique(bars.date)
    np.testing.assert_array_equal(p.dates, dates)
    row = {s: i for i, s in enumerate(p.symbols)}
    r = np.array([row[s] for s in bars.symbol])
    c = np.searchsorted(dates, bars.date)
    for f in FIELDS:
        expected = np.full(p.close.shape, np.nan)
        expected[r, c] = getattr(bars, f)
        np.testing.assert_array_equal(getattr(p, f), expected)
