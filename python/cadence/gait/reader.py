"""Reading a LocoHub phase-indexed file (Parquet or CSV) for the cycle engine.

Two passes, both streamed: the key columns (subject, task, step, phase) build the cycle index
once; then only the requested feature columns are read, batch by batch, and handed to the
engine as zero-copy numpy views of the Arrow buffers. Strings are dictionary-encoded into one
code space for the whole file (Parquet row groups each carry their own dictionary). Memory:
each batch's bytes are reserved from the job's budget before it is read.
"""

from __future__ import annotations

import shlex
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
from ..runtime import make_job
from . import batches
from .loading import csv_read_options, file_type_of, refuse_repeated_names, warn

#: Points per gait cycle (LocoHub: phase 0..100, both ends included), from the engine.
POINTS_PER_CYCLE: int = _core.GAIT_POINTS_PER_CYCLE
#: The phase of each point in percent, both ends included (point i at 100 * i / 149): LocoHub's
#: phase_ipsi. Read-only, shared by the converter, the filters and the plots.
PHASE_GRID_PCT = np.linspace(0.0, 100.0, POINTS_PER_CYCLE)
PHASE_GRID_PCT.flags.writeable = False
#: Engine feature kinds by code (src/cadence/gait/validation.h FeatureKind): "other", then the
#: name markers of LocoHub's rule.
FEATURE_KINDS: tuple[str, ...] = tuple(_core.gait_feature_kinds())
#: LocoHub's rule: a feature is a column whose name contains one of these.
FEATURE_MARKERS: tuple[str, ...] = FEATURE_KINDS[1:]
#: Columns LocoHub never treats as features.
NON_FEATURES = {"time", "time_s", "step_number", "is_reconstructed_r", "is_reconstructed_l",
                "task_info", "task_id", "activity_number", "cycle", "step"}
#: Columns that tell a task's conditions apart (first one present): step numbers may restart
#: per condition, so a cycle is identified by (subject, task, condition, step).
CONDITION_COLUMNS = ("task_id", "task_info")
DEFAULT_BATCH_ROWS = 1 << 17
#: Rows per read batch, before the memory limit shrinks it. A test seam, not a setting: tests of
#: batch boundaries monkeypatch it (``monkeypatch.setattr(reader, "BATCH_ROWS", 149)``); users
#: bound memory with ``memory_limit``, which sizes batches.
BATCH_ROWS = DEFAULT_BATCH_ROWS


def feature_kind(name: str) -> int:
    """Engine kind code of a column (index into :data:`FEATURE_KINDS`): the first marker its name
    contains, 0 (other) if none."""
    return next((code for code, m in enumerate(FEATURE_KINDS) if code and m in name), 0)


