"""The exception tree of ferroquant.

Every error the package raises on purpose derives from :class:`FerroquantError`. Argument problems
also derive from the built-in class a Python user would catch (`ValueError`, `TypeError`), so
``except ValueError`` keeps working. The Rust core raises these classes by name (see
``rust/src/error.rs``, ``Error::kind``); keep the names in sync.

Examples
--------
>>> import numpy as np, ferroquant as fq
>>> try:
...     fq.indicators.sma(np.array([1.0, np.inf]), 2)
... except fq.errors.NonFiniteError as e:
...     print(type(e).__name__, isinstance(e, ValueError))
NonFiniteError True
"""

from __future__ import annotations

__all__ = [
    "CheckpointError",
    "DTypeError",
    "EmptyInputError",
    "FerroquantError",
    "InfeasibleError",
    "InternalError",
    "InvalidParameterError",
    "NonFiniteError",
    "NotOptimalError",
    "ShapeError",
    "StoreError",
    "ThreadPoolError",
    "UnknownSymbolError",
    "ValidationError",
]


class FerroquantError(Exception):
    """Base class of every error raised by ferroquant."""


class InvalidParameterError(FerroquantError, ValueError):
    """A scalar argument is out of range (e.g. ``period=0``); the message gives the valid range."""


class ShapeError(FerroquantError, ValueError):
    """Arrays have the wrong number of dimensions or disagree in shape."""


class NonFiniteError(FerroquantError, ValueError):
    """An input holds ``±inf``; the message names the argument, asset and bar. Use NaN for gaps."""


class EmptyInputError(FerroquantError, ValueError):
    """An input has no assets or no bars."""


class DTypeError(FerroquantError, TypeError):
    """An input cannot be read as numbers (strings, objects, complex values)."""


class ThreadPoolError(FerroquantError, RuntimeError):
    """The worker pool could not be started."""


class InternalError(FerroquantError, RuntimeError):
    """A bug in ferroquant (a Rust panic caught at the boundary). Please report it."""


class UnknownSymbolError(FerroquantError, KeyError):
    """A symbol is not part of the universe / store; the message names it and how to add it."""

    def __str__(self) -> str:  # KeyError would repr() the message; keep it readable
        return str(self.args[0]) if self.args else ""


class ValidationError(FerroquantError, ValueError):
    """Input data failed validation; nothing was written. ``report`` lists every problem."""

    def __init__(self, message: str, report: object = None) -> None:
        super().__init__(message)
        self.report = report


class CheckpointError(FerroquantError, ValueError):
    """Checkpoint bytes are corrupt, truncated, of another version or not from ferroquant."""


class StoreError(FerroquantError, RuntimeError):
    """The database cannot be used (newer schema version, not a ferroquant store, I/O failure)."""


class InfeasibleError(FerroquantError, ValueError):
    """No portfolio satisfies the constraints. ``conflicts`` names the constraints in conflict
    (e.g. ``["budget", "upper bounds"]``) and the message says by how much they miss."""

    def __init__(self, message: str, conflicts: list[str] | None = None) -> None:
        super().__init__(message)
        self.conflicts = list(conflicts or [])


class NotOptimalError(FerroquantError, RuntimeError):
    """A solver stopped without a certificate of optimality; ``result`` holds its last iterate."""

    def __init__(self, message: str, result: object = None) -> None:
        super().__init__(message)
        self.result = result
