"""Holdings, trades, the valuation query and its plan."""

from __future__ import annotations

import numpy as np
import pytest

from ferroquant.errors import UnknownSymbolError
from ferroquant.store import VALUATION_SQL, Bars, Store

from ._store_helpers import make_bars


def test_valuation_latest_close_sorted(store: Store) -> None:
    bars = make_bars(4, 600)
    store.write_bars(bars)
    store.upsert_symbols(["NOBARS"])
    store.write_holdings("p", {"S0000": 10, "S0001": 1000, "S0002": -5, "NOBARS": 3})
    got = store.valuation("p")
    last = {s: bars.close[bars.symbol == s][-1] for s in ("S0000", "S0001", "S0002")}
    expected = sorted(
        ((s, q * last[s]) for s, q in (("S0000", 10), ("S0001", 1000), ("S0002", -5))),
        key=lambda t: -t[1],
    )
    assert [v.symbol for v in got[:3]] == [e[0] for e in expected]
    assert [v.market_value for v in got[:3]] == pytest.approx([e[1] for e in expected])
    assert got[0].date == str(bars.date.max()) and got[0].price == pytest.approx(last["S0001"])
    assert got[-1] == ("NOBARS", 3.0, None, None, None)
    assert got[0]._asdict()["quantity"] == 1000.0


def test_holdings_are_replaced_and_unknown_symbols_refused(store: Store) -> None:
    store.write_bars(make_bars(2, 5))
    store.write_holdings("p", {"S0000": 1, "S0001": 2})
    store.write_holdings("p", {"S0001": 3})
    assert [(v.symbol, v.quantity) for v in store.valuation("p")] == [("S0001", 3.0)]
    with pytest.raises(UnknownSymbolError, match="XYZ"):
        store.write_holdings("p", {"XYZ": 1})
    assert [(v.symbol, v.quantity) for v in store.valuation("p")] == [("S0001", 3.0)]
    assert store.valuation("nobody") == []


def test_valuation_uses_the_primary_keys(store: Store) -> None:
    store.write_bars(make_bars(3, 800))
    store.write_holdings("p", {"S0000": 1, "S0002": 2})
    store.optimize()
    with store.reader() as c:
        plan = "\n".join(r[3] for r in c.execute("EXPLAIN QUERY PLAN " + VALUATION_SQL, ("p",)))
    # portfolio by name (unique index), its holdings by primary key, then per holding one
    # integer-key seek each in symbols and bar_stats: no scan, no bar block read
    assert "SEARCH portfolios USING COVERING INDEX sqlite_autoindex_portfolios_1 (name=?)" in plan
    assert "SEARCH h USING PRIMARY KEY (portfolio_id=?)" in plan
    assert "SEARCH s USING INTEGER PRIMARY KEY (rowid=?)" in plan
    assert "SEARCH b USING INTEGER PRIMARY KEY (rowid=?)" in plan
    assert "SCAN" not in plan and "bar_blocks" not in plan


def test_holdings_by_symbol_and_trades_by_time_use_indexes(store: Store) -> None:
    store.write_bars(make_bars(2, 5))
    store.write_trades("p", [("2024-01-02T10:00:00", "S0000", 5, 10.0)])
    with store.reader() as c:
        q1 = "SELECT portfolio_id FROM holdings WHERE symbol_id = 1"
        q2 = "SELECT * FROM trades WHERE ts >= '2024-01-01' ORDER BY ts"
        p1 = " ".join(r[3] for r in c.execute("EXPLAIN QUERY PLAN " + q1))
        p2 = " ".join(r[3] for r in c.execute("EXPLAIN QUERY PLAN " + q2))
        assert c.execute("SELECT count(*) FROM trades").fetchone()[0] == 1
    assert "holdings_by_symbol" in p1
    assert "trades_by_time" in p2


def test_valuation_sees_appended_bars(store: Store) -> None:
    bars = make_bars(1, 10)
    store.write_bars(bars)
    store.write_holdings("p", {"S0000": 2})
    nxt = np.datetime64("2030-01-02")
    store.write_bars(Bars.from_arrays("S0000", [nxt], 5, 5, 5, 5, volume=1))
    (v,) = store.valuation("p")
    assert (v.date, v.price, v.market_value) == ("2030-01-02", 5.0, 10.0)