class LayoutError(ValueError):
    """A file without the columns LocoHub's layout needs. ``str()`` speaks to Python users (the
    constructor's arguments, LocoHub's wording); :meth:`message` can name the options another
    front end uses (the CLI's ``--phase-col``)."""

    def __init__(self, path: Path, missing: list[str], columns: list[str], roles: dict[str, str]) -> None:
        self.path, self.missing, self.columns, self.roles = path, missing, columns, roles
        super().__init__(self.message(lambda role, value: f"{role}={value!r}", python=True))

    @property
    def time_indexed(self) -> bool:
        return self.roles.get("phase_col") in self.missing and "time_s" in self.columns

    def candidates(self, column: str) -> list[str]:
        """Columns of the file that may be the missing one (they contain its leading word)."""
        stem = column.split("_")[0].lower()
        return [c for c in self.columns if stem in c.lower() and c != column]

    def message(self, option, python: bool = False) -> str:
        """The error, naming each column option with ``option(role, value)``, e.g.
        ``lambda role, v: f"--{role[:-4]}-col {v}"`` for the CLI."""
        phase = self.roles["phase_col"]
        if self.time_indexed:
            out = self.path.with_name(f"{self.path.stem}_phase.parquet")
            command = f"cadence gait phase {shlex.quote(str(self.path))} {shlex.quote(str(out))}"
            also = f" (in Python: cadence.gait.to_phase({str(self.path)!r}, {str(out)!r}))" if python else ""
            return (f"{self.path} is time-indexed (it has 'time_s' and no {phase!r} column), and this needs "
                    f"phase-indexed data: {POINTS_PER_CYCLE} points per gait cycle, phase 0-100 from one "
                    f"ipsilateral heel strike to the next. Convert it with: {command}{also}, then use "
                    f"{out.name}; or pass {option('phase_col', '<name>')} if the phase column has another name.")
        if python:  # LocoHub's wording, which notebooks may match
            hint = "Hint: Use custom column names in constructor if your data uses different names"
            near = self.candidates(phase) if phase in self.missing else []
            if near:
                hint += f" (phase columns found: {near}; e.g. {option('phase_col', near[0])})"
            return f"Missing required columns: {self.missing}\nAvailable columns: {self.columns}\n{hint}"
        parts = []
        for role, column in self.roles.items():
            if column not in self.missing:
                continue
            near = self.candidates(column)
            fix = (f"if it is {near[0]!r}, add {option(role, near[0])}" if len(near) == 1 else
                   f"columns that may be it: {_few(near)}; name it with {option(role, '<column>')}" if near else
                   f"name the {role[:-4]} column with {option(role, '<column>')}")
            parts.append(f"no {role[:-4]} column {column!r} ({fix})")
        return f"{self.path}: " + "; ".join(parts) + f". The file has {len(self.columns)} columns."


def _few(names: list[str], n: int = 6) -> str:
    shown = ", ".join(names[:n])
    return shown + (f" and {len(names) - n} more" if len(names) > n else "")


