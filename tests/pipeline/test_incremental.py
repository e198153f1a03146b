"""Incremental runs against the real store: an update computes only the new bars, and what it
stores equals a full recomputation to 1e-12 relative with NaN in the same places (the kernels'
running sums make the last bits depend on where a window starts)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pipeline_panels import cut

import ferroquant as fq
from ferroquant.pipeline import Context, IndicatorStage, JobOptions, run_job
from ferroquant.sample import Panel

store_mod = pytest.importorskip("ferroquant.store")
Store = store_mod.Store
RTOL = 1e-12


def bars_of(panel: Panel) -> Any:
    """The panel's bars (cells with a close) as the store's columnar batch."""
    i, j = np.nonzero(~np.isnan(panel.close))
    return store_mod.Bars(
        symbol=np.array(panel.symbols, dtype=object)[i],
        date=panel.dates[j],
        open=panel.open[i, j],
        high=panel.high[i, j],
        low=panel.low[i, j],
        close=panel.close[i, j],
        adj_close=panel.close[i, j],
        volume=panel.volume[i, j],
    )


def fill(path: Path, panel: Panel) -> Any:
    store = Store.open(path)
    store.upsert_symbols(panel.symbols, sectors=panel.sectors)
    store.write_bars(bars_of(panel))
    return store


def assert_close(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert sorted(a) == sorted(b)
    for name, value in a.items():
        x, y = np.asarray(value), np.asarray(b[name])
        assert x.shape == y.shape, name
        np.testing.assert_array_equal(np.isnan(x), np.isnan(y), err_msg=name)
        ok = ~np.isnan(y)
        rel = np.abs(x[ok] - y[ok]) / np.maximum(np.abs(y[ok]), 1e-300)
        assert rel.max(initial=0.0) <= RTOL, (name, rel.max())


@pytest.fixture
def small(sample: Panel) -> Panel:
    # 30 symbols x 400 bars, with a gap and a late listing, so packing and full loads are used.
    p = cut(sample, 400, rows=slice(0, 30))
    p.close[3, 200:205] = np.nan
    p.close[7, :380] = np.nan  # listed 20 bars before the end: shorter than the history
    return p


def test_update_equals_full_recompute(tmp_path: Path, small: Panel) -> None:
    n_new = 7
    with fill(tmp_path / "inc.db", cut(small, small.close.shape[1] - n_new)) as store:
        first = IndicatorStage(chunk=8).run(Context(store))
        assert first.detail["symbols"] == 30
        store.write_bars(bars_of(small))  # re-upserts the old bars too, adds the new ones
        second = IndicatorStage(chunk=8).run(Context(store))
        assert second.items == int((~np.isnan(small.close[:, -n_new:])).sum())
        assert second.detail["symbols"] == 30
        third = IndicatorStage(chunk=8).run(Context(store))
        assert third.items == 0 and third.detail["symbols"] == 0  # nothing new: nothing done
        incremental = store.read_indicators()
    with fill(tmp_path / "full.db", small) as store:
        IndicatorStage(chunk=64).run(Context(store))
        full = store.read_indicators()
    assert incremental[1] == full[1]
    np.testing.assert_array_equal(incremental[2], full[2])
    assert_close(incremental[0], full[0])


def test_changed_history_is_recomputed(tmp_path: Path, small: Panel) -> None:
    """Bars rewritten before the last stored date (a split adjustment, a correction) make the
    update recompute those symbols from their first bar."""
    with fill(tmp_path / "inc.db", cut(small, 390)) as store:
        IndicatorStage().run(Context(store))
        changed = replace(small, close=small.close.copy())
        changed.close[5, :380] /= 4.0  # a 4:1 split back-adjusted into the history
        changed.close[6, 385] += 0.5  # a corrected bar, 5 bars before the last stored one
        store.write_bars(bars_of(changed))
        res = IndicatorStage().run(Context(store))
        assert res.detail["history_changed"] == 2
        inc = store.read_indicators()
    with fill(tmp_path / "full.db", changed) as store:
        IndicatorStage().run(Context(store))
        full = store.read_indicators()
    assert_close(inc[0], full[0])


def test_adjusted_prices(tmp_path: Path, small: Panel) -> None:
    with fill(tmp_path / "a.db", small) as store:
        res = IndicatorStage(price="adj_close").run(Context(store))
        assert res.detail["price"] == "adj_close"
        values, _, _ = store.read_indicators(names=["sma20"])
    # No corporate actions in this store: adjusted closes are the closes.
    expected = fq.indicators.sma(small.close[0], 20, min_periods=1)
    np.testing.assert_allclose(values["sma20"][0], expected, rtol=1e-12)


def test_recursive_sets_update_like_full(tmp_path: Path, small: Panel) -> None:
    with fill(tmp_path / "inc.db", cut(small, 390)) as store:
        IndicatorStage(["standard", "macd", "atr"]).run(Context(store))
        store.write_bars(bars_of(small))
        IndicatorStage(["standard", "macd", "atr"]).run(Context(store))
        inc = store.read_indicators()
    with fill(tmp_path / "full.db", small) as store:
        IndicatorStage(["standard", "macd", "atr"], full=True).run(Context(store))
        full = store.read_indicators()
    assert_close(inc[0], full[0])


def test_stored_values_are_the_reference_pandas_code(tmp_path: Path, small: Panel) -> None:
    from ferroquant.reference import standard as reference

    with fill(tmp_path / "a.db", small) as store:
        IndicatorStage().run(Context(store))
        picked = [small.symbols[k] for k in (1, 3, 7)]
        values, symbols, dates = store.read_indicators(symbols=picked)
    for row, symbol in enumerate(symbols):
        i = small.symbols.index(symbol)
        own = ~np.isnan(small.close[i])  # the stock's own bars, as read_sql_query returns them
        ref = reference(small.close[i, own])
        cols = np.isin(dates, small.dates[own])
        for name, expected in ref._asdict().items():
            got = np.asarray(values[name])[row, cols]
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12, err_msg=name)


def test_job_records_runs_and_is_incremental(tmp_path: Path, small: Panel) -> None:
    db = tmp_path / "job.db"
    fill(db, small).close()
    first = run_job(JobOptions(db=db, ingest=False, report=False))
    again = run_job(JobOptions(db=db, ingest=False, report=False))
    assert first.stage("indicators").items > 0  # type: ignore[union-attr]
    assert again.stage("indicators").items == 0  # type: ignore[union-attr]
    with Store.open(db, readonly=True) as store:
        runs = store.runs()
    assert len(runs) == 2 and again.run_id != first.run_id
