"""What ``cadence gait report`` shows, computed before anything is drawn.

Per task, the variables are drawn on pages of one kind each (:func:`report_pages`: angles,
velocities, moments, powers, GRF and COP; at most :data:`PANELS_PER_PAGE` panels, so that the
text stays readable at 100 % zoom). Per task and variable (one panel each in
``plots.TaskSummaryFigure``):

- the mean +- SD band of the valid cycles of every subject. Each subject x task group's mean and
  standard deviation patterns come from the engine (two-pass, in C++); groups are pooled exactly
  (``pool_patterns``), never through E[x^2] - E[x]^2, which cancels badly when the SD is small
  next to the mean;
- y limits that show every valid cycle (outliers included) and every drawn invalid cycle, unless
  a cycle reaches further than :data:`Y_REACH` spans beyond Tukey's far-out fences of the valid
  cycles' extremes (the engine's per-cycle min and max): such a spike would flatten the band, so
  it is cut at the edge, counted, and its extreme value printed in the panel;
- the invalid cycles *in the variables that failed only* (LocoHub's per-variable fail bits),
  and the outlier cycles (RMSE to the mean pattern over all variables), up to a cap per task.

The tables beside the plots: ``invalid_rows`` gives one row per failing cycle x variable with
the rules it broke. :func:`write_report` writes the whole report (the CLI only prints its summary).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import _core
from . import features as feat
from .reader import POINTS_PER_CYCLE, feature_kind
from .validation import RANGE_BIT, RULES

#: A panel's y axis reaches Tukey's "far out" fences of the valid cycles' per-cycle extremes:
#: Q3 of the maxima + 3 IQR above, Q1 of the minima - 3 IQR below (never past the data). Plain
#: percentiles are not enough: with 35 cycles the 99th lies two thirds of the way to the largest.
Y_FENCE_IQR = 3.0
#: How far beyond those fences the axis still reaches, in spans of the fenced range: the
#: sample's outlier strides lie within 0.7 span of the fences, a spike tens of spans out.
Y_REACH = 1.0
#: Space added above and below, as a fraction of the range.
Y_MARGIN = 0.08

#: Report pages, one kind of variable each: (file key, heading, markers a name contains; the
#: first marker found decides, in this order). Variables with none go on the "other" page.
PAGE_GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("angles", "joint and segment angles", ("angle",)),
    ("velocities", "angular velocities", ("velocity",)),
    ("moments", "joint moments", ("moment",)),
    ("powers", "joint powers", ("power",)),
    ("grf", "ground reaction forces and centre of pressure", ("grf", "cop")),
    ("other", "other variables", ()),
)
#: At most 4 x 4 panels a page: at 100 dpi a page is then at most ~1500 x 1300 px, its text 9 pt
#: or more (12 px), readable at 100 % zoom. A larger group is split into equal pages.
PANELS_PER_PAGE = 16


def report_pages(names: list[str]) -> list[tuple[str, str, list[str]]]:
    """The report's pages: ``(key, heading, names)``, groups in :data:`PAGE_GROUPS` order, names
    in file order within a group; a group of more than :data:`PANELS_PER_PAGE` names is split
    into pages of near equal size (keys ``angles-1``, ``angles-2``, ...)."""
    markers = [(key, m) for key, _, ms in PAGE_GROUPS for m in ms]
    groups: dict[str, list[str]] = {key: [] for key, _, _ in PAGE_GROUPS}
    for name in names:
        groups[next((key for key, m in markers if m in name), "other")].append(name)
    pages = []
    for key, heading, _ in PAGE_GROUPS:
        group = groups[key]
        n_pages = -(-len(group) // PANELS_PER_PAGE)
        for i, part in enumerate(np.array_split(np.arange(len(group)), n_pages) if n_pages else []):
            tag = f"{key}-{i + 1}" if n_pages > 1 else key
            title = f"{heading} ({i + 1} of {n_pages})" if n_pages > 1 else heading
            pages.append((tag, title, [group[j] for j in part]))
    return pages


def rules_text(bits: int) -> str:
    """"angle_jump,non_finite" for a cycle x variable's fail bits (LocoHub's rules)."""
    return ",".join(name for b, name in RULES.items() if bits & b and b != RANGE_BIT)


def invalid_rows(table: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """One row per invalid cycle x failing variable: subject, task, step, cycle, variable, rules."""
    bad = table.loc[~table["valid"]]
    rows = []
    for name in names:
        bits = bad[f"{name}__fail"].to_numpy()
        hit = bits != 0
        part = bad.loc[hit, ["subject", "task", "step", "cycle"]].copy()
        part["variable"] = name
        part["rules"] = [rules_text(int(b)) for b in bits[hit]]
        rows.append(part)
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(
        columns=["subject", "task", "step", "cycle", "variable", "rules"])
    for c in ("subject", "task"):
        out[c] = out[c].astype(str)
    return out.sort_values(["subject", "task", "cycle", "variable"], kind="stable").reset_index(drop=True)


def pool_patterns(counts, means, stds) -> tuple[np.ndarray, np.ndarray, int]:
    """Mean and SD (ddof 0) over the union of groups, from each group's count, mean and SD
    pattern: var = sum n_g (sd_g^2 + (mean_g - mean)^2) / N. Exact, and stable because each
    term is non-negative (the groups' SDs come from the engine's two-pass sums)."""
    counts = np.asarray(counts, dtype=np.float64)
    n = counts.sum()
    if n == 0:
        return np.full_like(means[0], np.nan), np.full_like(means[0], np.nan), 0
    w = counts[:, None, None] / n
    mean = (w * np.asarray(means)).sum(axis=0)
    var = (w * (np.asarray(stds) ** 2 + (np.asarray(means) - mean) ** 2)).sum(axis=0)
    return mean, np.sqrt(var), int(n)


@dataclass
class TaskPanels:
    """Everything one task's figure shows; arrays are (features, 150) unless said otherwise."""

    task: str
    names: list[str]
    n_valid: int
    mean: np.ndarray
    sd: np.ndarray
    ylim: list[tuple[float, float]]            # per feature
    clipped: list[int]                         # per feature: cycles of the task beyond ylim
    beyond: list[tuple[float, float]] = field(default_factory=list)  # per feature: furthest values cut (NaN: none)
    invalid: dict[str, list[np.ndarray]] = field(default_factory=dict)   # failing cycles, per variable
    outliers: dict[str, list[np.ndarray]] = field(default_factory=dict)  # outlier cycles, per variable
    n_invalid: int = 0    # invalid cycles of the task (drawn: up to the cap)
    n_outliers: int = 0

    def subset(self, names: list[str]) -> "TaskPanels":
        """The panels of ``names`` only (one report page)."""
        idx = [self.names.index(n) for n in names]
        return TaskPanels(self.task, list(names), self.n_valid, self.mean[idx], self.sd[idx],
                          [self.ylim[i] for i in idx], [self.clipped[i] for i in idx],
                          [self.beyond[i] for i in idx] if self.beyond else [],
                          {n: self.invalid.get(n, []) for n in names}, {n: self.outliers.get(n, []) for n in names},
                          self.n_invalid, self.n_outliers)


