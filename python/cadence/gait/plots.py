"""Plots written to files (matplotlib's Agg backend: no display needed).

LocomotionData's plot methods (:class:`PlotMethods`, a mixin; pyplot is imported on the first
plot, not with this module), LocoHub's three plots (phase patterns with invalid cycles in red;
task comparison; time series) and the report's pages (TaskSummaryFigure, fed by report.py):
mean +- SD of the valid cycles of all subjects, invalid cycles in the variables that failed
(NaN stretches marked), outliers, y limits that show them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..atomic import atomic_files
from ..text import plural
from .reader import PHASE_GRID_PCT as PHASE_PCT


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
    try:
        with atomic_files() as group:
            tmp = group.path(target)
            plt.savefig(tmp, dpi=100, bbox_inches="tight", format=target.suffix.lstrip(".") or "png")
            if not tmp.exists():
                group.abort()
    finally:
        plt.close(fig)
    return target


class PlotMethods:
    """Mixed into LocomotionData: LocoHub's three plot methods, drawn by this module's functions.
    Each returns the saved path, or the Figure when ``save_path`` is None (LocoHub calls
    plt.show(), which the Agg backend cannot)."""

    def plot_phase_patterns(self, subject: str, task: str, features: list[str], plot_type: str = "both",
                            save_path: str | Path | None = None):
        """Mean +- SD of valid cycles, with individual cycles (invalid ones in red). Validity is
        judged on the plotted features (LocoHub's plot); the title also gives
        ``validate_cycles(subject, task)``'s count over all features and names the features
        that fail only there."""
        self.check_plotting()
        if not self.group_ids(subject, task):
            print(f"No data found for {subject} - {task}")
            return None
        r, names = self.group_analysis(subject, task, None)
        every = None if r is None else AllFeatures(r["valid"].astype(bool), names,
                                                   [n for n, bits in zip(names, r["fail"]) if bits.any()])
        return plot_phase_patterns(self, subject, task, features, plot_type, save_path, every)

    def plot_task_comparison(self, subject: str, tasks: list[str], features: list[str],
                             save_path: str | Path | None = None):
        """Mean +- SD patterns of several tasks, one panel per feature."""
        self.check_plotting()
        return plot_task_comparison(self.mean_and_std, subject, tasks, features, save_path)

    def plot_time_series(self, subject: str, task: str, features: list[str], time_col: str = "time_s",
                         save_path: str | Path | None = None):
        """Each feature against ``time_col``, one panel per feature (LocoHub's plot); a panel says
        what the file lacks: the time column, or the feature."""
        self.check_plotting()
        groups = self.group_ids(subject, task)
        if not groups:
            print(f"No data found for {subject} - {task}")
            return None
        present = [c for c in dict.fromkeys([time_col, *features]) if self.column_of(c) in self.gait_file.columns]
        table = self.read_rows(self.runs_of(groups), [self.column_of(c) for c in present]) if present else None
        table = None if table is None else table.rename_columns(present)
        return plot_time_series(table, subject, task, features, time_col, save_path)


@dataclass
class AllFeatures:
    """``validate_cycles`` over every feature of a group, for plot_phase_patterns' title."""

    valid: np.ndarray          # per cycle
    names: list[str]           # every feature
    failing: list[str]         # features where some cycle fails


def validity_title(subject, task, valid: np.ndarray, names: list[str], every: AllFeatures | None) -> str:
    """LocoHub's "(Valid: 44/44 cycles)", which judges the plotted features only; when that
    differs from validate_cycles over all features, the title says both and which features
    fail elsewhere (a reader comparing it with validate_cycles' 43/44 would otherwise be lost)."""
    n = len(valid)
    head = f"{subject} - {task} (Valid: {int(valid.sum())}/{n} cycles"
    if every is None or set(names) >= set(every.names):
        return head + ")"
    head += f" in the {plural(len(names), 'plotted feature')})"
    elsewhere = [f for f in every.failing if f not in names]
    line = f"validate_cycles over all {len(every.names)} features: {int(every.valid.sum())}/{n} valid"
    if elsewhere and int(every.valid.sum()) != int(valid.sum()):
        shown = ", ".join(elsewhere[:3]) + (f" and {len(elsewhere) - 3} more" if len(elsewhere) > 3 else "")
        line += f" (failing in features not plotted: {shown})"
    return f"{head}\n{line}"


def plot_phase_patterns(loco, subject, task, features, plot_type="both", save_path=None,
                        every: AllFeatures | None = None):
    """LocoHub's plot: individual cycles (valid grey, invalid red: in the plotted features) and
    mean +- SD of valid ones; ``every`` gives the title the count over all features."""
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
    plt.suptitle(validity_title(subject, task, valid, list(names), every))
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


def finite_runs(finite: np.ndarray) -> list[tuple[int, int]]:
    """``[(start, stop), ...]`` of the runs of True in a boolean array (stop exclusive)."""
    edges = np.diff(np.r_[0, finite.astype(np.int8), 0])
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


class TaskSummaryFigure:
    """One page of the report: one panel per variable of one kind (report.report_pages), drawn
    for one task after another from a :class:`cadence.gait.report.TaskPanels`:

    - blue: mean +- SD of the valid cycles of every subject;
    - red: invalid cycles, only in the panels of the variables that failed (the rules are in
      invalid.csv); a cycle holding NaN is drawn where it is finite, and a red bar along the
      panel's bottom marks its NaN stretch (one path across the gap, under the mean, was not seen);
    - orange, dashed: outlier cycles (RMSE to the mean pattern over all variables);
    - y axis: every valid and drawn cycle (report.y_limits) unless it spikes far out; such a curve
      is cut at the edge and marked with a triangle there, and the panel says how many cycles of
      the task go beyond and how far.

    Readable at 100 % zoom: at most 4 x 4 panels of 3.8 x 2.8 inches at 100 dpi (a page at most
    ~1500 x 1300 px), no text under 9 pt (:attr:`FONT_PT`).

    Built for many pages and tasks: a page's panels are made once and only their data change
    between tasks; a fixed grid instead of tight_layout and bbox_inches='tight' (each lays out
    every tick label of every panel again); x tick labels on the bottom row only, few y ticks; a
    panel's cycles are one LineCollection per kind; titles at a fixed place (auto-placing them
    costs a fifth of a draw); PNGs are compressed lightly (zlib level 1:
    encoding a large figure at the default level costs more than drawing it)."""

    INVALID = dict(color="red", alpha=0.7, linewidth=1.3)
    NAN = dict(color="red", alpha=0.6, linewidth=5, capstyle="butt")
    OUTLIER = dict(color="darkorange", alpha=0.85, linewidth=1.0, linestyle="--")
    MEAN = dict(color="blue", linewidth=1.8)
    BAND = dict(color="blue", alpha=0.25)
    FONT_PT = dict(heading=13, title=10, tick=9, label=9, note=9, legend=9)
    PANEL_IN = (3.8, 2.8)      # one panel with its labels, inches (100 dpi: 380 x 280 px)
    MIN_WIDTH_IN = 11.0        # room for the legend's three columns
    TOP_IN, BOTTOM_IN, LEFT_IN = 1.35, 0.6, 0.75

    def __init__(self, names: list[str], heading: str = "") -> None:
        from matplotlib.collections import LineCollection
        from matplotlib.lines import Line2D
        from matplotlib.patches import Patch
        from matplotlib.ticker import FixedLocator, MaxNLocator

        self.plt = plt = _pyplot()
        self.names, self.heading = names, heading
        pt = self.FONT_PT
        n = len(names)
        n_cols = n if n <= 4 else 3 if n <= 9 else 4
        n_rows = int(np.ceil(n / n_cols))
        width = max(self.PANEL_IN[0] * n_cols, self.MIN_WIDTH_IN)
        height = self.PANEL_IN[1] * n_rows + self.TOP_IN + self.BOTTOM_IN
        self.fig, grid = plt.subplots(n_rows, n_cols, figsize=(width, height), squeeze=False)
        self.fig.subplots_adjust(left=self.LEFT_IN / width, right=1 - 0.2 / width, bottom=self.BOTTOM_IN / height,
                                 top=1 - self.TOP_IN / height, wspace=0.3, hspace=0.45)
        self.axes = list(grid.flat)[:n]
        for ax in list(grid.flat)[n:]:
            ax.set_visible(False)
        self.invalid, self.nan, self.outliers, self.mean, self.band, self.marks, self.notes = [], [], [], [], [], [], []
        for i, (ax, name) in enumerate(zip(self.axes, names)):
            # invalid cycles over the mean: a failed cycle often runs along it (a NaN gap, one spike)
            self.invalid.append(ax.add_collection(LineCollection([], zorder=5, **self.INVALID)))
            self.nan.append(ax.add_collection(LineCollection([], zorder=3, transform=ax.get_xaxis_transform(),
                                                             **self.NAN)))
            self.outliers.append(ax.add_collection(LineCollection([], zorder=2, **self.OUTLIER)))
            self.mean.append(ax.plot(PHASE_PCT, np.zeros_like(PHASE_PCT), zorder=4, **self.MEAN)[0])
            self.marks.append((
                ax.plot([], [], linestyle="none", marker="^", markersize=6, color="black", zorder=6, clip_on=False)[0],
                ax.plot([], [], linestyle="none", marker="v", markersize=6, color="black", zorder=6, clip_on=False)[0]))
            self.notes.append(ax.text(0.98, 0.97, "", transform=ax.transAxes, ha="right", va="top", zorder=7,
                                      fontsize=pt["note"], bbox=dict(facecolor="white", alpha=0.75, linewidth=0,
                                                                     pad=1.5)))
            self.band.append(None)
            ax.set_title(name, fontsize=pt["title"], y=1.0, pad=4)
            ax.set_xlim(0, 100)
            ax.xaxis.set_major_locator(FixedLocator([0, 50, 100]))
            ax.yaxis.set_major_locator(MaxNLocator(4))
            ax.grid(True, alpha=0.3)
            last_in_column = i + n_cols >= n  # no panel below: its x axis is labelled
            ax.tick_params(labelsize=pt["tick"], labelbottom=last_in_column)
            if last_in_column:
                ax.set_xlabel("gait cycle (%)", fontsize=pt["label"])
        self.title = self.fig.suptitle("", fontsize=pt["heading"], y=1 - 0.12 / height, va="top")
        handles = [Line2D([], [], **self.MEAN), Patch(**self.BAND), Line2D([], [], **self.OUTLIER),
                   Line2D([], [], **self.INVALID),
                   Line2D([], [], solid_capstyle="butt", **{k: v for k, v in self.NAN.items() if k != "capstyle"}),
                   Line2D([], [], linestyle="none", marker="^", markersize=6, color="black")]
        labels = ["mean of the valid cycles", "± 1 SD", "outlier (RMSE to the mean pattern)",
                  "invalid in this variable (rules: invalid.csv)", "NaN stretch of an invalid cycle",
                  "cut at the axis (corner: count, furthest value)"]
        self.fig.legend(handles, labels, loc="upper center", ncol=3, fontsize=pt["legend"], frameon=False,
                        bbox_to_anchor=(0.5, 1 - 0.5 / height))

    @staticmethod
    def _clip(cycles, lo: float, hi: float):
        """Segments clipped to [lo, hi], one per finite run of each curve; for each curve that
        was cut, one point on the edge where it went furthest out: (x, y) above, (x, y) below;
        and the NaN stretches as (x0, x1) spans half a point wider on each side."""
        segments, up, down, gaps = [], [], [], []
        step = PHASE_PCT[1] - PHASE_PCT[0]
        for c in cycles:
            finite = np.isfinite(c)
            y = np.clip(c, lo, hi)
            segments += [np.column_stack([PHASE_PCT[a:b], y[a:b]]) for a, b in finite_runs(finite)]
            gaps += [((PHASE_PCT[a] - step / 2, 0.02), (PHASE_PCT[b - 1] + step / 2, 0.02))
                     for a, b in finite_runs(~finite)]
            with np.errstate(invalid="ignore"):
                if (c > hi).any():
                    up.append(PHASE_PCT[int(np.nanargmax(c))])
                if (c < lo).any():
                    down.append(PHASE_PCT[int(np.nanargmin(c))])
        return segments, np.asarray(up), np.asarray(down), gaps

    def save(self, panels, save_path) -> Path:
        """Draw one task (a :class:`cadence.gait.report.TaskPanels` holding this page's
        variables, e.g. ``panels.subset(names)``) and write the PNG."""
        for i, (ax, name) in enumerate(zip(self.axes, self.names)):
            j = panels.names.index(name)
            lo, hi = panels.ylim[j]
            segs, up, down, gaps = self._clip(panels.invalid.get(name, []), lo, hi)
            self.invalid[i].set_segments(segs)
            self.nan[i].set_segments(gaps)
            osegs, oup, odown, _ = self._clip(panels.outliers.get(name, []), lo, hi)
            self.outliers[i].set_segments(osegs)
            up, down = np.r_[up, oup], np.r_[down, odown]
            self.marks[i][0].set_data(up, np.full(up.shape, hi))
            self.marks[i][1].set_data(down, np.full(down.shape, lo))
            if self.band[i] is not None:
                self.band[i].remove()
                self.band[i] = None
            self.mean[i].set_visible(panels.n_valid > 0)
            if panels.n_valid:
                m, sd = panels.mean[j], panels.sd[j]
                self.mean[i].set_ydata(m)
                self.band[i] = ax.fill_between(PHASE_PCT, m - sd, m + sd, linewidth=0, zorder=1, **self.BAND)
            ax.set_ylim(lo, hi)
            self.notes[i].set_text(self._note(panels, j, name))
        heading = f"{panels.task} · {self.heading}" if self.heading else panels.task
        self.title.set_text(f"{heading}: mean ± SD of {plural(panels.n_valid, 'valid cycle')}; "
                            f"{panels.n_invalid:,} invalid, {plural(panels.n_outliers, 'outlier')}")
        # format given: the report writes under a temporary name without the .png suffix
        self.fig.savefig(save_path, dpi=100, format="png", pil_kwargs={"compress_level": 1})
        return Path(save_path)

    @staticmethod
    def _note(panels, j: int, name: str) -> str:
        """The corner's text: cycles cut at the axis and how far they go; failed cycles here."""
        lines = []
        if panels.clipped[j]:
            far = [f"{v:.3g}" for v in (panels.beyond[j] if panels.beyond else ()) if np.isfinite(v)]
            lines.append(f"{panels.clipped[j]} beyond axis" + (f" (to {' and '.join(far)})" if far else ""))
        failed = panels.invalid.get(name, [])
        if failed:
            n_nan = sum(bool(np.isnan(c).any()) for c in failed)
            lines.append(f"{len(failed)} failed here" + (f", {n_nan} with NaN" if n_nan else ""))
        return "\n".join(lines)

    def close(self) -> None:
        self.plt.close(self.fig)
