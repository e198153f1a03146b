"""Risk-model results in the store: the v4 migration from a v3 store and the round trip."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ferroquant import factors
from ferroquant.store import SCHEMA_VERSION, Store


def small_model() -> tuple[list[str], np.ndarray, factors.RiskModel]:
    rng = np.random.default_rng(0)
    n, t = 40, 620
    close = 30 * np.exp(np.cumsum(rng.normal(0, 0.02, (n, t)), axis=1))
    close[0, :100] = np.nan
    volume = rng.lognormal(10, 1, (n, t))
    symbols = [f"S{i:02d}" for i in range(n)]
    m = factors.risk_model(close, ["a", "b", "c", "d"] * 10, volume)
    dates = np.arange("2020-01-01", t, dtype="datetime64[D]")
    return symbols, dates, m


def test_migration_4_adds_the_risk_tables_to_a_version_3_store(tmp_path: Path) -> None:
    path = tmp_path / "v3.db"
    with Store.open(path) as s:
        s.upsert_symbols(["A"], ["Tech"])
        with s.transaction() as c:  # what version 3 wrote
            for table in ("risk_factor_returns", "risk_covariance", "risk_exposures"):
                c.execute(f"DROP TABLE {table}")
            c.execute("DELETE FROM schema_version WHERE version >= 4")
    with Store.open(path) as s:
        assert s.schema_version == SCHEMA_VERSION == 4
        assert s.sectors() == {"A": "Tech"}
        assert s.risk_covariance("m") is None and s.risk_exposures("m") is None
        days, names, ret, _ = s.risk_factor_returns("m")
        assert len(days) == 0 and names == [] and ret.size == 0


def test_risk_model_round_trip(tmp_path: Path) -> None:
    symbols, dates, m = small_model()
    with Store.open(tmp_path / "r.db") as s:
        s.upsert_symbols(symbols, ["x"] * len(symbols))
        rows = s.write_risk_model("daily", symbols, dates, m, exposure_dates=(-2, -1))
        assert rows > 0
        got_dates, names, ret, ts = s.risk_factor_returns("daily")
        ok = np.isfinite(m.factor_returns.returns).all(0)
        np.testing.assert_array_equal(got_dates, dates[ok])
        assert names == list(m.factor_returns.names)
        np.testing.assert_array_equal(ret, m.factor_returns.returns[:, ok])
        np.testing.assert_array_equal(ts, m.factor_returns.tstats[:, ok])
        day, fnames, cov = s.risk_covariance("daily") or (None, [], np.zeros(0))
        assert day == dates[-1] and fnames == names
        np.testing.assert_array_equal(cov, m.covariance.cov[-1])
        _, _, cov2 = s.risk_covariance("daily", dates[-100]) or (None, [], np.zeros(0))
        np.testing.assert_array_equal(cov2, m.covariance.cov[-100])
        got = s.risk_exposures("daily")
        assert got is not None
        day, styles, syms, vals, spec = got
        keep = np.isfinite(m.exposures.values[:, :, -1]).all(0)
        assert day == dates[-1] and styles == list(m.exposures.names)
        assert syms == [x for x, k in zip(symbols, keep, strict=True) if k]
        np.testing.assert_array_equal(vals, m.exposures.values[:, keep, -1])
        np.testing.assert_array_equal(spec, m.specific_variance[keep, -1])
        assert s.risk_exposures("daily", dates[-3]) is None  # only the last two were written
        # rewriting replaces, never duplicates
        s.write_risk_model("daily", symbols, dates, m)
        assert len(s.risk_factor_returns("daily")[0]) == ok.sum()
