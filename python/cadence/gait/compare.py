"""SPM comparison of two tasks for every feature at once (``LocomotionData.spm_compare``,
``cadence gait compare``): the subjects' mean curves are the observations, one engine call runs
every feature's test on the pool, and the clusters become one table row each."""

from __future__ import annotations

from dataclasses import dataclass, field
from math import comb

import numpy as np
import pandas as pd

from .. import _core
from ..runtime import make_job
from .spm import inputs
from .loading import warn
from .spm.nonparam import check_iterations

#: The table's columns (docs/gait.md, "Comparing conditions: SPM").
COLUMNS = ["feature", "start", "end", "extent", "p", "sign", "start_node", "end_node", "zstar", "test",
           "task_a", "task_b", "n_a", "n_b"]


@dataclass
class TaskComparison:
    """Everything a comparison found: the table, and per feature the curves and the SPM."""

    task_a: str
    task_b: str
    features: list[str]
    subjects_a: list[str]
    subjects_b: list[str]
    curves_a: np.ndarray  # (subjects, features, Q)
    curves_b: np.ndarray
    test: str
    alpha: float
    two_tailed: bool
    z: list[np.ndarray] = field(default_factory=list)  # per feature
    zstar: list[float] = field(default_factory=list)
    clusters: list[np.ndarray] = field(default_factory=list)  # rows of _core.SPM_CLUSTER_COLUMNS
    table: pd.DataFrame | None = None
    skipped: dict[str, str] = field(default_factory=dict)  # feature -> why it was not tested

    @property
    def nodes(self) -> int:
        return int(self.curves_a.shape[2])


def _curves(data, task: str, names: list[str]) -> tuple[list[str], np.ndarray]:
    subjects, curves = data.subject_mean_curves(task, names)
    if len(subjects) < 2:
        raise inputs.SpmInputError(f"task {task!r}: {len(subjects)} subject(s) with whole cycles; an SPM test "
                                   f"needs at least 2 observations (subjects' mean curves) per task")
    nonfinite = ~np.isfinite(curves).all(axis=2)  # (subjects, features): one pass, not one per feature
    for i in np.flatnonzero(nonfinite.any(axis=0)):
        name, bad = names[i], nonfinite[:, i]
        if bad.any():
            who = [s for s, b in zip(subjects, bad) if b]
            raise inputs.SpmInputError(
                f"feature {name!r}, task {task!r}: the mean curve of subject {who[0]!r}"
                f"{f' (and {len(who) - 1} more)' if len(who) > 1 else ''} holds NaN; a cycle with NaN makes "
                f"the mean NaN under nan_policy='propagate': open the file with nan_policy='omit' "
                f"(CLI: --nan-policy omit) or leave the feature out")
    return subjects, curves


