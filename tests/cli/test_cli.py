"""The main job and the command line."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from ferroquant.cli import main
from ferroquant.sample import load_sample


def test_run_prints_a_summary_per_sector(capsys: object) -> None:
    assert main(["run", "--threads", "1"]) == 0
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "99 symbols x 1258 bars" in out
    assert "Information Technology" in out and "RSI14" in out


def test_module_entry_point_and_help() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ferroquant", "--help"], capture_output=True, text=True, check=True
    )
    assert "examples:" in proc.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "ferroquant", "run", "--threads", "-2"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 2 and "--threads" in bad.stderr


def test_sample_is_real_aligned_and_split_adjusted() -> None:
    p = load_sample()
    assert p.shape == (99, 1258)
    assert not np.isnan(p.close).any()
    assert np.all(p.high >= p.low)
    raw = load_sample(adjust_splits=False)
    i = p.symbols.index("AAPL")
    # AAPL split 4:1 on 2020-08-31: raw prices drop ~75 %, adjusted ones do not.
    day = int(np.searchsorted(p.dates, np.datetime64("2020-08-31")))
    assert raw.close[i, day] / raw.close[i, day - 1] < 0.3
    assert 0.9 < p.close[i, day] / p.close[i, day - 1] < 1.1
