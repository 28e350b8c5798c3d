"""Plots written to files (matplotlib's Agg backend: no display needed).

LocomotionData's plot methods (:class:`PlotMethods`, a mixin; pyplot is imported on the first
plot, not with this module), LocoHub's three plots (phase patterns with invalid cycles in red;
task comparison; time series) and the report's per-task panels (TaskSummaryFigure, fed by
report.py): mean +- SD of the valid cycles of all subjects, invalid cycles in the variables
that failed, outliers, robust y limits.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ..atomic import temp_name
from .reader import POINTS_PER_CYCLE

PHASE_PCT = np.linspace(0.0, 100.0, POINTS_PER_CYCLE)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _grid(plt, n: int, n_cols: int = 3, size: tuple[float, float] = (5, 4)):
    n_cols = max(1, min(n_cols, n))
    n_rows = int(np.ceil(n / n_cols))
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(size[0] * n_cols, size[1] * n_rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes.flat


def _finish(plt, fig, save_path):
    # pyplot's module functions on the current figure (this one), as LocoHub's plots call them:
    # LocoHub users' tests patch plt.tight_layout / plt.savefig / plt.suptitle.
    plt.tight_layout()
    if save_path is None:
        return fig
    return save_figure(plt, fig, save_path)


def save_figure(plt, fig, save_path) -> Path:
    """plt.savefig to a temporary name beside `save_path`, renamed when whole: a failed or
    interrupted save leaves the old file. A replaced savefig (a LocoHub test's mock) writes
    nothing, and then nothing is renamed."""
    target = Path(save_path)
    tmp = temp_name(target)
    try:
        plt.savefig(tmp, dpi=100, bbox_inches="tight", format=target.suffix.lstrip(".") or "png")
        if tmp.exists():
            os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
        plt.close(fig)
    return target


class PlotMethods:
    """Mixed into LocomotionData: LocoHub's three plot methods, drawn by this module's functions.
    Each returns the saved path, or the Figure when ``save_path`` is None (LocoHub calls
    plt.show(), which the Agg backend cannot)."""

    def plot_phase_patterns(self, subject: str, task: str, features: list[str], plot_type: str = "both",
                            save_path: str | Path | None = None):
        """Mean +- SD of valid cycles, with individual cycles (invalid ones in red)."""
        self._check_plotting()
        if not self._groups(subject, task):
            print(f"No data found for {subject} - {task}")
            return None
        return plot_phase_patterns(self, subject, task, features, plot_type, save_path)

    def plot_task_comparison(self, subject: str, tasks: list[str], features: list[str],
                             save_path: str | Path | None = None):
        """Mean +- SD patterns of several tasks, one panel per feature."""
        self._check_plotting()
        return plot_task_comparison(self._mean_and_std, subject, tasks, features, save_path)

    def plot_time_series(self, subject: str, task: str, features: list[str], time_col: str = "time_s",
                         save_path: str | Path | None = None):
        """Each feature against ``time_col``, one panel per feature (LocoHub's plot); a panel says
        what the file lacks: the time column, or the feature."""
        self._check_plotting()
        groups = self._groups(subject, task)
        if not groups:
            print(f"No data found for {subject} - {task}")
            return None
        present = [c for c in dict.fromkeys([time_col, *features]) if self._column(c) in self._file.columns]
        table = self._read_rows(self._runs(groups), [self._column(c) for c in present]) if present else None
        table = None if table is None else table.rename_columns(present)
        return plot_time_series(table, subject, task, features, time_col, save_path)


def plot_phase_patterns(loco, subject, task, features, plot_type="both", save_path=None):
    """LocoHub's plot: individual cycles (valid grey, invalid red) and mean +- SD of valid ones."""
    if plot_type not in ("mean", "spaghetti", "both"):
        raise ValueError(f"plot_type={plot_type!r}: use 'mean', 'spaghetti' or 'both'")
    data, names = loco.get_cycles(subject, task, features)
    if data is None:
        return None
    valid = loco.validate_cycles(subject, task, names)
    plt = _pyplot()
    fig, axes = _grid(plt, len(names))
    for i, (ax, name) in enumerate(zip(axes, names)):
        x = data[:, :, i]
        if plot_type in ("spaghetti", "both"):
            for cycle in x[valid]:
                ax.plot(PHASE_PCT, cycle, color="gray", alpha=0.3, linewidth=0.8)
            for cycle in x[~valid]:
                ax.plot(PHASE_PCT, cycle, color="red", alpha=0.5, linewidth=0.8)
        if plot_type in ("mean", "both") and valid.any():
            m, s = x[valid].mean(axis=0), x[valid].std(axis=0)
            ax.fill_between(PHASE_PCT, m - s, m + s, alpha=0.3, color="blue")
            ax.plot(PHASE_PCT, m, color="blue", linewidth=2, label="Mean")
        ax.set_xlabel("Gait Cycle (%)")
        ax.set_ylabel(name.replace("_", " "))
        ax.set_title(name, fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.set_xlim(0, 100)
    plt.suptitle(f"{subject} - {task} (Valid: {int(valid.sum())}/{len(valid)} cycles)")
    return _finish(plt, fig, save_path)


def plot_task_comparison(mean_and_std, subject, tasks, features, save_path=None):
    """LocoHub's plot: mean patterns of several tasks of one subject, one panel per feature,
    each with its ± 1 SD band (ddof 0) as plot_phase_patterns draws it.
    ``mean_and_std(subject, task, features)`` gives ``{feature: (mean, std)}``; it is called once
    per task, so a task without data warns once (LocoHub asks, and warns, per feature)."""
    plt = _pyplot()
    fig, axes = _grid(plt, len(features))
    colors = plt.cm.tab10(np.linspace(0, 1, max(len(tasks), 1)))
    patterns = {task: mean_and_std(subject, task, features) for task in tasks}
    for ax, feature in zip(axes, features):
        for color, task in zip(colors, tasks):
            if feature in patterns[task]:
                m, s = patterns[task][feature]
                ax.fill_between(PHASE_PCT, m - s, m + s, color=color, alpha=0.2, linewidth=0)
                ax.plot(PHASE_PCT, m, color=color, linewidth=2, label=task)
        ax.set_xlabel("Gait Cycle (%)")
        ax.set_ylabel(feature.replace("_", " "))
        ax.set_title(feature, fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.set_xlim(0, 100)
        ax.legend(fontsize=7)
    plt.suptitle(f"{subject} - Task Comparison (mean ± SD)")
    return _finish(plt, fig, save_path)


def plot_time_series(table, subject, task, features, time_col, save_path=None):
    """LocoHub's plot: each feature against ``time_col`` (``table`` holds the columns the file
    has, or is None); a panel says what is missing: the time column (every panel), or its
    feature."""
    present = [] if table is None else table.column_names
    plt = _pyplot()
    # pyplot's own calls (subplots, tight_layout, savefig), as LocoHub makes them.
    fig, axes = plt.subplots(len(features), 1, figsize=(12, 3 * len(features)), sharex=True)
    axes = [axes] if len(features) == 1 else list(axes)
    for ax, name in zip(axes, features):
        if table is not None and name in present and time_col in present:
            ax.plot(table.column(time_col).to_numpy(), table.column(name).to_numpy(), "b-", linewidth=1)
            ax.set_ylabel(name.replace("_", " "))
            ax.grid(True, alpha=0.3)
        else:
            missing = (f"Time column {time_col!r} not found: this file has no time axis (a phase-indexed file "
                       f"often has none; name another with time_col=)" if time_col not in present
                       else f"Feature {name} not found")
            ax.text(0.5, 0.5, missing, ha="center", va="center", transform=ax.transAxes, wrap=True)
    if axes:
        axes[-1].set_xlabel("Time (s)")
    plt.suptitle(f"{subject} - {task}")
    return _finish(plt, fig, save_path)


class TaskSummaryFigure:
    """The report's figure: one panel per variable, drawn for one task after another from a
    :class:`cadence.gait.report.TaskPanels`:

    - blue: mean +- SD of the valid cycles of every subject;
    - red: invalid cycles, only in the panels of the variables that failed (the rules are in
      invalid.csv);
    - orange, dashed: outlier cycles (RMSE to the mean pattern over all variables);
    - y axis: robust limits from the valid cycles; a curve beyond them is clipped at the edge and
      marked with a triangle there, and the panel says how many cycles of the task go beyond.

    Built for many panels (40+ variables for a whole file, five or more tasks): the panels are
    made once and only their data change between tasks; a fixed grid instead of tight_layout and
    bbox_inches='tight' (each lays out every tick label of every panel again); x tick labels on
    the bottom row only, few y ticks; a panel's cycles are one LineCollection per kind; PNGs are
    compressed lightly (zlib level 1: encoding a large figure at the default level costs more
    than drawing it)."""

    INVALID = dict(color="red", alpha=0.55, linewidth=0.7)
    OUTLIER = dict(color="darkorange", alpha=0.8, linewidth=0.8, linestyle="--")
    MEAN = dict(color="blue", linewidth=1.5)
    BAND = dict(color="blue", alpha=0.25)

    def __init__(self, names: list[str]) -> None:
        from matplotlib.collections import LineCollection
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch
        from matplotlib.ticker import FixedLocator, MaxNLocator

        self.plt = plt = _pyplot()
        self.names = names
        n = len(names)
        n_cols = max(1, min(5, n))
        n_rows = int(np.ceil(n / n_cols))
        width, height = 3.4 * n_cols, 2.3 * n_rows + 1.1  # inches; margins below in inches too
        self.fig, grid = plt.subplots(n_rows, n_cols, figsize=(width, height), squeeze=False)
        self.fig.subplots_adjust(left=0.6 / width, right=1 - 0.15 / width, bottom=0.45 / height,
                                 top=1 - 1.05 / height, wspace=0.32, hspace=0.42)
        self.axes = list(grid.flat)[:n]
        for ax in list(grid.flat)[n:]:
            ax.set_visible(False)
        self.invalid, self.outliers, self.mean, self.band, self.marks, self.notes = [], [], [], [], [], []
        for i, (ax, name) in enumerate(zip(self.axes, names)):
            self.invalid.append(ax.add_collection(LineCollection([], zorder=3, **self.INVALID)))
            self.outliers.append(ax.add_collection(LineCollection([], zorder=2, **self.OUTLIER)))
            self.mean.append(ax.plot(PHASE_PCT, np.zeros_like(PHASE_PCT), zorder=4, **self.MEAN)[0])
            self.marks.append((
                ax.plot([], [], linestyle="none", marker="^", markersize=4, color="black", zorder=5, clip_on=False)[0],
                ax.plot([], [], linestyle="none", marker="v", markersize=4, color="black", zorder=5, clip_on=False)[0]))
            self.notes.append(ax.text(0.99, 0.98, "", transform=ax.transAxes, ha="right", va="top", fontsize=6))
            self.band.append(None)
            ax.set_title(name, fontsize=8)
            ax.set_xlim(0, 100)
            ax.xaxis.set_major_locator(FixedLocator([0, 50, 100]))
            ax.yaxis.set_major_locator(MaxNLocator(4))
            ax.grid(True, alpha=0.3)
            ax.tick_params(labelsize=7, labelbottom=i >= n - n_cols)
            if i >= n - n_cols:
                ax.set_xlabel("gait cycle (%)", fontsize=7)
        self.title = self.fig.suptitle("", fontsize=10, y=1 - 0.15 / height, va="top")
        handles = [Line2D([], [], **self.MEAN), Patch(**self.BAND), Line2D([], [], **self.INVALID),
                   Line2D([], [], **self.OUTLIER),
                   Line2D([], [], linestyle="none", marker="^", markersize=4, color="black")]
        labels = ["mean of the valid cycles", "± 1 SD", "invalid in this variable (reasons: invalid.csv)",
                  "outlier (RMSE to the mean pattern)", "cut at the axis (cycles beyond it: count in the corner)"]
        self.fig.legend(handles, labels, loc="upper center", ncol=5, fontsize=7, frameon=False,
                        bbox_to_anchor=(0.5, 1 - 0.5 / height))

    @staticmethod
    def _clip(cycles, lo: float, hi: float):
        """Segments clipped to [lo, hi], and for each curve that was cut one point on the edge
        where it went furthest out: (x, y) above the axis, (x, y) below it."""
        segments, up, down = [], [], []
        for c in cycles:
            y = np.clip(c, lo, hi)
            segments.append(np.column_stack([PHASE_PCT, y]))
            with np.errstate(invalid="ignore"):
                if (c > hi).any():
                    up.append(PHASE_PCT[int(np.nanargmax(c))])
                if (c < lo).any():
                    down.append(PHASE_PCT[int(np.nanargmin(c))])
        return segments, np.asarray(up), np.asarray(down)

    def save(self, panels, save_path) -> Path:
        """Draw one task (a :class:`cadence.gait.report.TaskPanels`) and write the PNG."""
        for i, (ax, name) in enumerate(zip(self.axes, self.names)):
            lo, hi = panels.ylim[i]
            segs, up, down = self._clip(panels.invalid.get(name, []), lo, hi)
            self.invalid[i].set_segments(segs)
            osegs, oup, odown = self._clip(panels.outliers.get(name, []), lo, hi)
            self.outliers[i].set_segments(osegs)
            up, down = np.r_[up, oup], np.r_[down, odown]
            self.marks[i][0].set_data(up, np.full(up.shape, hi))
            self.marks[i][1].set_data(down, np.full(down.shape, lo))
            if self.band[i] is not None:
                self.band[i].remove()
                self.band[i] = None
            self.mean[i].set_visible(panels.n_valid > 0)
            if panels.n_valid:
                m, sd = panels.mean[i], panels.sd[i]
                self.mean[i].set_ydata(m)
                self.band[i] = ax.fill_between(PHASE_PCT, m - sd, m + sd, linewidth=0, zorder=1, **self.BAND)
            ax.set_ylim(lo, hi)
            n_failed = len(panels.invalid.get(name, []))
            note = [f"{panels.clipped[i]} beyond axis"] if panels.clipped[i] else []
            note += [f"{n_failed} failed here"] if n_failed else []
            self.notes[i].set_text("; ".join(note))
        self.title.set_text(f"{panels.task}: mean ± SD of {panels.n_valid:,} valid cycles; {panels.n_invalid:,} "
                            f"invalid, {panels.n_outliers:,} outlier(s)")
        # format given: the report writes under a temporary name without the .png suffix
        self.fig.savefig(save_path, dpi=100, format="png", pil_kwargs={"compress_level": 1})
        return Path(save_path)

    def close(self) -> None:
        self.plt.close(self.fig)