def compare_tasks(data, task_a: str, task_b: str, features: list[str] | None = None, *, paired: bool = False,
                  alpha: float = 0.05, nonparametric: bool = False, iterations: int = -1,
                  two_tailed: bool = True, force_iterations: bool = False, seed: int = 0,
                  jobs: int = 0) -> TaskComparison:
    """See ``LocomotionData.spm_compare``; returns the whole :class:`TaskComparison`."""
    names = list(data.features if features is None else features)
    unknown = [n for n in names if n not in data.features]
    if unknown:
        raise inputs.SpmInputError(f"feature {unknown[0]!r} is not a feature of {data.data_path.name}"
                                   f"{f' ({len(unknown)} unknown in all)' if len(unknown) > 1 else ''}; "
                                   f"features are e.g. {', '.join(data.features[:3])}")
    if not names:
        raise inputs.SpmInputError("no features to compare")
    if task_a == task_b:
        raise inputs.SpmInputError(f"task_a and task_b are both {task_a!r}: compare two different tasks")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha={alpha}: give a Type I error rate between 0 and 1")
    for task in (task_a, task_b):
        if task not in data.tasks:
            raise inputs.SpmInputError(f"task {task!r} is not in {data.data_path.name}; its tasks: "
                                       f"{', '.join(data.tasks)}")
    subjects_a, a = _curves(data, task_a, names)
    subjects_b, b = _curves(data, task_b, names)
    if paired:  # by subject name, never by row order
        only_a = sorted(set(subjects_a) - set(subjects_b))
        only_b = sorted(set(subjects_b) - set(subjects_a))
        if only_a or only_b:
            said = "; ".join(s for s in (
                f"only in {task_a!r}: {', '.join(only_a)}" if only_a else "",
                f"only in {task_b!r}: {', '.join(only_b)}" if only_b else "") if s)
            raise inputs.SpmInputError(f"a paired comparison needs the same subjects in both tasks ({said}); "
                                       f"compare unpaired, or filter those subjects out")
        order = [subjects_b.index(s) for s in subjects_a]
        b, subjects_b = b[order], list(subjects_a)
    skipped = _zero_variance(names, a, b, task_a, task_b, paired)
    tested = [i for i, name in enumerate(names) if name not in skipped]
    design = inputs.ONE_SAMPLE if paired else inputs.TWO_SAMPLE
    if paired:
        ys = [np.ascontiguousarray(a[:, i, :] - b[:, i, :]) for i in tested]
        groups, n_groups = None, 0
        n_unique = 2 ** len(subjects_a)
    else:
        ys = [np.ascontiguousarray(np.vstack([a[:, i, :], b[:, i, :]]), dtype=np.float64) for i in tested]
        groups = np.r_[np.zeros(len(subjects_a), np.int32), np.ones(len(subjects_b), np.int32)]
        n_groups = 2
        n_unique = comb(len(subjects_a) + len(subjects_b), len(subjects_a))
    if nonparametric:
        check_iterations(n_unique, int(iterations), alpha, force_iterations)
    test = ("nonparam." if nonparametric else "") + ("ttest_paired" if paired else "ttest2")
    results = _core.spm_compare_all(design, [np.ascontiguousarray(y, dtype=np.float64) for y in ys], groups,
                                    n_groups, None, bool(nonparametric), float(alpha), bool(two_tailed),
                                    int(iterations) if nonparametric else -1, int(seed), make_job(jobs, 0))
    out = TaskComparison(task_a, task_b, names, subjects_a, subjects_b, a, b, test, alpha, two_tailed,
                         skipped=skipped)
    nodes = out.nodes
    by_feature = dict(zip(tested, results))
    found, feature_of, zstar_of = [], [], []  # each tested feature's cluster rows, for one table
    for i, name in enumerate(names):
        r = by_feature.get(i)
        if r is None:  # not tested: no clusters, NaN field
            out.z.append(np.full(nodes, np.nan))
            out.zstar.append(float("nan"))
            out.clusters.append(np.empty((0, len(_core.SPM_CLUSTER_COLUMNS))))
            continue
        if r["error"]:
            raise inputs.SpmInputError(f"feature {name!r}: {r['error']}")
        out.z.append(np.asarray(r["z"]))
        out.zstar.append(float(r["zstar"]))
        clusters = np.asarray(r["clusters"], dtype=np.float64).reshape(-1, len(_core.SPM_CLUSTER_COLUMNS))
        out.clusters.append(clusters)
        found.append(clusters)
        feature_of += [name] * len(clusters)
        zstar_of += [float(r["zstar"])] * len(clusters)
    out.table = _table(found, feature_of, zstar_of, nodes, test, task_a, task_b, len(subjects_a), len(subjects_b))
    out.table.attrs["skipped"] = dict(skipped)
    if skipped:
        shown = "; ".join(f"{k} ({v})" for k, v in list(skipped.items())[:5])
        warn(f"{len(skipped)} of {len(names)} feature(s) not tested, their statistic being undefined (spm1d "
             f"refuses such curves): {shown}{' ...' if len(skipped) > 5 else ''}")
    return out


def _table(found, feature_of, zstar_of, nodes, test, task_a, task_b, n_a, n_b) -> pd.DataFrame:
    """One row per cluster (COLUMNS), built column by column."""
    c = np.concatenate(found) if found else np.empty((0, len(_core.SPM_CLUSTER_COLUMNS)))
    x0, x1, sign, p = (c[:, _core.SPM_CLUSTER_COLUMNS.index(k)] for k in ("x0", "x1", "sign", "p"))
    n = len(c)
    values = [feature_of, x0 * 100.0 / (nodes - 1), x1 * 100.0 / (nodes - 1), (x1 - x0) * 100.0 / (nodes - 1), p,
              sign.astype(np.int64), x0, x1, zstar_of, [test] * n, [task_a] * n, [task_b] * n, [n_a] * n, [n_b] * n]
    return pd.DataFrame(dict(zip(COLUMNS, values)))  # in COLUMNS' order (columns= would re-index: slower)


def _zero_variance(names, a, b, task_a, task_b, paired) -> dict[str, str]:
    """Features whose curves have zero variance at a node in either task (or, paired, in their
    difference): spm1d's data check refuses them, a batch reports them and carries on."""
    skipped = {}
    checks = [(a, task_a), (b, task_b)] + ([(a - b, f"{task_a} - {task_b}")] if paired else [])
    flat = [(y.var(axis=0) == 0, what) for y, what in checks]  # (features, Q) each, spm1d's test
    for i in np.flatnonzero(np.any([zero.any(axis=1) for zero, _ in flat], axis=0)):
        name = names[i]
        for zero, what in flat:
            if zero[i].any():
                nodes = np.flatnonzero(zero[i])
                skipped[name] = f"zero variance in {what} at {len(nodes)} node(s), first {nodes[0]}"
                break
    return skipped
