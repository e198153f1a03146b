"""Validation: every kind of bad input is reported with file, line and symbol, and nothing is
written unless ``skip_invalid``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ferroquant.errors import ValidationError
from ferroquant.ingest import ValidationReport, ingest, read_source, validate
from ferroquant.store import Store

HEADER = "date,symbol,open,high,low,close,volume\n"
GOOD = [
    "2024-01-02,A,10,11,9,10.5,100",
    "2024-01-03,A,10.5,12,10,11.5,200",
    "2024-01-02,B,5,6,4,5.5,300",
    "2024-01-03,B,5.5,6,5,5.8,400",
]

CASES = [
    ("2024-13-45,A,10,11,9,10.5,100", "date '2024-13-45' is not a YYYY-MM-DD date"),
    ("2024-01-04,A,ten,11,9,10.5,100", "open 'ten' is not a number"),
    ("2024-01-04,A,10,11,9,,100", "close is missing"),
    ("2024-01-03,A,10,11,9,10.5,100", "duplicate of line 3 (same symbol and date 2024-01-03)"),
    (
        "2024-01-01,A,10,11,9,10.5,100",
        "date 2024-01-01 comes after 2024-01-03 (line 3): sort by date",
    ),
    ("2024-01-04,A,0,11,9,10.5,100", "open 0 is not positive"),
    ("2024-01-04,A,10,11,9,-1,100", "close -1 is not positive"),
    ("2024-01-04,A,10,8,9,8.5,100", "high 8 is below low 9"),
    ("2024-01-04,A,10,10.2,9,10.5,100", "high 10.2 is below close 10.5"),
    ("2024-01-04,A,12,11,9,10.5,100", "high 11 is below open 12"),
    ("2024-01-04,A,10,11,10.2,10.5,100", "low 10.2 is above open 10"),
    ("2024-01-04,A,10.5,11,10.2,10,100", "low 10.2 is above close 10"),
    ("2024-01-04,A,10,11,9,10.5,-5", "volume -5 is negative"),
    ("2024-01-04,A,10,11,9,inf,100", "close inf is not finite"),
    ("2024-01-04,A,10,11,9,10.5", "expected 7 fields, found 6"),
]


def write_csv(path: Path, extra: str) -> Path:
    path.write_text(HEADER + "\n".join([*GOOD[:2], extra, *GOOD[2:]]) + "\n")
    return path


@pytest.mark.parametrize(("bad", "message"), CASES, ids=[m.split(" ")[0] for _, m in CASES])
def test_each_problem_is_reported_and_nothing_written(
    tmp_path: Path, store: Store, bad: str, message: str
) -> None:
    src = write_csv(tmp_path / "p.csv", bad)
    with pytest.raises(ValidationError) as info:
        ingest(store, src)
    report = info.value.report
    assert isinstance(report, ValidationReport) and not report.ok
    texts = [str(p) for p in report.problems]
    assert any(t in (f"{src}:4 [A]: {message}", f"{src}:4: {message}") for t in texts), texts
    assert "nothing was written" in str(info.value)
    assert store.info()["bars"] == 0 and store.symbols() == []


@pytest.mark.parametrize(("bad", "message"), CASES[:3] + CASES[5:], ids=str)
def test_skip_invalid_writes_the_rest(tmp_path: Path, store: Store, bad: str, message: str) -> None:
    src = write_csv(tmp_path / "p.csv", bad)
    res = ingest(store, src, skip_invalid=True)
    assert res.rows_read == 5 and res.rows_skipped == 1 and res.rows_written == 4
    assert res.report is not None and message in str(res.report)
    assert "the valid rows were written" in str(res.report)
    assert store.info()["bars"] == 4


def test_many_problems_are_summarised(tmp_path: Path) -> None:
    rows = [f"2024-01-{d:02d},A,10,9,11,10,-1" for d in range(1, 29)]
    (tmp_path / "m.csv").write_text(HEADER + "\n".join(rows) + "\n")
    text = str(validate(read_source(tmp_path / "m.csv")))
    assert text.startswith("168 problems in 28 of 28 rows")
    assert "… and 138 more" in text and "by kind: " in text and "negative volume 28" in text


def test_adj_close_may_be_empty_but_not_bad(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text(
        "date,open,high,low,close,adj_close,volume\n2024-01-02,1,1,1,1,,5\n2024-01-03,1,1,1,1,-2,5\n"
    )
    r = validate(read_source(tmp_path / "x.csv"))
    assert [p.message for p in r.problems] == ["adj_close -2 is not positive"]
    assert r.valid_mask.tolist() == [True, False]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.sampled_from([c for c, _ in CASES] + GOOD[:1]), min_size=1, max_size=6))
def test_random_mixtures_never_write_partially(
    tmp_path_factory: pytest.TempPathFactory, bad: list[str]
) -> None:
    d = tmp_path_factory.mktemp("mix")
    (d / "m.csv").write_text(HEADER + "\n".join(GOOD + bad) + "\n")
    with Store.open(d / "m.db") as store:
        bars = read_source(d / "m.csv")
        report = validate(bars)
        assert report.valid_mask.size == len(bars)
        if report.ok:
            ingest(store, d / "m.csv")
            assert store.info()["bars"] == len(bars)
        else:
            with pytest.raises(ValidationError):
                ingest(store, d / "m.csv")
            assert store.info()["bars"] == 0
            res = ingest(store, d / "m.csv", skip_invalid=True)
            assert (
                store.info()["bars"] == res.rows_written == int(np.count_nonzero(report.valid_mask))
            )


def test_bad_corporate_actions_are_reported_and_nothing_written(
    tmp_path: Path, store: Store
) -> None:
    src = write_csv(tmp_path / "p.csv", GOOD[0].replace("01-02", "01-04"))
    (tmp_path / "a.csv").write_text(
        "date,symbol,dividend_amount,split_coefficient\n2024-01-03,A,x,1\n2024-01-03,B,-1,1\n"
    )
    with pytest.raises(ValidationError) as info:
        ingest(store, src, corporate_actions=tmp_path / "a.csv", skip_invalid=True)
    text = str(info.value)
    assert "a.csv:2 [A]: dividend 'x' is not a number" in text
    assert "a.csv:3 [B]: negative dividend or split" in text
    assert isinstance(info.value.report, ValidationReport)
    assert store.info()["bars"] == 0
