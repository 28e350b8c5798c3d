"""Per-cycle features of every subject x task in one streamed pass (the guide's loops, in bulk).

``cycle_features`` returns one row per cycle: subject, task, step, cycle (index within its
subject x task, as ``get_cycles`` numbers them), row (first file row), valid (LocoHub's rules),
is_outlier, rmse (to the mean pattern, over all features: LocoHub's outlier metric), then for
each feature ``<feature>__<stat>`` for the statistics in :data:`STATS`. Outputs: a pandas
DataFrame, an Arrow table, a Parquet file, or a memory-mapped float32 ``.npy`` matrix with a
metadata table beside it. Nothing is dropped silently: see :func:`drop_log`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from contextlib import closing, nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .. import _core
from ..atomic import AtomicFiles
from ..runtime import make_job, run_job
from . import reader
from .outputs import COLUMNS_KEY, MATRIX_KEY, companion
from .reader import POINTS_PER_CYCLE, FileIndex, GaitFile, column_view, feature_kind, warn_nulls

#: Per-cycle statistics, in the engine's order (see src/cadence/gait/cycle_stats.h).
STATS: tuple[str, ...] = tuple(_core.gait_stat_names())
#: Reasons a group or cycle can be left out (src/cadence/gait/cycle_index.h DropReason).
CYCLE_DROP_REASONS: tuple[str, ...] = tuple(_core.gait_drop_reasons())
META_COLUMNS = ("subject", "task", "step", "cycle", "row", "valid", "is_outlier", "rmse")
#: NaN policies by engine code (src/cadence/gait/cycle_stats.h NanPolicy).
NAN_POLICIES: tuple[str, ...] = tuple(_core.gait_nan_policies())


def nan_policy_code(nan_policy: str) -> int:
    if nan_policy not in NAN_POLICIES:
        raise ValueError(f"nan_policy={nan_policy!r}: use 'propagate' (numpy's behaviour) or 'omit'")
    return NAN_POLICIES.index(nan_policy)


def drop_log(findex: FileIndex) -> pd.DataFrame:
    """Every group and cycle the engine leaves out, with its reason (one of :data:`CYCLE_DROP_REASONS`).

    Columns: subject, task, step (None for a whole group), first_row, rows, reason, detail.
    """
    g, c = findex.groups, findex.cycles
    rows = []
    for i in np.flatnonzero(g["reason"] != 0):
        n = int(g["rows"][i])
        rows.append((findex.subject_names[g["subject"][i]], findex.task_names[g["task"][i]], None,
                     int(g["first_row"][i]), n, CYCLE_DROP_REASONS[g["reason"][i]],
                     f"{n} rows = {n // POINTS_PER_CYCLE} x {POINTS_PER_CYCLE} + {n % POINTS_PER_CYCLE}"
                     if n % POINTS_PER_CYCLE else f"{int(g['runs'][i])} separate runs in the file"))
    bad = np.flatnonzero(c["reason"] != 0)
    if bad.size:
        group_of_cycle = np.searchsorted(g["first_cycle"], bad, side="right") - 1
        # first_cycle repeats for unusable groups (0 cycles): take the last group starting there
        for ci, gi in zip(bad, group_of_cycle):
            while g["cycles"][gi] == 0:
                gi -= 1
            rows.append((findex.subject_names[g["subject"][gi]], findex.task_names[g["task"][gi]],
                         int(c["step"][ci]) if c["step_known"][ci] else None, int(c["row"][ci]), POINTS_PER_CYCLE, CYCLE_DROP_REASONS[c["reason"][ci]],
                         f"cycle {int(ci - g['first_cycle'][gi])} of its subject x task"))
    return pd.DataFrame(rows, columns=["subject", "task", "step", "first_row", "rows", "reason", "detail"])


@dataclass
class FeatureRun:
    """What a streamed pass produced besides its batches."""

    cycles: int
    range_failures: pa.Table
    peak_reserved_bytes: int
    memory_waits: int
    stages: list


def stream(gfile: GaitFile, findex: FileIndex, features: list[str], sink: Callable[[pa.RecordBatch], None], *,
           nan_policy: str = "propagate", outlier_threshold: float = 2.0, outliers_among_valid: bool = True,
           range_checks: list | None = None, fail_flags: bool = False, jobs: int = 0,
           memory_limit: str | int | None = "auto", show_progress: bool | None = None,
           table: pa.Table | None = None, desc: str = "cycle features") -> FeatureRun:
    """Run the engine over the whole file (or over ``table``, the same columns already in memory)
    and hand each output batch to ``sink``, in file order."""
    gfile.check_float_columns(features)
    job = make_job(jobs, memory_limit)
    engine = _core.GaitFeatureStream(
        findex.index, features, [feature_kind(f) for f in features], findex.subject_names,
        findex.task_names, nan_policy_code(nan_policy), float(outlier_threshold), bool(outliers_among_valid),
        range_checks or [], fail_flags, job)
    limit = job.memory_limit_bytes
    row_bytes = gfile.row_bytes(features)
    batch_rows = batch_rows_within(limit, row_bytes)
    # Read the next batch while the engine works on this one, when two batches and the largest
    # group (copied whole if it crosses a batch boundary, as float64) fit the budget together;
    # otherwise read and compute in turn, one batch held, as a tight limit needs.
    usable = findex.groups["reason"] == 0
    largest = int(findex.groups["rows"][usable].max()) * len(features) * 8 if usable.any() else 0
    read_bytes = gfile.largest_read(batch_rows) * row_bytes
    if limit:
        _check_limit(gfile, findex, limit, largest, row_bytes)
    prefetch = table is None and job.jobs > 1 and (not limit or 2 * read_bytes + largest <= limit)
    noted: set[str] = set()
    cycles = 0

    def work() -> int:
        nonlocal cycles
        batches: Iterable[pa.RecordBatch] = (
            table.select(features).to_batches(max_chunksize=batch_rows) if table is not None
            else gfile.iter_batches(features, batch_rows, job, prefetch=prefetch))
        # closing(): the reader (and its prefetch thread, which holds the job) stops here, also on
        # an error or Ctrl-C, not whenever a traceback that still refers to this frame is freed.
        with closing(batches) if hasattr(batches, "close") else nullcontext():
            for batch in batches:
                if job.cancelled:
                    raise KeyboardInterrupt
                views = [column_view(batch.column(i), f, noted) for i, f in enumerate(features)]
                out = pa.record_batch(engine.push(views, batch.num_rows))
                del views
                if out.num_rows:
                    cycles += out.num_rows
                    sink(out)
        engine.finish()
        return cycles

    run_job(work, job, desc=desc, unit="row", done_counter="rows", show_progress=show_progress)
    warn_nulls(noted)  # here, not in the worker: one warning for the pass, on the caller's thread
    return FeatureRun(cycles, pa.table(engine.range_failures()), job.peak_reserved_bytes, job.memory_waits,
                      job.stages())


def batch_rows_within(limit: int, row_bytes: int) -> int:
    """Rows per read: a quarter of the budget per batch (one in flight, one being decoded, slack
    for groups), at least one cycle."""
    rows = reader.BATCH_ROWS
    return max(POINTS_PER_CYCLE, min(rows, limit // 4 // row_bytes)) if limit else rows


def _check_limit(gfile: GaitFile, findex: FileIndex, limit: int, largest: int, row_bytes: int) -> None:
    """Refuse, before any work, a memory limit the pass cannot run in: the largest group held
    whole (when it crosses a batch boundary) beside the read batch that limit gives."""
    def need(m: int) -> int:
        return largest + gfile.largest_read(batch_rows_within(m, row_bytes)) * row_bytes

    if limit >= need(limit):
        return
    enough = need(0 + largest)
    for _ in range(30):  # the smallest limit that holds its own batch and the group: a fixed point
        if need(enough) <= enough:
            break
        enough = max(need(enough), enough + enough // 8)
    g = findex.groups
    usable = np.flatnonzero(g["reason"] == 0)
    big = usable[np.argmax(g["rows"][usable])] if usable.size else None
    which = (f" (the largest subject x task group, {findex.subject_names[g['subject'][big]]} / "
             f"{findex.task_names[g['task'][big]]}, {int(g['cycles'][big])} cycles, is held whole beside "
             f"a read batch)" if big is not None else "")
    raise ValueError(f"{gfile.path}: a memory limit of {size_text(limit)} is too small for these features{which}; "
                     f"set it to {-(-enough // (1 << 20))}M or more")


def size_text(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):.1f} {unit}"
    return f"{n} bytes"


class TableSink:
    """Collects batches into one Arrow table."""

    def __init__(self) -> None:
        self.batches: list[pa.RecordBatch] = []

    def __call__(self, batch: pa.RecordBatch) -> None:
        self.batches.append(batch)

    def table(self, features: list[str], fail_flags: bool = False) -> pa.Table:
        if self.batches:
            return pa.Table.from_batches(self.batches)
        return empty_schema(features, fail_flags).empty_table()


def empty_schema(features: list[str], fail_flags: bool = False) -> pa.Schema:
    text = pa.dictionary(pa.int32(), pa.string())
    fields = [("subject", text), ("task", text), ("step", pa.int64()), ("cycle", pa.int32()), ("row", pa.int64()),
              ("valid", pa.bool_()), ("is_outlier", pa.bool_()), ("rmse", pa.float64())]
    fields += [(f"{f}__{s}", pa.float64()) for f in features for s in STATS]
    fields += [(f"{f}__fail", pa.uint8()) for f in features] if fail_flags else []
    return pa.schema(fields)


class _FileSink:
    """A sink that writes files: they appear under their final names only when the whole pass
    succeeded (cadence.atomic). Use it as a context manager around the pass: leaving the block
    normally renames every file into place; an exception (Ctrl-C included) removes the temporary
    files and leaves whatever the final names held before untouched."""

    def __init__(self) -> None:
        self.files = AtomicFiles()

    def _finish(self) -> None:  # flush what is buffered into the temporary files
        raise NotImplementedError

    def close(self) -> None:
        """Finish the files and rename them into place."""
        self._finish()
        self.files.commit()

    def abort(self) -> None:
        """Remove the temporary files; nothing under the final names changes."""
        try:
            self._finish()
        except Exception:  # noqa: BLE001 - the files are being thrown away
            pass
        self.files.abort()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()


class ParquetSink(_FileSink):
    """Writes batches to a Parquet file as they come (bounded memory), under a temporary name
    renamed to ``path`` at :meth:`close`."""

    def __init__(self, path: Path, features: list[str]) -> None:
        super().__init__()
        self.path = Path(path)
        self.writer = pq.ParquetWriter(self.files.path(self.path), empty_schema(features), compression="zstd")

    def __call__(self, batch: pa.RecordBatch) -> None:
        self.writer.write_batch(batch.cast(self.writer.schema) if batch.schema != self.writer.schema else batch)

    def _finish(self) -> None:
        if self.writer is not None:
            writer, self.writer = self.writer, None
            writer.close()


class NpySink(_FileSink):
    """The guide's feature matrix, done safely: a memory-mapped float32 ``.npy`` matrix (one row
    per cycle, columns ``<feature>__<stat>``) plus ``<stem>.meta.parquet`` with the per-cycle
    metadata (subject, task, step, cycle, row, valid, is_outlier, rmse) whose key-value metadata
    lists the matrix columns. Read both back with :func:`cadence.gait.load_feature_matrix` (or
    the matrix alone with ``np.load(path, mmap_mode='r')``); no pickle anywhere.
    Both are written under temporary names and renamed together at :meth:`close`, so a matrix
    never appears with unfinished (zero) rows or beside another run's metadata."""

    def __init__(self, path: Path, features: list[str], n_cycles: int) -> None:
        super().__init__()
        self.path = Path(path)
        self.columns = [f"{f}__{s}" for f in features for s in STATS]
        self.matrix = np.lib.format.open_memmap(self.files.path(self.path), mode="w+", dtype=np.float32,
                                                shape=(n_cycles, len(self.columns)))
        self.meta: list[pa.RecordBatch] = []
        self.at = 0

    @property
    def meta_path(self) -> Path:
        return companion(self.path, ".meta.parquet")

    def abort(self) -> None:
        self.matrix = None  # unmapped; the temporary file is removed, no metadata is written
        self.files.abort()

    def __call__(self, batch: pa.RecordBatch) -> None:
        n = batch.num_rows
        for j, name in enumerate(self.columns):
            self.matrix[self.at:self.at + n, j] = batch.column(name).to_numpy()
        self.meta.append(batch.select(list(META_COLUMNS)))
        self.at += n

    def _finish(self) -> None:
        if self.matrix is None:
            return
        matrix, self.matrix = self.matrix, None
        matrix.flush()
        del matrix
        table = pa.Table.from_batches(self.meta) if self.meta else empty_schema([]).empty_table()
        table = table.replace_schema_metadata({COLUMNS_KEY: json.dumps(self.columns), MATRIX_KEY: self.path.name})
        pq.write_table(table, self.files.path(self.meta_path))
