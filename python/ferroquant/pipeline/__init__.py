"""The main job as a pipeline of stages: ingest → indicators → summary → report.

A stage is any object with a ``name`` and a ``run(ctx) -> StageResult`` method; later stages
(a factor model, a portfolio optimiser) plug in with :meth:`Pipeline.insert`.

Examples
--------
>>> from ferroquant.pipeline import JobOptions, default_pipeline
>>> p = default_pipeline(JobOptions(report=False))
>>> class Factors:
...     name = "factors"
...     def run(self, ctx):
...         return StageResult(self.name)
>>> p.insert(Factors(), after="indicators").names
['ingest', 'indicators', 'factors', 'summary', 'optimize']
"""

from ferroquant.pipeline._framework import (
    Context,
    NullProgress,
    Pipeline,
    Progress,
    ProgressTask,
    Stage,
    StageResult,
    peak_rss_mb,
)
from ferroquant.pipeline.indicator_sets import INDICATOR_SETS, IndicatorSet, resolve_sets
from ferroquant.pipeline.job import DEFAULT_DB, JobOptions, JobSummary, default_pipeline, run_job
from ferroquant.pipeline.stages import (
    IndicatorStage,
    IngestStage,
    ReportStage,
    Source,
    SummaryStage,
)

__all__ = [
    "DEFAULT_DB",
    "INDICATOR_SETS",
    "Context",
    "IndicatorSet",
    "IndicatorStage",
    "IngestStage",
    "JobOptions",
    "JobSummary",
    "NullProgress",
    "Pipeline",
    "Progress",
    "ProgressTask",
    "ReportStage",
    "Source",
    "Stage",
    "StageResult",
    "SummaryStage",
    "default_pipeline",
    "peak_rss_mb",
    "resolve_sets",
    "run_job",
]