def y_limits(lo: np.ndarray, hi: np.ndarray, drawn_lo=(), drawn_hi=()) -> tuple[float, float]:
    """Limits from the valid cycles' minima ``lo`` and maxima ``hi`` and the drawn invalid
    cycles' finite extremes ``drawn_lo``/``drawn_hi``: every value within :data:`Y_REACH` spans
    of the valid cycles' far-out fences (:data:`Y_FENCE_IQR`) is inside; values further out do
    not move the axis at all (a spike would flatten the band; it is cut and counted instead).
    Not widened for the SD band: a spike in a valid cycle widens the band at its point only."""
    lo, hi = lo[np.isfinite(lo)], hi[np.isfinite(hi)]
    if lo.size == 0 or hi.size == 0:
        return (-1.0, 1.0)
    q1, q3 = np.percentile(lo, [25, 75])
    a = max(float(q1 - Y_FENCE_IQR * (q3 - q1)), float(lo.min()))
    q1, q3 = np.percentile(hi, [25, 75])
    b = min(float(q3 + Y_FENCE_IQR * (q3 - q1)), float(hi.max()))
    reach = Y_REACH * ((b - a) or max(abs(a), abs(b), 1.0))
    lows = np.r_[lo, np.asarray(drawn_lo, dtype=np.float64)]
    highs = np.r_[hi, np.asarray(drawn_hi, dtype=np.float64)]
    with np.errstate(invalid="ignore"):
        lows, highs = lows[lows >= a - reach], highs[highs <= b + reach]
    a, b = min(a, float(lows.min(initial=a))), max(b, float(highs.max(initial=b)))
    pad = (b - a) * Y_MARGIN or max(abs(a), 1.0) * Y_MARGIN
    return (a - pad, b + pad)


