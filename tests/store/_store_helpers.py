"""Synthetic bars for the store tests."""

from __future__ import annotations

import numpy as np

from ferroquant.store import Bars, Store


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
    """``bar_stats`` (kept incrementally by every write) equals a recount from the blocks."""
    with store.reader() as c:
        kept = c.execute("SELECT * FROM bar_stats ORDER BY symbol_id").fetchall()
        recount = c.execute(
            "SELECT b.symbol_id, t.n, t.first_day, b.last_day, b.last_close FROM "
            "(SELECT symbol_id, sum(n) AS n, min(first_day) AS first_day, max(block) AS block "
            "FROM bar_blocks GROUP BY symbol_id) t JOIN bar_blocks b "
            "ON b.symbol_id = t.symbol_id AND b.block = t.block ORDER BY b.symbol_id"
        ).fetchall()
    assert kept == recount
