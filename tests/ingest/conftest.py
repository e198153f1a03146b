"""Fixtures of the ingest tests: a fresh store, and where the shared real data lives."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ferroquant.store import Store

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "t.db") as s:
        yield s


@pytest.fixture(scope="session")
def shared() -> Path:
    """``$FERROQUANT_SHARED_DATA`` or ``<repo>/../shared/data``; the test is skipped without it."""
    env = os.environ.get("FERROQUANT_SHARED_DATA")
    path = Path(env) if env else REPO_ROOT / ".." / "shared" / "data"
    if not path.is_dir():
        pytest.skip(
            "shared market data not found: set FERROQUANT_SHARED_DATA or place shared/data "
            "beside the repository (../shared/data)"
        )
    return path.resolve()
