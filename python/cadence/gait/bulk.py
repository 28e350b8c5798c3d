"""The bulk methods of ``LocomotionData``: the performance guide's loops over subjects and tasks,
done in one streamed pass of the engine (``cycle_features``, ``validate_ranges``) or one engine
call per group (``subject_analysis``, ``population_analysis``). A mixin, so that
locomotion_data.py keeps LocoHub's per-group API and this file the whole-file work.
"""

from __future__ import annotations

import weakref
from pathlib import Path

import numpy as np
import pyarrow as pa

from . import features as feat
from .mean_curves import group_mean_curves
from .reader import POINTS_PER_CYCLE


#: subject_mean_curves' results per object (weak: gone with the object; never shared by the views
#: filter() copies from it, whose cycles differ).
_MEAN_CURVES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class BulkAnalyses:
    """Mixed into LocomotionData; uses its internal API (cycle_index, selection, group_analysis...:
    LocomotionData's Notes), never its private members."""

    def cycle_features(self, features: list[str] | None = None, *, output: str = "pandas",
                       path: str | Path | None = None, outlier_threshold: float = 2.0,
                       outliers_among: str = "valid", fail_flags: bool = False,
                       memory_limit: str | int | None = None, jobs: int | None = None,
                       show_progress: bool | None = None, executor: str = "local",
                       ray_address: str | None = None, unit_rows: int | None = None):
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
        executor : {'local', 'ray'}
            'ray': units of whole subject x task groups (about ``unit_rows`` rows) run as tasks
            on the Ray cluster at ``ray_address`` (None: Ray's default), each reading only its
            row groups; the result is the local run's, bit for bit (docs/gait.md, "Beyond one
            machine"). ``memory_limit`` is then each task's; ``jobs`` is not used.

        Returns
        -------
        DataFrame, pyarrow.Table or Path
            One row per cycle (see :mod:`cadence.gait.features`). Groups and cycles left out are
            in :attr:`drop_log`.
        """
        wanted = self.features if features is None else list(features)
        names = [self.column_of(n) for n in wanted]  # file columns (legacy GRF names stay as in the file)
        self._whole_file_only("cycle_features", allow_groups=output in ("pandas", "arrow"))
        if outliers_among not in ("valid", "all"):
            raise ValueError(f"outliers_among={outliers_among!r}: use 'valid' or 'all'")
        if executor not in ("local", "ray"):
            raise ValueError(f"executor={executor!r}: use 'local' or 'ray'")
        pass_ = feat.stream
        if executor == "ray":
            from functools import partial

            from ..cluster import import_ray
            from .ray_executor import stream as ray_stream

            import_ray()  # not installed: say so before any output is opened
            pass_ = partial(ray_stream, ray_address=ray_address, unit_rows=unit_rows)
        limit = self.memory_limit if memory_limit is None else memory_limit
        table = self.loaded_table  # columns already loaded by get_cycles & co: no second read
        if table is not None:
            missing = [n for n in names if n not in table.column_names]
            table = None if missing else table
        kw = dict(nan_policy=self.nan_policy, outlier_threshold=outlier_threshold,
                  outliers_among_valid=outliers_among == "valid", fail_flags=fail_flags,
                  jobs=self.jobs if jobs is None else jobs, memory_limit=limit, show_progress=show_progress,
                  table=table)
        if output in ("pandas", "arrow"):
            sink = feat.TableSink()
            self.last_run = pass_(self.gait_file, self.cycle_index, names, sink, **kw)
            result = self._rows_of_view(sink.table(names, fail_flags))
            if wanted != names:  # columns named by feature, as get_cycles names them
                prefix = {f"{c}__": f"{n}__" for c, n in zip(names, wanted) if c != n}
                result = result.rename_columns([next((new + c[len(old):] for old, new in prefix.items()
                                                      if c.startswith(old)), c) for c in result.column_names])
            return result.to_pandas() if output == "pandas" else result
        if path is None:
            raise ValueError(f"output={output!r} needs a path")
        if output == "parquet":
            sink = feat.ParquetSink(Path(path), names)
        elif output == "npy":
            kept = int((self.cycle_index.cycles["reason"] == 0).sum())
            sink = feat.NpySink(Path(path), names, kept)
        else:
            raise ValueError(f"output={output!r}: use 'pandas', 'arrow', 'parquet' or 'npy'")
        with sink:  # renamed into place when whole; on any error the old file is untouched
            self.last_run = pass_(self.gait_file, self.cycle_index, names, sink, **kw)
        return Path(path)

    def validate_ranges(self, ranges, features: list[str] | None = None, **kw):
        """Check every stride against a per-task, per-phase ranges file (LocoHub's validator
        YAML, or the dict it holds). Returns a :class:`cadence.gait.validation.RangeReport`."""
        from .validation import validate_file

        self._whole_file_only("validate_ranges")
        columns = None if features is None else [self.column_of(f) for f in features]
        if columns is None and any(f != c for f, c in self.feature_mappings.items()):
            columns = [self.column_of(f) for f in self.features]
        return validate_file(self, ranges, columns, **kw)

    def _whole_file_only(self, method: str, allow_groups: bool = False) -> None:
        """The streamed methods run over the whole file; a view says so rather than ignore its filter."""
        if self.selection.trivial and (allow_groups or (self.selection.subjects is None and self.selection.tasks is None)):
            return
        allowed = "subjects/tasks with output='pandas' or 'arrow'" if method == "cycle_features" else "nothing"
        raise ValueError(f"{method} streams the whole file; on a filtered view it supports {allowed}. Call it on "
                         f"the unfiltered LocomotionData and select rows of its result")

    def _rows_of_view(self, table: pa.Table) -> pa.Table:
        if self.selection.subjects is None and self.selection.tasks is None:
            return table
        import pyarrow.compute as pc

        keep = pc.is_in(table.column("subject").cast(pa.string()), pa.array(self.subjects, pa.string()))
        keep = pc.and_(keep, pc.is_in(table.column("task").cast(pa.string()), pa.array(self.tasks, pa.string())))
        return table.filter(keep)

    def _whole_analysis(self, subject: str, task: str, features):
        """group_analysis of a group made of whole cycles; (None, []) without a warning otherwise,
        since the bulk analyses skip absent or unusable groups on purpose."""
        groups = self.group_ids(subject, task)
        if not groups or self.cycle_index.groups["rows"][groups[0]] % POINTS_PER_CYCLE:
            return None, []
        return self.group_analysis(subject, task, features)

    def subject_analysis(self, subject: str, features: list[str] | None = None) -> dict:
        """The guide's comprehensive subject analysis, for every task of ``subject``: tasks
        completed, total cycles, quality score (share of valid cycles), ROM over all cycles,
        outlier counts (LocoHub's rule), and the feature correlation matrix of each task."""
        return self.through_cache("subject_analysis", (subject, features),
                                   lambda: self._subject_analysis(subject, features))

    def _subject_analysis(self, subject: str, features) -> dict:
        out = {"subject": subject, "tasks_completed": [], "total_cycles": 0, "quality_scores": {},
               "rom_data": {}, "outlier_counts": {}, "feature_correlations": {}}
        for task in self.tasks:
            r, names = self._whole_analysis(subject, task, features)
            if r is None:
                continue
            out["tasks_completed"].append(task)
            out["total_cycles"] += int(r["valid"].shape[0])
            out["quality_scores"][task] = float(r["valid"].mean()) if r["valid"].size else 0.0
            out["rom_data"][task] = self.calculate_rom(subject, task, names, by_cycle=False)
            out["outlier_counts"][task] = int(r["outlier"].sum())
            out["feature_correlations"][task] = self.correlations_of(subject, task, names)
        return out

    def population_analysis(self, task: str, features: list[str] | None = None) -> dict:
        """Per-subject mean patterns, population mean and std (150 x features), and per feature
        the mean and max std and the coefficient of variation mean(std) / mean(mean), as the
        guide defines it; the feature correlations over every cycle of the task."""
        return self.through_cache("population_analysis", (task, features),
                                   lambda: self._population_analysis(task, features))

    def _population_analysis(self, task: str, features) -> dict:
        subjects, patterns, names = [], [], None
        for subject in self.subjects:
            r, names = self._whole_analysis(subject, task, features)
            if r is None:
                continue
            subjects.append(subject)
            patterns.append(r["mean_pattern"].T)  # (150, features)
        out = {"task": task, "subjects_with_data": subjects, "features": names or [],
               "subject_mean_patterns": None, "population_mean": None, "population_std": None,
               "population_stats": {}, "mean_patterns": {}, "variability_analysis": {},
               "feature_correlations": None}
        if not patterns:
            return out
        out["feature_correlations"] = (  # pooled over the cycles of the subjects above
            self.correlate_groups([self.cycle_index.group(s, task) for s in subjects], names) if self.selection.trivial
            else self.correlations_of(None, task, names))
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


    def subject_mean_curves(self, task: str, features: list[str] | None = None) -> tuple[list[str], np.ndarray]:
        """Each subject's mean curve of every feature in ``task`` (LocoHub's mean pattern over the
        subject's cycles, with the object's ``nan_policy``): ``(subjects, array (subjects,
        features, 150))``; subjects without whole cycles of the task are left out."""
        names = self.features if features is None else list(features)
        memo = _MEAN_CURVES.setdefault(self, {})  # spm_compare asks once per task pair; views have their own
        if not self.selection.trivial:  # a filtered view: its cycles and points, through the analysis
            key = (task, tuple(names), self.nan_policy)
            if key not in memo:
                subjects, curves = [], []
                for subject in self.subjects:
                    groups = self.group_ids(subject, task)
                    if groups and not self.cycle_index.groups["rows"][groups[0]] % POINTS_PER_CYCLE:
                        r, _ = self._whole_analysis(subject, task, names)
                        if r is not None:
                            subjects.append(subject)
                            curves.append(r["mean_pattern"])
                memo[key] = (subjects, np.stack(curves) if curves else np.empty((0, len(names), POINTS_PER_CYCLE)))
            subjects, out = memo[key]
            return list(subjects), out.copy()
        # every group's means in one pass over the file (or the columns held), for every task
        key = (tuple(names), self.nan_policy)
        if key not in memo:
            columns = [self.column_of(n) for n in names]
            table = self.loaded_table
            memo[key] = group_mean_curves(
                self.gait_file, self.cycle_index, columns, nan_policy=self.nan_policy, jobs=self.jobs,
                memory_limit=self.memory_limit,
                table=table if table is not None and set(columns) <= set(table.column_names) else None)
        every = memo[key]
        rows = self.cycle_index.groups["rows"]
        subjects, picked = [], []
        for subject in self.subjects:
            groups = self.group_ids(subject, task)
            if groups and not rows[groups[0]] % POINTS_PER_CYCLE:  # else LocoHub's get_cycles gives None
                subjects.append(subject)
                picked.append(groups[0])
        return subjects, every[picked] if picked else np.empty((0, len(names), POINTS_PER_CYCLE))

    def spm_compare(self, task_a: str, task_b: str, features: list[str] | None = None, *, paired: bool = False,
                    alpha: float = 0.05, nonparametric: bool = False, iterations: int = -1,
                    two_tailed: bool = True, force_iterations: bool = False, seed: int = 0, jobs: int | None = None):
        """Where in the cycle do two tasks differ, for every feature at once (SPM, spm1d's tests).

        The observations are the subjects' mean curves (:meth:`subject_mean_curves`); ``paired``
        pairs them by subject name (``spm.ttest_paired``, A - B), otherwise ``spm.ttest2`` with
        ``equal_var=True``; ``nonparametric`` uses the permutation versions (``iterations`` and
        ``force_iterations`` as spm1d's). Returns a DataFrame, one row per cluster: feature, start
        and end (% of cycle = node x 100 / 149), extent (% of cycle), p, sign (+1: task_a above
        task_b), and the spm1d values behind them (docs/gait.md, "Comparing conditions: SPM").
        """
        from .compare import compare_tasks

        return compare_tasks(self, task_a, task_b, features, paired=paired, alpha=alpha,
                             nonparametric=nonparametric, iterations=iterations, two_tailed=two_tailed,
                             force_iterations=force_iterations, seed=seed,
                             jobs=self.jobs if jobs is None else jobs).table
