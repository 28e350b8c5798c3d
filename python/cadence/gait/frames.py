"""LocoHub's module-level functions on data already in memory (a pandas DataFrame or a
``task_info`` string), re-exported by ``cadence.gait.locomotion_data`` where LocoHub users import
them. The engine-backed paths are LocomotionData's methods."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from .reader import POINTS_PER_CYCLE


def parse_task_info(task_info_str) -> dict:
    """LocoHub's ``task_info`` string ``key:value,...`` as a dict: true/false -> bool, digits ->
    int, a number with a dot -> float, anything else kept as text; pairs without ':' skipped."""
    if task_info_str is None or task_info_str != task_info_str or task_info_str == "":
        return {}
    out: dict = {}
    for pair in str(task_info_str).split(","):
        if ":" not in pair:
            continue
        key, value = (s.strip() for s in pair.split(":", 1))
        if value.lower() in ("true", "false"):
            out[key] = value.lower() == "true"
            continue
        try:
            out[key] = float(value) if "." in value else int(value)
        except ValueError:
            out[key] = value
    return out


def efficient_reshape_3d(df: pd.DataFrame, subject: str, task: str, features: list[str],
                         subject_col: str = "subject", task_col: str = "task",
                         points_per_cycle: int = POINTS_PER_CYCLE) -> tuple[np.ndarray | None, list[str]]:
    """LocoHub's module function: one subject x task of a DataFrame as (n_cycles, points, features).

    Returns ``(None, [])`` when the group is absent or none of ``features`` is a column, and warns
    (as LocoHub) when the group's row count is not a multiple of ``points_per_cycle``. This works
    on a DataFrame already in memory; ``LocomotionData.get_cycles`` is the engine-backed path.
    """
    rows = df[(df[subject_col] == subject) & (df[task_col] == task)]
    if len(rows) == 0:
        return None, []
    if len(rows) % points_per_cycle:
        warnings.warn(f"Data length {len(rows)} not divisible by {points_per_cycle}", UserWarning, stacklevel=2)
        return None, []
    valid = [f for f in features if f in rows.columns]
    if not valid:
        return None, []
    return rows[valid].to_numpy().reshape(len(rows) // points_per_cycle, points_per_cycle, len(valid)), valid
