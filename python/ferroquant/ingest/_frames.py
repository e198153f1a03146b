"""pandas input: a DataFrame becomes a :class:`~ferroquant.ingest._read.Table` of strings.

pandas is imported only here, and only when the caller passes a DataFrame.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ferroquant.ingest._read import Table, _norm

__all__ = ["table_from_frame"]


def table_from_frame(df: Any) -> Table:
    """Columns as strings (dates as ``YYYY-MM-DD``, NaN as empty), with the index as a column
    when it holds the dates."""
    import pandas as pd

    frame = df
    if not any(_norm(str(c)) == "date" for c in frame.columns):
        frame = frame.reset_index()
    header = [_norm(str(c)) for c in frame.columns]
    columns = []
    for name, c in zip(header, frame.columns, strict=True):
        s = frame[c]
        if name == "date" or pd.api.types.is_datetime64_any_dtype(s):
            text = pd.to_datetime(s, errors="coerce").dt.strftime("%Y-%m-%d").fillna("")
        else:
            text = s.astype(object).where(s.notna(), "").astype(str)
        columns.append(np.asarray(text.to_numpy(), dtype=str))
    lines = np.arange(1, len(frame) + 1, dtype=np.int64)  # rows, counted from 1
    return Table("<DataFrame>", header, columns, lines, [])
