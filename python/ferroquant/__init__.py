"""ferroquant: whole-universe technical indicators in Rust, driven from Python.

Examples
--------
>>> import numpy as np, ferroquant as fq
>>> close = 100.0 + np.cumsum(np.random.default_rng(1).normal(size=(4, 300)), axis=1)
>>> fq.indicators.standard(close).rsi14.shape
(4, 300)
"""

from __future__ import annotations

from typing import Any

from ferroquant import errors, factors, indicators, stream
from ferroquant._core import __version__
from ferroquant._threads import thread_pool_size, threads

__all__ = [
    "__version__",
    "build_info",
    "errors",
    "factors",
    "indicators",
    "stream",
    "thread_pool_size",
    "threads",
]


def build_info() -> dict[str, Any]:
    """Facts about the compiled core: version, build profile (``"release"``/``"debug"``), target,
    and the default thread count.

    Examples
    --------
    >>> import ferroquant as fq
    >>> sorted(fq.build_info())[:3]
    ['default_threads', 'profile', 'pyo3']
    """
    from ferroquant import _core

    return dict(_core.build_info())
