"""The pipeline machinery: stages, the context they share, timings and memory per stage.

A job is a list of :class:`Stage` objects run in order on one :class:`Context`. Stages talk to
each other only through the context (the store, the options and ``ctx.state``), so a later stage
(a factor model, a portfolio optimiser) plugs in with :meth:`Pipeline.insert` without touching the
others.
"""

from __future__ import annotations

import resource
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "Context",
    "NullProgress",
    "Pipeline",
    "Progress",
    "ProgressTask",
    "Stage",
    "StageResult",
    "peak_rss_mb",
]


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (10**6 bytes).

    Examples
    --------
    >>> peak_rss_mb() > 0
    True
    """
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / 1e6 if sys.platform == "darwin" else peak * 1024 / 1e6


class ProgressTask(Protocol):
    """One bar of a progress display."""

    def update(self, done: int, total: int | None = None) -> None:
        """Set the amount done (and optionally the total)."""


class Progress(Protocol):
    """Where stages report progress; the CLI passes a rich display, tests pass nothing."""

    def task(self, description: str, total: int | None) -> ProgressTask:
        """Start a new bar."""


class _NullTask:
    def update(self, done: int, total: int | None = None) -> None:
        return None


class NullProgress:
    """A progress sink that shows nothing (not a terminal, ``--quiet``, ``--json``, library use).

    Examples
    --------
    >>> NullProgress().task("ingest", 10).update(5)
    """

    def task(self, description: str, total: int | None) -> ProgressTask:
        return _NullTask()


@dataclass
class StageResult:
    """What a stage did: its wall time, how many ``items`` (in ``unit``) it handled, and details.

    Examples
    --------
    >>> r = StageResult("indicators", seconds=0.5, items=1000, unit="bars")
    >>> r.throughput
    2000.0
    """

    name: str
    seconds: float = 0.0
    items: int = 0
    unit: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    peak_rss_mb: float = 0.0

    @property
    def throughput(self) -> float | None:
        """Items per second, or ``None`` when nothing was timed."""
        return self.items / self.seconds if self.seconds > 0 else None

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready dictionary."""
        return {
            "name": self.name,
            "seconds": round(self.seconds, 6),
            "items": self.items,
            "unit": self.unit,
            "throughput": self.throughput,
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            **({"detail": self.detail} if self.detail else {}),
        }


@dataclass
class Context:
    """Everything a stage may use: the open store, the job's options, a progress sink, the results
    of the stages run so far and ``state``, a free-form dictionary stages hand data on with.

    Examples
    --------
    >>> ctx = Context(store=None, options={"full": False})
    >>> ctx.option("full"), ctx.option("missing", 3)
    (False, 3)
    """

    store: Any
    options: Mapping[str, Any] = field(default_factory=dict)
    progress: Progress = field(default_factory=NullProgress)
    results: list[StageResult] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)

    def option(self, name: str, default: Any = None) -> Any:
        """The option ``name``, or ``default`` when it is not set (or ``None``)."""
        value = self.options.get(name)
        return default if value is None else value

    @contextmanager
    def timed(self, result: StageResult, part: str | None = None) -> Iterator[None]:
        """Add the wall time of the ``with`` block to ``result`` (and to ``detail[part]``)."""
        t0 = time.perf_counter()
        try:
            yield
        finally:
            dt = time.perf_counter() - t0
            if part is None:
                result.seconds += dt
            else:
                parts = result.detail.setdefault("seconds", {})
                parts[part] = parts.get(part, 0.0) + dt


@runtime_checkable
class Stage(Protocol):
    """A step of the job. ``run`` does the work and returns what it did."""

    name: str

    def run(self, ctx: Context) -> StageResult:
        """Do the stage's work on ``ctx``."""


class Pipeline:
    """Stages run in order; each result gets the stage's wall time and the peak RSS after it.

    Examples
    --------
    >>> class Hello:
    ...     name = "hello"
    ...     def run(self, ctx):
    ...         ctx.state["greeting"] = "hi"
    ...         return StageResult(self.name, items=1, unit="greetings")
    >>> ctx = Context(store=None)
    >>> [r.name for r in Pipeline([Hello()]).run(ctx)], ctx.state["greeting"]
    (['hello'], 'hi')
    """

    def __init__(self, stages: Sequence[Stage] = ()) -> None:
        self.stages: list[Stage] = list(stages)

    @property
    def names(self) -> list[str]:
        """The stage names, in order."""
        return [s.name for s in self.stages]

    def insert(self, stage: Stage, *, after: str | None = None) -> Pipeline:
        """Add ``stage`` after the stage named ``after`` (at the end when ``None``)."""
        if after is None:
            self.stages.append(stage)
        else:
            self.stages.insert(self.names.index(after) + 1, stage)
        return self

    def run(self, ctx: Context) -> list[StageResult]:
        """Run every stage on ``ctx``; returns ``ctx.results``."""
        for stage in self.stages:
            t0 = time.perf_counter()
            result = stage.run(ctx)
            if result.seconds == 0.0:
                result.seconds = time.perf_counter() - t0
            result.peak_rss_mb = peak_rss_mb()
            ctx.results.append(result)
        return ctx.results
