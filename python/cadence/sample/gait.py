"""LocoHub-standard, phase-indexed gait sample with known injected faults.

Real LocoHub files (UMich 2021, Gtech 2021) are large downloads with no ground truth, so tests and
benchmarks use this generator instead: it writes the same layout (150 points a cycle, LocoHub column
names and units, dictionary-encoded metadata, zstd Parquet) with physiologically shaped curves and
records exactly which strides it made invalid, which it made outliers, and how many values it blanked.
Pure numpy + pyarrow; deterministic for a seed; one subject x task is generated and written at a time,
so memory stays bounded at any scale.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from pathlib import Path
from typing import Callable, NamedTuple, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .. import _core
from ..atomic import atomic_path

POINTS_PER_CYCLE: int = _core.GAIT_POINTS_PER_CYCLE  # the engine's constant, defined once
#: Phase grid of every cycle, in percent: 0 = ipsilateral heel strike, 100 = the next one.
PHASE_IPSI = np.linspace(0.0, 100.0, POINTS_PER_CYCLE)
DATASET = "SAMPLE"
METADATA_KEY = "cadence.sample.gait"
META_COLUMNS = ("subject", "task", "task_id", "task_info", "step", "phase_ipsi")
ALL_TASKS = ("level_walking", "incline_walking", "decline_walking", "stair_ascent",
             "stair_descent", "run", "sit_to_stand")
DEFAULT_TASKS = ALL_TASKS[:5]
#: Published sizes: (subjects, total strides); all seven tasks are used at these scales.
SCALES = {"umich": (10, 14_240), "gtech": (15, 32_859)}

# Fixed feature order; ``n_features`` takes a prefix. The first 20 already cover angles,
# velocities, moments, GRF and COP so that even the smallest file exercises every validate rule.
_ORDER = """
hip_flexion_angle_ipsi knee_flexion_angle_ipsi ankle_dorsiflexion_angle_ipsi hip_flexion_velocity_ipsi
knee_flexion_velocity_ipsi ankle_dorsiflexion_velocity_ipsi hip_flexion_moment_ipsi knee_flexion_moment_ipsi
ankle_dorsiflexion_moment_ipsi grf_vertical_ipsi grf_anterior_ipsi cop_anterior_ipsi
hip_flexion_angle_contra knee_flexion_angle_contra ankle_dorsiflexion_angle_contra
hip_flexion_velocity_contra knee_flexion_velocity_contra ankle_dorsiflexion_velocity_contra
pelvis_sagittal_angle trunk_sagittal_angle hip_flexion_moment_contra knee_flexion_moment_contra
ankle_dorsiflexion_moment_contra hip_flexion_power_ipsi knee_flexion_power_ipsi
ankle_dorsiflexion_power_ipsi hip_flexion_power_contra knee_flexion_power_contra
ankle_dorsiflexion_power_contra grf_vertical_contra grf_anterior_contra cop_anterior_contra
hip_adduction_angle_ipsi hip_rotation_angle_ipsi hip_adduction_angle_contra hip_rotation_angle_contra
pelvis_frontal_angle grf_lateral_ipsi cop_lateral_ipsi grf_lateral_contra cop_lateral_contra
pelvis_transverse_angle trunk_frontal_angle trunk_transverse_angle knee_adduction_angle_ipsi
knee_adduction_angle_contra ankle_eversion_angle_ipsi ankle_eversion_angle_contra thigh_sagittal_angle_ipsi
thigh_sagittal_angle_contra shank_sagittal_angle_ipsi shank_sagittal_angle_contra foot_sagittal_angle_ipsi
foot_sagittal_angle_contra hip_adduction_velocity_ipsi hip_adduction_velocity_contra
hip_rotation_velocity_ipsi hip_rotation_velocity_contra knee_adduction_velocity_ipsi
knee_adduction_velocity_contra ankle_eversion_velocity_ipsi ankle_eversion_velocity_contra
pelvis_sagittal_velocity pelvis_frontal_velocity pelvis_transverse_velocity trunk_sagittal_velocity
trunk_frontal_velocity trunk_transverse_velocity hip_adduction_moment_ipsi hip_adduction_moment_contra
knee_adduction_moment_ipsi knee_adduction_moment_contra thigh_sagittal_velocity_ipsi
thigh_sagittal_velocity_contra shank_sagittal_velocity_ipsi shank_sagittal_velocity_contra
foot_sagittal_velocity_ipsi foot_sagittal_velocity_contra hip_adduction_power_ipsi
hip_adduction_power_contra
""".split()
_UNITS = {"angle": "rad", "velocity": "rad_s", "moment": "Nm_kg", "power": "W_kg", "grf": "BW", "cop": "m"}


def _unit(key: str) -> str:
    return _UNITS[next(p for p in key.split("_") if p in _UNITS)]


#: Every feature this module can write, in output order (LocoHub ``..._<side>_<unit>`` names).
ALL_FEATURES = tuple(f"{k}_{_unit(k)}" for k in _ORDER)

# ---- templates -------------------------------------------------------------------------------
# Each curve is a periodic piecewise-linear path through (phase %, value) keypoints, smoothed by a
# circular Gaussian and kept as _K Fourier harmonics: smooth, exactly periodic, and differentiable
# analytically, so velocities are the true time derivative. Angles in degrees, moments in Nm/kg
# (+ = flexor / dorsiflexor / adductor, as LocoHub signs them), after Winter and Perry.
_K, _FINE, _SMOOTH = 12, 512, 0.02
_SIDED = ("hip_flexion", "knee_flexion", "ankle_dorsiflexion", "hip_adduction", "hip_rotation",
          "knee_adduction", "ankle_eversion")
_TRUNK = ("pelvis_sagittal", "pelvis_frontal", "pelvis_transverse",
          "trunk_sagittal", "trunk_frontal", "trunk_transverse")
_MOMENTS = ("hip_flexion", "knee_flexion", "ankle_dorsiflexion", "hip_adduction", "knee_adduction")
_POWERS = ("hip_flexion", "knee_flexion", "ankle_dorsiflexion", "hip_adduction")

_LEVEL = {
    "hip_flexion_angle": ((0, 30), (12, 26), (50, -10), (58, -8), (72, 14), (86, 33)),
    "knee_flexion_angle": ((0, 4), (15, 20), (38, 4), (50, 8), (60, 38), (72, 66), (86, 25), (96, 2)),
    "ankle_dorsiflexion_angle": ((0, 0), (7, -6), (30, 8), (47, 12), (62, -17), (75, -4), (90, 1)),
    "hip_adduction_angle": ((0, 2), (15, 8), (45, 3), (65, -6), (85, -2)),
    "hip_rotation_angle": ((0, 2), (20, -3), (50, -5), (75, 5)),
    "knee_adduction_angle": ((0, 0), (20, 2), (50, 1), (70, -4), (90, 0)),
    "ankle_eversion_angle": ((0, -2), (15, 4), (45, 2), (60, -6), (80, -2)),
    "pelvis_sagittal_angle": ((0, 11), (25, 9), (50, 11), (75, 9)),
    "pelvis_frontal_angle": ((0, 0), (15, 5), (50, 0), (65, -5)),
    "pelvis_transverse_angle": ((0, 5), (50, -5)),
    "trunk_sagittal_angle": ((0, 5), (25, 3), (50, 5), (75, 3)),
    "trunk_frontal_angle": ((0, 0), (25, -3), (50, 0), (75, 3)),
    "trunk_transverse_angle": ((0, -4), (50, 4)),
    "hip_flexion_moment": ((0, 0), (8, -0.7), (25, -0.1), (50, 0.8), (62, 0.3), (75, 0.05), (90, -0.25)),
    "knee_flexion_moment": ((0, 0), (13, -0.5), (25, -0.1), (42, 0.3), (58, -0.05), (75, 0), (92, 0.2)),
    "ankle_dorsiflexion_moment": ((0, 0), (5, 0.1), (20, -0.4), (48, -1.5), (58, -0.8), (65, 0), (90, 0)),
    "hip_adduction_moment": ((0, 0), (15, -0.9), (35, -0.6), (50, -0.8), (62, 0), (90, 0)),
    "knee_adduction_moment": ((0, 0), (17, -0.45), (35, -0.25), (50, -0.4), (62, 0), (90, 0)),
}


class _Task(NamedTuple):
    info: str            # LocoHub task_info
    stride_s: float      # typical stride (cycle) duration
    weight: float        # relative number of strides recorded
    toe_off: float       # stance fraction of the cycle
    contra_shift: float  # contralateral heel strike, fraction of the cycle
    grf: tuple           # (vertical peak BW, second-hump weight, floor BW, anterior BW)
    gain: float          # gain on the level-walking shape of curves the task does not override
    lean_deg: float      # extra forward trunk/pelvis lean
    keys: dict           # task-specific keypoints, same units as _LEVEL


_TASKS = {
    "level_walking": _Task("speed_m_s:1.2,incline_deg:0", 1.10, 1.5, 0.62, 0.5,
                           (1.10, 0.35, 0.0, 0.20), 1.0, 0, {}),
    "incline_walking": _Task("speed_m_s:1.0,incline_deg:10", 1.15, 1.2, 0.63, 0.5,
                             (1.10, 0.30, 0.0, 0.22), 1.1, 6, {
        "hip_flexion_angle": ((0, 45), (15, 38), (52, -2), (60, 0), (75, 28), (88, 48)),
        "knee_flexion_angle": ((0, 15), (15, 24), (40, 10), (52, 12), (62, 40), (73, 66), (88, 28), (97, 14)),
        "ankle_dorsiflexion_angle": ((0, 8), (10, 5), (35, 14), (50, 18), (63, -10), (75, 0), (90, 6)),
        "hip_flexion_moment": ((0, 0), (8, -1.1), (30, -0.3), (52, 0.6), (62, 0.2), (90, -0.3)),
        "knee_flexion_moment": ((0, 0), (15, -0.8), (30, -0.3), (45, 0.1), (60, -0.1), (92, 0.2)),
        "ankle_dorsiflexion_moment": ((0, 0), (20, -0.6), (48, -1.7), (58, -0.9), (66, 0), (90, 0))}),
    "decline_walking": _Task("speed_m_s:1.0,incline_deg:-10", 1.10, 1.2, 0.63, 0.5,
                             (1.25, 0.25, 0.0, 0.22), 1.0, -3, {
        "hip_flexion_angle": ((0, 22), (15, 20), (50, -12), (62, -5), (75, 15), (88, 26)),
        "knee_flexion_angle": ((0, 5), (15, 25), (30, 25), (45, 15), (60, 48), (73, 65), (88, 15), (97, 3)),
        "ankle_dorsiflexion_angle": ((0, -5), (10, -8), (35, 10), (50, 15), (62, -10), (75, -4), (90, -3)),
        "hip_flexion_moment": ((0, 0), (8, -0.4), (25, 0), (50, 0.5), (62, 0.1), (90, -0.2)),
        "knee_flexion_moment": ((0, 0), (15, -0.9), (35, -0.8), (50, -0.5), (60, -0.1), (92, 0.2)),
        "ankle_dorsiflexion_moment": ((0, 0), (20, -0.5), (45, -1.3), (55, -0.7), (62, 0), (90, 0))}),
    "stair_ascent": _Task("speed_m_s:0.5,height_m:0.17", 1.40, 0.8, 0.64, 0.5,
                          (1.05, 0.30, 0.0, 0.15), 1.2, 8, {
        "hip_flexion_angle": ((0, 58), (20, 40), (45, 8), (58, 10), (75, 45), (88, 62)),
        "knee_flexion_angle": ((0, 58), (15, 45), (40, 12), (55, 15), (68, 80), (78, 92), (92, 65)),
        "ankle_dorsiflexion_angle": ((0, 8), (15, 12), (40, 5), (55, -15), (68, -5), (80, 10), (92, 8)),
        "hip_flexion_moment": ((0, 0.2), (10, -0.8), (30, -0.3), (50, 0.2), (62, 0.1), (90, 0)),
        "knee_flexion_moment": ((0, 0), (15, -0.9), (30, -0.6), (45, -0.1), (60, 0), (90, 0)),
        "ankle_dorsiflexion_moment": ((0, 0), (15, -0.7), (25, -0.9), (45, -1.3), (55, -0.5), (62, 0),
                                      (90, 0))}),
    "stair_descent": _Task("speed_m_s:0.5,height_m:0.17", 1.30, 0.8, 0.62, 0.5,
                           (1.30, 0.20, 0.0, 0.12), 1.2, 2, {
        "hip_flexion_angle": ((0, 15), (20, 18), (40, 10), (60, 28), (75, 35), (90, 22)),
        "knee_flexion_angle": ((0, 10), (15, 20), (40, 45), (60, 88), (72, 95), (85, 40), (95, 12)),
        "ankle_dorsiflexion_angle": ((0, -20), (10, 0), (40, 15), (58, 25), (70, 0), (85, -20)),
        "hip_flexion_moment": ((0, 0), (10, -0.4), (30, -0.1), (50, 0.2), (65, 0), (90, 0)),
        "knee_flexion_moment": ((0, 0), (10, -0.3), (30, -0.9), (55, -0.9), (65, 0), (90, 0.1)),
        "ankle_dorsiflexion_moment": ((0, 0), (8, -1.4), (20, -0.8), (45, -0.9), (60, 0), (90, 0))}),
    "run": _Task("speed_m_s:2.5,incline_deg:0", 0.72, 1.0, 0.38, 0.5,
                 (2.50, 0.0, 0.0, 0.40), 1.5, 10, {
        "hip_flexion_angle": ((0, 35), (15, 28), (38, -10), (45, -8), (65, 30), (85, 45), (95, 38)),
        "knee_flexion_angle": ((0, 18), (15, 40), (38, 20), (50, 60), (70, 105), (85, 60), (95, 25)),
        "ankle_dorsiflexion_angle": ((0, 5), (12, 20), (38, -20), (50, -10), (70, 5), (90, 5)),
        "hip_flexion_moment": ((0, 0), (8, -1.5), (25, 0.5), (40, 0.8), (55, 0.3), (85, -0.6), (95, -0.3)),
        "knee_flexion_moment": ((0, 0), (14, -2.2), (30, -1.0), (38, 0), (85, 0.4), (92, 0.2)),
        "ankle_dorsiflexion_moment": ((0, 0), (15, -2.5), (25, -2.2), (38, 0), (90, 0))}),
    # One cycle = seated -> standing -> seated; both feet stay loaded, so no contralateral shift.
    "sit_to_stand": _Task("height_m:0.45", 4.0, 0.5, 1.0, 0.0, (0.55, -0.1, 0.15, 0.03), 0.3, 0, {
        "hip_flexion_angle": ((0, 90), (10, 95), (25, 70), (40, 10), (60, 10), (75, 70), (90, 92)),
        "knee_flexion_angle": ((0, 90), (15, 88), (30, 60), (45, 5), (60, 5), (75, 60), (90, 90)),
        "ankle_dorsiflexion_angle": ((0, 12), (15, 18), (30, 12), (45, 2), (60, 2), (75, 12), (90, 15)),
        "trunk_sagittal_angle": ((0, 10), (20, 40), (45, 5), (60, 5), (80, 35)),
        "pelvis_sagittal_angle": ((0, 5), (20, 25), (45, 10), (60, 10), (80, 22)),
        "hip_flexion_moment": ((0, 0), (15, -0.9), (30, -0.6), (45, -0.1), (60, -0.1), (75, -0.6), (90, -0.2)),
        "knee_flexion_moment": ((0, 0), (15, -0.8), (30, -0.9), (45, -0.1), (60, -0.1), (75, -0.7), (90, -0.3)),
        "ankle_dorsiflexion_moment": ((0, -0.1), (20, -0.4), (45, -0.3), (60, -0.3), (80, -0.3))}),
}

#: Typical stride duration of each task, seconds (velocities are derivatives over it), and its
#: LocoHub task_info string.
STRIDE_S = {task: spec.stride_s for task, spec in _TASKS.items()}
TASK_INFO = {task: spec.info for task, spec in _TASKS.items()}

_ANGLE_PRIMS = tuple(f"{j}_angle_{s}" for s in ("ipsi", "contra") for j in _SIDED) + tuple(
    f"{t}_angle" for t in _TRUNK)
_MOMENT_PRIMS = tuple(f"{j}_moment_{s}" for s in ("ipsi", "contra") for j in _MOMENTS)


def _coeffs(points, shift: float) -> np.ndarray:
    """Complex Fourier coefficients c_k (k = 0.._K) with f(p) = Re(sum c_k exp(2 pi i k p))."""
    pct, val = np.asarray(points, dtype=float).T
    x = np.concatenate([pct / 100 - 1, pct / 100, pct / 100 + 1])  # wrap so the path is periodic
    curve = np.interp(np.arange(_FINE) / _FINE, x, np.tile(val, 3))
    c = np.fft.rfft(curve)[: _K + 1] / _FINE
    c[1:] *= 2
    k = np.arange(_K + 1)
    return c * np.exp(-0.5 * (2 * np.pi * k * _SMOOTH) ** 2 - 2j * np.pi * k * shift)


@functools.lru_cache(maxsize=None)
def _templates(task: str) -> tuple[np.ndarray, np.ndarray]:
    """(angle coefficients in rad, moment coefficients in Nm/kg) for every primitive of a task."""
    spec = _TASKS[task]

    def one(prim: str, to_si: float) -> np.ndarray:
        side = prim.rsplit("_", 1)[1]
        base = prim.removesuffix("_ipsi").removesuffix("_contra")
        own = base in spec.keys
        c = _coeffs(spec.keys.get(base, _LEVEL[base]), spec.contra_shift if side == "contra" else 0.0)
        if not own:
            c[1:] *= spec.gain
        if base in ("trunk_sagittal_angle", "pelvis_sagittal_angle") and not own:
            c[0] += spec.lean_deg
        return c * to_si

    return (np.stack([one(p, np.pi / 180) for p in _ANGLE_PRIMS]),
            np.stack([one(p, 1.0) for p in _MOMENT_PRIMS]))


_K_RANGE = np.arange(_K + 1)
_BASIS = np.exp(2j * np.pi * np.outer(_K_RANGE, PHASE_IPSI / 100))  # (K+1, 150)


# ---- public types -------------------------------------------------------------------------------
StrideKey = tuple[str, str, int]  # (subject, task, step)


@dataclasses.dataclass(frozen=True)
class GaitPlan:
    """What :func:`generate` will write, computed without generating any curve.

    ``strides[i][j]`` is the number of strides of ``subjects[i]`` doing ``tasks[j]``.
    """

    subjects: tuple[str, ...]
    tasks: tuple[str, ...]
    features: tuple[str, ...]
    strides: tuple[tuple[int, ...], ...]
    n_strides: int
    n_rows: int


@dataclasses.dataclass(frozen=True)
class GaitSample:
    """A written sample file and the ground truth of what was injected into it.

    Keys are ``(subject, task, step)``; ``step`` counts from 0 within a subject x task, so it equals
    the cycle index that ``LocomotionData.get_cycles`` returns. ``invalid_kinds`` gives, for each
    invalid key, why it fails validation: ``jump`` (> 0.5236 rad between points), ``range`` (angle
    beyond +-pi), ``velocity`` (> 17.45 rad/s) or ``moment`` (> 300 Nm/kg). ``nan_keys`` holds every
    stride with a run of NaN; ``nan_count`` is the total number of NaN cells in the file.
    """

    path: Path
    n_rows: int
    n_strides: int
    subjects: tuple[str, ...]
    tasks: tuple[str, ...]
    features: tuple[str, ...]
    invalid_keys: tuple[StrideKey, ...]
    invalid_kinds: tuple[str, ...]
    outlier_keys: tuple[StrideKey, ...]
    nan_keys: tuple[StrideKey, ...]
    nan_count: int
    seed: int


def plan(*, subjects: int = 4, strides_per_task: int = 30, tasks: Sequence[str] | None = None,
         n_features: int = 40, seed: int = 0, scale: str | None = None) -> GaitPlan:
    """Plan a sample: subject names, tasks, features and strides per subject x task.

    Parameters are those of :func:`generate`. Groups are deliberately unequal (task weights times a
    per-subject factor in [0.7, 1.3]); at a ``scale`` the counts are apportioned to hit the published
    total exactly.
    """
    if scale is not None:
        if scale not in SCALES:
            raise ValueError(f"scale={scale!r} is unknown; use one of {sorted(SCALES)} or None")
        subjects, tasks = SCALES[scale][0], ALL_TASKS
    tasks = tuple(DEFAULT_TASKS if tasks is None else tasks)
    unknown = [t for t in tasks if t not in _TASKS]
    if unknown or not tasks or len(set(tasks)) != len(tasks):
        raise ValueError(f"tasks {list(tasks)} must be distinct names from {list(ALL_TASKS)}")
    if not 1 <= subjects <= 99:
        raise ValueError(f"subjects={subjects}: LocoHub names have two digits, use 1..99")
    if strides_per_task < 1:
        raise ValueError(f"strides_per_task={strides_per_task} must be >= 1")
    if not 20 <= n_features <= len(ALL_FEATURES):
        raise ValueError(f"n_features={n_features} must be in 20..{len(ALL_FEATURES)}")
    w = np.array([_TASKS[t].weight for t in tasks])
    rng = np.random.default_rng((seed, 0))
    share = rng.uniform(0.7, 1.3, (subjects, len(tasks))) * w / w.mean()
    if scale is None:
        counts = np.maximum(1, np.rint(strides_per_task * share)).astype(np.int64)
    else:  # largest-remainder apportionment of the exact published total
        raw = SCALES[scale][1] * share / share.sum()
        counts = np.floor(raw).astype(np.int64)
        extra = SCALES[scale][1] - int(counts.sum())
        counts.flat[np.argsort(counts - raw, axis=None)[:extra]] += 1
    n = int(counts.sum())
    return GaitPlan(subjects=tuple(f"{DATASET}_AB{i + 1:02d}" for i in range(subjects)), tasks=tasks,
                    features=ALL_FEATURES[:n_features], strides=tuple(map(tuple, counts.tolist())),
                    n_strides=n, n_rows=n * POINTS_PER_CYCLE)


# ---- curves -------------------------------------------------------------------------------------
def _subject_effects(seed: int, subject: int) -> dict:
    """Per-subject offsets and gains, shared by all tasks so a subject looks like one person."""
    rng = np.random.default_rng((seed, 1, subject))
    na, nm = len(_ANGLE_PRIMS), len(_MOMENT_PRIMS)
    return {"angle_dc": rng.normal(0, np.deg2rad(2.0), na), "angle_gain": rng.normal(1, 0.08, na),
            "moment_gain": rng.normal(1, 0.10, nm), "stride": rng.normal(1, 0.05),
            "grf_gain": rng.normal(1, 0.04)}


def _perturb(c: np.ndarray, gain: np.ndarray, rng: np.random.Generator, n: int) -> np.ndarray:
    """Per-cycle copies of template coefficients with amplitude scaling and smooth noise."""
    rms = np.sqrt(0.5 * (np.abs(c[:, 1:]) ** 2).sum(axis=1))  # template RMS about its mean
    amp = gain * (1 + rng.normal(0, 0.04, (n, 1)) + rng.normal(0, 0.02, (n, len(c))))
    out = np.broadcast_to(c, (n, *c.shape)).copy()
    out[..., 1:] *= amp[..., None]
    k = np.arange(1, 5)  # smooth perturbation: low harmonics only, decaying with k
    noise = rng.normal(0, 1, (n, len(c), 4)) + 1j * rng.normal(0, 1, (n, len(c), 4))
    out[..., 1:5] += noise * (0.03 * rms[:, None] / k)
    out[..., 0] += rng.normal(0, 0.01, (n, len(c))) * rms
    return out


_S = np.linspace(0, 1, 201)  # stance grid, to normalise the vertical GRF shape to its peak


def _ground(task: _Task, p: np.ndarray, shift: np.ndarray, toe_off: np.ndarray, gain: np.ndarray,
            side: float) -> dict:
    """GRF (BW) and COP (m) of one foot: double-hump vertical load in stance, zero in swing."""
    s = np.mod(p - shift, 1.0) / toe_off  # stance progress, >= 1 in swing
    st = s < 1.0
    peak, hump, floor, ap = task.grf
    shape = np.sin(np.pi * s) + hump * np.sin(3 * np.pi * s)
    norm = np.max(np.sin(np.pi * _S) + hump * np.sin(3 * np.pi * _S))
    return {"grf_vertical": np.where(st, floor + (peak - floor) * gain * shape / norm, 0.0),
            "grf_anterior": np.where(st, -ap * gain * np.sin(2 * np.pi * s), 0.0),
            "grf_lateral": np.where(st, -side * 0.05 * gain * np.sin(np.pi * s), 0.0),
            "cop_anterior": np.where(st, -0.04 + 0.20 * s, 0.0),
            "cop_lateral": np.where(st, side * (0.01 + 0.015 * np.sin(np.pi * s)), 0.0)}


def _curves(task: str, n: int, fx: dict, rng: np.random.Generator, outlier: np.ndarray,
            written: Sequence[str]) -> dict:
    """Every feature of ``n`` cycles as {name: (n, 150) float64}; ``outlier`` rows are scaled x1.6-2
    (less where that would break a validate rule in a ``written`` column)."""
    spec = _TASKS[task]
    ca, cm = _templates(task)
    ang_c = _perturb(ca, fx["angle_gain"], rng, n)
    ang_c[..., 0] += fx["angle_dc"]
    mom_c = _perturb(cm, fx["moment_gain"], rng, n)
    jitter = rng.normal(0, 0.008, n)  # heel-strike timing error, fraction of the cycle
    rot = np.exp(-2j * np.pi * np.outer(jitter, _K_RANGE))[:, None, :]
    ang_c, mom_c = ang_c * rot, mom_c * rot
    stride_s = spec.stride_s * fx["stride"] * (1 + rng.normal(0, 0.02, n))
    ang = (ang_c @ _BASIS).real
    vel = ((ang_c * (2j * np.pi * _K_RANGE)) @ _BASIS).real / stride_s[:, None, None]
    mom = (mom_c @ _BASIS).real
    grf_gain = fx["grf_gain"] * (1 + rng.normal(0, 0.04, n))
    out = {p: ang[:, i] for i, p in enumerate(_ANGLE_PRIMS)}
    out |= {p.replace("_angle", "_velocity"): vel[:, i] for i, p in enumerate(_ANGLE_PRIMS)}
    out |= {p: mom[:, i] for i, p in enumerate(_MOMENT_PRIMS)}
    p = PHASE_IPSI[None, :] / 100
    toe = spec.toe_off + np.where(spec.toe_off < 1, rng.normal(0, 0.008, n), 0)[:, None]
    for side, shift, sign in (("ipsi", 0.0, 1.0), ("contra", spec.contra_shift, -1.0)):
        for m in ("angle", "velocity"):  # LocoHub chain: thigh = pelvis + hip, shank, foot
            thigh = out[f"pelvis_sagittal_{m}"] + out[f"hip_flexion_{m}_{side}"]
            out[f"thigh_sagittal_{m}_{side}"] = thigh
            out[f"shank_sagittal_{m}_{side}"] = thigh - out[f"knee_flexion_{m}_{side}"]
            out[f"foot_sagittal_{m}_{side}"] = out[f"shank_sagittal_{m}_{side}"] - out[
                f"ankle_dorsiflexion_{m}_{side}"]
        # No timing jitter here: heel strike (phase 0) is detected from this force, so it is exact.
        g = _ground(spec, p, shift, toe, grf_gain[:, None], sign)
        out |= {f"{k}_{side}": v for k, v in g.items()}
    out = {f"{k}_{_unit(k)}": v for k, v in out.items()}
    if outlier.any():
        _scale_outliers(out, outlier, rng.uniform(1.6, 2.0, int(outlier.sum())), written)
    for side in ("ipsi", "contra"):  # after outlier scaling, so power = moment x velocity holds
        for j in _POWERS:
            moment, velocity = out[f"{j}_moment_{side}_Nm_kg"], out[f"{j}_velocity_{side}_rad_s"]
            out[f"{j}_power_{side}_W_kg"] = moment * velocity
    return out


def _scale_outliers(out: dict, rows: np.ndarray, s: np.ndarray, written: Sequence[str]) -> None:
    """Scale outlier cycles' excursions by ``s`` in place (angles and moments about the cycle mean,
    velocities and forces about zero), capped so the cycles stay valid: outliers are meant to be
    found by shape, not by the validity rules."""
    kind = {k: next(m for m in ("angle", "velocity", "moment", "grf") if m in k) for k in out
            if not k.startswith("cop")}
    for k in [k for k in written if k in kind]:
        x, m = out[k][rows], kind[k]
        if m == "velocity":
            s = np.minimum(s, 16.5 / np.abs(x).max(axis=1))
        elif m == "angle":
            mean = x.mean(axis=1, keepdims=True)
            s = np.minimum(s, ((3.0 - np.abs(mean)) / np.abs(x - mean).max(axis=1, keepdims=True))[:, 0])
    for k, m in kind.items():
        x = out[k][rows]
        mean = x.mean(axis=1, keepdims=True) if m in ("angle", "moment") else 0.0
        out[k][rows] = mean + s[:, None] * (x - mean)


# ---- faults ---------------------------------------------------------------------------------------
def _inject_invalid(cols: dict, rows: np.ndarray, rng: np.random.Generator) -> list[str]:
    """Break one LocoHub validate rule in each of ``rows``; returns the rule broken per row."""
    by_kind = {"jump": [k for k in cols if "_angle_" in k], "velocity": [k for k in cols if "_velocity_" in k],
               "moment": [k for k in cols if "_moment_" in k]}
    by_kind["range"] = by_kind["jump"]
    kinds = [k for k in ("jump", "range", "velocity", "moment") if by_kind[k]]
    reasons = []
    for r in rows:  # a handful of strides per group, not a loop over rows
        kind = kinds[rng.integers(len(kinds))]
        col = cols[by_kind[kind][rng.integers(len(by_kind[kind]))]]
        at = slice(a := int(rng.integers(5, 140)), a + int(rng.integers(1, 4)))
        sign = rng.choice([-1.0, 1.0])
        if kind == "jump":  # a marker dropout/swap: a step far above 30 degrees between points
            col[r, at] += sign * rng.uniform(0.7, 1.0)
        else:
            lo, hi = {"range": (3.3, 4.0), "velocity": (18.0, 30.0), "moment": (320.0, 600.0)}[kind]
            col[r, at] = sign * rng.uniform(lo, hi)
        reasons.append(kind)
    return reasons


def _inject_nan(cols: dict, rows: np.ndarray, rng: np.random.Generator) -> int:
    """Blank a run of 3-10 consecutive points of one feature in each of ``rows``; returns cells blanked."""
    names, count = list(cols), 0
    for r in rows:
        length = int(rng.integers(3, 11))
        start = int(rng.integers(0, POINTS_PER_CYCLE - length + 1))
        cols[names[rng.integers(len(names))]][r, start:start + length] = np.nan
        count += length
    return count


# ---- writing --------------------------------------------------------------------------------------
_FAULT_RATES = (0.02, 0.015, 0.02)  # invalid, outlier, NaN-run strides


def _schema(features: Sequence[str], dtype: np.dtype) -> pa.Schema:
    text = pa.dictionary(pa.int32(), pa.string())
    value = pa.from_numpy_dtype(dtype)
    return pa.schema([("subject", text), ("task", text), ("task_id", text), ("task_info", text),
                      ("step", pa.int64()), ("phase_ipsi", pa.float64())]
                     + [(f, value) for f in features])


def generate(out_path: str | Path, *, subjects: int = 4, strides_per_task: int = 30,
             tasks: Sequence[str] | None = None, n_features: int = 40, seed: int = 0,
             scale: str | None = None, dtype: str = "float64", row_group_rows: int = 150_000,
             faults: bool = True, progress: Callable[[int, int], None] | None = None) -> GaitSample:
    """Write a LocoHub phase-indexed Parquet file of synthetic gait cycles.

    Parameters
    ----------
    out_path : str or Path
        Parquet file to write (replaced atomically when whole).
    subjects : int
        Number of subjects, named ``SAMPLE_AB01`` ... (1..99).
    strides_per_task : int
        Mean strides per subject x task; actual counts vary with task and subject.
    tasks : sequence of str, optional
        Task names from :data:`ALL_TASKS`; default :data:`DEFAULT_TASKS`.
    n_features : int
        Number of feature columns (20..80), a prefix of :data:`ALL_FEATURES`.
    seed : int
        Same seed and arguments give an identical table.
    scale : {'umich', 'gtech'}, optional
        Published dataset size; overrides ``subjects``, ``strides_per_task`` and ``tasks``
        ('umich': 10 subjects, 14,240 strides, 2,136,000 rows).
    dtype : {'float64', 'float32'}
        Storage type of the feature columns (``phase_ipsi`` is always float64).
    row_group_rows : int
        Rows per Parquet row group (the last one may be shorter); cycles may span row groups.
    faults : bool
        Inject invalid strides (~2 %), outlier strides (~1.5 %) and NaN runs (~2 % of strides);
        False writes clean data where every stride passes LocoHub validation.
    progress : callable, optional
        Called as ``progress(strides_done, strides_total)`` after each subject x task.

    Returns
    -------
    GaitSample
        The file's shape and the ground truth of the injected faults, also stored in the file's
        key-value metadata under :data:`METADATA_KEY` (see :func:`read_truth`).
    """
    if np.dtype(dtype) not in (np.float32, np.float64):
        raise ValueError(f"dtype={dtype!r}: use 'float64' or 'float32'")
    if row_group_rows < 1:
        raise ValueError(f"row_group_rows={row_group_rows} must be >= 1")
    pl = plan(subjects=subjects, strides_per_task=strides_per_task, tasks=tasks,
              n_features=n_features, seed=seed, scale=scale)
    dtype, path = np.dtype(dtype), Path(out_path)
    schema = _schema(pl.features, dtype)
    dicts = [pa.array(pl.subjects), pa.array(pl.tasks), pa.array([f"{t}_1" for t in pl.tasks]),
             pa.array([TASK_INFO[t] for t in pl.tasks])]
    truth: dict = {"invalid_keys": [], "invalid_kinds": [], "outlier_keys": [], "nan_keys": [], "nan_count": 0}
    pending: list[pa.RecordBatch] = []
    buffered = done = 0
    # Dictionary-encode only the text, step and phase columns: on float features it fails over to
    # plain after the first page anyway and makes reads ~10x slower; byte-stream-split helps zstd.
    # Written under a temporary name and renamed when whole: an interrupted run leaves whatever
    # was at `path` before untouched.
    with atomic_path(path) as tmp, pq.ParquetWriter(tmp, schema, compression="zstd",
                                                    use_dictionary=list(META_COLUMNS),
                                                    use_byte_stream_split=list(pl.features)) as writer:
        for (si, subject), (ti, task), cols in group_curves(pl, seed, faults, truth):
            n = pl.strides[si][ti]
            code = lambda i: pa.array(np.full(n * POINTS_PER_CYCLE, i, np.int32))  # noqa: E731
            arrays = [pa.DictionaryArray.from_arrays(code(i), d) for i, d in zip((si, ti, ti, ti), dicts)]
            arrays += [pa.array(np.repeat(np.arange(n, dtype=np.int64), POINTS_PER_CYCLE)),
                       pa.array(np.tile(PHASE_IPSI, n))]
            arrays += [pa.array(cols[f].astype(dtype, copy=False).reshape(-1)) for f in pl.features]
            pending.append(pa.RecordBatch.from_arrays(arrays, schema=schema))
            buffered += n * POINTS_PER_CYCLE
            if buffered >= row_group_rows:  # flush whole row groups, keep the remainder
                table = pa.Table.from_batches(pending, schema)
                full = buffered // row_group_rows * row_group_rows
                writer.write_table(table.slice(0, full), row_group_size=row_group_rows)
                pending = table.slice(full).combine_chunks().to_batches() if buffered > full else []
                buffered -= full
            done += n
            if progress is not None:
                progress(done, pl.n_strides)
        if buffered:
            writer.write_table(pa.Table.from_batches(pending, schema), row_group_size=row_group_rows)
        truth = {k: (tuple(v) if isinstance(v, list) else v) for k, v in truth.items()}
        sample = GaitSample(path=path, n_rows=pl.n_rows, n_strides=pl.n_strides, subjects=pl.subjects,
                            tasks=pl.tasks, features=pl.features, seed=seed, **truth)
        record = dataclasses.asdict(sample)
        del record["path"]  # the file may move; read_truth fills it in
        writer.add_key_value_metadata({METADATA_KEY: json.dumps(record)})
    return sample


def group_curves(pl: GaitPlan, seed: int = 0, faults: bool = True, truth: dict | None = None):
    """The curves :func:`generate` writes, one subject x task at a time, in file order:
    ``((subject index, subject), (task index, task), {feature: (n strides, 150) array})``.
    ``truth`` (a dict of lists, as :func:`generate` keeps it) receives what was injected."""
    truth = {"invalid_keys": [], "invalid_kinds": [], "outlier_keys": [], "nan_keys": [], "nan_count": 0} \
        if truth is None else truth
    for si, subject in enumerate(pl.subjects):
        fx = _subject_effects(seed, si)
        for ti, task in enumerate(pl.tasks):
            rng = np.random.default_rng((seed, 2, si, ALL_TASKS.index(task)))
            yield (si, subject), (ti, task), _faulty_group(pl, subject, task, pl.strides[si][ti], fx, rng, faults,
                                                           truth)


def _faulty_group(pl: GaitPlan, subject: str, task: str, n: int, fx: dict, rng: np.random.Generator,
                  faults: bool, truth: dict) -> dict:
    """Curves of one subject x task with faults injected; appends what was injected to ``truth``."""
    # Fault strides are drawn disjoint, so each has exactly one recorded cause. Stochastic rounding
    # keeps file-wide rates near nominal; at most 1 outlier in 20 strides, or outliers would shift
    # the very mean pattern they are measured against.
    n_inv, n_out, n_nan = (int(n * r + rng.random()) for r in _FAULT_RATES) if faults else (0, 0, 0)
    n_out = min(n_out, max(1, n // 20))
    order = rng.permutation(n)
    inv, out, nan = (np.sort(x) for x in np.split(order[:n_inv + n_out + n_nan], [n_inv, n_inv + n_out]))
    is_out = np.zeros(n, bool)
    is_out[out] = True
    every = _curves(task, n, fx, rng, is_out, pl.features)
    cols = {f: every[f] for f in pl.features}
    truth["invalid_kinds"] += _inject_invalid(cols, inv, rng)
    truth["nan_count"] += _inject_nan(cols, nan, rng)
    for rows, key in ((inv, "invalid_keys"), (out, "outlier_keys"), (nan, "nan_keys")):
        truth[key] += [(subject, task, int(r)) for r in rows]
    return cols


def read_truth(path: str | Path) -> GaitSample:
    """The :class:`GaitSample` recorded in a file written by :func:`generate`.

    Raises
    ------
    ValueError
        If the file carries no ``cadence.sample.gait`` metadata (it was not written here).
    """
    meta = pq.read_metadata(path).metadata or {}
    raw = meta.get(METADATA_KEY.encode())
    if raw is None:
        raise ValueError(f"{path}: no {METADATA_KEY!r} metadata; was it written by cadence.sample.gait?")
    d = json.loads(raw)
    d = {k: tuple(tuple(x) if isinstance(x, list) else x for x in v) if isinstance(v, list) else v
         for k, v in d.items()}  # JSON gives lists; the dataclass holds tuples
    return GaitSample(path=Path(path), **d)
