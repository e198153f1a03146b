"""The universe stream: every symbol's indicators advanced by one bar per call."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ferroquant import _core
from ferroquant._core import __version__
from ferroquant._threads import _requested
from ferroquant.errors import (
    CheckpointError,
    DTypeError,
    InvalidParameterError,
    NonFiniteError,
    ShapeError,
    UnknownSymbolError,
)
from ferroquant.stream._specs import needs_high_low, parse_indicators

__all__ = ["Stream", "Tick"]

_F64 = np.dtype(np.float64)


class Tick:
    """The outputs of one update: ``tick["rsi14"]`` is one value per symbol.

    ``values`` is the ``(n_symbols, n_outputs)`` block; each named column is a view into it.
    """

    __slots__ = ("names", "symbols", "values")

    def __init__(
        self, values: NDArray[np.float64], names: tuple[str, ...], symbols: tuple[str, ...]
    ):
        self.values = values
        self.names = names
        self.symbols = symbols

    def __getitem__(self, name: str) -> NDArray[np.float64]:
        try:
            return self.values[:, self.names.index(name)]
        except ValueError:
            raise KeyError(f"no output {name!r}; outputs are {list(self.names)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.names)

    def keys(self) -> tuple[str, ...]:
        """Output names."""
        return self.names

    def symbol(self, symbol: str) -> dict[str, float]:
        """All outputs of one symbol."""
        row = self.values[self.symbols.index(symbol)]
        return dict(zip(self.names, row.tolist(), strict=True))

    def to_frame(self) -> Any:
        """A pandas DataFrame indexed by symbol (imports pandas)."""
        import pandas as pd

        return pd.DataFrame(
            self.values, index=pd.Index(self.symbols, name="symbol"), columns=self.names
        )

    def __repr__(self) -> str:
        return f"Tick({len(self.symbols)} symbols x {list(self.names)})"


class Stream:
    """Indicators of a whole universe, advanced bar by bar, bit-identical to the batch functions.

    Parameters
    ----------
    symbols : iterable of str
        The universe, in the order of the values passed to :meth:`update`.
    indicators : str or sequence of str
        ``"standard"`` (the six series of :func:`ferroquant.indicators.standard`), ``"sma(20)"``,
        ``"ema(12)"``, ``"rsi(14)"``, ``"bollinger(20, 2)"``, ``"macd(12, 26, 9)"``, ``"atr(14)"``,
        ``"natr(14)"``; the defaults of the batch functions fill missing parameters.
    convention : {"pandas", "talib"}
        As in :mod:`ferroquant.indicators`; ``"standard"`` under ``"talib"`` is SMA 20/50 with
        TA-Lib warm-up, Wilder RSI 14 and Bollinger 20/2 with ``ddof=0``.

    Notes
    -----
    A NaN close means "no bar for this symbol at this step" and follows the batch NaN policy.
    Every update of a bar equals, bit for bit, the batch function's value at that bar computed on
    the whole history (both run the same Rust code per bar).

    Examples
    --------
    >>> import numpy as np, ferroquant as fq
    >>> s = fq.stream.Stream(["AAA", "BBB"], ["sma(2)", "rsi(2)"])
    >>> for bar in ([10.0, 20.0], [11.0, 19.0], [12.0, np.nan]):
    ...     tick = s.update(np.array(bar))
    >>> tick["sma2"], tick["rsi2"]
    (array([11.5, 19. ]), array([100.,  nan]))
    >>> s.peek({"AAA": 11.0})["sma2"]          # what a forming bar would give; nothing changes
    array([11.5,  nan])
    """

    def __init__(
        self,
        symbols: Iterable[str],
        indicators: str | Sequence[str] = "standard",
        *,
        convention: str = "pandas",
    ) -> None:
        self._indicators = parse_indicators(indicators, convention)
        self._convention = convention
        syms = _check_symbols(symbols)
        core_specs = [c for ind in self._indicators for c in ind.core()]
        self._core = _core.StreamCore(core_specs, len(syms))
        self._setup(syms)

    def _setup(self, symbols: list[str]) -> None:
        self._symbols = tuple(symbols)
        self._index = {s: i for i, s in enumerate(symbols)}
        self._names = tuple(o for ind in self._indicators for o in ind.outputs)
        self._hl = needs_high_low(self._indicators)
        self._shape = (len(symbols), len(self._names))
        # Only streams without high/low inputs take update()'s single-vector fast path.
        self._vshape = None if self._hl else (len(symbols),)
        # The tick returned by the last update into a caller's `out` block (see `update`).
        self._tick: Tick | None = None

    # -- description -------------------------------------------------------------------------
    @property
    def symbols(self) -> tuple[str, ...]:
        """The universe, in update order."""
        return self._symbols

    @property
    def outputs(self) -> tuple[str, ...]:
        """Names of the values each update returns per symbol."""
        return self._names

    @property
    def indicators(self) -> tuple[str, ...]:
        """The indicators, as specs."""
        return tuple(i.text for i in self._indicators)

    def required_history(self, tolerance: float = 1e-12) -> int | None:
        """Bars of history that :meth:`from_history` needs for values within ``tolerance``.

        Windowed indicators (SMA, Bollinger, Cutler RSI, the standard set) need their window:
        from then on a stream started on that history agrees with one started on the full history
        to the last bits (≤ 1e-12 relative). Recursions (EMA, MACD, Wilder RSI, ATR) forget their
        seed geometrically: the count given makes the seed's weight below ``tolerance``. With
        ``tolerance=0`` they need the full history and ``None`` is returned.

        Examples
        --------
        >>> import ferroquant as fq
        >>> fq.stream.Stream(["A"], "standard").required_history()
        50
        >>> fq.stream.Stream(["A"], "rsi(14)", convention="talib").required_history(1e-8)
        264
        """
        counts = [ind.history(tolerance) for ind in self._indicators]
        if any(c is None for c in counts):
            return None
        return max(c for c in counts if c is not None)

    def __len__(self) -> int:
        return len(self._symbols)

    def __repr__(self) -> str:
        return (
            f"Stream({len(self._symbols)} symbols, {list(self.indicators)}, "
            f"convention={self._convention!r})"
        )

    # -- updates -------------------------------------------------------------------------------
    def update(self, close: Any, *, high: Any = None, low: Any = None, out: Any = None) -> Tick:
        """Commits one bar per symbol and returns every output for every symbol.

        ``close`` (and ``high``/``low`` for ATR) is a 1-D array in :attr:`symbols` order or a
        mapping ``symbol -> value`` (symbols left out have no bar: NaN). ``out`` may be a
        C-contiguous float64 array of shape ``(n_symbols, n_outputs)`` to reuse.
        """
        if type(close) is np.ndarray and self._vshape is not None:
            # The common live call (one float64 vector): the core checks the shapes and values
            # and, without `out`, allocates; anything it cannot take as is (dtype, strides,
            # shape) goes the general way, which converts or names the problem.
            try:
                if out is None:
                    values = self._core.update_new(close, True, _requested.get())
                elif type(out) is np.ndarray:
                    self._core.update(close, None, None, out, True, _requested.get())
                    values = out
                else:
                    values = None
            except NonFiniteError:
                raise self._name_infinite(close, None, None) from None
            except (TypeError, ValueError):
                pass
            else:
                if values is not None and values is out:
                    # A reused block: the tick of the last update into it is this tick too.
                    tick = self._tick
                    if tick is None or tick.values is not values:
                        tick = self._tick = Tick(values, self._names, self._symbols)
                    return tick
                if values is not None:
                    return Tick(values, self._names, self._symbols)
        return self._advance(close, high, low, out, commit=True)

    def peek(self, close: Any, *, high: Any = None, low: Any = None) -> Tick:
        """The outputs a forming bar would give, without changing any state."""
        return self._advance(close, high, low, None, commit=False)

    def _advance(self, close: Any, high: Any, low: Any, out: Any, commit: bool) -> Tick:
        c = self._vector(close, "close")
        h = lo = None
        if self._hl:
            if high is None or low is None:
                raise InvalidParameterError(
                    f"{[i.text for i in self._indicators if i.name in ('atr', 'natr')]} read highs "
                    "and lows: pass update(close, high=..., low=...)"
                )
            h, lo = self._vector(high, "high"), self._vector(low, "low")
        if out is None:
            out = np.empty(self._shape)
        elif (
            type(out) is not np.ndarray
            or out.dtype is not _F64
            or out.shape != self._shape
            or not out.flags.c_contiguous
        ):
            raise ShapeError(f"out must be a C-contiguous float64 array of shape {self._shape}")
        try:
            self._core.update(c, h, lo, out, commit, _requested.get())
        except NonFiniteError:
            raise self._name_infinite(c, h, lo) from None
        return Tick(out, self._names, self._symbols)

    def _vector(self, values: Any, name: str) -> NDArray[np.float64]:
        if type(values) is np.ndarray and values.dtype is _F64 and values.ndim == 1:
            if values.shape[0] != self._shape[0]:
                raise ShapeError(
                    f"{name} has {len(values)} values but the stream has "
                    f"{len(self._symbols)} symbols; pass one value per symbol in Stream.symbols "
                    "order, or a mapping symbol -> value"
                )
            return values if values.flags.c_contiguous else np.ascontiguousarray(values)
        if isinstance(values, Mapping):
            v = np.full(len(self._symbols), np.nan)
            for sym, x in values.items():
                i = self._index.get(sym)
                if i is None:
                    raise UnknownSymbolError(
                        f"{name}: unknown symbol {sym!r}; add it with Stream.add_symbols first"
                    )
                v[i] = _number(x, name, sym)
            return v
        try:
            arr = np.asarray(values)
            if arr.dtype.kind not in "biuf":
                raise TypeError
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise DTypeError(
                f"{name} must be numbers (a 1-D float array or a mapping symbol -> float), "
                f"got {type(values).__name__}"
            ) from None
        if arr.ndim != 1:
            raise ShapeError(f"{name} must be 1-D (one value per symbol), got shape {arr.shape}")
        return self._vector(np.ascontiguousarray(arr), name)

    def _name_infinite(self, *arrays: Any) -> NonFiniteError:
        for name, a in zip(("close", "high", "low"), arrays, strict=True):
            if a is not None and np.isinf(a).any():
                sym = self._symbols[int(np.flatnonzero(np.isinf(a))[0])]
                return NonFiniteError(
                    f"{name} of symbol {sym!r} is infinite; nothing was updated. Pass NaN for a "
                    "symbol without a bar"
                )
        return NonFiniteError("an input is infinite; nothing was updated")

    # -- history and the universe ----------------------------------------------------------------
    @classmethod
    def from_history(
        cls,
        close: Any,
        indicators: str | Sequence[str] = "standard",
        *,
        symbols: Iterable[str] | None = None,
        high: Any = None,
        low: Any = None,
        convention: str = "pandas",
    ) -> Stream:
        """A stream warmed up on a history panel, as if each bar had been an update.

        ``close`` is a ``(n_symbols, n_bars)`` array (with ``symbols``), a wide DataFrame (dates
        as index, symbols as columns) or a :class:`ferroquant.sample.Panel` (which also supplies
        highs and lows). Use :meth:`required_history` to size the history.
        """
        close, high, low, syms = _history_arrays(close, high, low, symbols)
        stream = cls(syms, indicators, convention=convention)
        stream._warm(close, high, low)
        return stream

    def _warm(self, close: Any, high: Any, low: Any) -> NDArray[np.float64]:
        c = _panel(close, "close", len(self._symbols))
        h = lo = None
        if self._hl:
            if high is None or low is None:
                raise InvalidParameterError("ATR/NATR need high= and low= history panels")
            h, lo = _panel(high, "high", len(c)), _panel(low, "low", len(c))
            if h.shape != c.shape or lo.shape != c.shape:
                raise ShapeError(
                    f"high, low and close panels differ in shape: {h.shape}, {c.shape}"
                )
        last = np.full((len(self._symbols), len(self._names)), np.nan)
        try:
            self._core.warm(c, h, lo, last, _requested.get())
        except NonFiniteError as e:
            raise NonFiniteError(f"{e} (asset = position in Stream.symbols)") from None
        return last

    def add_symbols(
        self, symbols: Iterable[str], *, history: Any = None, high: Any = None, low: Any = None
    ) -> None:
        """Adds symbols (optionally warmed on their own ``(k, n_bars)`` history); the others'
        states are untouched."""
        new = _check_symbols(symbols)
        clash = [s for s in new if s in self._index]
        if clash:
            raise InvalidParameterError(f"symbols already in the stream: {clash}")
        if history is None:
            self._core.add(len(new))
        else:
            part = Stream(new, [i.text for i in self._indicators], convention=self._convention)
            part._warm(history, high, low)
            self._core.extend(part._core)
        self._setup([*self._symbols, *new])

    def remove_symbols(self, symbols: Iterable[str]) -> None:
        """Drops symbols; the others keep their state."""
        gone = list(symbols)
        unknown = [s for s in gone if s not in self._index]
        if unknown:
            raise UnknownSymbolError(f"cannot remove unknown symbols {unknown}")
        self._core.remove([self._index[s] for s in dict.fromkeys(gone)])
        drop = set(gone)
        self._setup([s for s in self._symbols if s not in drop])

    # -- checkpoints ---------------------------------------------------------------------------
    def checkpoint(self) -> bytes:
        """The complete state as bytes (versioned, CRC-32 checked); see :meth:`restore`."""
        header = json.dumps(
            {
                "ferroquant": __version__,
                "symbols": list(self._symbols),
                "indicators": list(self.indicators),
                "convention": self._convention,
            }
        ).encode()
        return bytes(self._core.checkpoint(header))

    @classmethod
    def restore(cls, data: bytes) -> Stream:
        """A stream from :meth:`checkpoint` bytes; it continues bit-identically.

        Raises
        ------
        CheckpointError
            Truncated, corrupted, foreign or incompatible bytes.
        """
        if not isinstance(data, bytes | bytearray | memoryview):
            raise CheckpointError(
                f"expected bytes from Stream.checkpoint(), got {type(data).__name__}"
            )
        header, core = _core.StreamCore.restore(bytes(data))
        try:
            meta = json.loads(header)
            syms = list(meta["symbols"])
            stream = cls.__new__(cls)
            stream._indicators = parse_indicators(meta["indicators"], meta["convention"])
            stream._convention = meta["convention"]
        except (ValueError, KeyError, TypeError) as e:
            raise CheckpointError(f"the checkpoint header is not valid ({e})") from None
        if len(syms) != core.n_symbols:
            raise CheckpointError("the checkpoint's symbol list does not match its states")
        stream._core = core
        stream._setup(syms)
        return stream


def _number(x: Any, name: str, sym: str) -> float:
    try:
        return float(x)
    except (TypeError, ValueError):
        raise DTypeError(f"{name} of symbol {sym!r} is {x!r}, not a number") from None


def _check_symbols(symbols: Iterable[str]) -> list[str]:
    if isinstance(symbols, str):
        raise InvalidParameterError("symbols must be a list of names, not one string")
    syms = [str(s) for s in symbols]
    seen: set[str] = set()
    dup = sorted({s for s in syms if s in seen or seen.add(s)})  # type: ignore[func-returns-value]
    if dup:
        raise InvalidParameterError(f"duplicate symbols: {dup}")
    return syms


def _panel(a: Any, name: str, n: int) -> NDArray[np.float64]:
    try:
        arr = np.ascontiguousarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        raise DTypeError(f"{name} history must be numbers") from None
    if arr.ndim != 2 or arr.shape[0] != n:
        raise ShapeError(f"{name} history must be (n_symbols={n}, n_bars), got shape {arr.shape}")
    return arr


def _history_arrays(close: Any, high: Any, low: Any, symbols: Iterable[str] | None) -> Any:
    from ferroquant.sample import Panel

    if isinstance(close, Panel):
        return close.close, close.high, close.low, list(close.symbols)
    if hasattr(close, "columns") and hasattr(close, "to_numpy"):
        # A wide frame: dates down, symbols across.
        syms = [str(c) for c in close.columns]
        tr = [None if f is None else np.asarray(f.to_numpy(dtype=float)).T for f in (high, low)]
        return np.asarray(close.to_numpy(dtype=float)).T, tr[0], tr[1], syms
    if symbols is None:
        raise InvalidParameterError("pass symbols= with a history array")
    return close, high, low, list(symbols)
