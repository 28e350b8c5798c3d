"""What a filtered ``LocomotionData`` sees: a selection over the parent's cycle index.

``LocomotionData.filter`` (LocoHub's newest API: subject/subjects, task/tasks) returns a new
``LocomotionData`` sharing the parent's file, index and loaded columns; only a
:class:`Selection` is new, so filtering copies no data. Beyond LocoHub (whose ``filter`` accepts
other keywords but ignores them), a selection can keep a phase range of every cycle, chosen
cycles of every group, and cycles whose values meet conditions; ``filter`` calls chain, each
narrowing the last.

Phase ranges keep the points of the 150-point grid (point i is at 100 * i / 149 percent) that
lie inside the range, both ends included, so a view's cycles have fewer than 150 points; the
per-cycle rules then apply to the points kept (:func:`analyse_points`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

import numpy as np

from .reader import FEATURE_MARKERS, PHASE_GRID_PCT, POINTS_PER_CYCLE
# LocoHub's angle jump limit and ranges (the engine's LocoHubLimits), for phase-range views.
_ANGLE_ABS_RAD, _ANGLE_JUMP_RAD, _VELOCITY_ABS_RAD_S, _MOMENT_ABS = np.pi, 0.5236, 17.45, 300.0


def _names(value, what: str) -> frozenset[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return frozenset([value])
    try:
        return frozenset(str(v) for v in value)
    except TypeError:
        raise ValueError(f"filter: {what} must be a name or a list of names, not {value!r}") from None


def _intersect(a: frozenset | None, b: frozenset | None) -> frozenset | None:
    return b if a is None else a if b is None else a & b


@dataclass(frozen=True)
class Step:
    """One cycle-level filter, applied to the cycles the steps before it kept."""

    cycles: object = None  # int, slice, list of positions, or boolean mask
    where: tuple[tuple[str, float, float], ...] = ()
    points: slice = field(default_factory=lambda: slice(0, POINTS_PER_CYCLE))  # the phase range then


@dataclass(frozen=True)
class Selection:
    """Subjects, tasks, phase points and cycle steps of a view (None = all)."""

    subjects: frozenset[str] | None = None
    tasks: frozenset[str] | None = None
    points: slice = field(default_factory=lambda: slice(0, POINTS_PER_CYCLE))
    steps: tuple[Step, ...] = ()

    @property
    def whole_cycles(self) -> bool:
        return self.points == slice(0, POINTS_PER_CYCLE)

    @property
    def trivial(self) -> bool:
        """No phase range and no cycle step: the engine's group analysis applies as is."""
        return self.whole_cycles and not self.steps

    def allows(self, subject: str, task: str) -> bool:
        return (self.subjects is None or subject in self.subjects) and (self.tasks is None or task in self.tasks)

    def narrowed(self, subject=None, task=None, subjects=None, tasks=None, phase_range=None, cycles=None,
                 where=None) -> "Selection":
        """This selection and the arguments of one ``filter`` call, together."""
        s = _intersect(self.subjects, _names(subjects if subjects is not None else subject, "subject"))
        t = _intersect(self.tasks, _names(tasks if tasks is not None else task, "task"))
        points = self.points if phase_range is None else _points_of(phase_range, self.points)
        steps = self.steps
        conditions = _conditions(where)
        if cycles is not None and not isinstance(cycles, slice):
            arr = np.atleast_1d(np.asarray(cycles))
            if arr.dtype != bool and arr.size and not np.issubdtype(arr.dtype, np.integer):
                raise ValueError(f"filter: cycles must be an int, a slice, a list of ints or a boolean mask, "
                                 f"not {cycles!r}")
        if cycles is not None or conditions:
            steps = steps + (Step(cycles, conditions, points),)
        return replace(self, subjects=s, tasks=t, points=points, steps=steps)

    def describe(self) -> str:
        """What the view keeps beyond its subjects and tasks, for its repr: '' for none."""
        parts = []
        if not self.whole_cycles:
            lo, hi = PHASE_GRID_PCT[self.points.start], PHASE_GRID_PCT[self.points.stop - 1]
            parts.append(f"phase {lo:.1f}-{hi:.1f} % ({self.points.stop - self.points.start} points)")
        for step in self.steps:
            if step.cycles is not None:
                parts.append(f"cycles {_short(step.cycles)}")
            parts += [f"{name} in [{lo:g}, {hi:g}]" for name, lo, hi in step.where]
        return ", ".join(parts)

    def condition_features(self) -> list[str]:
        return sorted({name for step in self.steps for name, _, _ in step.where})

    def cycle_positions(self, n_cycles: int, values: Callable[[list[str]], np.ndarray]) -> np.ndarray | None:
        """Positions of the kept cycles among a group's ``n_cycles`` (None = all of them).

        ``values(names)`` returns the group's cycles of those features, (n_cycles, 150, k)."""
        if not self.steps:
            return None
        kept = np.arange(n_cycles)
        table = None
        for step in self.steps:
            if step.cycles is not None:
                kept = kept[_positions(step.cycles, kept.size)]
            if step.where:
                if table is None:
                    names = self.condition_features()
                    table = dict(zip(names, np.moveaxis(values(names), 2, 0)))
                ok = np.ones(kept.size, dtype=bool)
                for name, lo, hi in step.where:
                    x = table[name][kept][:, step.points]
                    with np.errstate(invalid="ignore"):
                        ok &= np.all((x >= lo) & (x <= hi), axis=1)  # NaN fails a condition
                kept = kept[ok]
        return kept


