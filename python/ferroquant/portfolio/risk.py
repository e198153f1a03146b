"""Risk inputs of the optimiser: a factor model ``Σ = B F B' + diag(D)`` or a dense covariance.

A :class:`FactorModel` is never expanded to its ``n × n`` matrix by the optimiser: the solver works
with ``B chol(F)`` and ``D`` directly. Dense matrices are checked for symmetry and positive
semidefiniteness; :func:`repair_psd` fixes a matrix that is not and reports exactly what changed.

Examples
--------
>>> import numpy as np
>>> from ferroquant.portfolio import FactorModel
>>> m = FactorModel(np.array([[1.0], [0.5]]), np.array([[0.04]]), np.array([0.01, 0.02]))
>>> m.covariance()
array([[0.05, 0.02],
       [0.02, 0.03]])
>>> float(m.variance(np.array([0.5, 0.5])))
0.03
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ferroquant.errors import InvalidParameterError, NonFiniteError, ShapeError

Array = NDArray[np.float64]


def _finite(name: str, a: Array) -> Array:
    if not np.all(np.isfinite(a)):
        raise NonFiniteError(
            f"{name} holds NaN or inf; fill or drop those assets before optimising"
        )
    return a


@dataclass(frozen=True)
class FactorModel:
    """``Σ = B F B' + diag(D)``: exposures ``B`` (n × k), factor covariance ``F`` (k × k, PSD) and
    specific variances ``D`` (n, non-negative)."""

    exposures: Array
    factor_cov: Array
    specific_var: Array

    def __post_init__(self) -> None:
        b = _finite("exposures", np.ascontiguousarray(self.exposures, dtype=np.float64))
        f = _finite("factor_cov", np.ascontiguousarray(self.factor_cov, dtype=np.float64))
        d = _finite("specific_var", np.ascontiguousarray(self.specific_var, dtype=np.float64))
        if b.ndim != 2 or f.shape != (b.shape[1], b.shape[1]) or d.shape != (b.shape[0],):
            raise ShapeError(
                f"factor model needs exposures (n, k), factor_cov (k, k) and specific_var (n,); "
                f"got {b.shape}, {f.shape}, {d.shape}"
            )
        if np.any(d < 0):
            raise InvalidParameterError("specific_var must be >= 0 (variances, not volatilities)")
        if not np.allclose(f, f.T, rtol=1e-10, atol=1e-14 * float(np.abs(f).max(initial=1.0))):
            raise InvalidParameterError("factor_cov must be symmetric; pass (F + F.T) / 2")
        object.__setattr__(self, "exposures", b)
        object.__setattr__(self, "factor_cov", (f + f.T) / 2)
        object.__setattr__(self, "specific_var", d)

    @property
    def n_assets(self) -> int:
        return int(self.exposures.shape[0])

    @property
    def n_factors(self) -> int:
        return int(self.exposures.shape[1])

    def factor_root(self) -> Array:
        """``L`` with ``L L' = F`` (PSD square root; a negative eigenvalue raises)."""
        vals, vecs = np.linalg.eigh(self.factor_cov)
        tol = 1e-12 * max(float(vals.max(initial=0.0)), 1e-300)
        if vals.min(initial=0.0) < -tol:
            raise InvalidParameterError(
                f"factor_cov is not positive semidefinite (eigenvalue {vals.min():.3g}); "
                "repair it with ferroquant.portfolio.repair_psd"
            )
        out: Array = vecs * np.sqrt(np.clip(vals, 0.0, None))
        return out

    def times(self, w: Array) -> Array:
        """``Σ w`` without forming ``Σ``."""
        out: Array = (
            self.exposures @ (self.factor_cov @ (self.exposures.T @ w)) + self.specific_var * w
        )
        return out

    def variance(self, w: Array) -> float:
        return float(w @ self.times(w))

    def block(self, idx: NDArray[np.intp]) -> Array:
        """``Σ_II`` for the assets ``idx`` (the active-set step's free assets)."""
        bi = self.exposures[idx]
        out: Array = bi @ self.factor_cov @ bi.T + np.diag(self.specific_var[idx])
        return out

    def cross(self, idx: NDArray[np.intp], w_fixed: Array) -> Array:
        """``(Σ w_fixed)_I`` where ``w_fixed`` is zero on ``idx``."""
        out: Array = self.exposures[idx] @ (self.factor_cov @ (self.exposures.T @ w_fixed))
        return out

    def covariance(self) -> Array:
        """The dense ``n × n`` matrix (for small universes and checks only)."""
        out: Array = self.exposures @ self.factor_cov @ self.exposures.T + np.diag(
            self.specific_var
        )
        return out

    def scaled(self, c: float) -> FactorModel:
        return FactorModel(self.exposures, self.factor_cov * c, self.specific_var * c)


class DenseRisk:
    """A dense covariance with the few operations the optimiser needs (``Σw``, ``w'Σw``)."""

    def __init__(self, s: Array) -> None:
        self.s = s

    @property
    def n_assets(self) -> int:
        return int(self.s.shape[0])

    def times(self, w: Array) -> Array:
        out: Array = self.s @ w
        return out

    def variance(self, w: Array) -> float:
        return float(w @ (self.s @ w))

    def block(self, idx: NDArray[np.intp]) -> Array:
        out: Array = self.s[np.ix_(idx, idx)]
        return out

    def cross(self, idx: NDArray[np.intp], w_fixed: Array) -> Array:
        out: Array = self.s[idx] @ w_fixed
        return out

    def covariance(self) -> Array:
        return self.s


Risk = FactorModel | Array


def as_risk(risk: Risk, n: int | None = None) -> FactorModel | Array:
    """Validates a risk input; a dense matrix must be square, finite and symmetric."""
    if isinstance(risk, FactorModel):
        m: FactorModel | Array = risk
        size = risk.n_assets
    else:
        s = _finite("covariance", np.ascontiguousarray(risk, dtype=np.float64))
        if s.ndim != 2 or s.shape[0] != s.shape[1]:
            raise ShapeError(f"covariance must be a square (n, n) matrix, got shape {s.shape}")
        asym = s - s.T  # one n × n temporary: this check runs on every solve
        np.abs(asym, out=asym)
        if float(asym.max(initial=0.0)) > 1e-10 * float(np.abs(s).max(initial=1e-300)):
            raise InvalidParameterError("covariance must be symmetric; pass (S + S.T) / 2")
        m = s
        size = s.shape[0]
    if n is not None and size != n:
        raise ShapeError(f"risk model covers {size} assets but expected returns have {n}")
    return m


def times(risk: FactorModel | Array, w: Array) -> Array:
    """``Σ w`` for either representation."""
    if isinstance(risk, FactorModel):
        return risk.times(w)
    out: Array = risk @ w
    return out
