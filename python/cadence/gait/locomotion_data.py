"""``LocomotionData``: LocoHub's analysis class, with its semantics, on the cycle engine.

Method names, arguments, return types, warnings, errors and numbers follow LocoHub's
``LocomotionData`` (docs/gait.md, "Compatibility": which LocoHub version each behaviour follows),
so scripts written for it run unchanged. Where LocoHub's versions disagree, the newest package
(``src/locohub/locomotion_data.py``) is the default and ``api="legacy"`` gives the older
behaviour (flat ``get_mean_patterns``, no ``grf_*``/``cop_*`` features).

What differs is underneath: the subject x task -> cycle index is built once from the key
columns (no full-table string mask per call), per-group statistics come from the C++ engine,
feature columns are loaded lazily (and only when they fit the memory limit; otherwise each call
reads just its group's rows), ``filter`` returns a view over the same index (no copy), and the
bulk methods (``cycle_features``, ``subject_analysis``, ``population_analysis``,
``validate_ranges``) replace the guide's Python loops with one streamed pass.
"""

from __future__ import annotations

import copy
import importlib.util
import threading
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .. import _core
from ..runtime import default_memory_limit_bytes, make_job, parse_bytes
from . import features as feat
from . import naming
from .bulk import BulkAnalyses
from .frames import FrameMethods, efficient_reshape_3d, parse_task_info  # noqa: F401 - LocoHub's module functions
from .filtering import Selection, analyse_points
from .loading import (PHASE_COLUMNS, csv_read_options, file_type_of, find_phase_column, peek_columns,
                      phase_warnings, warn)
from .plots import PlotMethods
from .reader import FEATURE_MARKERS, NON_FEATURES, POINTS_PER_CYCLE, GaitFile, feature_kind

#: ``api="current"``: LocoHub's newest package; ``"legacy"``: lib/core and user_libs versions.
APIS = ("current", "legacy")
#: LocoHub's module flag; plots raise ImportError when matplotlib is missing. Tests may patch it.
MATPLOTLIB_AVAILABLE = importlib.util.find_spec("matplotlib") is not None
_MATPLOTLIB_MISSING = "matplotlib is required for plotting. Install with: pip install matplotlib"
#: The newest package also counts ground reaction forces and centres of pressure as features.
FORCE_MARKERS = ("grf", "cop")
_NOT_FEATURES = NON_FEATURES | {"leading_leg_step"}
#: The x values of LocoHub's newest get_mean_patterns Series (its grid leaves 100 % out).
_PATTERN_INDEX = np.linspace(0.0, 100.0, POINTS_PER_CYCLE, endpoint=False)


class OutlierNaNWarning(UserWarning):
    """``find_outlier_cycles`` found no outlier only because of NaN: under LocoHub's rule one
    cycle holding NaN makes the mean pattern, and so every RMSE, NaN. The answer (LocoHub's) is
    kept; the warning says how to get one."""


_POOL_LOCK = threading.Lock()


@contextmanager
def decoding_pool():
    """Parquet decoded with jemalloc (else the system's malloc), not pyarrow's default mimalloc:
    with transparent huge pages on, mimalloc handing freed pages back while the decoding threads
    allocate cost 1.7-3.2 s of kernel time per UMich-scale read on the 2-core VM, against
    0.37-0.47 s with jemalloc or malloc; the same columns (bench/RESULTS.md, issue 20). pyarrow's
    Parquet reader takes no pool argument, so the default pool is swapped for the read (buffers
    remember their pool; an allocation another thread makes meanwhile only lands in jemalloc)."""
    try:
        pool = pa.jemalloc_memory_pool()
    except NotImplementedError:  # a pyarrow built without jemalloc
        pool = pa.system_memory_pool()
    with _POOL_LOCK:
        previous = pa.default_memory_pool()
        pa.set_memory_pool(pool)
        try:
            yield
        finally:
            pa.set_memory_pool(previous)


class _Shared:
    """What a LocomotionData and the views ``filter`` makes of it hold in common.

    It holds no reference back to them: a memo of a bound method made a cycle (object -> shared
    -> method -> object), so a dropped LocomotionData kept its columns (0.7 GB at UMich scale)
    until the garbage collector's next full pass, and each new read into fresh memory then cost
    seconds of kernel time (bench/RESULTS.md, issue 20)."""

    ANALYSES_KEPT = 256

    def __init__(self) -> None:
        self.table: pa.Table | None = None
        self.df: pd.DataFrame | None = None
        self._analyses: OrderedDict = OrderedDict()  # least recently used first
        self._lock = threading.Lock()

    def analyse(self, owner: "LocomotionData", *key):
        """``owner._analyse_uncached(*key)``, remembered for the owner and its views."""
        with self._lock:
            if key in self._analyses:
                self._analyses.move_to_end(key)
                return self._analyses[key]
        out = owner._analyse_uncached(*key)
        with self._lock:
            self._analyses[key] = out
            if len(self._analyses) > self.ANALYSES_KEPT:
                self._analyses.popitem(last=False)
        return out


