"""The HTML report: self-contained, with plots when matplotlib is there and a note when not."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from memstore import MemStore
from pipeline_panels import cut

from ferroquant.pipeline import Context, IndicatorStage, Pipeline, ReportStage, SummaryStage
from ferroquant.report import _plots, write_report
from ferroquant.sample import Panel


@pytest.fixture(scope="module")
def store(sample: Panel) -> MemStore:
    s = MemStore(cut(sample, 400, rows=slice(0, 20)))
    IndicatorStage().run(Context(s))
    return s


def test_report_is_self_contained_with_plots(store: MemStore, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    ctx = Context(store)
    path = tmp_path / "out" / "r.html"
    Pipeline([SummaryStage(), ReportStage(path, ["AAL", "NOPE"])]).run(ctx)
    text = path.read_text()
    assert text.startswith("<!DOCTYPE html>")
    # 1 symbol panel + RSI histogram + stage timings, all embedded; nothing loaded from outside.
    assert text.count("data:image/png;base64,") == 3
    assert not re.search(r"(src|href)=\"(http|//)", text)
    assert "not in the store, not plotted: NOPE" in text
    assert "Latest RSI 14 across the universe" in text and "Information Technology" in text


def test_report_without_matplotlib_says_so(
    store: MemStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_plots, "available", lambda: "matplotlib is not installed")
    result = write_report(store, tmp_path / "r.html")
    text = result.path.read_text()
    assert "data:image/png" not in text and "matplotlib is not installed" in text
    assert result.notes == ["matplotlib is not installed"]
    assert "RSI 14" in text  # the tables are still there
