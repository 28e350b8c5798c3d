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


def plot_task_summary(task: str, names: list[str], valid_sum, valid_sq, n_valid: int, invalid: dict,
                      save_path) -> Path:
    """Report panel of one task: mean +- SD over the valid cycles of every subject (from sums),
    and every invalid cycle in red. ``invalid[name]`` is a list of (150,) arrays."""
    plt = _pyplot()
    fig, axes = _grid(plt, len(names), n_cols=5, size=(4, 3))
    mean = valid_sum / max(n_valid, 1)
    sd = np.sqrt(np.maximum(valid_sq / max(n_valid, 1) - mean * mean, 0.0))
    for i, (ax, name) in enumerate(zip(axes, names)):
        for cycle in invalid.get(name, []):
            ax.plot(PHASE_PCT, cycle, color="red", alpha=0.5, linewidth=0.7)
        if n_valid:
            ax.fill_between(PHASE_PCT, mean[i] - sd[i], mean[i] + sd[i], alpha=0.3, color="blue")
            ax.plot(PHASE_PCT, mean[i], color="blue", linewidth=1.5)
        ax.set_title(name, fontsize=8)
        ax.set_xlim(0, 100)
        ax.grid(True, alpha=0.3)
        ax.tick_params(labelsize=7)
    n_invalid = max((len(v) for v in invalid.values()), default=0)
    fig.suptitle(f"{task}: mean ± SD of {n_valid} valid cycles; invalid cycles in red")
    return _finish(plt, fig, save_path)
