"""What ``cadence gait report`` shows, computed before anything is drawn.

Per task and variable (one panel each in ``plots.TaskSummaryFigure``):

- the mean +- SD band of the valid cycles of every subject. Each subject x task group's mean and
  standard deviation patterns come from the engine (two-pass, in C++); groups are pooled exactly
  (``pool_patterns``), never through E[x^2] - E[x]^2, which cancels badly when the SD is small
  next to the mean;
- y limits from robust quartiles of the valid cycles' extremes (the engine's per-cycle min and
  max, Tukey's far-out fences), so that one spike cannot flatten the band; every cycle beyond
  them is counted and drawn clipped at the edge;
- the invalid cycles *in the variables that failed only* (LocoHub's per-variable fail bits),
  and the outlier cycles (RMSE to the mean pattern over all variables), up to a cap per task.

The tables beside the plots: ``invalid_rows`` gives one row per failing cycle x variable with
the rules it broke.
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
#: Space added above and below, as a fraction of the range.
Y_MARGIN = 0.08


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
    invalid: dict[str, list[np.ndarray]] = field(default_factory=dict)   # failing cycles, per variable
    outliers: dict[str, list[np.ndarray]] = field(default_factory=dict)  # outlier cycles, per variable
    n_invalid: int = 0    # invalid cycles of the task (drawn: up to the cap)
    n_outliers: int = 0


def y_limits(lo: np.ndarray, hi: np.ndarray) -> tuple[float, float]:
    """Robust limits from the valid cycles' minima ``lo`` and maxima ``hi`` (see
    :data:`Y_FENCE_IQR`). Not widened for the SD band: a spike in a valid cycle widens the band
    at its point, and following it would flatten the rest again; the band is cut there."""
    lo, hi = lo[np.isfinite(lo)], hi[np.isfinite(hi)]
    if lo.size == 0 or hi.size == 0:
        return (-1.0, 1.0)
    q1, q3 = np.percentile(lo, [25, 75])
    a = max(float(q1 - Y_FENCE_IQR * (q3 - q1)), float(lo.min()))
    q1, q3 = np.percentile(hi, [25, 75])
    b = min(float(q3 + Y_FENCE_IQR * (q3 - q1)), float(hi.max()))
    pad = (b - a) * Y_MARGIN or max(abs(a), 1.0) * Y_MARGIN
    return (a - pad, b + pad)


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
    ylim, clipped = [], []
    valid_rows = rows[rows["valid"]]
    for i, name in enumerate(names):
        lo = valid_rows[f"{name}__min"].to_numpy(dtype=np.float64)
        hi = valid_rows[f"{name}__max"].to_numpy(dtype=np.float64)
        limits = y_limits(lo, hi)
        ylim.append(limits)
        with np.errstate(invalid="ignore"):
            beyond = (rows[f"{name}__min"].to_numpy() < limits[0]) | (rows[f"{name}__max"].to_numpy() > limits[1])
        clipped.append(int(beyond.sum()))
    return TaskPanels(task, names, n_valid, mean, sd, ylim, clipped, invalid, outliers,
                      n_invalid=int((~rows["valid"]).sum()), n_outliers=int((rows["is_outlier"] & rows["valid"]).sum()))