class LocomotionData(BulkAnalyses, FrameMethods, PlotMethods):
    """Phase-indexed locomotion data (LocoHub standard: 150 points per gait cycle).

    Parameters
    ----------
    data_path : str or Path
        Parquet or CSV file with one row per phase point.
    subject_col, task_col : str
    phase_col : str, optional
        Default: the first of ``phase_ipsi``, ``phase``, ``phase_percent`` the file has.
    file_type : {'auto', 'parquet', 'csv'}
    api : {'current', 'legacy'}
        'current' (default) follows LocoHub's newest package: ``get_mean_patterns`` returns
        ``{feature: {'mean': Series, 'std': Series}}`` and ``grf_*``/``cop_*`` columns are
        features. 'legacy' follows lib/core and user_libs: ``{feature: (150,) array}`` and only
        angle/velocity/moment/power columns.
    step_col : str
        Stride number column, used to check that each block of 150 rows is one stride.
    memory_limit : str or int
        Bound on the bytes the engine holds ("4G", bytes, "auto" = half of RAM, 0 = none).
        Feature columns are cached in memory only when they fit in it.
    jobs : int
        Worker threads; 0 = all cores.
    nan_policy : {'propagate', 'omit'}
        'propagate' (default) is numpy's and LocoHub's behaviour: a NaN makes the statistics it
        enters NaN. 'omit' skips NaN values.
    strict_names : bool
        True (default, every LocoHub version): a feature name outside the standard raises
        ``ValueError`` with a suggested name. False: a warning, and the name is listed in
        ``get_validation_report()``.
    verbose : bool
        Print LocoHub's three load summary lines (default, as LocoHub does).
    cache : LocomotionDataCache, str or Path, optional
        A cache directory (:mod:`cadence.gait.cache`): the decoded feature columns are kept there
        as a memory-mapped Arrow file (a second run reads no Parquet), and with ``cache_results``
        the results of ``subject_analysis``, ``population_analysis`` and
        ``get_feature_correlations`` are stored and reused while the file is unchanged.

    Raises
    ------
    FileNotFoundError, ValueError
        Missing file; unreadable file ("Failed to load data from ..."); missing columns (the
        message lists the available ones); no phase column; a time-indexed file; an empty file;
        a non-standard feature name.

    Warns
    -----
    UserWarning
        At load, as LocoHub: the phase column is all NaN; phase values leave [0, 100]; a
        ``time``/``time_s`` column with fewer than 100 distinct phase values per group on
        average (time-indexed data).

    Notes
    -----
    The engine-facing members are the internal API of the mixins (bulk.py, frames.py, plots.py),
    the validation pass and the CLI, public so that no module reaches into another's privates:
    ``gait_file`` (:class:`~cadence.gait.reader.GaitFile`), ``cycle_index``, ``selection``
    (:class:`~cadence.gait.filtering.Selection`), ``shared`` (what views share), ``column_of``,
    ``group_ids``, ``runs_of``, ``read_columns``, ``read_rows``, ``group_columns``,
    ``loaded_table``, ``group_analysis``, ``mean_and_std``, ``correlate_groups``,
    ``correlations_of``, ``through_cache`` and ``check_plotting``.
    """

    POINTS_PER_CYCLE = POINTS_PER_CYCLE
    STANDARD_JOINTS = list(naming.JOINTS)
    STANDARD_MOTIONS = list(naming.MOTIONS)
    STANDARD_MEASUREMENTS = list(naming.MEASUREMENTS)
    STANDARD_SIDES = list(naming.SIDES)
    STANDARD_UNITS = list(naming.UNITS)

    def __init__(self, data_path: str | Path, subject_col: str = "subject", task_col: str = "task",
                 phase_col: str | None = None, file_type: str = "auto", *, api: str = "current",
                 step_col: str = "step", memory_limit: str | int | None = "auto", jobs: int = 0,
                 nan_policy: str = "propagate", strict_names: bool = True, verbose: bool = True,
                 cache=None, cache_results: bool = True) -> None:
        if api not in APIS:
            raise ValueError(f"api={api!r}: use 'current' (LocoHub's newest package) or 'legacy' "
                             f"(lib/core and user_libs)")
        feat.nan_policy_code(nan_policy)
        self.data_path = Path(data_path)
        if not self.data_path.exists():
            raise FileNotFoundError(f"Data file not found: {self.data_path}")
        kind = file_type_of(self.data_path, file_type)
        columns = peek_columns(self.data_path, kind)
        if phase_col is None and subject_col in columns and task_col in columns:
            phase_col = find_phase_column(self.data_path, columns)
        self.subject_col, self.task_col = subject_col, task_col
        self.phase_col = phase_col or PHASE_COLUMNS[0]
        self.gait_file = GaitFile(self.data_path, subject_col, task_col, self.phase_col, step_col, kind)
        self.api, self.memory_limit, self.jobs, self.nan_policy = api, memory_limit, jobs, nan_policy
        from .cache import open_cache

        self.cache, self._cache_results = open_cache(cache), cache_results
        self.cycle_index = self.gait_file.build_index(jobs=jobs)
        self.selection = Selection()
        self.shared = _Shared()
        self.subjects: list[str] = sorted(self.cycle_index.subject_names)
        self.tasks: list[str] = sorted(self.cycle_index.task_names)
        self._check_phase(verbose)
        self.features: list[str] = self._features_of_file()
        # feature name -> file column: the identity, except legacy GRF names read under the new ones
        self.feature_mappings = {f: f for f in self.features}
        self._apply_legacy_aliases()
        if verbose:
            print(f"Loaded data with {self.cycle_index.index.rows} rows, {len(self.subjects)} subjects, "
                  f"{len(self.tasks)} tasks, {len(self.features)} features")
        self.validation_report = naming.check_names(self.features, self.data_path, strict_names, verbose)

    # ---- loading checks -------------------------------------------------------------------------
    def _features_of_file(self) -> list[str]:
        markers = FEATURE_MARKERS + (FORCE_MARKERS if self.api == "current" else ())
        skip = {self.subject_col, self.task_col, self.phase_col, self.gait_file.step_col} | _NOT_FEATURES
        numeric = lambda t: pa.types.is_floating(t) or pa.types.is_integer(t)  # noqa: E731
        # A text column named like a feature (a bad export) is left out: asking for it by name
        # gives check_float_columns' error instead of numpy's.
        return [c for c in self.gait_file.columns if c not in skip and any(m in c for m in markers)
                and numeric(self.gait_file.types[c])]

    def _apply_legacy_aliases(self) -> None:
        """Newest package only: <axis>_grf_* columns are features under grf_<axis>_* (the file is
        not changed; the mapping says which column holds each feature)."""
        if self.api != "current":
            return
        renamed = {old: new for old, new in naming.LEGACY_GRF_ALIASES.items()
                   if old in self.feature_mappings and new not in self.gait_file.columns}
        if not renamed:
            return
        warn("Detected legacy GRF column names; they were renamed to the new grf_<axis>_<side>_<unit> schema "
             "in-memory. " + "; ".join(f"{o}→{n}" for o, n in renamed.items()))
        self.features = [renamed.get(f, f) for f in self.features]
        self.feature_mappings = {renamed.get(f, f): f for f in self.feature_mappings}

    def column_of(self, name: str) -> str:
        """The file column holding a feature (or any other column, by its own name)."""
        return self.feature_mappings.get(name, name)

    def read_columns(self, names: list[str]) -> pa.Table:
        if self.gait_file.file_type == "parquet":
            # memory_map: the column chunks are decoded straight from the page cache. Without it
            # pyarrow first reads them into fresh buffers (the whole file at UMich scale, 0.5 GB),
            # and faulting those pages in from several threads cost 1.5-4 s of kernel time of a
            # ~0.7 s decode on the 2-core VM (bench/RESULTS.md, issue 20)
            with decoding_pool():
                return pq.read_table(self.data_path, columns=names, use_threads=True, memory_map=True)
        return pacsv.read_csv(self.data_path, read_options=csv_read_options(self.data_path),
                              convert_options=pacsv.ConvertOptions(include_columns=names))

    def _check_phase(self, verbose: bool) -> None:
        """LocoHub's load-time warnings on the phase column, then its first summary line. The
        index measured the phase's range while it read it; only a file with a time column has its
        phase read again (the time-indexed test counts distinct phases per group)."""
        # GaitFile refused a phase that is not a number (or null: an all-empty column, "only NaN")
        if self.phase_col in self.gait_file.types:
            if "time" in self.gait_file.columns or "time_s" in self.gait_file.columns:
                phase = self.read_columns([self.phase_col]).column(0).cast(pa.float64()).to_numpy(zero_copy_only=False)
                phase_warnings(self.cycle_index.phase_range, phase, self.cycle_index.runs,
                               len(self.cycle_index.groups["rows"]))
            else:
                phase_warnings(self.cycle_index.phase_range)
        if verbose:
            print(f"Data validation passed: {len(self.subjects)} subjects, {len(self.tasks)} tasks")

    # ---- LocoHub's naming helpers -----------------------------------------------------------------
    def _is_standard_compliant(self, variable_name: str) -> bool:
        return naming.is_standard_compliant(variable_name)

    def _has_biomechanical_keywords(self, variable_name: str) -> bool:
        return naming.has_biomechanical_keywords(variable_name)

    def suggest_standard_name(self, variable_name: str) -> str:
        """A standard-compliant name guessed from the words of ``variable_name``."""
        return naming.suggest_standard_name(variable_name)

    # ---- LocoHub's accessors ----------------------------------------------------------------
    def get_subjects(self) -> list[str]:
        return list(self.subjects)

    def get_tasks(self) -> list[str]:
        return list(self.tasks)

    def get_variables(self) -> list[str]:
        return self.features

    def get_validation_report(self) -> dict:
        """Variable-name check: standard_compliant, non_standard, warnings, errors."""
        return {k: list(v) for k, v in self.validation_report.items()}

    @property
    def drop_log(self) -> pd.DataFrame:
        """Groups and cycles the engine's bulk methods leave out, each with its reason."""
        return feat.drop_log(self.cycle_index)

    def __len__(self) -> int:
        """Rows of the selected subjects x tasks (all rows for an unfiltered object)."""
        if self.selection.subjects is None and self.selection.tasks is None:
            return int(self.cycle_index.index.rows)
        g = self.cycle_index.groups
        return int(sum(int(g["rows"][i]) for i in self._selected_groups()))

    def __repr__(self) -> str:
        """The file, its size, and for a view what it keeps (a notebook prints this)."""
        def few(what: str, names: list[str]) -> str:
            shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
            return f"{len(names)} {what}{'' if len(names) == 1 else 's'} ({shown})"

        view = "" if self.selection == Selection() else " view"
        kept = self.selection.describe()
        return (f"<LocomotionData{view} of {str(self.data_path)!r}: {len(self):,} rows, {few('subject', self.subjects)}, "
                f"{few('task', self.tasks)}, {len(self.features)} features" + (f"; {kept}" if kept else "") + ">")

    @property
    def shape(self) -> tuple[int, int]:
        return len(self), len(self.gait_file.columns)

    @property
    def columns(self) -> pd.Index:
        return pd.Index(self.gait_file.columns)

    # ---- filtered views ------------------------------------------------------------------------
    def filter(self, subject=None, task=None, subjects=None, tasks=None, *, phase_range=None, cycles=None,
               where=None) -> "LocomotionData":
        """A view of this data: same file, index and loaded columns, nothing copied.

        Parameters
        ----------
        subject, task : str or list of str, optional
            LocoHub's newest API; ``subjects``/``tasks`` are the same (they win when both given).
        phase_range : (float, float), optional
            Keep the points of each cycle whose phase (point i at 100 * i / 149 %) lies in this
            range, both ends included; cycles then have fewer than 150 points.
        cycles : int, slice, list of int or bool mask, optional
            Keep these cycles of every subject x task (positions as ``get_cycles`` numbers them;
            positions past a group's end keep nothing).
        where : dict, optional
            ``{feature: (min, max)}``: keep cycles whose every value of the feature, within the
            phase range, lies in [min, max] (None = open end; NaN fails).

        Returns
        -------
        LocomotionData
            Chainable: each call narrows the last.
        """
        unknown = [n for n in (where or {}) if self.column_of(n) not in self.gait_file.columns]
        if unknown:
            raise ValueError(f"filter: where names column(s) {unknown} the file does not have; features: "
                             f"{self.features}")
        if where:
            self.gait_file.check_float_columns([self.column_of(n) for n in where])
        view = copy.copy(self)
        view.selection = self.selection.narrowed(subject, task, subjects, tasks, phase_range, cycles, where)
        groups = view._selected_groups()
        g = self.cycle_index.groups
        view.subjects = sorted({self.cycle_index.subject_names[int(g["subject"][i])] for i in groups})
        view.tasks = sorted({self.cycle_index.task_names[int(g["task"][i])] for i in groups})
        return view

    def filter_task(self, task) -> "LocomotionData":
        return self.filter(task=task)

    def filter_tasks(self, tasks) -> "LocomotionData":
        return self.filter(tasks=tasks)

    def filter_subject(self, subject) -> "LocomotionData":
        return self.filter(subject=subject)

    def filter_subjects(self, subjects) -> "LocomotionData":
        return self.filter(subjects=subjects)

    def _selected_groups(self) -> list[int]:
        g = self.cycle_index.groups
        names_s, names_t = self.cycle_index.subject_names, self.cycle_index.task_names
        return [i for i in range(len(g["rows"]))
                if self.selection.allows(names_s[int(g["subject"][i])], names_t[int(g["task"][i])])]

    # ---- data access ------------------------------------------------------------------------
    def feature_table(self) -> pa.Table | None:
        """All feature columns, read once and shared by every view and analysis (memory-mapped
        from the cache when there is one: a warm run decodes no Parquet); None when they do not
        fit the memory limit (the analyses then read only the row groups they need)."""
        if self.shared.table is None:
            limit = default_memory_limit_bytes() if self.memory_limit == "auto" else parse_bytes(self.memory_limit)
            need = self.cycle_index.index.rows * self.gait_file.row_bytes([self.column_of(f) for f in self.features])
            if limit and need > limit:
                return None
            names = [self.column_of(f) for f in self.features]
            if self.cache is not None:  # warm runs: the decoded columns, memory-mapped
                self.shared.table = self.cache.columns(self.data_path, names, lambda: self.read_columns(names))
            else:
                self.shared.table = self.read_columns(names)
        return self.shared.table

    def _cache_key(self) -> dict:
        """What identifies this object's results for the cache: the file (by identity), the
        settings that change results, and the view's subjects and tasks."""
        return {"file": self.data_path, "api": self.api, "nan_policy": self.nan_policy,
                "columns": [self.subject_col, self.task_col, self.phase_col, self.gait_file.step_col],
                "features": self.feature_mappings, "subjects": self.subjects, "tasks": self.tasks}

    def through_cache(self, name: str, args: tuple, compute):
        """compute(), or its stored result (only for unconditioned views: phase ranges, cycle
        and value conditions are not part of the key)."""
        if self.cache is None or not self._cache_results or not self.selection.trivial:
            return compute()
        return self.cache.memoize(f"LocomotionData.{name}", (self, *args), None, compute)

    @property
    def loaded_table(self) -> pa.Table | None:
        if self.shared.table is None and self.cache is not None:
            return self.feature_table()  # with a cache, the bulk passes run on the mapped columns
        return self.shared.table

    def runs_of(self, groups: list[int]) -> list[tuple[int, int]]:
        """(first row, rows) of every part of these groups, in file order (LocoHub's mask order)."""
        return sorted(run for g in groups for run in self.cycle_index.group_runs(g))

    def group_columns(self, groups: list[int], names: list[str]) -> list[np.ndarray]:
        """Each feature's rows of these groups, contiguous, as numpy views when possible."""
        runs = self.runs_of(groups)
        columns = [self.column_of(n) for n in names]
        table = self.feature_table()
        # column_names builds a new list at each access: once here, not once per column
        if table is None or not set(columns) <= set(table.column_names):
            table = self.read_rows(runs, columns)  # just the row groups that hold these rows
            runs = [(0, table.num_rows)]
        out = []
        noted: set[str] = set()
        for name in columns:
            column = table.column(name)
            parts = []
            for start, n in runs:
                piece = column.slice(start, n)  # zero-copy unless the rows span two row groups
                parts.append(piece.chunk(0) if piece.num_chunks == 1 else piece.combine_chunks())
            views = [feat.column_view(p, name, noted) for p in parts]
            out.append(views[0] if len(views) == 1 else np.concatenate(views))
        feat.warn_nulls(noted)
        return out

    def read_rows(self, runs: list[tuple[int, int]], names: list[str]) -> pa.Table:
        if self.gait_file.file_type != "parquet":
            table = self.read_columns(names)
            return pa.concat_tables([table.slice(s, n) for s, n in runs]).combine_chunks()
        pf = pq.ParquetFile(self.data_path, memory_map=True)  # see read_columns
        starts = np.cumsum([0] + [pf.metadata.row_group(i).num_rows for i in range(pf.num_row_groups)])
        first, last = runs[0][0], runs[-1][0] + runs[-1][1]
        groups = list(range(np.searchsorted(starts, first, "right") - 1, np.searchsorted(starts, last, "left")))
        with decoding_pool():
            table = pf.read_row_groups(groups, columns=names)
        base = int(starts[groups[0]])
        sliced = [table.slice(s - base, n) for s, n in runs]
        return pa.concat_tables(sliced).combine_chunks()

    def group_ids(self, subject: str | None, task: str) -> list[int]:
        """The groups of one subject x task, or of every subject of the task (subject None)."""
        if subject is None:
            found = [self.cycle_index.group(s, task) for s in self.subjects if self.selection.allows(s, task)]
            return [g for g in found if g is not None]
        g = self.cycle_index.group(subject, task) if self.selection.allows(subject, task) else None
        return [] if g is None else [g]

    def _select(self, subject: str | None, task: str,
                features: list[str] | None) -> tuple[list[int] | None, list[str]]:
        groups = self.group_ids(subject, task)
        if not groups:
            where = f"task '{task}'" if subject is None else f"subject '{subject}', task '{task}'"
            warn(f"No data found for {where}")
            return None, []
        rows = self.cycle_index.groups["rows"]
        n_points = int(sum(int(rows[g]) for g in groups))
        if n_points % POINTS_PER_CYCLE != 0:
            warn(f"Data length {n_points} not divisible by {POINTS_PER_CYCLE}")
            return None, []
        cut = [g for g in groups if rows[g] % POINTS_PER_CYCLE]
        if cut:  # the total is whole cycles but a subject's part is not: pooling would cut cycles
            g = self.cycle_index.groups
            who = self.cycle_index.subject_names[int(g["subject"][cut[0]])]
            warn(f"Data length {int(rows[cut[0]])} not divisible by {POINTS_PER_CYCLE} (subject '{who}', "
                  f"task '{task}'); pooling it would join cycles across subjects")
            return None, []
        wanted = self.features if features is None else list(features)
        self.gait_file.check_float_columns([f for f in wanted if f in self.gait_file.columns])
        valid = [f for f in wanted if f in self.feature_mappings]
        if not valid:
            warn(f"No valid features found among {wanted}")
            return None, []
        return groups, valid

    def _all_cycles(self, groups: list[int], names: list[str]) -> np.ndarray:
        """Every cycle of these groups, (n_cycles, 150, n_features): one feature is a view of
        the loaded column (no copy); several are gathered once into a feature-major block and
        returned as a strided view of it."""
        columns = self.group_columns(groups, names)
        n = columns[0].shape[0] // POINTS_PER_CYCLE
        if len(columns) == 1:
            return columns[0].reshape(n, POINTS_PER_CYCLE, 1)
        block = np.empty((len(columns), columns[0].shape[0]), dtype=np.result_type(*columns))
        for i, c in enumerate(columns):
            block[i] = c
        return block.T.reshape(n, POINTS_PER_CYCLE, len(columns))

    def _kept(self, groups: list[int], n_cycles: int) -> np.ndarray | None:
        return self.selection.cycle_positions(n_cycles, lambda names: self._all_cycles(groups, names))

    def get_cycles(self, subject: str | None, task: str,
                   features: list[str] | None = None) -> tuple[np.ndarray | None, list[str]]:
        """Cycles of one subject x task as an array of shape (n_cycles, 150, n_features).

        ``subject=None`` pools every subject of the task, in file order (LocoHub from mid-2025).
        Returns ``(None, [])`` with LocoHub's warning when there is no such group or its row
        count is not a multiple of 150. A filtered view returns its cycles and phase points.
        """
        groups, names = self._select(subject, task, features)
        if groups is None:
            return None, []
        x = self._all_cycles(groups, names)
        kept = self._kept(groups, x.shape[0])
        if kept is not None:
            x = x[kept]
        return (x if self.selection.whole_cycles else x[:, self.selection.points, :]), names

    def _analyse_uncached(self, groups: tuple[int, ...], names: tuple[str, ...], threshold: float,
                          among_valid: bool, nan_policy: str) -> dict:
        columns = self.group_columns(list(groups), list(names))
        return self._engine(columns, names, threshold, among_valid, nan_policy)

    def _engine(self, columns: list[np.ndarray], names, threshold: float, among_valid: bool, nan_policy: str) -> dict:
        n = columns[0].shape[0] // POINTS_PER_CYCLE
        return _core.gait_analyse_group(columns, n, [feature_kind(f) for f in names],
                                        feat.nan_policy_code(nan_policy), threshold, among_valid,
                                        make_job(self.jobs, 0))

    def group_analysis(self, subject: str | None, task: str, features: list[str] | None, threshold: float = 2.0,
                  among_valid: bool = False) -> tuple[dict | None, list[str]]:
        groups, names = self._select(subject, task, features)
        if groups is None:
            return None, []
        if self.selection.trivial:  # one engine call over the group(s), cached
            return self.shared.analyse(self, tuple(groups), tuple(names), float(threshold), bool(among_valid),
                                       self.nan_policy), names
        x = self._all_cycles(groups, names)
        kept = self._kept(groups, x.shape[0])
        x = x if kept is None else x[kept]
        if not self.selection.whole_cycles:
            return analyse_points(x[:, self.selection.points, :], names, threshold, among_valid,
                                  self.nan_policy == "omit", feat.STATS), names
        if x.shape[0] == 0:
            return analyse_points(x, names, threshold, among_valid, self.nan_policy == "omit", feat.STATS), names
        columns = [np.ascontiguousarray(x[:, :, i]).reshape(-1) for i in range(len(names))]
        return self._engine(columns, names, threshold, among_valid, self.nan_policy), names

    # ---- LocoHub's statistics ---------------------------------------------------------------
    def mean_and_std(self, subject, task, features) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """{feature: (mean pattern, std pattern)}, flat, of one engine call (the plots draw these)."""
        r, names = self.group_analysis(subject, task, features)
        return {} if r is None else {f: (r["mean_pattern"][i], r["std_pattern"][i]) for i, f in enumerate(names)}

    def get_mean_patterns(self, subject: str | None, task: str, features: list[str] | None = None) -> dict:
        """Mean pattern of each feature over the cycles (over all subjects when subject is None).

        api='current': ``{feature: {'mean': Series, 'std': Series}}``, indexed by LocoHub's
        newest grid ``linspace(0, 100, 150, endpoint=False)``; api='legacy': ``{feature: (150,)}``.
        """
        r, names = self.group_analysis(subject, task, features)
        if r is None:
            return {}
        if self.api == "legacy":
            return {f: r["mean_pattern"][i] for i, f in enumerate(names)}
        index = _PATTERN_INDEX[self.selection.points]
        return {f: {"mean": pd.Series(r["mean_pattern"][i], index=index),
                    "std": pd.Series(r["std_pattern"][i], index=index)} for i, f in enumerate(names)}

    def get_std_patterns(self, subject: str | None, task: str,
                         features: list[str] | None = None) -> dict[str, np.ndarray]:
        """Standard deviation pattern (150 points, ddof 0) of each feature."""
        r, names = self.group_analysis(subject, task, features)
        return {} if r is None else {f: r["std_pattern"][i] for i, f in enumerate(names)}

    def validate_cycles(self, subject: str | None, task: str, features: list[str] | None = None) -> np.ndarray:
        """Boolean per cycle: LocoHub's fixed rules (angles within +-pi rad, no jump > 30 deg
        between points, |velocity| <= 17.45 rad/s, |moment| <= 300, all values finite)."""
        r, _ = self.group_analysis(subject, task, features)
        return np.array([]) if r is None else r["valid"].astype(bool)

    def find_outlier_cycles(self, subject: str | None, task: str, features: list[str] | None = None,
                            threshold: float = 2.0, valid_only: bool = False) -> np.ndarray:
        """Indices of cycles whose RMSE to the mean pattern (over all points and features) exceeds
        mean + threshold x std of the RMSEs. ``valid_only=True`` judges outliers among the cycles
        that pass :meth:`validate_cycles` only (LocoHub uses all cycles, so one NaN anywhere in
        the group makes every RMSE NaN and finds none: that case gives an
        :class:`OutlierNaNWarning`, the empty answer kept)."""
        r, _ = self.group_analysis(subject, task, features, threshold, valid_only)
        found = np.array([], dtype=np.int64) if r is None else np.flatnonzero(r["outlier"])
        if r is not None and not found.size and not valid_only and self.nan_policy == "propagate":
            with_nan = int(np.isnan(r["stats"][feat.STATS.index("min")]).any(axis=0).sum())
            if with_nan:  # silent [] would read as "no outlier"; it means "no answer"
                among = self.group_analysis(subject, task, features, threshold, True)[0]
                warn(OutlierNaNWarning(
                    f"find_outlier_cycles({subject!r}, {task!r}) finds no outlier: NaN values in {with_nan} of "
                    f"{len(r['valid'])} cycles make every RMSE NaN under LocoHub's rule; valid_only=True judges "
                    f"the {int(r['valid'].sum())} valid cycles and finds {int(among['outlier'].sum())}"))
        return found

    def calculate_rom(self, subject: str | None, task: str, features: list[str] | None = None,
                      by_cycle: bool = True) -> dict:
        """Range of motion (max - min) per cycle (``by_cycle``) or over all cycles."""
        r, names = self.group_analysis(subject, task, features)
        if r is None:
            return {}
        rom, lo, hi = (r["stats"][feat.STATS.index(s)] for s in ("rom", "min", "max"))
        if by_cycle:
            return {f: rom[i].copy() for i, f in enumerate(names)}
        omit = self.nan_policy == "omit"
        top, bottom = (np.nanmax, np.nanmin) if omit else (np.max, np.min)
        if rom.shape[1] == 0:
            return {f: float("nan") for f in names}
        return {f: float(top(hi[i]) - bottom(lo[i])) for i, f in enumerate(names)}

    def get_phase_correlations(self, subject: str | None, task: str,
                               features: list[str] | None = None) -> np.ndarray | None:
        """Correlation between features at each phase point: (150, n_features, n_features)."""
        data, names = self.get_cycles(subject, task, features)
        if data is None or data.shape[0] < 2:
            return None
        x = np.asarray(data, dtype=np.float64)
        d = x - x.mean(axis=0)
        cov = np.einsum("cpi,cpj->pij", d, d) / (x.shape[0] - 1)
        sd = np.sqrt(np.einsum("pii->pi", cov))
        with np.errstate(invalid="ignore", divide="ignore"):
            corr = cov / (sd[:, :, None] * sd[:, None, :])
        return np.clip(corr, -1.0, 1.0, out=corr, where=~np.isnan(corr))

    def get_feature_correlations(self, subject: str | None, task: str,
                                 features: list[str] | None = None) -> pd.DataFrame | None:
        """Pearson correlation between features over every point of every cycle of one subject x
        task (all subjects of the task when subject is None): a (features x features) DataFrame,
        ``.to_numpy()`` being the guide's ``feature_correlations``. One pass of the engine over
        the columns (no reshaped copy); NaN follows ``nan_policy`` ('propagate': numpy.corrcoef,
        'omit': pairwise complete rows, as pandas). None when there is no such group."""
        return self.through_cache("get_feature_correlations", (subject, task, features),
                                   lambda: self.correlations_of(subject, task, features))

    def correlations_of(self, subject, task, features) -> pd.DataFrame | None:
        groups, names = self._select(subject, task, features)
        if groups is None:
            return None
        if self.selection.trivial:
            return self.correlate_groups(groups, names)
        x, _ = self.get_cycles(subject, task, names)
        return self._correlate_columns([np.ascontiguousarray(x[:, :, i]).reshape(-1) for i in range(len(names))],
                                       names)

    def correlate_groups(self, groups: list[int], names: list[str]) -> pd.DataFrame:
        """One engine call over these groups' rows, each group's columns as they are (zero-copy
        slices where possible; several subjects are not concatenated)."""
        parts = [self.group_columns([g], names) for g in groups]
        corr = _core.gait_feature_correlations_parts(parts, feat.nan_policy_code(self.nan_policy),
                                                     make_job(self.jobs, 0))
        return pd.DataFrame(corr, index=pd.Index(names, name="feature"), columns=names)

    def _correlate_columns(self, columns: list[np.ndarray], names: list[str]) -> pd.DataFrame:
        rows = columns[0].shape[0] if columns else 0
        corr = _core.gait_feature_correlations(columns, rows, feat.nan_policy_code(self.nan_policy),
                                               make_job(self.jobs, 0))
        return pd.DataFrame(corr, index=pd.Index(names, name="feature"), columns=names)

    def get_summary_statistics(self, subject: str | None, task: str, features: list[str] | None = None) -> pd.DataFrame:
        """mean, std, min, max, median, q25, q75 of each feature over all points of all cycles."""
        data, names = self.get_cycles(subject, task, features)
        if data is None or data.shape[0] == 0:  # a view's conditions may keep no cycle
            return pd.DataFrame()
        flat = np.asarray(data).reshape(-1, len(names))
        stats = {"mean": np.mean(flat, axis=0), "std": np.std(flat, axis=0), "min": np.min(flat, axis=0),
                 "max": np.max(flat, axis=0), "median": np.median(flat, axis=0),
                 "q25": np.percentile(flat, 25, axis=0), "q75": np.percentile(flat, 75, axis=0)}
        summary = pd.DataFrame(stats, index=names)
        summary.index.name = "feature"
        return summary

    # ---- plots (matplotlib; written to a file when save_path is given) --------------------------
    def check_plotting(self) -> None:
        """Before any plot (plots.PlotMethods): matplotlib present (tests patch the flag here), whole cycles."""
        if not MATPLOTLIB_AVAILABLE:
            raise ImportError(_MATPLOTLIB_MISSING)
        if not self.selection.whole_cycles:
            raise ValueError("plots draw whole cycles (0-100 %): plot from the view before its phase_range")
