"""Every core error kind maps to its class in ferroquant.errors; no panic escapes."""

from __future__ import annotations

import numpy as np
import pytest

from ferroquant import _core, errors, indicators

BUILTIN_BASE = {
    "InvalidParameterError": ValueError,
    "ShapeError": ValueError,
    "NonFiniteError": ValueError,
    "EmptyInputError": ValueError,
    "ThreadPoolError": RuntimeError,
    "InternalError": RuntimeError,
    "CheckpointError": ValueError,
}


def test_the_core_knows_every_kind() -> None:
    assert sorted(_core._error_kinds()) == sorted(BUILTIN_BASE)


@pytest.mark.parametrize("kind", sorted(BUILTIN_BASE))
def test_each_kind_raises_its_class(kind: str) -> None:
    cls = getattr(errors, kind)
    assert issubclass(cls, errors.FerroquantError)
    assert issubclass(cls, BUILTIN_BASE[kind])
    with pytest.raises(cls) as info:
        _core._raise(kind)
    assert type(info.value) is cls
    assert str(info.value)


def test_a_panic_becomes_internal_error() -> None:
    with pytest.raises(errors.InternalError, match="deliberate panic"):
        _core._raise("panic")


def test_dtype_error_is_a_type_error() -> None:
    assert issubclass(errors.DTypeError, TypeError)
    with pytest.raises(errors.DTypeError, match="not numeric"):
        indicators.sma(np.array(["a", "b"]), 2)


def test_messages_say_how_to_fix() -> None:
    with pytest.raises(errors.InvalidParameterError, match=r"period=0.*integer >= 1"):
        indicators.rsi(np.arange(5.0), 0)
    with pytest.raises(errors.NonFiniteError, match=r"asset 1, bar 2.*NaN"):
        indicators.sma(np.array([[1.0, 2.0, 3.0], [1.0, 2.0, -np.inf]]), 2)
