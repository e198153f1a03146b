"""The pipeline machinery, indicator sets and the planning of incremental work (no database)."""

from __future__ import annotations

import numpy as np
import pytest

from ferroquant.errors import InvalidParameterError
from ferroquant.pipeline import (
    Context,
    IndicatorStage,
    JobOptions,
    Pipeline,
    StageResult,
    default_pipeline,
    resolve_sets,
)
from ferroquant.pipeline.incremental import pack, plan, unpack

D = np.datetime64


class Record:
    def __init__(self, name: str) -> None:
        self.name = name

    def run(self, ctx: Context) -> StageResult:
        ctx.state.setdefault("order", []).append(self.name)
        return StageResult(self.name, items=3, unit="things")


def test_stages_run_in_order_and_plug_in() -> None:
    p = Pipeline([Record("a"), Record("c")]).insert(Record("b"), after="a")
    ctx = Context(store=None)
    results = p.run(ctx)
    assert ctx.state["order"] == ["a", "b", "c"] == [r.name for r in results]
    assert all(r.seconds > 0 and r.peak_rss_mb > 0 for r in results)
    assert results[0].as_dict()["unit"] == "things"


def test_default_pipeline_follows_the_options() -> None:
    names = default_pipeline(JobOptions()).names
    assert names == ["ingest", "indicators", "summary", "optimize", "report"]
    names = default_pipeline(JobOptions(ingest=False, report=False, optimize=None)).names
    assert names == ["indicators", "summary"]


def test_indicator_sets() -> None:
    std = resolve_sets(None)[0]
    assert std.outputs == ("sma20", "sma50", "rsi14", "bb_middle", "bb_upper", "bb_lower")
    assert std.history == 49  # SMA 50 is the longest window
    assert resolve_sets("macd")[0].history is None
    with pytest.raises(InvalidParameterError, match="standard"):
        resolve_sets("nope")


def test_plan_groups_by_stored_date_and_chunks() -> None:
    bars = {s: D("2024-01-10") for s in "ABCDE"}
    stored = [{"A": D("2024-01-09"), "B": D("2024-01-09"), "C": D("2024-01-10")}]
    work = plan(bars, stored, chunk=1)
    assert [(w.symbols, w.since) for w in work] == [
        (["D"], None),
        (["E"], None),
        (["A"], D("2024-01-09")),
        (["B"], D("2024-01-09")),
    ]
    assert sum(len(w.symbols) for w in plan(bars, stored, full=True)) == 5
    # A symbol is as far as its least advanced indicator set.
    assert plan(bars, [*stored, {"C": D("2024-01-01")}])[-1].since == D("2024-01-01")


def test_pack_unpack_round_trip() -> None:
    rng = np.random.default_rng(0)
    close = rng.normal(size=(5, 30))
    close[rng.random(close.shape) < 0.3] = np.nan
    order = pack(close)
    assert order is not None
    packed = np.take_along_axis(close, order, axis=1)
    for row, orig in zip(packed, close, strict=True):
        bars = orig[~np.isnan(orig)]
        assert np.array_equal(row[row.size - bars.size :], bars)
    back = unpack(packed[None], order, close)[0]
    assert np.array_equal(back, close, equal_nan=True)
    assert pack(np.ones((2, 3))) is None


def test_gaps_do_not_depend_on_the_chunk(sample: object) -> None:
    """A symbol's values are computed over its own bars: another symbol trading on its missing
    days changes nothing (as in the per-stock pandas code)."""
    from memstore import MemStore
    from pipeline_panels import cut

    panel = cut(sample, 300, rows=slice(0, 4))  # type: ignore[arg-type]
    panel.close[0, 100:110] = np.nan  # symbol 0 has no bars on 10 days the others trade
    store = MemStore(panel)
    IndicatorStage(chunk=4).run(Context(store))
    alone = MemStore(cut(panel, 300, rows=slice(0, 1)))
    IndicatorStage().run(Context(alone))
    a, _, _ = store.read_indicators(symbols=[panel.symbols[0]])
    b, _, _ = alone.read_indicators()
    for name in a:
        np.testing.assert_array_equal(a[name][0], b[name][0])
