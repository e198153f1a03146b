"""Synthetic bars for the store tests."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ferroquant.store import Bars, Store
from ferroquant.store._runs import load_runs


def make_bars(
    n_assets: int, n_bars: int, *, seed: int = 0, start: str = "2020-01-01", prefix: str = "S"
) -> Bars:
    """A full grid of consistent bars (business days), symbols ``S0000``…"""
    rng = np.random.default_rng(seed)
    dates = np.busday_offset(np.datetime64(start, "D"), np.arange(n_bars), roll="forward")
    close = 50.0 * np.exp(np.cumsum(rng.normal(0.0, 0.02, (n_assets, n_bars)), axis=1))
    opn = close * np.exp(rng.normal(0.0, 0.005, close.shape))
    high = np.maximum(opn, close) * 1.01
    low = np.minimum(opn, close) * 0.99
    syms = np.array([f"{prefix}{i:04d}" for i in range(n_assets)])
    return Bars.from_arrays(
        np.repeat(syms, n_bars),
        np.tile(dates, n_assets),
        opn.ravel(),
        high.ravel(),
        low.ravel(),
        close.ravel(),
        close.ravel() * 0.9,
        rng.integers(1, 10**6, close.size).astype(float),
    )


def assert_stats_consistent(store: Store) -> None:
    """``bar_stats`` (kept incrementally by every write) equals a recount from the blocks and
    the tails, and every tail holds only days after its symbol's blocks."""
    with store.reader() as c:
        kept = c.execute("SELECT * FROM bar_stats ORDER BY symbol_id").fetchall()
        blocks = c.execute("SELECT symbol_id, days, bars FROM bar_blocks ORDER BY 1").fetchall()
        runs = load_runs(c, "bar_tail", None, 6, -(2**31), 2**31 - 1)
    by_symbol: dict[int, list[tuple[NDArray[np.int32], NDArray[np.float64]]]] = {}
    for sid, days, bars in blocks:
        parts = by_symbol.setdefault(sid, [])
        parts.append((np.frombuffer(days, np.int32), np.frombuffer(bars).reshape(-1, 6)))
    for r in runs.values():
        assert r.mask.any(axis=(1, 2)).all()  # no empty symbol rows are kept
        for sid in r.sids.tolist():
            _, _, d, v = r.cells(r.sids == sid)
            by_symbol.setdefault(sid, []).append((d, v))
    recount = []
    for sid, ps in sorted(by_symbol.items()):
        days = np.concatenate([p[0] for p in ps])
        assert (np.diff(days) > 0).all(), sid  # the tail follows the blocks
        close = np.concatenate([p[1] for p in ps])[-1, 3]
        recount.append(
            (sid, days.size, int(days[0]), int(days[-1]), None if np.isnan(close) else close)
        )
    assert kept == recount
