"""The job's factor stage (``ferroquant run --factors``): risk model fitted on the store's
universe, stored, and shown in the report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ferroquant.pipeline import JobOptions, run_job
from ferroquant.store import Store


def test_factor_stage_stores_the_model_and_reports_it(tmp_path: Path) -> None:
    db = tmp_path / "job.db"
    report = tmp_path / "report.html"
    summary = run_job(JobOptions(db=db, report=report, factors=True))
    stage = summary.stage("factors")
    assert stage is not None and stage.items > 0
    d = stage.detail
    assert d["dates_regressed"] > 500 and d["factors"] == 1 + 11 + 10  # 11 GICS sectors
    assert 0 < d["mean_r2"] < 1 and d["rows_written"] > 1000
    with Store.open(db, readonly=True) as s:
        dates, names, ret, ts = s.risk_factor_returns("default")
        assert names[0] == "country" and "momentum" in names and ret.shape == (22, len(dates))
        assert np.isfinite(ret).all() and np.isfinite(ts[:, -10:]).all()
        got = s.risk_covariance("default")
        assert got is not None
        f = got[2]
        np.testing.assert_array_equal(f, f.T)
        assert np.linalg.eigvalsh(f).min() >= -1e-12 * np.abs(f).max()
        exp = s.risk_exposures("default")
        assert exp is not None and len(exp[2]) > 90 and np.isfinite(exp[3]).all()
    text = report.read_text()
    assert "Risk model (" in text and "Latest exposures" in text
    if pytest.importorskip("matplotlib"):
        assert "Cumulative style factor returns." in text