class _Codes:
    """One dictionary for a string column across every batch of a file."""

    def __init__(self) -> None:
        self.code_of: dict[str, int] = {}

    def encode(self, column: pa.Array, name: str, path: Path, allow_null: bool = False) -> np.ndarray:
        """Codes of a column's values; an empty cell is an error unless ``allow_null``, when all
        empty cells share one code of their own."""
        if column.null_count and not allow_null:
            raise ValueError(f"{path}: column {name!r} has {column.null_count} empty value(s); every row "
                             f"needs a {name}")
        if not pa.types.is_dictionary(column.type):
            column = pc.dictionary_encode(column)
        values = column.dictionary.to_pylist()
        mapping = np.fromiter((self.code_of.setdefault(str(v), len(self.code_of)) for v in values),
                              dtype=np.int32, count=len(values))
        indices = column.indices
        if indices.null_count:  # an empty cell: a key no value can spell (str() never gives None)
            empty = self.code_of.setdefault(None, len(self.code_of))  # type: ignore[arg-type]
            codes = (mapping[pc.fill_null(indices, 0).to_numpy(zero_copy_only=False)] if len(mapping)
                     else np.zeros(len(indices), dtype=np.int32))
            codes[~indices.is_valid().to_numpy(zero_copy_only=False)] = empty
            return codes
        return np.take(mapping, indices.to_numpy(zero_copy_only=False))  # take: 40 % faster than mapping[...]

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
        self.file_type = file_type_of(self.path, self.file_type)  # the one rule (loading.py)
        if self.file_type == "parquet":
            try:
                meta = pq.ParquetFile(self.path)
            except (pa.ArrowInvalid, OSError) as e:
                raise ValueError(f"{self.path}: not a readable Parquet file ({e}); pass file_type='csv' "
                                 f"for CSV") from e
            schema = meta.schema_arrow
            self.num_rows = meta.metadata.num_rows
        else:
            with pacsv.open_csv(self.path, read_options=csv_read_options(self.path)) as reader:
                schema = reader.schema
        self.columns = list(schema.names)
        self.types = {f.name: f.type for f in schema}
        self._check_layout()

    @classmethod
    def from_schema(cls, path: str | Path, schema: pa.Schema, num_rows: int | None, *, subject_col: str,
                    task_col: str, phase_col: str, step_col: str, file_type: str = "parquet") -> GaitFile:
        """A file this process cannot open (a Ray task's FILE, on another node's disk), from the
        schema and row count the driver read: the same fields, its layout already checked there."""
        gfile = cls.__new__(cls)  # no __post_init__: nothing to open here
        gfile.path, gfile.file_type, gfile.num_rows = Path(path), file_type, num_rows
        gfile.subject_col, gfile.task_col, gfile.phase_col, gfile.step_col = subject_col, task_col, phase_col, step_col
        gfile.columns = list(schema.names)
        gfile.types = {f.name: f.type for f in schema}
        return gfile

    def _check_layout(self) -> None:
        roles = {"subject_col": self.subject_col, "task_col": self.task_col, "phase_col": self.phase_col}
        missing = [c for c in roles.values() if c not in self.columns]
        if missing:
            raise LayoutError(self.path, missing, self.columns, roles)
        # Repeated names (Parquet; a CSV's header was checked before pyarrow parsed it): Arrow
        # would fail deep inside a read.
        refuse_repeated_names(self.path, self.columns)
        # The key columns become codes and numbers: a nested column (lists, structs) or a phase or
        # step that is not a number is refused by name, not met as a TypeError from numpy.
        def number(t) -> bool:
            return (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)
                    or pa.types.is_boolean(t) or pa.types.is_null(t))

        wrong = [c for c in (self.subject_col, self.task_col, self.condition_col) if c and pa.types.is_nested(self.types[c])]
        wrong += [c for c in (self.phase_col, self.step_col) if c in self.types and not number(self.types[c])]
        if wrong:
            shown = ", ".join(f"{c!r} holds {self.types[c]}" for c in wrong)
            raise ValueError(f"{self.path}: {shown}; {self.phase_col!r} and {self.step_col!r} must be numbers, "
                             f"{self.subject_col!r} and {self.task_col!r} names or numbers")

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
                     job: _core.Job | None = None, prefetch: bool = False,
                     dictionary: tuple[str, ...] = ()) -> Iterator[pa.RecordBatch]:
        """Record batches of the named columns, in file order, each reserved from ``job``'s budget
        while the caller holds it (until the next batch is asked for). Parquet files are read by
        whole row groups when none holds more than two batches' rows (see batches.py).

        With ``prefetch``, a helper thread reads batch i+1 while the caller works on batch i: two
        batches are then held, and both are reserved before they are read."""
        plan = batches.parquet_steps if self.file_type == "parquet" else batches.csv_steps
        # a one-thread job decodes on one thread: jobs=1 means one core, for the reads too
        steps = plan(self.path, names, batch_rows, self.row_bytes(names), threads=job is None or job.jobs > 1,
                     dictionary=dictionary)
        read = batches.prefetched if prefetch else batches.sequential
        with closing(read(steps, job)) as source:
            for batch in source:
                yield batch.select(names) if batch.schema.names != names else batch

    @property
    def condition_col(self) -> str | None:
        """task_id, else task_info, when the file has one (see CONDITION_COLUMNS)."""
        return next((c for c in CONDITION_COLUMNS if c in self.columns), None)

    def build_index(self, batch_rows: int | None = None, jobs: int = 1) -> "FileIndex":
        """Stream the key columns once and build the cycle index.

        Cycles are identified by (subject, task, task_id or task_info when present, step). An
        empty step cell is unknown, not a number: a cycle without any step value is identified by
        its position in its subject x task, and a warning says how many there are."""
        keys = [self.subject_col, self.task_col]
        has_step = self.step_col in self.columns
        if has_step:
            keys.append(self.step_col)
        condition_col = self.condition_col
        if condition_col:
            keys.append(condition_col)
        keys.append(self.phase_col)
        subjects, tasks, conditions = _Codes(), _Codes(), _Codes()
        builder = _core.GaitIndexBuilder()
        empty_steps = 0
        lo, hi, finite = np.inf, -np.inf, 0  # the phase's range, for LocoHub's load-time warnings
        # jobs > 1 (0: all cores): the next batch is decoded on a helper thread (and pyarrow's
        # pool) while this one is encoded and indexed; jobs=1 reads on this thread alone
        job = make_job(jobs, 0)
        texts = tuple(c for c in (self.subject_col, self.task_col, condition_col) if c)  # Parquet: as stored
        for batch in self.iter_batches(keys, batch_rows or BATCH_ROWS, job, prefetch=job.jobs > 1, dictionary=texts):
            s = subjects.encode(batch.column(self.subject_col), self.subject_col, self.path)
            t = tasks.encode(batch.column(self.task_col), self.task_col, self.path)
            step = step_valid = condition = None
            if has_step:
                col = batch.column(self.step_col)
                if col.null_count:
                    empty_steps += col.null_count
                    step_valid = np.ascontiguousarray(col.is_valid().to_numpy(zero_copy_only=False), dtype=np.uint8)
                    col = pc.fill_null(col, 0)
                step = np.ascontiguousarray(col.to_numpy(zero_copy_only=False), dtype=np.int64)
            if condition_col:
                condition = conditions.encode(batch.column(condition_col), condition_col, self.path,
                                              allow_null=True)
            phase = batch.column(self.phase_col)
            if phase.null_count:
                phase = pc.fill_null(phase.cast(pa.float64()), np.nan)
            phase = np.ascontiguousarray(phase.to_numpy(zero_copy_only=False), dtype=np.float64)
            builder.append(s, t, step, phase, step_valid, condition)
            known = phase[~np.isnan(phase)]
            if known.size:
                lo, hi, finite = min(lo, float(known.min())), max(hi, float(known.max())), finite + known.size
        index = builder.finish()
        if index.rows == 0:
            raise ValueError(f"{self.path}: Dataset is empty")
        findex = FileIndex(index, subjects.names, tasks.names, (lo, hi) if finite else None)
        if empty_steps:
            unknown = int((findex.cycles["step_known"] == 0).sum())
            warnings.warn(f"{self.path}: column {self.step_col!r} has {empty_steps} empty value(s); "
                          f"{unknown} cycle(s) without a step are identified by their position in their "
                          f"subject x task", UserWarning, stacklevel=2)
        return findex


