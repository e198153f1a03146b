"""The core's own pool: sized by FERROQUANT_MAX_THREADS, overridable per block, fork-safe, and
never changing results."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import ferroquant as fq
from ferroquant import errors


def test_env_var_caps_the_default_pool() -> None:
    env = {**os.environ, "FERROQUANT_MAX_THREADS": "1"}
    code = "import ferroquant as fq; print(fq.thread_pool_size())"
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "1"


def test_threads_context_sets_and_restores() -> None:
    before = fq.thread_pool_size()
    with fq.threads(3):
        assert fq.thread_pool_size() == 3
    assert fq.thread_pool_size() == before


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_threads_rejects_bad_counts(bad: object) -> None:
    with pytest.raises(errors.InvalidParameterError), fq.threads(bad):  # type: ignore[arg-type]
        pass


def test_results_do_not_depend_on_thread_count() -> None:
    rng = np.random.default_rng(7)
    x = 50 * np.exp(np.cumsum(rng.normal(0, 0.02, size=(300, 400)), axis=1))
    x[rng.random(x.shape) < 0.02] = np.nan
    x[:40, :100] = np.nan
    with fq.threads(1):
        one = fq.indicators.standard(x)
        m1 = fq.indicators.macd(x, convention="talib")
    with fq.threads(2):
        two = fq.indicators.standard(x)
        m2 = fq.indicators.macd(x, convention="talib")
    with fq.threads(5):
        five = fq.indicators.standard(x)
    for a, b, c in zip(one, two, five, strict=True):
        assert np.array_equal(a, b, equal_nan=True)
        assert np.array_equal(a, c, equal_nan=True)
    for a, b in zip(m1, m2, strict=True):
        assert np.array_equal(a, b, equal_nan=True)


def assert_forked_child_passes(code: str) -> None:
    """Runs ``code`` in a fresh interpreter; it forks (``pid``) and the child exits 0 when it
    computed the right thing. The parent waits for it and exits with the child's status."""
    code += "_, status = os.waitpid(pid, 0)\nsys.exit(os.waitstatus_to_exitcode(status))\n"
    proc = subprocess.run(
        [sys.executable, "-c", code], timeout=60, capture_output=True, check=False
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_computes_without_deadlock() -> None:
    code = r"""
import os, sys, numpy as np, ferroquant as fq
x = np.random.default_rng(0).normal(size=(2000, 300)).cumsum(axis=1) + 500
parent = fq.indicators.standard(x).sma20  # builds the pool and uses its threads
pid = os.fork()
if pid == 0:
    child = fq.indicators.standard(x).sma20
    os._exit(0 if np.array_equal(child, parent, equal_nan=True) else 3)
"""
    assert_forked_child_passes(code)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_streams_without_deadlock() -> None:
    # A stream update of a large universe wakes the crew's helper; the child has no helper and
    # must build its own instead of waiting for the parent's.
    code = r"""
import os, sys, numpy as np, ferroquant as fq
from ferroquant.stream import Stream
c = 50 * np.exp(np.cumsum(np.random.default_rng(0).normal(0, 0.01, (3000, 90)), axis=1))
with fq.threads(2):
    s = Stream.from_history(c[:, :60], "standard", symbols=[str(i) for i in range(3000)])
    for t in range(60, 70):
        s.update(c[:, t])
    pid = os.fork()
    if pid == 0:
        for t in range(70, 90):
            last = s.update(c[:, t]).values
        want = np.stack([o[:, -1] for o in fq.indicators.standard(c)], axis=1)
        os._exit(0 if np.array_equal(last, want, equal_nan=True) else 3)
"""
    assert_forked_child_passes(code)