def _short(cycles) -> str:
    """A cycles argument in a few characters: 3, 0:10, [0, 2, 5], a mask of 40 (12 kept)."""
    if isinstance(cycles, slice):
        return f"{'' if cycles.start is None else cycles.start}:{'' if cycles.stop is None else cycles.stop}" + (
            "" if cycles.step is None else f":{cycles.step}")
    arr = np.atleast_1d(np.asarray(cycles))
    if arr.dtype == bool:
        return f"a mask of {arr.size} ({int(arr.sum())} kept)"
    shown = ", ".join(str(int(v)) for v in arr[:5])
    return f"[{shown}{', ...' if arr.size > 5 else ''}]"


def _points_of(phase_range, within: slice) -> slice:
    try:
        lo, hi = (float(v) for v in phase_range)
    except (TypeError, ValueError):
        raise ValueError(f"filter: phase_range must be (low, high) in percent, not {phase_range!r}") from None
    if not lo <= hi:
        raise ValueError(f"filter: phase_range {phase_range!r} has low > high")
    inside = np.flatnonzero((PHASE_GRID_PCT >= lo - 1e-9) & (PHASE_GRID_PCT <= hi + 1e-9))
    start = max(int(inside[0]) if inside.size else POINTS_PER_CYCLE, within.start)
    stop = min(int(inside[-1]) + 1 if inside.size else 0, within.stop)
    if stop <= start:
        raise ValueError(f"filter: phase_range {phase_range!r} keeps no point of the 150-point grid "
                         f"(point i is at 100*i/149 %) within the view's range")
    return slice(start, stop)


def _conditions(where) -> tuple[tuple[str, float, float], ...]:
    """``{feature: (min, max)}`` (either may be None) as (feature, min, max) triples."""
    if not where:
        return ()
    if not isinstance(where, dict):
        raise ValueError(f"filter: where must be a dict {{feature: (min, max)}}, not {where!r}")
    out = []
    for name, bounds in where.items():
        try:
            lo, hi = bounds
        except (TypeError, ValueError):
            raise ValueError(f"filter: where[{name!r}] must be (min, max); use None for an open end") from None
        out.append((str(name), -np.inf if lo is None else float(lo), np.inf if hi is None else float(hi)))
    return tuple(out)


def _positions(spec, n: int) -> np.ndarray:
    """Cycle positions from an int, a slice, a list of ints or a boolean mask of length n."""
    if isinstance(spec, slice):
        return np.arange(n)[spec]
    arr = np.atleast_1d(np.asarray(spec))
    if arr.dtype == bool:
        if arr.size != n:
            raise ValueError(f"filter: a boolean cycles mask needs one value per cycle ({n}), got {arr.size}")
        return np.flatnonzero(arr)
    arr = arr.astype(np.int64)  # checked to be integers by Selection.narrowed
    return arr[(arr >= -n) & (arr < n)] % max(n, 1)  # positions past a group's end keep nothing


def analyse_points(x: np.ndarray, names: Iterable[str], threshold: float, among_valid: bool,
                   omit_nan: bool, stat_names: tuple[str, ...]) -> dict:
    """The engine's group result (valid, outlier, mean/std pattern, min/max/rom) for cycles
    holding only part of the 150 points, with LocoHub's rules applied to the points given."""
    names = list(names)
    mean, std = (np.nanmean, np.nanstd) if omit_nan else (np.mean, np.std)
    lo_f, hi_f = (np.nanmin, np.nanmax) if omit_nan else (np.min, np.max)
    n = x.shape[0]
    valid = np.ones(n, dtype=bool)
    with np.errstate(invalid="ignore"):
        for i, name in enumerate(names):
            v = x[:, :, i]
            kind = next((m for m in FEATURE_MARKERS if m in name), None)
            if kind == "angle":
                valid &= ~np.any((v < -_ANGLE_ABS_RAD) | (v > _ANGLE_ABS_RAD), axis=1)
                valid &= ~np.any(np.abs(np.diff(v, axis=1)) > _ANGLE_JUMP_RAD, axis=1)
            elif kind == "velocity":
                valid &= ~np.any(np.abs(v) > _VELOCITY_ABS_RAD_S, axis=1)
            elif kind == "moment":
                valid &= ~np.any(np.abs(v) > _MOMENT_ABS, axis=1)
            valid &= np.all(np.isfinite(v), axis=1)
    import warnings

    with np.errstate(invalid="ignore", divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices under 'omit' give NaN
        basis = x[valid] if among_valid else x
        pattern = mean(basis, axis=0) if basis.shape[0] else np.full(x.shape[1:], np.nan)
        rmse = np.sqrt(mean((x - pattern) ** 2, axis=(1, 2))) if n else np.zeros(0)
        rb = rmse[valid] if among_valid else rmse
        outlier = rmse > (mean(rb) + threshold * std(rb)) if rb.size else np.zeros(n, dtype=bool)
        if among_valid:
            outlier &= valid
        stats = np.full((len(stat_names), len(names), n), np.nan)
        if n:
            lo, hi = lo_f(x, axis=1).T, hi_f(x, axis=1).T
            for s, value in (("min", lo), ("max", hi), ("rom", hi - lo)):
                if s in stat_names:
                    stats[stat_names.index(s)] = value
        return {"valid": valid.astype(np.uint8), "outlier": outlier.astype(np.uint8), "stats": stats,
                "mean_pattern": mean(x, axis=0).T if n else np.full((len(names), x.shape[1]), np.nan),
                "std_pattern": std(x, axis=0).T if n else np.full((len(names), x.shape[1]), np.nan)}
