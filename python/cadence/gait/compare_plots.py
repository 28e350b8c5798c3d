"""The figures of ``cadence gait compare``, as gait papers print SPM results: per feature, the
mean +- SD of both tasks above and the SPM{t} below (critical threshold dashed, clusters shaded
with their p); and an overview of which features differ where. matplotlib's object API (no
pyplot state), Agg backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .compare import TaskComparison

COLOUR_A, COLOUR_B = "#1f77b4", "#d62728"
#: Overview bars: task A above task B, below.
ABOVE, BELOW = "#b2182b", "#2166ac"


def _figure(width_in: float, height_in: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in), dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def feature_figure(c: TaskComparison, i: int, path: Path) -> None:
    """Mean +- SD (across subjects' mean curves, ddof 1) of both tasks; SPM{t} with clusters."""
    x = np.linspace(0.0, 100.0, c.nodes)
    fig = _figure(7.0, 6.5)
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1.2, 1.0]})
    for curves, task, colour in ((c.curves_a, c.task_a, COLOUR_A), (c.curves_b, c.task_b, COLOUR_B)):
        y = curves[:, i, :]
        mean, sd = y.mean(axis=0), y.std(axis=0, ddof=1)
        top.plot(x, mean, color=colour, lw=2, label=f"{task} (n = {y.shape[0]})")
        top.fill_between(x, mean - sd, mean + sd, color=colour, alpha=0.2, lw=0)
    top.set_ylabel(c.features[i])
    top.legend(loc="best", fontsize=9, frameon=False)
    top.set_title(f"{c.features[i]}: {c.task_a} vs {c.task_b}", fontsize=11)
    z, u = c.z[i], c.zstar[i]
    bottom.plot(x, z, color="k", lw=1.5)
    bottom.axhline(0.0, color="0.6", lw=0.8)
    for level in ((u, -u) if c.two_tailed else (u,)):
        bottom.axhline(level, color="#d95f02", ls="--", lw=1)
    bottom.text(1.0, u, f" t* = {u:.2f}", color="#d95f02", va="bottom", fontsize=9)
    for x0, x1, _extent, _h, sign, _metric, p in c.clusters[i]:
        scale = 100.0 / (c.nodes - 1)
        inside = (x >= x0 * scale - 1e-9) & (x <= x1 * scale + 1e-9)
        bottom.fill_between(x, z, sign * u, where=inside, color="0.45", alpha=0.6, lw=0, interpolate=True)
        bottom.text((x0 + x1) / 2 * scale, sign * u * 1.15, _p_text(p), ha="center",
                    va="bottom" if sign > 0 else "top", fontsize=9)
    kind = "SnPM{t}" if c.test.startswith("nonparam") else "SPM{t}"
    bottom.set_ylabel(f"{kind} ({c.test}, alpha = {c.alpha:g})")
    bottom.set_xlabel("gait cycle (%)")
    bottom.set_xlim(0, 100)
    fig.tight_layout()
    fig.savefig(path, format="png")


def overview_figure(c: TaskComparison, path: Path) -> None:
    """One row per feature; a bar over each cluster (red: task A above B, blue: below)."""
    n = len(c.features)
    fig = _figure(9.0, min(2.0 + 0.28 * n, 60.0))
    ax = fig.subplots()
    scale = 100.0 / (c.nodes - 1)
    for row, clusters in enumerate(c.clusters):
        for x0, x1, _extent, _h, sign, _metric, p in clusters:
            ax.barh(row, (x1 - x0) * scale, left=x0 * scale, height=0.7,
                    color=ABOVE if sign > 0 else BELOW, alpha=0.9 if p < 0.01 else 0.6)
    ax.set_yticks(range(n))
    ax.set_yticklabels([f"{f} (not tested)" if f in c.skipped else f for f in c.features], fontsize=9)
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlim(0, 100)
    ax.set_xlabel("gait cycle (%)")
    ax.grid(axis="x", color="0.85")
    differ = sum(1 for cl in c.clusters if len(cl))
    ax.set_title(f"{c.task_a} vs {c.task_b} ({c.test}, alpha = {c.alpha:g}): {differ} of {n - len(c.skipped)} "
                 f"features tested differ\n"
                 f"red: {c.task_a} above {c.task_b}; blue: below", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, format="png")
