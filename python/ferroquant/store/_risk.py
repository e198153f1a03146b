"""Risk-model results: factor returns, covariance and exposures per date, under a model name.

One row per ``(model, day)`` in each table, the vectors and matrices as float64 BLOBs, the factor
and style names as JSON (they can change between runs of a model), exposures with the symbol ids
of their columns. A rewrite of a model replaces the dates it writes.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["V4", "read_covariance", "read_exposures", "read_factor_returns", "write_model"]

F64 = NDArray[np.float64]

V4 = """
CREATE TABLE risk_factor_returns (
    model TEXT NOT NULL,
    day INTEGER NOT NULL,
    factors TEXT NOT NULL,
    returns BLOB NOT NULL,
    tstats BLOB NOT NULL,
    r2 REAL,
    n_obs INTEGER NOT NULL,
    PRIMARY KEY (model, day)
);
CREATE TABLE risk_covariance (
    model TEXT NOT NULL,
    day INTEGER NOT NULL,
    factors TEXT NOT NULL,
    cov BLOB NOT NULL,
    PRIMARY KEY (model, day)
);
CREATE TABLE risk_exposures (
    model TEXT NOT NULL,
    day INTEGER NOT NULL,
    styles TEXT NOT NULL,
    sids BLOB NOT NULL,
    vals BLOB NOT NULL,
    specific BLOB NOT NULL,
    PRIMARY KEY (model, day)
)
"""


def _blob(x: Any) -> bytes:
    return np.ascontiguousarray(x, dtype=np.float64).tobytes()


def write_model(
    c: sqlite3.Connection,
    model: str,
    days: NDArray[np.int64],
    sids: NDArray[np.int64],
    result: Any,
    exposure_days: Sequence[int],
) -> int:
    """Writes a :class:`ferroquant.factors.RiskModel` computed on ``days``; exposures and specific
    variances only at the positions ``exposure_days``. Returns the rows written."""
    fr = result.factor_returns
    names = json.dumps(list(fr.names))
    rows = 0
    for j, day in enumerate(days.tolist()):
        if np.isfinite(fr.returns[:, j]).all():
            r2 = float(fr.r2[j]) if np.isfinite(fr.r2[j]) else None
            c.execute(
                "INSERT OR REPLACE INTO risk_factor_returns VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    model,
                    day,
                    names,
                    _blob(fr.returns[:, j]),
                    _blob(fr.tstats[:, j]),
                    r2,
                    int(fr.n_obs[j]),
                ),
            )
            rows += 1
        cov = result.covariance.cov[j]
        if np.isfinite(cov).all():
            c.execute(
                "INSERT OR REPLACE INTO risk_covariance VALUES (?, ?, ?, ?)",
                (model, day, names, _blob(cov)),
            )
            rows += 1
    styles = json.dumps(list(result.exposures.names))
    for j in exposure_days:
        x = result.exposures.values[:, :, j]
        keep = np.isfinite(x).all(axis=0)
        c.execute(
            "INSERT OR REPLACE INTO risk_exposures VALUES (?, ?, ?, ?, ?, ?)",
            (
                model,
                int(days[j]),
                styles,
                sids[keep].astype(np.int64).tobytes(),
                _blob(x[:, keep]),
                _blob(result.specific_variance[keep, j]),
            ),
        )
        rows += 1
    return rows


def read_factor_returns(
    c: sqlite3.Connection, model: str
) -> tuple[NDArray[np.int64], list[str], F64, F64]:
    """Days, factor names (of the latest day), returns and t-stats ``(n_factors, n_days)``.

    Days whose factors differ from the latest day's are left out."""
    rows = c.execute(
        "SELECT day, factors, returns, tstats FROM risk_factor_returns WHERE model = ? "
        "ORDER BY day",
        (model,),
    ).fetchall()
    if not rows:
        return np.zeros(0, np.int64), [], np.zeros((0, 0)), np.zeros((0, 0))
    names = rows[-1][1]
    rows = [r for r in rows if r[1] == names]
    days = np.array([r[0] for r in rows], dtype=np.int64)
    ret = np.stack([np.frombuffer(r[2], dtype=np.float64) for r in rows], axis=1)
    ts = np.stack([np.frombuffer(r[3], dtype=np.float64) for r in rows], axis=1)
    return days, json.loads(names), ret, ts


def read_covariance(
    c: sqlite3.Connection, model: str, day: int | None
) -> tuple[int, list[str], F64] | None:
    """The covariance at ``day`` (the latest when ``None``), or ``None``."""
    sql = "SELECT day, factors, cov FROM risk_covariance WHERE model = ?"
    args: tuple[Any, ...] = (model,)
    if day is not None:
        sql += " AND day = ?"
        args = (model, day)
    row = c.execute(sql + " ORDER BY day DESC LIMIT 1", args).fetchone()
    if row is None:
        return None
    names = json.loads(row[1])
    k = len(names)
    return int(row[0]), names, np.frombuffer(row[2], dtype=np.float64).reshape(k, k).copy()


def read_exposures(
    c: sqlite3.Connection, model: str, day: int | None
) -> tuple[int, list[str], NDArray[np.int64], F64, F64] | None:
    """Day, styles, symbol ids, exposures ``(n_styles, n_symbols)`` and specific variances."""
    sql = "SELECT day, styles, sids, vals, specific FROM risk_exposures WHERE model = ?"
    args: tuple[Any, ...] = (model,)
    if day is not None:
        sql += " AND day = ?"
        args = (model, day)
    row = c.execute(sql + " ORDER BY day DESC LIMIT 1", args).fetchone()
    if row is None:
        return None
    styles = json.loads(row[1])
    sids = np.frombuffer(row[2], dtype=np.int64).copy()
    vals = np.frombuffer(row[3], dtype=np.float64).reshape(len(styles), len(sids)).copy()
    return int(row[0]), styles, sids, vals, np.frombuffer(row[4], dtype=np.float64).copy()
