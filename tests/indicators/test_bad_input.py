"""Every argument error path: a typed exception whose message says what to do."""

from __future__ import annotations

import numpy as np
import pytest

from ferroquant import errors
from ferroquant import indicators as fq

X = np.linspace(10.0, 20.0, 60)


@pytest.mark.parametrize(
    ("call", "exc", "match"),
    [
        (lambda: fq.sma(X, 0), errors.InvalidParameterError, "period=0"),
        (lambda: fq.sma(X, -3), errors.InvalidParameterError, "period=-3"),
        (lambda: fq.sma(X, 2.5), errors.InvalidParameterError, "period=2.5"),
        (lambda: fq.rsi(X, 14, convention="wilder"), errors.InvalidParameterError, "convention"),
        (lambda: fq.rolling_mean(X, 5, min_periods=6), errors.InvalidParameterError, "min_periods"),
        (lambda: fq.bollinger(X, 20, float("nan")), errors.InvalidParameterError, "k=NaN"),
        (lambda: fq.bollinger(X, 5, ddof=5), errors.InvalidParameterError, "ddof"),
        (lambda: fq.macd(X, 12, 0), errors.InvalidParameterError, "slow=0"),
        (lambda: fq.ultosc(X, X, X, 7, 0, 28), errors.InvalidParameterError, "period2=0"),
        (lambda: fq.returns(X, kind="pct"), errors.InvalidParameterError, "kind"),
        (lambda: fq.lookback("nope"), errors.InvalidParameterError, "unknown indicator"),
        (lambda: fq.lookback("sma", window=3), errors.InvalidParameterError, "no parameter"),
        (lambda: fq.sma(np.zeros((2, 2, 2))), errors.ShapeError, "3 dimensions"),
        (lambda: fq.sma(np.array([])), errors.EmptyInputError, "empty"),
        (lambda: fq.sma(np.zeros((0, 5))), errors.EmptyInputError, "empty"),
        (lambda: fq.atr(X, X[:-1], X), errors.ShapeError, "low"),
        (lambda: fq.atr(X, X, None), errors.ShapeError, "missing inputs"),
        (lambda: fq.rsi(np.array([1.0, np.inf, 2.0])), errors.NonFiniteError, "bar 1"),
        (lambda: fq.atr(X, np.where(X > 15, -np.inf, X), X), errors.NonFiniteError, "low"),
        (lambda: fq.sma(np.array(["1", "2"])), errors.DTypeError, "numeric"),
    ],
)
def test_bad_arguments_raise_typed_errors(call: object, exc: type, match: str) -> None:
    with pytest.raises(exc, match=match):
        call()  # type: ignore[operator]


def test_builtin_classes_still_catch_them() -> None:
    with pytest.raises(ValueError):
        fq.ema(X, 0)
    with pytest.raises(TypeError):
        fq.ema(np.array([object()]), 3)


def test_nan_is_not_an_error_and_does_not_poison() -> None:
    x = X.copy()
    x[10] = np.nan
    out = fq.rsi(x)
    assert np.isnan(out[10:26]).any() and not np.isnan(out[40:]).any()