@dataclass
class FileIndex:
    """The engine's cycle index plus the subject and task names by code."""

    index: _core.GaitIndex
    subject_names: list[str]
    task_names: list[str]
    phase_range: tuple[float, float] | None = None  # (min, max) of the finite phases; None: none

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


class NullValuesWarning(UserWarning):
    """Feature columns held null values (a CSV's empty cells), read as NaN. ``columns``: their
    names. One warning per pass names them all: a file with nulls in 40 columns says so once."""

    def __init__(self, columns) -> None:
        self.columns = tuple(columns)
        n, shown = len(self.columns), ", ".join(repr(c) for c in self.columns[:5])
        if n == 1:
            text = f"column {shown} has null values; they are read as NaN (a copy of that column is made)"
        else:
            more = f" and {n - 5} more" if n > 5 else ""
            text = f"{n} columns have null values; they are read as NaN (a copy of each is made): {shown}{more}"
        super().__init__(text)


def warn_nulls(noted: set[str]) -> None:
    """The one :class:`NullValuesWarning` of a pass, naming every column :func:`column_view`
    found nulls in (nothing when there were none)."""
    if noted:
        warn(NullValuesWarning(sorted(noted)))


def column_view(array: pa.Array, name: str, noted: set[str]) -> np.ndarray:
    """A float column as a numpy view of its Arrow buffer (float32 or float64). A column with
    nulls is filled with NaN, which needs a copy; its name goes into ``noted``, which the caller
    reports once per pass (:func:`warn_nulls`), from its own thread."""
    if array.null_count:
        noted.add(name)
        if not pa.types.is_floating(array.type):
            array = array.cast(pa.float64())
        array = pc.fill_null(array, np.nan)
    if pa.types.is_floating(array.type) and array.type != pa.float16():
        return array.to_numpy(zero_copy_only=True)
    return np.ascontiguousarray(array.to_numpy(zero_copy_only=False), dtype=np.float64)


