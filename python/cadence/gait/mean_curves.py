"""Every subject x task group's mean curve of every feature, in one pass over the file: the
observations of the SPM comparisons (``LocomotionData.subject_mean_curves``).

The engine (``_core.GaitMeanCurveStream``, src/cadence/gait/mean_curves.h) folds each batch of
feature columns into per-group sums as it arrives. Nothing the size of the file is held: the
columns are decoded row group by row group (the next one on a helper thread while the engine
sums this one) and dropped, so a UMich-scale file costs its 0.7 GB of decoded columns neither in
memory nor in page faults. An object that already holds its columns (a loaded table, a cache's
memory map) is read from them instead; the sums are added in the same order either way, so the
means are the same to the bit.
"""

from __future__ import annotations

from contextlib import closing, nullcontext

import numpy as np
import pyarrow as pa

from .. import _core
from ..runtime import make_job
from .features import batch_rows_within, nan_policy_code, size_text
from .reader import POINTS_PER_CYCLE, FileIndex, GaitFile, column_view, warn_nulls


def group_mean_curves(gfile: GaitFile, findex: FileIndex, columns: list[str], *, nan_policy: str, jobs: int,
                      memory_limit, table: pa.Table | None = None) -> np.ndarray:
    """(groups, columns, 150) float64: each group's mean curve of each column, NaN for a group
    that is not whole cycles. ``table``: the same columns already in memory, read instead."""
    gfile.check_float_columns(columns)
    job = make_job(jobs, memory_limit)
    groups = len(findex.groups["rows"])
    reading = None if table is not None else _reading(gfile, columns, job, groups, nan_policy)  # refused first
    engine = _core.GaitMeanCurveStream(findex.index, len(columns), nan_policy_code(nan_policy), job)
    batches = table.select(columns).to_batches() if reading is None else gfile.iter_batches(columns, *reading)
    noted: set[str] = set()
    # closing(): the reader's prefetch thread stops here, also on an error or Ctrl-C
    with closing(batches) if hasattr(batches, "close") else nullcontext():
        for batch in batches:
            engine.push([column_view(batch.column(i), n, noted) for i, n in enumerate(columns)], batch.num_rows)
    warn_nulls(noted)
    return engine.finish(groups, len(columns))


def _reading(gfile: GaitFile, columns: list[str], job: _core.Job, groups: int, nan_policy: str):
    """(batch_rows, job, prefetch) for iter_batches: batches sized to what the budget leaves
    beside the engine's sums, read one ahead when two fit and the job has a second thread."""
    limit = job.memory_limit_bytes
    sums = groups * len(columns) * POINTS_PER_CYCLE * (12 if nan_policy == "omit" else 8)
    row_bytes = gfile.row_bytes(columns)
    left = limit - sums if limit else 0
    batch_rows = batch_rows_within(left, row_bytes) if limit else batch_rows_within(0, row_bytes)
    read = gfile.largest_read(batch_rows) * row_bytes
    if limit and sums + read > limit:
        need = -(-(sums + read) // (1 << 20))
        raise ValueError(f"{gfile.path}: a memory limit of {size_text(limit)} is too small for the mean curves of "
                         f"{groups} subject x task groups x {len(columns)} features beside one read batch; set it "
                         f"to {need}M or more")
    prefetch = job.jobs > 1 and (not limit or sums + 2 * read <= limit)
    return batch_rows, job, prefetch

