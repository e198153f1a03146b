"""The ingest job on the bundled sample and the shared real data: idempotence, incremental
appends, sectors, corporate actions and derived adjusted closes."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import pytest

from ferroquant.ingest import ingest, read_source
from ferroquant.sample import load_sample
from ferroquant.store import Store

SAMPLE = Path(str(resources.files("ferroquant") / "data"))


def test_sample_directory(store: Store) -> None:
    calls: list[tuple[int, int]] = []
    res = ingest(store, SAMPLE, progress=lambda done, total: calls.append((done, total)))
    assert (res.rows_read, res.rows_written, res.rows_skipped, res.symbols) == (
        124542,
        124542,
        0,
        99,
    )
    assert res.actions_written > 0 and res.report is not None and res.report.ok
    assert calls[0] == (0, 124542) and calls[-1] == (124542, 124542)
    ref = load_sample(adjust_splits=False)
    p = store.load_panel()
    assert p.symbols == ref.symbols and p.sectors == ref.sectors
    np.testing.assert_array_equal(p.dates, ref.dates)
    for f in ("open", "high", "low", "close", "volume"):
        np.testing.assert_array_equal(getattr(p, f), getattr(ref, f))
    # split-adjusted closes of load_sample differ from ours only by the dividend factors (<1)
    split_adj = load_sample().close
    ratio = p.adj_close / split_adj
    assert np.all(ratio <= 1 + 1e-12) and np.all(ratio > 0.5)
    np.testing.assert_allclose(p.adj_close[:, -1], p.close[:, -1])
    again = ingest(store, SAMPLE)
    assert again.rows_written == 0 and again.actions_written == 0 and again.adj_close_derived == 0


def test_explicit_side_files_and_single_file(store: Store) -> None:
    res = ingest(
        store,
        SAMPLE / "sample_ohlcv.csv.gz",
        sectors=SAMPLE / "sample_sectors.csv",
        corporate_actions=SAMPLE / "sample_corporate_actions.csv",
    )
    assert res.rows_written == 124542
    assert store.sectors()["AAPL"] == "Information Technology"
    assert any(split == 4.0 for _, _, split in store.corporate_actions("AAPL"))


def test_incremental_append(tmp_path: Path, store: Store) -> None:
    bars = read_source(SAMPLE / "sample_ohlcv.csv.gz")
    cut = np.datetime64("2021-01-01")
    lines = (SAMPLE / "sample_ohlcv.csv.gz").read_bytes()
    import gzip

    text = gzip.decompress(lines).decode().splitlines()
    old = [text[0]] + [r for r in text[1:] if r[:10] < "2021-01-01"]
    (tmp_path / "old.csv").write_text("\n".join(old) + "\n")
    first = ingest(store, tmp_path / "old.csv")
    assert first.rows_written == int(np.count_nonzero(bars.date < cut))
    second = ingest(store, SAMPLE / "sample_ohlcv.csv.gz")
    assert second.rows_written == int(np.count_nonzero(bars.date >= cut))
    assert second.rows_read == len(bars)
    assert set(store.last_bar_dates().values()) == {np.datetime64("2021-04-21")}


def test_derived_adj_close_matches_alphavantage(shared: Path, store: Store) -> None:
    ingest(store, SAMPLE)
    ours = store.load_panel()
    wide = read_source(shared / "sp500_adjclose_1999_2021.csv.gz")
    keep = np.isin(wide.symbol, ours.symbols) & (wide.date >= ours.dates[0])
    with Store.open(store.path.with_name("av.db")) as av:
        av.write_bars(wide.take(np.flatnonzero(keep)))
        theirs = av.load_panel(ours.symbols)
    rel = np.abs(ours.adj_close / theirs.adj_close - 1)
    assert np.nanmedian(rel) < 5e-4
    assert np.nanpercentile(rel, 99) < 1e-2


def test_shared_long_then_wide_then_long_again(shared: Path, store: Store) -> None:
    res = ingest(
        store,
        shared / "sp500_ohlcv_2016_2021.csv.gz",
        sectors=shared / "sp500_constituents.csv",
        corporate_actions=shared / "sp500_corporate_actions_1999_2021.csv",
    )
    assert res.rows_written == 625_064 and res.symbols == 504
    assert "BF.B" not in store.symbols()  # a constituent without prices is not added
    derived = store.load_panel(["AAPL"]).adj_close
    wide = ingest(store, shared / "sp500_adjclose_1999_2021.csv.gz")
    assert wide.rows_read == 2_402_891
    p = store.load_panel(["AAPL"], start="2016-04-22")
    assert not np.array_equal(p.adj_close, derived, equal_nan=True)  # the source's values won
    assert store.info()["first_date"] == "1999-11-01"
    again = ingest(store, shared / "sp500_ohlcv_2016_2021.csv.gz")
    assert again.rows_written == 0 and again.adj_close_derived == 0
    np.testing.assert_array_equal(
        store.load_panel(["AAPL"], start="2016-04-22").adj_close, p.adj_close
    )


@pytest.mark.parametrize(
    "name", ["spy_daily_1999_2020.csv", "orcl_daily_1995_2014.csv", "ford_daily_2012.csv"]
)
def test_shared_single_files_ingest(shared: Path, store: Store, name: str) -> None:
    res = ingest(store, shared / name)
    assert res.report is not None and res.report.ok and res.rows_written == res.rows_read
