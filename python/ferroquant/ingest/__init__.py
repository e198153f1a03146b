"""Ingest price files (CSV, gzip, directories, pandas) into a :class:`~ferroquant.store.Store`.

Everything is read and validated before anything is written; the write is one transaction, so
a crash (even ``kill -9``) leaves the store as it was, and running the ingest again completes it.
Re-ingesting the same data changes nothing.

Examples
--------
>>> import tempfile, pathlib
>>> from importlib import resources
>>> from ferroquant.store import Store
>>> from ferroquant.ingest import ingest
>>> data = resources.files("ferroquant") / "data"
>>> with tempfile.TemporaryDirectory() as d, Store.open(pathlib.Path(d) / "fq.db") as store:
...     first = ingest(store, data)
...     again = ingest(store, data)
...     (first.rows_written, first.symbols, again.rows_written, store.sectors()["AAPL"])
(124542, 99, 0, 'Information Technology')
"""

from __future__ import annotations

from ferroquant.ingest._ingest import ingest, read_corporate_actions, read_sectors
from ferroquant.ingest._read import read_source
from ferroquant.ingest._report import IngestResult, Problem, ValidationReport
from ferroquant.ingest._validate import validate

__all__ = [
    "IngestResult",
    "Problem",
    "ValidationReport",
    "ingest",
    "read_corporate_actions",
    "read_sectors",
    "read_source",
    "validate",
]
