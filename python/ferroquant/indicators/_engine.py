"""Glue between the public indicator functions and the core: coerce, allocate, call, restore."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ferroquant._array import allocate, is_long_frame, prepare, prepare_long
from ferroquant._threads import current_threads
from ferroquant.errors import InvalidParameterError, ShapeError

# A core kernel called as kernel(*inputs, out_block, threads).
Kernel = Callable[..., None]

CONVENTIONS = ("pandas", "talib")


def check_convention(convention: str, allowed: Sequence[str] = CONVENTIONS) -> str:
    """Validate a convention name early, with the list of valid names."""
    if convention not in allowed:
        raise InvalidParameterError(
            f"invalid convention={convention!r}: expected one of {', '.join(map(repr, allowed))}"
        )
    return convention


def check_period(name: str, value: Any, minimum: int = 1) -> int:
    """Validate an integer parameter before it reaches the core (which takes unsigned ints)."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InvalidParameterError(f"invalid {name}={value!r}: expected an integer >= {minimum}")
    if value < minimum:
        raise InvalidParameterError(f"invalid {name}={value}: expected an integer >= {minimum}")
    return int(value)


def run(
    kernel: Kernel,
    inputs: Sequence[Any],
    input_names: Sequence[str],
    outputs: Sequence[str],
    *,
    dtype: Any = None,
    out: Any = None,
    column: str = "close",
    date: str | None = "date",
) -> list[Any]:
    """Run ``kernel`` over ``inputs`` and return one result per output name in the input's form.

    A long frame (with a ``symbol`` column) passed as the only input is split into the columns
    the kernel needs: ``column`` for single-input kernels, high/low/close for the others.
    """
    restore: Callable[[NDArray[Any], Sequence[str]], list[Any]]
    if is_long_frame(inputs[0]) and all(i is None for i in inputs[1:]):
        if out is not None:
            raise ShapeError("out= is not supported with a long frame; pass a wide panel")
        cols = [column] if len(inputs) == 1 else list(input_names)
        data, restore = prepare_long(inputs[0], cols, date)
    else:
        missing = [n for n, i in zip(input_names, inputs, strict=True) if i is None]
        if missing:
            raise ShapeError(f"missing inputs {missing}; pass all of {list(input_names)}")
        prepared = [prepare(x, n) for x, n in zip(inputs, input_names, strict=True)]
        data = [p.data for p in prepared]
        restore = prepared[-1].restore
    block = allocate(len(outputs), data[-1].shape, dtype, out, outputs)
    kernel(*data, block, current_threads())
    return restore(block, outputs)
