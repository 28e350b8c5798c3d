"""Plots written to files (matplotlib's Agg backend: no display needed).

LocoHub's two plots (phase patterns with invalid cycles in red; task comparison) and the
report's per-task panels: mean +- SD of the valid cycles of all subjects, invalid cycles drawn
in red.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

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
    fig.tight_layout()
    if save_path is None:
        return fig
    fig.savefig(save_path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    return Path(save_path)


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
    fig.suptitle(f"{subject} - {task} (Valid: {int(valid.sum())}/{len(valid)} cycles)")
    return _finish(plt, fig, save_path)


def plot_task_comparison(loco, subject, tasks, features, save_path=None):
    """LocoHub's plot: mean patterns of several tasks of one subject, one panel per feature."""
    plt = _pyplot()
    fig, axes = _grid(plt, len(features))
    colors = plt.cm.tab10(np.linspace(0, 1, max(len(tasks), 1)))
    for ax, feature in zip(axes, features):
        for color, task in zip(colors, tasks):
            patterns = loco.get_mean_patterns(subject, task, [feature])
            if feature in patterns:
                ax.plot(PHASE_PCT, patterns[feature], color=color, linewidth=2, label=task)
        ax.set_xlabel("Gait Cycle (%)")
        ax.set_ylabel(feature.replace("_", " "))
        ax.set_title(feature, fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.set_xlim(0, 100)
        ax.legend(fontsize=7)
    fig.suptitle(f"{subject} - Task Comparison")
    return _finish(plt, fig, save_path)


class TaskSummaryFigure:
    """The report's figure: one panel per variable, mean +- SD over the valid cycles of every
    subject (from sums) and invalid cycles in red, drawn for one task after another.

    Built for many panels (40+ variables for a whole file, five or more tasks): the panels are
    made once and only their data change between tasks; a fixed grid instead of tight_layout and
    bbox_inches='tight' (each lays out every tick label of every panel again); x tick labels on
    the bottom row only, few y ticks; a panel's invalid cycles are one LineCollection; PNGs are
    compressed lightly (zlib level 1: encoding a large figure at the default level costs more
    than drawing it)."""

    def __init__(self, names: list[str]) -> None:
        from matplotlib.collections import LineCollection
        from matplotlib.ticker import FixedLocator, MaxNLocator

        self.plt = plt = _pyplot()
        self.names = names
        n = len(names)
        n_cols = max(1, min(5, n))
        n_rows = int(np.ceil(n / n_cols))
        width, height = 3.4 * n_cols, 2.3 * n_rows + 0.8  # inches; margins below in inches too
        self.fig, grid = plt.subplots(n_rows, n_cols, figsize=(width, height), squeeze=False)
        self.fig.subplots_adjust(left=0.6 / width, right=1 - 0.15 / width, bottom=0.45 / height,
                                 top=1 - 0.75 / height, wspace=0.32, hspace=0.42)
        self.axes = list(grid.flat)[:n]
        for ax in list(grid.flat)[n:]:
            ax.set_visible(False)
        self.invalid, self.mean, self.band = [], [], []
        for i, (ax, name) in enumerate(zip(self.axes, names)):
            self.invalid.append(ax.add_collection(LineCollection([], colors="red", alpha=0.5, linewidths=0.7, zorder=2)))
            self.mean.append(ax.plot(PHASE_PCT, np.zeros_like(PHASE_PCT), color="blue", linewidth=1.5)[0])
            self.band.append(None)
            ax.set_title(name, fontsize=8)
            ax.set_xlim(0, 100)
            ax.xaxis.set_major_locator(FixedLocator([0, 50, 100]))
            ax.yaxis.set_major_locator(MaxNLocator(4))
            ax.grid(True, alpha=0.3)
            ax.tick_params(labelsize=7, labelbottom=i >= n - n_cols)
            if i >= n - n_cols:
                ax.set_xlabel("gait cycle (%)", fontsize=7)
        self.title = self.fig.suptitle("", fontsize=10, y=1 - 0.2 / height, va="top")

    def save(self, task: str, valid_sum, valid_sq, n_valid: int, invalid: dict, save_path) -> Path:
        """Draw one task; ``invalid[name]`` is a list of (150,) arrays."""
        mean = valid_sum / max(n_valid, 1)
        sd = np.sqrt(np.maximum(valid_sq / max(n_valid, 1) - mean * mean, 0.0))
        for i, (ax, name) in enumerate(zip(self.axes, self.names)):
            cycles = invalid.get(name, [])
            self.invalid[i].set_segments([np.column_stack([PHASE_PCT, c]) for c in cycles])
            if self.band[i] is not None:
                self.band[i].remove()
                self.band[i] = None
            self.mean[i].set_visible(n_valid > 0)
            if n_valid:
                self.mean[i].set_ydata(mean[i])
                self.band[i] = ax.fill_between(PHASE_PCT, mean[i] - sd[i], mean[i] + sd[i], alpha=0.3,
                                               color="blue", linewidth=0)
            # relim() sees lines only: the band and the invalid cycles (collections) are added.
            ax.relim(visible_only=True)
            if n_valid:
                ax.update_datalim(np.column_stack([np.r_[PHASE_PCT, PHASE_PCT], np.r_[mean[i] - sd[i], mean[i] + sd[i]]]))
            for c in cycles:
                ax.update_datalim(np.column_stack([PHASE_PCT, c]))
            ax.autoscale_view(scalex=False)
        n_invalid = max((len(v) for v in invalid.values()), default=0)
        self.title.set_text(f"{task}: mean ± SD of {n_valid} valid cycles; {n_invalid} invalid cycle(s) "
                            f"drawn in red")
        self.fig.savefig(save_path, dpi=100, pil_kwargs={"compress_level": 1})
        return Path(save_path)

    def close(self) -> None:
        self.plt.close(self.fig)


def plot_task_summary(task: str, names: list[str], valid_sum, valid_sq, n_valid: int, invalid: dict,
                      save_path) -> Path:
    """One task's report figure (see :class:`TaskSummaryFigure`, which draws several tasks)."""
    fig = TaskSummaryFigure(names)
    try:
        return fig.save(task, valid_sum, valid_sq, n_valid, invalid, save_path)
    finally:
        fig.close()