@dataclass
class ReportSummary:
    """What :func:`write_report` wrote: summary.txt's text and the plot file names."""

    text: str
    plots: list[str]


def write_report(loco, names: list[str], out, *, file_label, memory_limit=None, max_invalid: int = 40,
                 jobs: int = 0, show_progress: bool | None = None) -> ReportSummary:
    """``cadence gait report``'s outputs in the directory ``out``: outliers.csv, invalid.csv, a
    figure per task and page (``<task>.<page>.png``) and summary.txt, renamed into place together
    when all are whole (atomic.atomic_files)."""
    from pathlib import Path

    from ..atomic import atomic_files
    from ..runtime import Progress, make_job
    from .plots import TaskSummaryFigure

    out = Path(out)
    # One read of the file: the feature columns are loaded once when they fit the memory limit,
    # and both the per-cycle features and the per-subject cycles below come from them.
    loco.feature_table()
    table = loco.cycle_features(names, output="pandas", memory_limit=memory_limit, fail_flags=True,
                                show_progress=show_progress)
    outliers = table.loc[table["is_outlier"], ["subject", "task", "step", "cycle", "rmse"]]
    invalid = invalid_rows(table, names)
    tasks = [t for t in loco.tasks if (table["task"] == t).any()]
    pages = report_pages(names)
    job = make_job(jobs, 0)
    written, figures = [], {}
    with atomic_files() as files:
        outliers.to_csv(files.path(out / "outliers.csv"), index=False)
        invalid.to_csv(files.path(out / "invalid.csv"), index=False)
        try:
            with Progress("report", "plot", show_progress) as bar:
                bar.update(0, len(tasks))
                for i, task in enumerate(tasks):
                    panels = task_panels(loco, table, task, names, max_invalid, job)
                    for key, heading, page in pages if panels is not None else []:
                        if key not in figures:  # one figure per page, made once, redrawn per task
                            figures[key] = TaskSummaryFigure(page, heading)
                        figures[key].save(panels.subset(page), files.path(out / f"{task}.{key}.png"))
                        written.append(f"{task}.{key}.png")
                    bar.update(i + 1, len(tasks), postfix=task)
        finally:
            for figure in figures.values():
                figure.close()
        lines = [f"file        {file_label}", f"cycles      {len(table):,}",
                 f"valid       {int(table['valid'].sum()):,}",
                 f"outliers    {len(outliers):,} (listed in outliers.csv)",
                 f"invalid     {int((~table['valid']).sum()):,} cycles; {len(invalid):,} cycle x variable "
                 f"failures with their rules in invalid.csv",
                 f"dropped     {len(loco.drop_log)} group(s)/cycle(s)",
                 f"plots       {len(written)} (<task>.<page>.png; pages: {', '.join(k for k, _, _ in pages)})"]
        files.path(out / "summary.txt").write_text("\n".join(lines) + "\n")
    return ReportSummary("\n".join(lines), written)


