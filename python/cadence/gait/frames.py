"""LocoHub's module-level functions on data already in memory (a pandas DataFrame or a
``task_info`` string), re-exported by ``cadence.gait.locomotion_data`` where LocoHub users import
them, and LocomotionData's DataFrame-style methods (:class:`FrameMethods`): the few that need the
whole file as pandas, as LocoHub holds it. The engine-backed paths are LocomotionData's own."""

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


class FrameMethods:
    """Mixed into LocomotionData: LocoHub's DataFrame accessors and task_info helpers. A mixin,
    as bulk.py's, so that locomotion_data.py keeps the per-group engine API."""

    @property
    def df(self) -> pd.DataFrame:
        """The rows of the file (of the selected subjects and tasks, for a filtered view) as a
        pandas DataFrame, as LocoHub holds it: loaded on first use, the one access that needs
        the whole file in memory."""
        if self.shared.df is None:
            whole = self.read_columns(self.gait_file.columns).to_pandas()
            legacy = {c: f for f, c in self.feature_mappings.items() if c != f}
            self.shared.df = whole.rename(columns=legacy) if legacy else whole
        whole = self.shared.df
        if self.selection.subjects is None and self.selection.tasks is None:
            return whole
        keep = np.ones(len(whole), dtype=bool)
        if self.selection.subjects is not None:
            keep &= whole[self.subject_col].astype(str).isin(self.selection.subjects).to_numpy()
        if self.selection.tasks is not None:
            keep &= whole[self.task_col].astype(str).isin(self.selection.tasks).to_numpy()
        return whole[keep]

    @property
    def dtypes(self) -> pd.Series:
        return self.df.dtypes

    def head(self, n: int = 5) -> pd.DataFrame:
        return self.df.head(n)

    def memory_usage(self) -> int:
        return int(self.df.memory_usage(deep=True).sum())

    # ---- task information (LocoHub's task_info 'key:value,...' strings) -----------------------------
    @staticmethod
    def parse_task_info(task_info_str) -> dict:
        """``"incline_deg:10,speed_m_s:1.2,treadmill:true"`` -> ``{'incline_deg': 10,
        'speed_m_s': 1.2, 'treadmill': True}``; empty or missing -> {}."""
        return parse_task_info(task_info_str)

    def get_task_metadata(self, subject: str, task: str, metadata_key: str):
        """One value of the group's ``task_info`` (its first row), or None."""
        groups = self.group_ids(subject, task)
        if "task_info" not in self.gait_file.columns or not groups:
            return None
        first = min(self.cycle_index.group_runs(groups[0]))[0]
        value = self.read_columns(["task_info"]).column(0)[first].as_py()
        return parse_task_info(value).get(metadata_key)

    def filter_by_task_id(self, task_id: str) -> pd.DataFrame:
        if "task_id" not in self.gait_file.columns:
            raise ValueError("Dataset does not contain 'task_id' column")
        df = self.df
        return df[df["task_id"] == task_id].copy()

    def merge_with_task_data(self, task_data: pd.DataFrame, join_keys: list[str] | None = None,
                             how: str = "outer") -> pd.DataFrame:
        """The data joined with a table of task information (loads the whole file, as LocoHub)."""
        if join_keys is None:
            join_keys = [self.subject_col, self.task_col]
        missing = set(join_keys) - set(self.gait_file.columns)
        if missing:
            raise ValueError(f"Join keys {missing} not found in locomotion data")
        missing = set(join_keys) - set(task_data.columns)
        if missing:
            raise ValueError(f"Join keys {missing} not found in task data")
        return pd.merge(self.df, task_data, on=join_keys, how=how)
