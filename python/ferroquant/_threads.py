"""Thread-count control for the Rust pool.

The core owns its rayon pools (never rayon's global one). Their default size is the number of CPUs,
capped by the ``FERROQUANT_MAX_THREADS`` environment variable; :func:`threads` runs a block with
another size. A forked child forgets the parent's pools (their threads do not exist in the child)
and builds fresh ones on first use.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from ferroquant import _core
from ferroquant.errors import InvalidParameterError

__all__ = ["current_threads", "thread_pool_size", "threads"]

# 0 means "the default pool"; a context variable so threads and asyncio tasks do not interfere.
_requested: ContextVar[int] = ContextVar("ferroquant_threads", default=0)


def current_threads() -> int:
    """The thread count passed to the core by calls made now (0 = the default pool)."""
    return _requested.get()


def thread_pool_size() -> int:
    """Number of worker threads the next call will use.

    Examples
    --------
    >>> import ferroquant as fq
    >>> with fq.threads(1):
    ...     fq.thread_pool_size()
    1
    """
    return int(_core.thread_pool_size(_requested.get()))


@contextmanager
def threads(n: int) -> Iterator[None]:
    """Run the calls in this block on a pool of ``n`` threads (results never depend on ``n``).

    Parameters
    ----------
    n : int
        Number of worker threads, at least 1.

    Examples
    --------
    >>> import numpy as np, ferroquant as fq
    >>> x = np.arange(10.0)
    >>> with fq.threads(1):
    ...     a = fq.indicators.sma(x, 3)
    >>> bool(np.array_equal(a, fq.indicators.sma(x, 3)))
    True
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise InvalidParameterError(f"invalid threads={n!r}: expected an integer >= 1")
    token = _requested.set(n)
    try:
        yield
    finally:
        _requested.reset(token)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_core._after_fork_in_child)
