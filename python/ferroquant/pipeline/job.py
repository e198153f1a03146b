"""The main job (``ferroquant run``): the default pipeline, run on one store and recorded in its
``runs`` table."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ferroquant.pipeline._framework import (
    Context,
    NullProgress,
    Pipeline,
    Progress,
    StageResult,
    peak_rss_mb,
)
from ferroquant.pipeline.optimize_stage import OptimizeSettings, OptimizeStage
from ferroquant.pipeline.risk_stage import FactorStage
from ferroquant.pipeline.stages import (
    IndicatorStage,
    IngestStage,
    ReportStage,
    Source,
    SummaryStage,
)

__all__ = ["DEFAULT_DB", "JobOptions", "JobSummary", "default_pipeline", "run_job"]

DEFAULT_DB = Path("ferroquant.db")
"""The database of ``ferroquant run`` without ``--db``: in the working directory."""


@dataclass
class JobOptions:
    """What ``ferroquant run`` was asked to do.

    ``data`` ``None`` means the sample shipped in the package; ``report`` ``None`` means beside
    the database (``<db stem>_report.html``); ``report=False`` means no report. ``cache_mb``
    and ``mmap_mb`` size SQLite's page cache and memory map per connection: both count in the
    job's resident memory, and the job reads and writes each block once, so it keeps them small.
    """

    db: Path = DEFAULT_DB
    data: Source | None = None
    indicators: Sequence[str] | None = None
    full: bool = False
    chunk: int = 256
    price: str = "adj_close"
    write_mb: float = 8.0
    skip_invalid: bool = False
    ingest: bool = True
    report: Path | bool | None = None
    report_symbols: Sequence[str] | None = None
    cache_mb: int = 4
    mmap_mb: int = 0
    optimize: OptimizeSettings | None = field(default_factory=OptimizeSettings)
    factors: bool = False

    @property
    def report_path(self) -> Path | None:
        """Where the report goes, or ``None`` for no report.

        Examples
        --------
        >>> JobOptions(db=Path("x/prices.db")).report_path.as_posix()
        'x/prices_report.html'
        """
        if self.report is False:
            return None
        if self.report is None or self.report is True:
            return self.db.with_name(f"{self.db.stem}_report.html")
        return self.report

    def params(self) -> dict[str, Any]:
        """A JSON-ready record of the options (stored with the run)."""
        return {
            "db": str(self.db),
            "data": str(self.data.prices) if self.data else "embedded sample",
            "indicators": list(self.indicators or ["standard"]),
            "full": self.full,
            "chunk": self.chunk,
            "price": self.price,
            "skip_invalid": self.skip_invalid,
            "optimize": None if self.optimize is None else self.optimize.objective,
            "factors": self.factors,
        }


@dataclass
class JobSummary:
    """The outcome of a job: stage results, store totals, report path, run id, peak memory."""

    run_id: int | None
    db: Path
    stages: list[StageResult]
    totals: dict[str, Any] = field(default_factory=dict)
    report: Path | None = None
    report_notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    peak_rss_mb: float = 0.0

    def stage(self, name: str) -> StageResult | None:
        """The result of the stage called ``name``."""
        return next((s for s in self.stages if s.name == name), None)

    def as_dict(self) -> dict[str, Any]:
        """The machine-readable summary printed by ``--json``."""
        return {
            "run_id": self.run_id,
            "db": str(self.db),
            "report": str(self.report) if self.report else None,
            "report_notes": self.report_notes,
            "seconds": round(self.seconds, 6),
            "peak_rss_mb": round(self.peak_rss_mb, 1),
            "totals": {k: _jsonable(v) for k, v in self.totals.items()},
            "stages": [s.as_dict() for s in self.stages],
        }


def _jsonable(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return str(value)


def default_pipeline(options: JobOptions) -> Pipeline:
    """ingest → indicators → (factors) → summary → optimize → report, as configured by ``options``.

    Examples
    --------
    >>> default_pipeline(JobOptions()).names
    ['ingest', 'indicators', 'summary', 'optimize', 'report']
    >>> default_pipeline(JobOptions(ingest=False, report=False, optimize=None)).names
    ['indicators', 'summary']
    >>> default_pipeline(JobOptions(factors=True, report=False)).names
    ['ingest', 'indicators', 'factors', 'summary', 'optimize']
    """
    stages: list[Any] = []
    if options.ingest:
        stages.append(IngestStage(options.data, skip_invalid=options.skip_invalid))
    stages.append(
        IndicatorStage(
            options.indicators,
            full=options.full,
            chunk=options.chunk,
            price=options.price,
            write_mb=options.write_mb,
        )
    )
    if options.factors:
        stages.append(FactorStage(price=options.price))
    stages.append(SummaryStage())
    if options.optimize is not None:
        stages.append(OptimizeStage(options.optimize))
    path = options.report_path
    if path is not None:
        stages.append(ReportStage(path, options.report_symbols, price=options.price))
    return Pipeline(stages)


def run_job(
    options: JobOptions,
    *,
    progress: Progress | None = None,
    pipeline: Pipeline | None = None,
) -> JobSummary:
    """Open (or create) the store, run the pipeline on it and record the run.

    A failure is recorded as a failed run and re-raised (``ValidationError`` for bad data).
    """
    from ferroquant.store import Store

    t0 = time.perf_counter()
    pipeline = pipeline or default_pipeline(options)
    with Store.open(options.db, cache_mb=options.cache_mb, mmap_mb=options.mmap_mb) as store:
        ctx = Context(store, options=vars(options), progress=progress or NullProgress())
        run_id = store.begin_run(options.params())
        try:
            pipeline.run(ctx)
        except BaseException:
            store.finish_run(run_id, "failed", _rows(ctx.results), _timings(ctx.results))
            raise
        store.finish_run(run_id, "ok", _rows(ctx.results), _timings(ctx.results))
    report = ctx.state.get("report")
    return JobSummary(
        run_id=run_id,
        db=options.db,
        stages=ctx.results,
        totals=dict(ctx.state.get("summary") or {}),
        report=getattr(report, "path", None),
        report_notes=list(getattr(report, "notes", [])),
        seconds=time.perf_counter() - t0,
        peak_rss_mb=peak_rss_mb(),
    )


def _rows(results: list[StageResult]) -> dict[str, int]:
    return {r.name: r.items for r in results}


def _timings(results: list[StageResult]) -> dict[str, float]:
    return {r.name: r.seconds for r in results}
