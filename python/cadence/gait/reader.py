"""Reading a LocoHub phase-indexed file (Parquet or CSV) for the cycle engine.

Two passes, both streamed: the key columns (subject, task, step, phase) build the cycle index
once; then only the requested feature columns are read, batch by batch, and handed to the
engine as zero-copy numpy views of the Arrow buffers. Strings are dictionary-encoded into one
code space for the whole file (Parquet row groups each carry their own dictionary). Memory:
each batch's bytes are reserved from the job's budget before it is read.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .. import _core
from . import batches

POINTS_PER_CYCLE = 150
#: LocoHub's rule: a feature is a column whose name contains one of these.
FEATURE_MARKERS = ("angle", "velocity", "moment", "power")
#: Engine kind codes (src/cadence/gait/validation.h FeatureKind), first marker that matches.
KIND_CODES = {"angle": 1, "velocity": 2, "moment": 3, "power": 4}
#: Columns LocoHub never treats as features.
NON_FEATURES = {"time", "time_s", "step_number", "is_reconstructed_r", "is_reconstructed_l",
                "task_info", "task_id", "activity_number", "cycle", "step"}
DEFAULT_BATCH_ROWS = 1 << 17


def feature_kind(name: str) -> int:
    """Engine kind code of a column: 1 angle, 2 velocity, 3 moment, 4 power, 0 other."""
    return next((KIND_CODES[m] for m in FEATURE_MARKERS if m in name), 0)


class _Codes:
    """One dictionary for a string column across every batch of a file."""

    def __init__(self) -> None:
        self.code_of: dict[str, int] = {}

    def encode(self, column: pa.Array, name: str, path: Path) -> np.ndarray:
        if column.null_count:
            raise ValueError(f"{path}: column {name!r} has {column.null_count} empty value(s); every row "
                             f"needs a {name}")
        if not pa.types.is_dictionary(column.type):
            column = pc.dictionary_encode(column)
        values = column.dictionary.to_pylist()
        mapping = np.fromiter((self.code_of.setdefault(str(v), len(self.code_of)) for v in values),
                              dtype=np.int32, count=len(values))
        return mapping[column.indices.to_numpy(zero_copy_only=False)]

    @property
    def names(self) -> list[str]:
        return list(self.code_of)  # by code


@dataclass
class GaitFile:
    """A phase-indexed file: its columns, checked against LocoHub's layout.

    Raises ``ValueError`` with the available columns when a required one is missing, and a
    specific message for time-indexed files.
    """

    path: Path
    subject_col: str = "subject"
    task_col: str = "task"
    phase_col: str = "phase_ipsi"
    step_col: str = "step"
    file_type: str = "auto"
    columns: list[str] = field(init=False)
    types: dict[str, pa.DataType] = field(init=False)
    num_rows: int | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        if not self.path.exists():
            raise FileNotFoundError(f"Data file not found: {self.path}")
        if self.file_type == "auto":
            suffix = self.path.suffix.lower()
            self.file_type = "csv" if suffix in (".csv", ".txt") else "parquet"
        if self.file_type == "parquet":
            try:
                meta = pq.ParquetFile(self.path)
            except (pa.ArrowInvalid, OSError) as e:
                raise ValueError(f"{self.path}: not a readable Parquet file ({e}); pass file_type='csv' "
                                 f"for CSV") from e
            schema = meta.schema_arrow
            self.num_rows = meta.metadata.num_rows
        elif self.file_type == "csv":
            with pacsv.open_csv(self.path) as reader:
                schema = reader.schema
        else:
            raise ValueError(f"Unsupported file type: {self.file_type!r}. Use 'parquet', 'csv', or 'auto'")
        self.columns = list(schema.names)
        self.types = {f.name: f.type for f in schema}
        self._check_layout()

    def _check_layout(self) -> None:
        required = [self.subject_col, self.task_col, self.phase_col]
        missing = [c for c in required if c not in self.columns]
        if not missing:
            return
        if self.phase_col in missing and "time_s" in self.columns:
            raise ValueError(
                f"{self.path} is time-indexed (it has 'time_s' and no {self.phase_col!r} column). "
                f"LocomotionData needs phase-indexed data: 150 points per gait cycle, phase 0-100 from "
                f"one ipsilateral heel strike to the next. Convert it with LocoHub's phase "
                f"normalisation (the *_phase.parquet files), or pass phase_col= if the phase column "
                f"has another name.")
        hint = "Hint: Use custom column names in constructor if your data uses different names"
        near = [c for c in self.columns if c.startswith("phase")] if self.phase_col in missing else []
        if near:
            hint += f" (phase columns found: {near}; e.g. phase_col={near[0]!r})"
        raise ValueError(f"Missing required columns: {missing}\nAvailable columns: {self.columns}\n{hint}")

    @property
    def features(self) -> list[str]:
        """LocoHub's features: columns whose name contains angle, velocity, moment or power."""
        skip = {self.subject_col, self.task_col, self.phase_col, self.step_col} | NON_FEATURES
        # A column named like a feature but holding text (a bad export) is not a feature: asking
        # for it by name gives check_float_columns' error instead of numpy's.
        return [c for c in self.columns if c not in skip and any(m in c for m in FEATURE_MARKERS)
                and (pa.types.is_floating(self.types[c]) or pa.types.is_integer(self.types[c]))]

    def check_float_columns(self, names: list[str]) -> None:
        bad = [n for n in names if n not in self.types or not pa.types.is_floating(self.types[n])
               and not pa.types.is_integer(self.types[n])]
        unknown = [n for n in bad if n not in self.types]
        if unknown:
            raise ValueError(f"{self.path}: no column(s) {unknown}; features available: {self.features}")
        if bad:
            raise ValueError(f"{self.path}: column(s) {bad} are not numeric "
                             f"({[str(self.types[n]) for n in bad]})")

    def row_bytes(self, names: list[str]) -> int:
        """Decoded bytes of one row of these columns (strings counted as dictionary codes)."""
        total = 0
        for n in names:
            t = self.types[n]
            fixed = pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_boolean(t)
            total += max(t.bit_width // 8, 1) if fixed else 8
        return max(total, 1)

    def largest_read(self, batch_rows: int) -> int:
        """Rows of the largest batch iter_batches returns: a row group, or batch_rows."""
        if self.file_type == "parquet":
            meta = pq.ParquetFile(self.path).metadata
            rows = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
            if batches.by_row_groups(rows, batch_rows):
                return max(rows)
        return batch_rows

    def iter_batches(self, names: list[str], batch_rows: int = DEFAULT_BATCH_ROWS,
                     job: _core.Job | None = None, prefetch: bool = False) -> Iterator[pa.RecordBatch]:
        """Record batches of the named columns, in file order, each reserved from ``job``'s budget
        while the caller holds it (until the next batch is asked for). Parquet files are read by
        whole row groups when none holds more than two batches' rows (see batches.py).

        With ``prefetch``, a helper thread reads batch i+1 while the caller works on batch i: two
        batches are then held, and both are reserved before they are read."""
        plan = batches.parquet_steps if self.file_type == "parquet" else batches.csv_steps
        steps = plan(self.path, names, batch_rows, self.row_bytes(names))
        read = batches.prefetched if prefetch else batches.sequential
        with closing(read(steps, job)) as source:
            for batch in source:
                yield batch.select(names) if batch.schema.names != names else batch

    def build_index(self, batch_rows: int = DEFAULT_BATCH_ROWS) -> "FileIndex":
        """Stream the key columns once and build the cycle index."""
        keys = [self.subject_col, self.task_col]
        has_step = self.step_col in self.columns
        if has_step:
            keys.append(self.step_col)
        keys.append(self.phase_col)
        subjects, tasks = _Codes(), _Codes()
        builder = _core.GaitIndexBuilder()
        for batch in self.iter_batches(keys, batch_rows):
            s = subjects.encode(batch.column(self.subject_col), self.subject_col, self.path)
            t = tasks.encode(batch.column(self.task_col), self.task_col, self.path)
            step = None
            if has_step:
                col = batch.column(self.step_col)
                if col.null_count:
                    col = pc.fill_null(col, -1)
                step = np.ascontiguousarray(col.to_numpy(zero_copy_only=False), dtype=np.int64)
            phase = batch.column(self.phase_col)
            if phase.null_count:
                phase = pc.fill_null(phase.cast(pa.float64()), np.nan)
            phase = np.ascontiguousarray(phase.to_numpy(zero_copy_only=False), dtype=np.float64)
            builder.append(s, t, step, phase)
        index = builder.finish()
        if index.rows == 0:
            raise ValueError(f"{self.path}: Dataset is empty")
        return FileIndex(index, subjects.names, tasks.names)


@dataclass
class FileIndex:
    """The engine's cycle index plus the subject and task names by code."""

    index: _core.GaitIndex
    subject_names: list[str]
    task_names: list[str]

    def __post_init__(self) -> None:
        self.groups = self.index.groups()
        self.cycles = self.index.cycles()
        self.runs = self.index.runs()
        self._group_of = {(int(s), int(t)): g for g, (s, t) in
                          enumerate(zip(self.groups["subject"], self.groups["task"]))}
        self._subject_code = {n: i for i, n in enumerate(self.subject_names)}
        self._task_code = {n: i for i, n in enumerate(self.task_names)}

    def group(self, subject: str, task: str) -> int | None:
        s, t = self._subject_code.get(subject), self._task_code.get(task)
        return None if s is None or t is None else self._group_of.get((s, t))

    def group_runs(self, group: int) -> list[tuple[int, int]]:
        """(first file row, rows) of each contiguous part of a group, in file order."""
        sel = np.flatnonzero(self.runs["group"] == group)
        return [(int(self.runs["row_begin"][i]), int(self.runs["rows"][i])) for i in sel]


def column_view(array: pa.Array, name: str, noted: set[str]) -> np.ndarray:
    """A float column as a numpy view of its Arrow buffer (float32 or float64). A column with
    nulls is filled with NaN, which needs a copy: that is said once per column."""
    if array.null_count:
        if name not in noted:
            noted.add(name)
            warnings.warn(f"column {name!r} has null values; they are read as NaN (a copy of that "
                          f"column is made)", UserWarning, stacklevel=3)
        if not pa.types.is_floating(array.type):
            array = array.cast(pa.float64())
        array = pc.fill_null(array, np.nan)
    if pa.types.is_floating(array.type) and array.type != pa.float16():
        return array.to_numpy(zero_copy_only=True)
    return np.ascontiguousarray(array.to_numpy(zero_copy_only=False), dtype=np.float64)


def env_batch_rows() -> int:
    """Batch size in rows (CADENCE_GAIT_BATCH_ROWS overrides, for tests of batch boundaries)."""
    return int(os.environ.get("CADENCE_GAIT_BATCH_ROWS", DEFAULT_BATCH_ROWS))
