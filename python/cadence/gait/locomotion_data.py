"""``LocomotionData``: LocoHub's analysis class, with its semantics, on the cycle engine.

Method names, arguments, return types and numbers follow LocoHub's ``LocomotionData`` (see
docs/gait.md), so notebooks written for it run unchanged. What differs is underneath: the
subject x task -> cycle index is built once from the key columns (no full-table string mask per
call), per-group statistics come from the C++ engine, feature columns are loaded lazily (and
only when they fit the memory limit; otherwise each call reads just its group's rows), and the
bulk methods (``cycle_features``, ``subject_analysis``, ``population_analysis``,
``validate_ranges``) replace the guide's Python loops with one streamed pass.
"""

from __future__ import annotations

import re
import warnings
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pyarrow.csv as pacsv

from .. import _core
from ..runtime import default_memory_limit_bytes, make_job, parse_bytes
from . import features as feat
from .reader import POINTS_PER_CYCLE, GaitFile, feature_kind

_NAME = re.compile(r"^[a-z]+(_[a-z]+)*_(angle|velocity|moment|power)(_(ipsi|contra))?"
                   r"_(rad|rad_s|deg|deg_s|Nm|Nm_kg|W|W_kg)$")


class LocomotionData:
    """Phase-indexed locomotion data (LocoHub standard: 150 points per gait cycle).

    Parameters
    ----------
    data_path : str or Path
        Parquet or CSV file with one row per phase point.
    subject_col, task_col, phase_col : str
        Column names; LocoHub's standard files use ``subject``, ``task``, ``phase_ipsi``.
    file_type : {'auto', 'parquet', 'csv'}
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
        Raise instead of warning on feature names outside LocoHub's convention.

    Raises
    ------
    FileNotFoundError, ValueError
        Missing file; missing columns (the message lists the available ones); a time-indexed
        file; an empty file.
    """

    POINTS_PER_CYCLE = POINTS_PER_CYCLE

    def __init__(self, data_path: str | Path, subject_col: str = "subject", task_col: str = "task",
                 phase_col: str = "phase_ipsi", file_type: str = "auto", *, step_col: str = "step",
                 memory_limit: str | int | None = "auto", jobs: int = 0, nan_policy: str = "propagate",
                 strict_names: bool = False) -> None:
        self.data_path = Path(data_path)
        self.subject_col, self.task_col, self.phase_col = subject_col, task_col, phase_col
        self._file = GaitFile(self.data_path, subject_col, task_col, phase_col, step_col, file_type)
        self.memory_limit = memory_limit
        self.jobs = jobs
        feat.nan_policy_code(nan_policy)
        self.nan_policy = nan_policy
        self._index = self._file.build_index()
        self.features: list[str] = self._file.features
        self.feature_mappings = {f: f for f in self.features}
        self.subjects: list[str] = sorted(self._index.subject_names)
        self.tasks: list[str] = sorted(self._index.task_names)
        self.validation_report = self._check_names(strict_names)
        self._table: pa.Table | None = None
        self._df: pd.DataFrame | None = None
        self._analyse = lru_cache(maxsize=256)(self._analyse_uncached)

    # ---- LocoHub's accessors ----------------------------------------------------------------
    def get_subjects(self) -> list[str]:
        return list(self.subjects)

    def get_tasks(self) -> list[str]:
        return list(self.tasks)

    def get_validation_report(self) -> dict:
        """Variable-name check: standard_compliant, non_standard, warnings, errors."""
        return {k: list(v) for k, v in self.validation_report.items()}

    @property
    def drop_log(self) -> pd.DataFrame:
        """Groups and cycles the engine's bulk methods leave out, each with its reason."""
        return feat.drop_log(self._index)

    @property
    def df(self) -> pd.DataFrame:
        """The whole file as a pandas DataFrame, as LocoHub holds it (loaded on first use; this
        is the one access that needs the whole file in memory)."""
        if self._df is None:
            if self._file.file_type == "parquet":
                self._df = pq.read_table(self.data_path).to_pandas()
            else:
                self._df = pacsv.read_csv(self.data_path).to_pandas()
        return self._df

    def _check_names(self, strict: bool) -> dict:
        report: dict[str, list[str]] = {"standard_compliant": [], "non_standard": [], "warnings": [], "errors": []}
        for f in self.features:
            if _NAME.match(f):
                report["standard_compliant"].append(f)
                continue
            report["non_standard"].append(f)
            report["errors"].append(f"Variable '{f}' does not follow the standard naming convention "
                                    f"<joint|segment>_<motion>_<measurement>_<side>_<unit>")
        if report["non_standard"]:
            message = (f"{len(report['non_standard'])} feature name(s) do not follow LocoHub's convention "
                       f"<joint|segment>_<motion>_<angle|velocity|moment|power>_<ipsi|contra>_<unit> with a "
                       f"unit among rad, rad_s, Nm_kg, W_kg (e.g. knee_flexion_angle_ipsi_rad): "
                       f"{report['non_standard'][:8]}{' ...' if len(report['non_standard']) > 8 else ''}. "
                       f"Validation applies LocoHub's limits by the words angle/velocity/moment in the name, "
                       f"assuming those units.")
            if strict:
                raise ValueError(message)
            warnings.warn(message, UserWarning, stacklevel=3)
        return report

    # ---- data access ------------------------------------------------------------------------
    def _feature_table(self) -> pa.Table | None:
        """All feature columns in memory, when they fit the memory limit (else None)."""
        if self._table is None:
            limit = default_memory_limit_bytes() if self.memory_limit == "auto" else parse_bytes(self.memory_limit)
            need = self._index.index.rows * self._file.row_bytes(self.features)
            if limit and need > limit:
                return None
            if self._file.file_type == "parquet":
                self._table = pq.read_table(self.data_path, columns=self.features, use_threads=True)
            else:
                opts = pacsv.ConvertOptions(include_columns=self.features)
                self._table = pacsv.read_csv(self.data_path, convert_options=opts)
        return self._table

    def _group_columns(self, group: int, names: list[str]) -> list[np.ndarray]:
        """Each feature's rows of one group, contiguous, as numpy views when possible."""
        runs = self._index.group_runs(group)
        table = self._feature_table()
        if table is None:  # read just the row groups that hold this group
            table = self._read_rows(runs, names)
            runs = [(0, table.num_rows)]
        out = []
        noted: set[str] = set()
        for name in names:
            column = table.column(name)
            parts = []
            for start, n in runs:
                piece = column.slice(start, n)  # zero-copy unless the rows span two row groups
                parts.append(piece.chunk(0) if piece.num_chunks == 1 else piece.combine_chunks())
            views = [feat.column_view(p, name, noted) for p in parts]
            out.append(views[0] if len(views) == 1 else np.concatenate(views))
        return out

    def _read_rows(self, runs: list[tuple[int, int]], names: list[str]) -> pa.Table:
        if self._file.file_type != "parquet":
            raise MemoryError("the CSV does not fit the memory limit; convert it to Parquet first")
        pf = pq.ParquetFile(self.data_path)
        starts = np.cumsum([0] + [pf.metadata.row_group(i).num_rows for i in range(pf.num_row_groups)])
        first, last = runs[0][0], runs[-1][0] + runs[-1][1]
        groups = list(range(np.searchsorted(starts, first, "right") - 1, np.searchsorted(starts, last, "left")))
        table = pf.read_row_groups(groups, columns=names)
        base = int(starts[groups[0]])
        sliced = [table.slice(s - base, n) for s, n in runs]
        return pa.concat_tables(sliced).combine_chunks()

    def _select(self, subject: str, task: str, features: list[str] | None) -> tuple[int | None, list[str]]:
        group = self._index.group(subject, task)
        if group is None:
            warnings.warn(f"No data found for subject '{subject}', task '{task}'", UserWarning, stacklevel=3)
            return None, []
        n_points = int(self._index.groups["rows"][group])
        if n_points % POINTS_PER_CYCLE != 0:
            warnings.warn(f"Data length {n_points} not divisible by {POINTS_PER_CYCLE}", UserWarning, stacklevel=3)
            return None, []
        wanted = self.features if features is None else list(features)
        self._file.check_float_columns([f for f in wanted if f in self._file.columns])
        valid = [f for f in wanted if f in self.feature_mappings]
        if not valid:
            warnings.warn(f"No valid features found among {wanted}", UserWarning, stacklevel=3)
            return None, []
        return group, valid

    def get_cycles(self, subject: str, task: str,
                   features: list[str] | None = None) -> tuple[np.ndarray | None, list[str]]:
        """Cycles of one subject x task as an array of shape (n_cycles, 150, n_features).

        Returns ``(None, [])`` with a warning when there is no such group or its row count is not
        a multiple of 150 (LocoHub's behaviour). One feature is returned as a view of the loaded
        column (no copy); several are gathered once into a feature-major block and returned as a
        strided view of it.
        """
        group, names = self._select(subject, task, features)
        if group is None:
            return None, []
        columns = self._group_columns(group, names)
        n = columns[0].shape[0] // POINTS_PER_CYCLE
        if len(columns) == 1:
            return columns[0].reshape(n, POINTS_PER_CYCLE, 1), names
        dtype = np.result_type(*columns)
        block = np.empty((len(columns), columns[0].shape[0]), dtype=dtype)
        for i, c in enumerate(columns):
            block[i] = c
        return block.T.reshape(n, POINTS_PER_CYCLE, len(columns)), names

    def _analyse_uncached(self, group: int, names: tuple[str, ...], threshold: float, among_valid: bool,
                          nan_policy: str) -> dict:
        columns = self._group_columns(group, list(names))
        job = make_job(self.jobs, 0)
        n = columns[0].shape[0] // POINTS_PER_CYCLE
        return _core.gait_analyse_group(columns, n, [feature_kind(f) for f in names],
                                        feat.nan_policy_code(nan_policy), threshold, among_valid, job)

    def _analysis(self, subject: str, task: str, features: list[str] | None, threshold: float = 2.0,
                  among_valid: bool = False) -> tuple[dict | None, list[str]]:
        group, names = self._select(subject, task, features)
        if group is None:
            return None, []
        return self._analyse(group, tuple(names), float(threshold), bool(among_valid), self.nan_policy), names

    # ---- LocoHub's statistics ---------------------------------------------------------------
    def get_mean_patterns(self, subject: str, task: str, features: list[str] | None = None) -> dict[str, np.ndarray]:
        """Mean pattern (150 points) of each feature over the group's cycles."""
        r, names = self._analysis(subject, task, features)
        return {} if r is None else {f: r["mean_pattern"][i] for i, f in enumerate(names)}

    def get_std_patterns(self, subject: str, task: str, features: list[str] | None = None) -> dict[str, np.ndarray]:
        """Standard deviation pattern (150 points, ddof 0) of each feature."""
        r, names = self._analysis(subject, task, features)
        return {} if r is None else {f: r["std_pattern"][i] for i, f in enumerate(names)}

    def validate_cycles(self, subject: str, task: str, features: list[str] | None = None) -> np.ndarray:
        """Boolean per cycle: LocoHub's fixed rules (angles within +-pi rad, no jump > 30 deg
        between points, |velocity| <= 17.45 rad/s, |moment| <= 300, all values finite)."""
        r, _ = self._analysis(subject, task, features)
        return np.array([]) if r is None else r["valid"].astype(bool)

    def find_outlier_cycles(self, subject: str, task: str, features: list[str] | None = None,
                            threshold: float = 2.0, valid_only: bool = False) -> np.ndarray:
        """Indices of cycles whose RMSE to the mean pattern (over all points and features) exceeds
        mean + threshold x std of the RMSEs. ``valid_only=True`` judges outliers among the cycles
        that pass :meth:`validate_cycles` only (LocoHub uses all cycles, so one NaN anywhere in
        the group makes every RMSE NaN and finds none)."""
        r, _ = self._analysis(subject, task, features, threshold, valid_only)
        return np.array([], dtype=np.int64) if r is None else np.flatnonzero(r["outlier"])

    def calculate_rom(self, subject: str, task: str, features: list[str] | None = None,
                      by_cycle: bool = True) -> dict:
        """Range of motion (max - min) per cycle (``by_cycle``) or over all cycles."""
        r, names = self._analysis(subject, task, features)
        if r is None:
            return {}
        rom, lo, hi = (r["stats"][feat.STATS.index(s)] for s in ("rom", "min", "max"))
        if by_cycle:
            return {f: rom[i].copy() for i, f in enumerate(names)}
        nan = (np.nanmax if self.nan_policy == "omit" else np.max), (np.nanmin if self.nan_policy == "omit" else np.min)
        return {f: float(nan[0](hi[i]) - nan[1](lo[i])) for i, f in enumerate(names)}

    def get_phase_correlations(self, subject: str, task: str, features: list[str] | None = None) -> np.ndarray | None:
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

    def get_summary_statistics(self, subject: str, task: str, features: list[str] | None = None) -> pd.DataFrame:
        """mean, std, min, max, median, q25, q75 of each feature over all points of all cycles."""
        data, names = self.get_cycles(subject, task, features)
        if data is None:
            return pd.DataFrame()
        flat = np.asarray(data).reshape(-1, len(names))
        stats = {"mean": np.mean(flat, axis=0), "std": np.std(flat, axis=0), "min": np.min(flat, axis=0),
                 "max": np.max(flat, axis=0), "median": np.median(flat, axis=0),
                 "q25": np.percentile(flat, 25, axis=0), "q75": np.percentile(flat, 75, axis=0)}
        summary = pd.DataFrame(stats, index=names)
        summary.index.name = "feature"
        return summary

    def merge_with_task_data(self, task_data: pd.DataFrame, join_keys: list[str] | None = None,
                             how: str = "outer") -> pd.DataFrame:
        """The data joined with a table of task information (loads the whole file, as LocoHub)."""
        if join_keys is None:
            join_keys = [self.subject_col, self.task_col]
        missing = set(join_keys) - set(self._file.columns)
        if missing:
            raise ValueError(f"Join keys {missing} not found in locomotion data")
        missing = set(join_keys) - set(task_data.columns)
        if missing:
            raise ValueError(f"Join keys {missing} not found in task data")
        return pd.merge(self.df, task_data, on=join_keys, how=how)

    # ---- plots (matplotlib, written to files) -------------------------------------------------
    def plot_phase_patterns(self, subject: str, task: str, features: list[str], plot_type: str = "both",
                            save_path: str | Path | None = None):
        """Mean +- SD of valid cycles, with individual cycles (invalid ones in red)."""
        from .plots import plot_phase_patterns
        return plot_phase_patterns(self, subject, task, features, plot_type, save_path)

    def plot_task_comparison(self, subject: str, tasks: list[str], features: list[str],
                             save_path: str | Path | None = None):
        """Mean patterns of several tasks, one panel per feature."""
        from .plots import plot_task_comparison
        return plot_task_comparison(self, subject, tasks, features, save_path)

    # ---- bulk methods: the guide's loops, done once ---------------------------------------------
    def cycle_features(self, features: list[str] | None = None, *, output: str = "pandas",
                       path: str | Path | None = None, outlier_threshold: float = 2.0,
                       outliers_among: str = "valid", fail_flags: bool = False,
                       memory_limit: str | int | None = None, jobs: int | None = None,
                       show_progress: bool | None = None):
        """Per-cycle features of every subject x task in one streamed pass.

        Parameters
        ----------
        features : list of str, optional
            Default: all features.
        output : {'pandas', 'arrow', 'parquet', 'npy'}
            'parquet' and 'npy' write to ``path`` as batches arrive (bounded memory) and return
            the path; 'npy' writes a float32 matrix plus ``<stem>.meta.parquet``.
        outliers_among : {'valid', 'all'}
            Judge outliers (and the mean pattern for ``rmse``) among the cycles that pass
            validation ('valid', what a cleaning pipeline does) or among all cycles (LocoHub's
            ``find_outlier_cycles``).
        memory_limit, jobs
            Default to the object's.

        Returns
        -------
        DataFrame, pyarrow.Table or Path
            One row per cycle (see :mod:`cadence.gait.features`). Groups and cycles left out are
            in :attr:`drop_log`.
        """
        names = self.features if features is None else list(features)
        if outliers_among not in ("valid", "all"):
            raise ValueError(f"outliers_among={outliers_among!r}: use 'valid' or 'all'")
        limit = self.memory_limit if memory_limit is None else memory_limit
        table = self._table  # columns already loaded by get_cycles & co: no second read
        if table is not None:
            missing = [n for n in names if n not in table.column_names]
            table = None if missing else table
        kw = dict(nan_policy=self.nan_policy, outlier_threshold=outlier_threshold,
                  outliers_among_valid=outliers_among == "valid", fail_flags=fail_flags,
                  jobs=self.jobs if jobs is None else jobs, memory_limit=limit, show_progress=show_progress,
                  table=table)
        if output in ("pandas", "arrow"):
            sink = feat.TableSink()
            self.last_run = feat.stream(self._file, self._index, names, sink, **kw)
            result = sink.table(names, fail_flags)
            return result.to_pandas() if output == "pandas" else result
        if path is None:
            raise ValueError(f"output={output!r} needs a path")
        if output == "parquet":
            sink = feat.ParquetSink(Path(path), names)
        elif output == "npy":
            kept = int((self._index.cycles["reason"] == 0).sum())
            sink = feat.NpySink(Path(path), names, kept)
        else:
            raise ValueError(f"output={output!r}: use 'pandas', 'arrow', 'parquet' or 'npy'")
        with sink:  # renamed into place when whole; on any error the old file is untouched
            self.last_run = feat.stream(self._file, self._index, names, sink, **kw)
        return Path(path)

    def validate_ranges(self, ranges, features: list[str] | None = None, **kw):
        """Check every stride against a per-task, per-phase ranges file (LocoHub's validator
        YAML, or the dict it holds). Returns a :class:`cadence.gait.validation.RangeReport`."""
        from .validation import validate_file
        return validate_file(self, ranges, features, **kw)

    def _whole_analysis(self, subject: str, task: str, features):
        """_analysis of a group made of whole cycles; (None, []) without a warning otherwise,
        since the bulk analyses skip absent or unusable groups on purpose."""
        group = self._index.group(subject, task)
        if group is None or self._index.groups["rows"][group] % POINTS_PER_CYCLE:
            return None, []
        return self._analysis(subject, task, features)

    def subject_analysis(self, subject: str, features: list[str] | None = None) -> dict:
        """The guide's comprehensive subject analysis, for every task of ``subject``: tasks
        completed, total cycles, quality score (share of valid cycles), ROM over all cycles,
        outlier counts (LocoHub's rule)."""
        out = {"subject": subject, "tasks_completed": [], "total_cycles": 0, "quality_scores": {},
               "rom_data": {}, "outlier_counts": {}}
        for task in self.tasks:
            r, names = self._whole_analysis(subject, task, features)
            if r is None:
                continue
            out["tasks_completed"].append(task)
            out["total_cycles"] += int(r["valid"].shape[0])
            out["quality_scores"][task] = float(r["valid"].mean()) if r["valid"].size else 0.0
            out["rom_data"][task] = self.calculate_rom(subject, task, names, by_cycle=False)
            out["outlier_counts"][task] = int(r["outlier"].sum())
        return out

    def population_analysis(self, task: str, features: list[str] | None = None) -> dict:
        """Per-subject mean patterns, population mean and std (150 x features), and per feature
        the mean and max std and the coefficient of variation mean(std) / mean(mean), as the
        guide defines it."""
        subjects, patterns, names = [], [], None
        for subject in self.subjects:
            r, names = self._whole_analysis(subject, task, features)
            if r is None:
                continue
            subjects.append(subject)
            patterns.append(r["mean_pattern"].T)  # (150, features)
        out = {"task": task, "subjects_with_data": subjects, "features": names or [],
               "subject_mean_patterns": None, "population_mean": None, "population_std": None,
               "population_stats": {}, "mean_patterns": {}, "variability_analysis": {}}
        if not patterns:
            return out
        per_subject = np.stack(patterns)
        mean, std = per_subject.mean(axis=0), per_subject.std(axis=0)
        out.update(subject_mean_patterns=per_subject, population_mean=mean, population_std=std)
        out["population_stats"] = {"n_subjects": len(subjects), "mean_pattern_shape": mean.shape,
                                   "mean_variability": float(np.mean(std))}
        for i, f in enumerate(names):
            out["mean_patterns"][f] = mean[:, i]
            with np.errstate(divide="ignore", invalid="ignore"):
                cv = float(np.mean(std[:, i]) / np.mean(mean[:, i]))
            out["variability_analysis"][f] = {"mean_std": float(np.mean(std[:, i])),
                                              "max_std": float(np.max(std[:, i])),
                                              "coefficient_of_variation": cv}
        return out
