"""ferroquant.factors against alphalens-reloaded on a small real panel (S&P 500 constituents,
raw daily closes from ../shared/data): quantiles, IC, mean IC, quantile returns, turnover and
factor rank autocorrelation, all to 1e-12."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ferroquant import factors

alphalens = pytest.importorskip("alphalens", reason="alphalens-reloaded is a test dependency")
from alphalens import performance as perf  # noqa: E402
from alphalens import utils  # noqa: E402

HORIZONS = (1, 5, 10)
QUANTILES = 5
TOL = 1e-12


def shared_data_dir() -> Path | None:
    env = os.environ.get("FERROQUANT_SHARED_DATA")
    path = Path(env) if env else Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
    return path.resolve() if path.is_dir() else None


@pytest.fixture(scope="module")
def panel() -> tuple[pd.DataFrame, pd.Series]:
    """120 dates x 60 symbols of raw closes from 2020-01-02 and their sectors: CARR and OTIS list
    mid-sample (2020-03-19), one name is cut off 30 dates before the end (a delisting) and a few
    cells are blanked (suspended days)."""
    root = shared_data_dir()
    if root is None or not (root / "sp500_ohlcv_2016_2021.csv.gz").exists():
        pytest.skip("shared data not found: set FERROQUANT_SHARED_DATA or place ../shared/data")
    long = pd.read_csv(root / "sp500_ohlcv_2016_2021.csv.gz", usecols=["date", "symbol", "close"])
    wide = long.pivot(index="date", columns="symbol", values="close")
    wide.index = pd.DatetimeIndex(wide.index)
    wide = wide.loc["2020-01-02":].iloc[:120]
    full = wide.columns[~wide.isna().any()][::8][:58]
    close = wide[sorted([*full, "CARR", "OTIS"])].copy()
    close.iloc[-30:, 0] = np.nan  # delisted
    rng = np.random.default_rng(0)
    for _ in range(6):  # suspended days
        close.iloc[rng.integers(20, 110), rng.integers(1, 60)] = np.nan
    sectors = pd.read_csv(root / "sp500_constituents.csv").set_index("Symbol")["Sector"]
    return close, sectors.reindex(close.columns)


@pytest.fixture(scope="module")
def compared(panel: tuple[pd.DataFrame, pd.Series]) -> tuple[object, pd.DataFrame, list]:
    close, _ = panel
    momentum = close / close.shift(10) - 1  # NaN where the price is missing
    factor = momentum.stack().rename("factor")
    factor.index.names = ["date", "asset"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fd = utils.get_clean_factor_and_forward_returns(
            factor, close, quantiles=QUANTILES, periods=HORIZONS, max_loss=1.0
        )
    # alphalens forward-fills prices before computing returns; we do not, so pass filled prices.
    res = factors.analyze(
        momentum.T.to_numpy(), close.ffill().T.to_numpy(), horizons=HORIZONS, quantiles=QUANTILES
    )
    return res, fd, list(fd.columns[: len(HORIZONS)])


def dates_of(close: pd.DataFrame, index: pd.Index) -> np.ndarray:
    return close.index.get_indexer(index)


def test_quantiles_and_ic(panel, compared) -> None:  # type: ignore[no-untyped-def]
    close, _ = panel
    res, fd, cols = compared
    t = dates_of(close, fd.index.get_level_values("date"))
    a = close.columns.get_indexer(fd.index.get_level_values("asset"))
    np.testing.assert_array_equal(res.quantile[a, t], fd["factor_quantile"].to_numpy())
    # every other cell has no quantile (rows alphalens dropped are NaN here)
    assert np.isfinite(res.quantile).sum() == len(fd)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ic = perf.factor_information_coefficient(fd)
    d = dates_of(close, ic.index)
    for k, col in enumerate(cols):
        np.testing.assert_allclose(res.ic[k, d], ic[col].to_numpy(), rtol=0, atol=TOL)
        assert np.isnan(np.delete(res.ic[k], d)).all()
        assert abs(res.mean_ic[k] - ic[col].mean()) <= TOL


def test_quantile_returns(panel, compared) -> None:  # type: ignore[no-untyped-def]
    close, _ = panel
    res, fd, cols = compared
    by_date, _ = perf.mean_return_by_quantile(fd, by_date=True, demeaned=True)
    pooled, _ = perf.mean_return_by_quantile(fd, by_date=False, demeaned=True)
    for k, col in enumerate(cols):
        for q in range(1, QUANTILES + 1):
            s = by_date.loc[q, col]
            d = dates_of(close, s.index)
            got = res.quantile_returns.by_date[k, q - 1, d]
            np.testing.assert_allclose(got, s.to_numpy(), rtol=0, atol=TOL)
            assert abs(res.quantile_returns.mean[k, q - 1] - pooled.loc[q, col]) <= TOL
        # alphalens-reloaded halves the spread (half the capital in each leg); ours is top - bottom
        spread, _ = perf.compute_mean_returns_spread(by_date, QUANTILES, 1)
        d = dates_of(close, spread[col].index)
        np.testing.assert_allclose(
            res.quantile_returns.spread[k, d] / 2, spread[col].to_numpy(), rtol=0, atol=TOL
        )


def test_turnover_and_autocorrelation(panel, compared) -> None:  # type: ignore[no-untyped-def]
    close, _ = panel
    res, fd, _ = compared
    for k, h in enumerate(HORIZONS):
        for q in range(1, QUANTILES + 1):
            s = perf.quantile_turnover(fd["factor_quantile"], q, h).dropna()
            d = dates_of(close, s.index)
            np.testing.assert_allclose(res.turnover[k, q - 1, d], s.to_numpy(), rtol=0, atol=TOL)
            assert np.isfinite(res.turnover[k, q - 1]).sum() == len(s)
        ac = perf.factor_rank_autocorrelation(fd, h).dropna()
        d = dates_of(close, ac.index)
        np.testing.assert_allclose(res.autocorrelation[k, d], ac.to_numpy(), rtol=0, atol=TOL)


def test_ic_by_sector(panel, compared) -> None:  # type: ignore[no-untyped-def]
    close, sectors = panel
    _, fd, cols = compared
    momentum = close / close.shift(10) - 1
    res = factors.analyze(
        momentum.T.to_numpy(),
        close.ffill().T.to_numpy(),
        horizons=HORIZONS,
        groups=sectors.to_numpy(),
    )
    fd = fd.copy()
    fd["group"] = sectors.reindex(fd.index.get_level_values("asset")).to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ic = perf.factor_information_coefficient(fd, by_group=True)
    assert res.ic_by_group is not None
    for g, label in enumerate(res.groups):
        part = ic.xs(label, level="group")
        d = dates_of(close, part.index)
        for k, col in enumerate(cols):
            np.testing.assert_allclose(
                res.ic_by_group[k, g, d], part[col].to_numpy(), rtol=0, atol=TOL, equal_nan=True
            )