def task_panels(loco, table: pd.DataFrame, task: str, names: list[str], max_drawn: int, job) -> TaskPanels | None:
    """The panels of one task from the per-cycle table (``cycle_features(fail_flags=True)``) and
    the cycles of its subjects (``get_cycles``)."""
    rows = table[table["task"] == task]
    if rows.empty:
        return None
    kinds = [feature_kind(n) for n in names]
    counts, means, stds = [], [], []
    invalid = {n: [] for n in names}
    outliers = {n: [] for n in names}
    drawn_invalid = drawn_outliers = 0
    for subject, group in rows.groupby("subject", sort=True, observed=True):
        data, got = loco.get_cycles(str(subject), task, names)
        if data is None or list(got) != list(names):
            continue
        cycles = group["cycle"].to_numpy()
        valid = group["valid"].to_numpy()
        ok = cycles[valid]
        if ok.size:
            x = data[ok]
            columns = [np.ascontiguousarray(x[:, :, i]).reshape(-1) for i in range(len(names))]
            r = _core.gait_analyse_group(columns, int(ok.size), kinds, feat.nan_policy_code("propagate"), 2.0,
                                         False, job)
            counts.append(ok.size)
            means.append(r["mean_pattern"])
            stds.append(r["std_pattern"])
        for c, flags in zip(cycles[~valid], group.loc[~group["valid"], [f"{n}__fail" for n in names]].to_numpy()):
            if drawn_invalid >= max_drawn:
                break
            drawn_invalid += 1
            for i, name in enumerate(names):
                if flags[i]:
                    invalid[name].append(np.asarray(data[c, :, i], dtype=np.float64))
        for c in cycles[group["is_outlier"].to_numpy() & valid]:
            if drawn_outliers >= max_drawn:
                break
            drawn_outliers += 1
            for i, name in enumerate(names):
                outliers[name].append(np.asarray(data[c, :, i], dtype=np.float64))
    shape = (len(names), POINTS_PER_CYCLE)
    mean, sd, n_valid = pool_patterns(counts, means, stds) if counts else (np.full(shape, np.nan),
                                                                           np.full(shape, np.nan), 0)
    ylim, clipped, furthest = [], [], []
    valid_rows = rows[rows["valid"]]
    for i, name in enumerate(names):
        lo = valid_rows[f"{name}__min"].to_numpy(dtype=np.float64)
        hi = valid_rows[f"{name}__max"].to_numpy(dtype=np.float64)
        # A cycle holding NaN has NaN extremes in the table (numpy's propagation): the drawn
        # ones count by their finite part, which is what the panel shows.
        drawn = [c for c in invalid[name] if np.isfinite(c).any()]
        with_nan = [c for c in drawn if np.isnan(c).any()]
        with np.errstate(invalid="ignore"):
            limits = y_limits(lo, hi, [np.nanmin(c) for c in drawn], [np.nanmax(c) for c in drawn])
            all_lo, all_hi = rows[f"{name}__min"].to_numpy(), rows[f"{name}__max"].to_numpy()
            below = np.r_[all_lo[all_lo < limits[0]], [np.nanmin(c) for c in with_nan if np.nanmin(c) < limits[0]]]
            above = np.r_[all_hi[all_hi > limits[1]], [np.nanmax(c) for c in with_nan if np.nanmax(c) > limits[1]]]
            n_out = int(((all_lo < limits[0]) | (all_hi > limits[1])).sum())
            n_out += sum(bool(np.nanmin(c) < limits[0] or np.nanmax(c) > limits[1]) for c in with_nan)
        ylim.append(limits)
        clipped.append(n_out)
        furthest.append((float(below.min()) if below.size else np.nan, float(above.max()) if above.size else np.nan))
    return TaskPanels(task, names, n_valid, mean, sd, ylim, clipped, furthest, invalid, outliers,
                      n_invalid=int((~rows["valid"]).sum()), n_outliers=int((rows["is_outlier"] & rows["valid"]).sum()))
