# Hand-written stub of the Rust extension (checked with `python -m mypy.stubtest ferroquant._core`).
# Inputs are C-contiguous float64 (n_assets, n_bars) arrays; `out` is a C-contiguous float64 or
# float32 (k, n_assets, n_bars) block; `threads` = 0 uses the default pool.
from typing import Any, final

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "StreamCore",
    "__version__",
    "_after_fork_in_child",
    "_error_kinds",
    "_raise",
    "atr",
    "bollinger",
    "build_info",
    "ema",
    "factor_analytics_core",
    "forward_returns",
    "macd",
    "oscillator",
    "qp_solve",
    "returns",
    "risk_covariance",
    "risk_descriptors",
    "risk_eigen_adjust",
    "risk_regression",
    "risk_specific",
    "risk_standardize",
    "risk_standardize_regress",
    "rolling",
    "rsi",
    "scan",
    "standard",
    "standard_into",
    "standard_new",
    "stddev",
    "thread_pool_size",
    "true_range",
    "wma",
]

__version__: str

_F64 = NDArray[np.float64]
_V64 = NDArray[np.float64]
_Out = NDArray[np.float64] | NDArray[np.float32]

def rolling(
    x: _F64, window: int, min_periods: int, ddof: int, stat: str, out: _Out, threads: int
) -> None: ...
def ema(x: _F64, period: int, convention: str, out: _Out, threads: int) -> None: ...
def wma(x: _F64, period: int, min_periods: int, out: _Out, threads: int) -> None: ...
def rsi(
    x: _F64, period: int, min_periods: int, convention: str, out: _Out, threads: int
) -> None: ...
def bollinger(
    x: _F64, period: int, k: float, ddof: int, min_periods: int, out: _Out, threads: int
) -> None: ...
def stddev(x: _F64, period: int, nbdev: float, ddof: int, out: _Out, threads: int) -> None: ...
def macd(
    x: _F64, fast: int, slow: int, signal: int, convention: str, out: _Out, threads: int
) -> None: ...
def true_range(
    high: _F64, low: _F64, close: _F64, convention: str, out: _Out, threads: int
) -> None: ...
def atr(
    high: _F64,
    low: _F64,
    close: _F64,
    period: int,
    convention: str,
    normalised: bool,
    out: _Out,
    threads: int,
) -> None: ...
def oscillator(
    name: str,
    high: _F64,
    low: _F64,
    close: _F64,
    periods: list[int],
    convention: str,
    out: _Out,
    threads: int,
) -> None: ...
def returns(x: _F64, periods: int, log: bool, out: _Out, threads: int) -> None: ...
def scan(x: _F64, out: _Out, threads: int) -> None: ...
def standard(x: _F64, out: _Out, threads: int) -> None: ...
def standard_into(x: Any, out: _Out, two_d: bool) -> bool: ...
def standard_new(x: Any) -> tuple[_F64, _F64, _F64, _F64, _F64, _F64] | None: ...
def thread_pool_size(threads: int = 0) -> int: ...
def _after_fork_in_child() -> None: ...
def build_info() -> dict[str, Any]: ...
def _error_kinds() -> list[str]: ...
def _raise(kind: str) -> None: ...

@final
class StreamCore:
    """The Rust state of a ``ferroquant.stream.Stream``."""

    def __new__(cls, specs: list[tuple[str, list[float], str]], n: int) -> StreamCore: ...
    @property
    def n_symbols(self) -> int: ...
    def update(
        self,
        close: _V64,
        high: _V64 | None,
        low: _V64 | None,
        out: _F64,
        commit: bool,
        threads: int,
    ) -> None: ...
    def update_new(self, close: _V64, commit: bool, threads: int) -> _F64: ...
    def warm(
        self, close: _F64, high: _F64 | None, low: _F64 | None, last: _F64, threads: int
    ) -> None: ...
    def add(self, k: int) -> None: ...
    def extend(self, other: StreamCore) -> None: ...
    def remove(self, indices: list[int]) -> None: ...
    def checkpoint(self, header: bytes) -> bytes: ...
    @staticmethod
    def restore(data: bytes) -> tuple[bytes, StreamCore]: ...

