"""Fixtures: the bundled sample cut in two (history, then a few new bars)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ferroquant.sample import Panel, load_sample

sys.path.insert(0, str(Path(__file__).parent))


@pytest.fixture(scope="session")
def sample() -> Panel:
    return load_sample()
