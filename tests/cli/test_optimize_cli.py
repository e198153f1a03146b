"""`ferroquant run`'s optimisation stage and `ferroquant optimize` on the embedded sample."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ferroquant.cli import main
from ferroquant.pipeline import JobOptions, run_job
from ferroquant.pipeline.optimize_stage import OptimizeSettings, optimize_store
from ferroquant.store import Store


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("opt") / "fq.db"
    summary = run_job(JobOptions(db=path, report=False))
    stage = summary.stage("optimize")
    assert stage is not None and stage.detail["status"] == "optimal"
    return path


def test_run_stores_a_certified_portfolio_valued_at_the_notional(db: Path) -> None:
    with Store.open(db, readonly=True) as store:
        rows = store.valuation("optimized")
    total = sum(r.market_value or 0.0 for r in rows)
    # Quantities are weight × 1,000,000 / last close, valued at the same closes; weights below
    # 1e-9 (interior-point dust on assets at their bound) are not stored.
    assert abs(total - 1_000_000.0) <= 1e-9 * 1_000_000.0
    assert max((r.market_value or 0.0) for r in rows) <= 0.10 * 1_000_000.0 * (1 + 1e-9)


def test_optimize_json(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["optimize", "--db", str(db), "--objective", "min_variance", "--cap", "0.05"]
    assert main([*argv, "--portfolio", "mv", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    w = np.array(list(out["weights"].values()))
    assert out["certificate"]["status"] == "optimal"
    assert out["certificate"]["kkt_residual"] <= 1e-9
    assert abs(w.sum() - 1) <= 1e-9 and w.max() <= 0.05 + 1e-12
    with Store.open(db, readonly=True) as store:
        assert {r.symbol for r in store.valuation("mv")} == set(out["weights"])


def test_optimize_table_and_errors(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["optimize", "--db", str(db), "--top", "3"]) == 0
    out = capsys.readouterr().out
    assert "certificate: optimal" in out and "ferroquant value --portfolio optimized" in out
    assert main(["optimize", "--db", str(db), "--cap", "0.001"]) == 2
    err = capsys.readouterr().err
    assert "cap of at least" in err
    assert main(["optimize", "--db", str(db), "--objective", "target_risk"]) == 2
    assert "needs target" in capsys.readouterr().err


def test_target_risk_from_the_store(db: Path) -> None:
    with Store.open(db) as store:
        out = optimize_store(
            store, OptimizeSettings(objective="target_risk", target=0.2), frontier=False
        )
    assert out.result.certificate.optimal
    assert abs(out.result.volatility - 0.2) <= 1e-9


def test_a_young_store_skips_the_stage(tmp_path: Path) -> None:
    from ferroquant.store import Bars

    dates = np.arange("2024-01-01", "2024-01-11", dtype="datetime64[D]")
    n = len(dates)
    bars = Bars.from_arrays(
        ["A"] * n, dates, np.ones(n), np.ones(n) * 1.1, np.ones(n) * 0.9, np.linspace(1, 2, n)
    )
    db = tmp_path / "young.db"
    with Store.open(db) as store:
        store.write_bars(bars)
    summary = run_job(JobOptions(db=db, ingest=False, report=False))
    stage = summary.stage("optimize")
    assert stage is not None and "too few" in stage.detail["skipped"]


def test_the_stored_risk_model_is_used_when_present(tmp_path: Path) -> None:
    db = tmp_path / "fq.db"
    summary = run_job(JobOptions(db=db, report=False, factors=True))
    stage = summary.stage("optimize")
    assert stage is not None and stage.detail["status"] == "optimal"
    assert stage.detail["risk_model"].startswith("risk model 'default'")
    with Store.open(db) as store:
        barra = optimize_store(store, OptimizeSettings(), frontier=False)
        pca = optimize_store(store, OptimizeSettings(risk_model=None), frontier=False)
    assert barra.inputs.factor_names[0] == "country"
    assert pca.inputs.source.startswith("statistical")
    # Same returns, different risk models: both certified, different portfolios.
    assert barra.result.certificate.optimal and pca.result.certificate.optimal
    assert np.abs(barra.result.weights - pca.result.weights).sum() > 1e-3