# Factor analytics (ferroquant.factors): outputs are C-contiguous float64 blocks allocated by the
# caller, time along the last axis (layout in ferroquant/factors/_engine.py).
def forward_returns(close: _F64, horizons: list[int], out: _F64, threads: int) -> None: ...
def qp_solve(
    dims: tuple[int, int, int, int],
    hd: _V64,
    v: _V64,
    q: _V64,
    la: _V64,
    lb: _V64,
    ae: _V64,
    be: _V64,
    ag: _V64,
    hg: _V64,
    tol: float,
    max_iter: int,
    start: _V64 | None = None,
    duals: tuple[_V64, _V64, _V64] | None = None,
    warm_mu: float = 0.0,
    sensitivity: tuple[float, _V64] | None = None,
) -> tuple[
    _V64,
    _V64,
    _V64,
    _V64,
    int,
    int,
    tuple[float, float, float],
    list[_V64] | None,
]: ...
def factor_analytics_core(
    factor: _F64,
    fwd: _F64,
    groups: NDArray[np.int64],
    n_groups: int,
    quantiles: int,
    demeaned: bool,
    common_universe: bool,
    lags: list[int],
    quantile: NDArray[np.uint8],
    date_counts: _F64,
    counts: _F64,
    ic: _F64,
    qret: _F64,
    turnover: _F64,
    autocorr: _F64,
    threads: int,
) -> None: ...
def risk_descriptors(
    close: _F64,
    volume: _F64 | None,
    shares: _F64 | None,
    weights: _F64 | None,
    windows: tuple[int, int, int, int, int, int, int, int],
    half_lives: tuple[float, float, float, float],
    min_fraction: float,
    out: _F64,
    threads: int,
) -> None: ...
def risk_standardize(
    values: _F64,
    caps: _F64 | None,
    universe: NDArray[np.bool_] | None,
    winsor: float,
    min_valid: int,
    orthogonalize: list[tuple[int, list[int]]],
    imputed: _F64,
    dropped: _F64,
    universe_count: _F64,
    threads: int,
) -> None: ...
def risk_regression(
    exposures: _F64,
    returns: _F64,
    lead: int,
    first: int,
    weights: _F64 | None,
    sqrt_shares: bool,
    shares: _F64 | None,
    industries: NDArray[np.int64],
    n_industries: int,
    factor_returns: _F64,
    tstats: _F64,
    stats: _F64,
    residuals: _F64,
    threads: int,
) -> None: ...
def risk_standardize_regress(
    values: _F64,
    caps: _F64 | None,
    universe: NDArray[np.bool_] | None,
    winsor: float,
    min_valid: int,
    orthogonalize: list[tuple[int, list[int]]],
    imputed: _F64,
    dropped: _F64,
    universe_count: _F64,
    returns: _F64,
    lead: int,
    first: int,
    weights: _F64 | None,
    sqrt_shares: bool,
    shares: _F64 | None,
    industries: NDArray[np.int64],
    n_industries: int,
    factor_returns: _F64,
    tstats: _F64,
    stats: _F64,
    residuals: _F64,
    threads: int,
) -> None: ...
def risk_covariance(
    factor_returns: _F64,
    vol_half_life: float,
    corr_half_life: float,
    nw_lags: int,
    vra_half_life: float,
    min_obs: int,
    cov: _F64,
    vra: _F64,
    repairs: _F64,
) -> None: ...
def risk_eigen_adjust(
    cov: _F64, n_sims: int, n_periods: int, scale: float, seed: int, out: _F64, threads: int
) -> None: ...
def risk_specific(
    residuals: _F64,
    size: _F64 | None,
    half_life: float,
    min_obs: int,
    shrinkage: float,
    n_groups: int,
    out: _F64,
    threads: int,
) -> None: ...
