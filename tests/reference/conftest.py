"""Fixtures for the oracle's tests: where the shared third-party data lives, and a comparison
that also checks NaN positions."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


def shared_data_dir() -> Path | None:
    """``$FERROQUANT_SHARED_DATA`` if set, else ``<repo>/../shared/data``; None if absent."""
    env = os.environ.get("FERROQUANT_SHARED_DATA")
    path = Path(env) if env else REPO_ROOT / ".." / "shared" / "data"
    return path.resolve() if path.is_dir() else None


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = shared_data_dir()
    if path is None:
        pytest.skip(
            "third-party data not found: set FERROQUANT_SHARED_DATA or place shared/data beside "
            "the repository (../shared/data)"
        )
    return path


@pytest.fixture(scope="session")
def reference_dir(shared_data: Path) -> Path:
    path = shared_data / "reference"
    if not path.is_dir():
        pytest.skip(f"{path} is missing")
    return path


@pytest.fixture(scope="session")
def spy(shared_data: Path) -> pd.DataFrame:
    """SPY daily 1999-2020, raw OHLCV (5,241 bars)."""
    return pd.read_csv(shared_data / "spy_daily_1999_2020.csv")


def assert_same_nan_close(
    actual: npt.ArrayLike, expected: npt.ArrayLike, rtol: float, atol: float = 0.0, what: str = ""
) -> None:
    """Identical NaN positions and ``|a - e| <= atol + rtol * |e|`` elsewhere."""
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    assert a.shape == e.shape, f"{what}: shape {a.shape} != {e.shape}"
    nan_a, nan_e = np.isnan(a), np.isnan(e)
    if not np.array_equal(nan_a, nan_e):
        where = np.argwhere(nan_a != nan_e)[:5].tolist()
        raise AssertionError(f"{what}: NaN positions differ, first at {where}")
    ok = ~nan_e
    err = np.abs(a[ok] - e[ok])
    bound = atol + rtol * np.abs(e[ok])
    if not np.all(err <= bound):
        worst = int(np.argmax(err - bound))
        raise AssertionError(
            f"{what}: {int(np.sum(err > bound))} values off; worst {a[ok][worst]!r} vs "
            f"{e[ok][worst]!r} (|diff| {err[worst]:.3g} > {bound[worst]:.3g})"
        )


@pytest.fixture(scope="session")
def same_nan_close() -> Callable[..., None]:
    return assert_same_nan_close
