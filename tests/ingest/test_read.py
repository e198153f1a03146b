"""Reading every supported format: per symbol, long, wide, gzip, directories, pandas."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ferroquant.errors import ValidationError
from ferroquant.ingest import read_corporate_actions, read_sectors, read_source

PER_SYMBOL = (
    "date,open,high,low,close,adj_close,volume\n2024-01-02,10,11,9,10.5,10.4,100\n"
    "2024-01-03,10.5,12,10,11.5,11.4,200\n"
)


def test_per_symbol_plain_and_gzip_agree(tmp_path: Path) -> None:
    (tmp_path / "aapl_daily.csv").write_text(PER_SYMBOL)
    with gzip.open(tmp_path / "msft.csv.gz", "wt") as f:
        f.write(PER_SYMBOL.replace("\n", "\r\n"))
    a = read_source(tmp_path / "aapl_daily.csv")
    b = read_source(tmp_path / "msft.csv.gz")
    assert a.symbol.tolist() == ["AAPL", "AAPL"] and b.symbol.tolist() == ["MSFT", "MSFT"]
    for f in ("open", "high", "low", "close", "adj_close", "volume"):
        np.testing.assert_array_equal(getattr(a, f), getattr(b, f))
    assert a.line is not None and a.line.tolist() == [2, 3]
    assert read_source(tmp_path / "aapl_daily.csv", symbol="X").symbol[0] == "X"


def test_quoted_csv_and_header_aliases(tmp_path: Path) -> None:
    (tmp_path / "q.csv").write_text(
        'Date,Ticker,Open,High,Low,Close,Adj Close,Volume\n"2024-01-02","A",1,2,0.5,1.5,1.4,"10"\n'
    )
    b = read_source(tmp_path / "q.csv")
    assert b.symbol.tolist() == ["A"] and b.adj_close.tolist() == [1.4]


def test_directory_mixes_formats_and_skips_side_files(tmp_path: Path) -> None:
    (tmp_path / "aapl.csv").write_text(PER_SYMBOL)
    (tmp_path / "long.csv").write_text(
        "date,symbol,open,high,low,close,volume\n2024-01-02,B,1,2,0.5,1.5,10\n"
    )
    (tmp_path / "sectors.csv").write_text("symbol,sector\nAAPL,Tech\n")
    (tmp_path / "notes.md").write_text("not data")
    b = read_source(tmp_path)
    assert sorted(b.symbol.tolist()) == ["AAPL", "AAPL", "B"]
    assert set(b.files) == {str(tmp_path / "aapl.csv"), str(tmp_path / "long.csv")}


def test_dataframes(tmp_path: Path) -> None:
    df = pd.read_csv(pd.io.common.StringIO(PER_SYMBOL), parse_dates=["date"]).set_index("date")
    b = read_source(df, symbol="AAPL")
    assert b.symbol.tolist() == ["AAPL", "AAPL"] and str(b.date[1]) == "2024-01-03"
    long = df.reset_index().assign(symbol="Z")
    assert read_source(long).symbol.tolist() == ["Z", "Z"]
    wide = pd.DataFrame({"date": ["2024-01-02", "2024-01-03"], "A": [1.0, None], "B": [2.0, 3.0]})
    w = read_source(wide)
    assert sorted(zip(w.symbol.tolist(), w.adj_close.tolist(), strict=True)) == [
        ("A", 1.0),
        ("B", 2.0),
        ("B", 3.0),
    ]


def test_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="no such file"):
        read_source(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(ValidationError, match="empty"):
        read_source(tmp_path / "empty.csv")
    (tmp_path / "nodate.csv").write_text("a,b\n1,2\n")
    with pytest.raises(ValidationError, match="no date column"):
        read_source(tmp_path / "nodate.csv")
    (tmp_path / "novol.csv").write_text("date,open,high,low,close\n2024-01-02,1,1,1,1\n")
    with pytest.raises(ValidationError, match="no volume column"):
        read_source(tmp_path / "novol.csv")
    with pytest.raises(ValueError, match="format"):
        read_source(tmp_path / "novol.csv", format="xml")


@pytest.mark.parametrize(
    ("name", "rows", "symbol"),
    [
        ("spy_daily_1999_2020.csv", 5241, "SPY"),
        ("spy_daily_1993_2021_adjusted.csv", 7192, "SPY"),
        ("orcl_daily_1995_2014.csv", 5036, "ORCL"),
        ("yhoo_daily_1996_2015.csv", 4965, "YHOO"),
        ("ford_daily_2012.csv", 250, "FORD"),
    ],
)
def test_shared_single_symbol_files(shared: Path, name: str, rows: int, symbol: str) -> None:
    b = read_source(shared / name)
    assert len(b) == rows and b.problems == ()
    assert set(b.symbol.tolist()) == {symbol}
    ref = pd.read_csv(shared / name)
    np.testing.assert_array_equal(b.close, ref["close"].to_numpy(float))
    if "adj_close" in ref:
        np.testing.assert_array_equal(b.adj_close, ref["adj_close"].to_numpy(float))


def test_shared_wide_adjusted_close(shared: Path) -> None:
    b = read_source(shared / "sp500_adjclose_1999_2021.csv.gz")
    assert len(b) == 2_402_891 and len(set(b.symbol.tolist())) == 504
    assert np.isnan(b.close).all() and not np.isnan(b.adj_close).any()
    first = np.flatnonzero(b.symbol == "AAPL")[0]
    assert str(b.date[first]) == "1999-11-01"
    assert b.adj_close[first] == pytest.approx(0.596878742448, rel=1e-15)


def test_shared_side_files(shared: Path) -> None:
    sectors = read_sectors(shared / "sp500_constituents.csv")
    assert len(sectors) == 505 and len({s for s, _ in sectors.values()}) == 11
    actions = read_corporate_actions(shared / "sp500_corporate_actions_1999_2021.csv")
    assert actions.symbol.size == 28_191 and not actions.problems
    assert np.count_nonzero(actions.split != 1.0) == 473
