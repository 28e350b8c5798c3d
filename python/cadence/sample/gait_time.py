"""A time-indexed gait recording to try ``cadence gait phase`` on (``cadence sample gait
--time-indexed OUT``).

LocoHub's raw recordings are time series sampled at a fixed rate (``time_s``, forces,
kinematics), which its converters cut into 150-point strides. This writes that layout from the
phase-indexed sample's own cycles (:func:`cadence.sample.gait.group_curves`, same seed, same
curves): each subject x task is one trial of consecutive strides of slightly varying duration,
sampled at ``rate_hz`` by linear interpolation within each cycle, with a short swing before the
first heel strike. The vertical GRF (``grf_vertical_ipsi_BW``) rises through 0.05 BW just after
each stride's start, so ``gait phase`` finds the strikes with LocoHub's defaults. Pure numpy +
pyarrow, deterministic for a seed, one trial in memory at a time.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..atomic import atomic_path
from . import gait

#: Seconds of swing recorded before a trial's first heel strike (a strike needs a rise to detect).
LEAD_S = 0.25
#: Stride-to-stride variation of the duration (fraction of the task's stride time).
DURATION_SD = 0.03


@dataclasses.dataclass(frozen=True)
class TimeSample:
    """A written time-indexed recording: its size and the heel strikes it holds per trial."""

    path: Path
    n_rows: int
    n_strides: int
    rate_hz: float
    subjects: tuple[str, ...]
    tasks: tuple[str, ...]
    features: tuple[str, ...]


def generate_time_indexed(out_path: str | Path, *, subjects: int = 4, strides_per_task: int = 30,
                          n_features: int = 40, seed: int = 0, scale: str | None = None, faults: bool = True,
                          rate_hz: float = 100.0,
                          progress: Callable[[int, int], None] | None = None) -> TimeSample:
    """Write a time-indexed recording (Parquet) of the phase sample's cycles.

    Parameters
    ----------
    out_path : str or Path
        Parquet file, replaced atomically when whole. Columns: subject, task, task_id, task_info,
        time_s (seconds from the trial's start), then the features (float64).
    subjects, strides_per_task, n_features, seed, scale, faults
        As :func:`cadence.sample.gait.generate`; the strides are that sample's cycles.
    rate_hz : float
        Sampling rate (LocoHub's recordings: 100-200 Hz).
    progress : callable, optional
        Called as ``progress(strides_done, strides_total)`` after each trial.
    """
    if not 10 <= rate_hz <= 10_000:
        raise ValueError(f"rate_hz={rate_hz}: give a sampling rate between 10 and 10000 Hz")
    pl = gait.plan(subjects=subjects, strides_per_task=strides_per_task, n_features=n_features, seed=seed,
                   scale=scale)
    text = pa.dictionary(pa.int32(), pa.string())
    schema = pa.schema([("subject", text), ("task", text), ("task_id", text), ("task_info", text),
                        ("time_s", pa.float64())] + [(f, pa.float64()) for f in pl.features])
    path, rows, done = Path(out_path), 0, 0
    with atomic_path(path) as tmp, pq.ParquetWriter(tmp, schema, compression="zstd",
                                                    use_dictionary=["subject", "task", "task_id", "task_info"]) \
            as writer:
        for (si, subject), (ti, task), cols in gait.group_curves(pl, seed, faults):
            n = pl.strides[si][ti]
            rng = np.random.default_rng((seed, 3, si, ti))
            durations = gait.STRIDE_S[task] * np.clip(1 + rng.normal(0, DURATION_SD, n), 0.8, 1.2)
            t, stride, u = _timeline(durations, rate_hz)
            values = {f: _sample(cols[f], stride, u) for f in pl.features}
            keys = [pa.DictionaryArray.from_arrays(pa.array(np.zeros(len(t), np.int32)), pa.array([v]))
                    for v in (subject, task, f"{task}_1", gait.TASK_INFO[task])]
            writer.write_table(pa.Table.from_arrays(keys + [pa.array(t)] + [pa.array(values[f]) for f in pl.features],
                                                    schema=schema))
            rows += len(t)
            done += n
            if progress is not None:
                progress(done, pl.n_strides)
    return TimeSample(path=path, n_rows=rows, n_strides=pl.n_strides, rate_hz=float(rate_hz), subjects=pl.subjects,
                      tasks=pl.tasks, features=pl.features)


def _timeline(durations: np.ndarray, rate_hz: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sample times of one trial, the stride each falls in and its phase fraction in [0, 1).
    Heel strikes at LEAD_S + cumulative durations; before the first, the end of stride 0's
    swing."""
    strikes = LEAD_S + np.concatenate([[0.0], np.cumsum(durations)])
    t = np.arange(int(np.floor(strikes[-1] * rate_hz))) / rate_hz
    stride = np.clip(np.searchsorted(strikes, t, side="right") - 1, 0, len(durations) - 1)
    u = (t - strikes[stride]) / durations[stride]
    return t, stride, np.where(u < 0, u + 1.0, u)


def _sample(cycles: np.ndarray, stride: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Each cycle's 150 points (phase 0..100 %) linearly interpolated at fractions u of it."""
    x = u * (cycles.shape[1] - 1)
    i = np.minimum(x.astype(np.int64), cycles.shape[1] - 2)
    w = x - i
    return (1 - w) * cycles[stride, i] + w * cycles[stride, i + 1]
