"""Validation reports: LocoHub's fixed rules and its validator's per-task, per-phase ranges.

Ranges file (LocoHub's validator YAML)::

    tasks:
      level_walking:
        phases:
          0:                                  # percent of the cycle
            knee_flexion_angle_ipsi_rad: {min: -0.1, max: 0.3}

A phase percentage p checks point ``round(p / 100 * 149)`` of each stride; a stride fails a
variable when any checked value lies outside [min, max]; NaN and infinite values are skipped (as
LocoHub's validator does); a missing min or max is open. Variables the file does not have are
listed in the report, not silently ignored.
"""

from __future__ import annotations

import json
import math
import numbers
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import yaml

from .. import _core
from . import features as feat
from .reader import POINTS_PER_CYCLE

#: Failure bits by name (src/cadence/gait/validation.h FailBit, exported by the engine): LocoHub's
#: fixed rules, then "range" for a ranges file's checks.
RULES: dict[int, str] = {1 << i: name for i, name in enumerate(_core.gait_fail_bits())}
RANGE_BIT = next(b for b, name in RULES.items() if name == "range")
LOCOHUB_BITS = sum(b for b in RULES if b != RANGE_BIT)
#: An example ranges file shipped inside the package (level walking, a few hip and knee angles),
#: so that it is found from any directory: ``cadence gait validate FILE --ranges example``.
EXAMPLE_RANGES = Path(__file__).with_name("ranges_example.yaml")


@dataclass
class Ranges:
    """Checks by task: (variable, phase percent, phase index, min, max)."""

    tasks: dict[str, list[tuple[str, float, int, float, float]]]
    source: str = "<dict>"

    @property
    def variables(self) -> list[str]:
        return sorted({c[0] for checks in self.tasks.values() for c in checks})


def phase_index(pct: float) -> int:
    """Point of a 150-point cycle checked for a phase given in percent."""
    return int(round(float(pct) / 100.0 * (POINTS_PER_CYCLE - 1)))


class _RangesLoader(yaml.SafeLoader):
    """safe_load, refusing a key repeated in one mapping: YAML keeps only the last one, which
    would drop a task's or a phase's checks without a word (`5:` and `5.0:` are one key too)."""

    def construct_mapping(self, node, deep=False):
        seen = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.setdefault(key, key_node)
            except TypeError:  # unhashable; the base class reports it
                break
            if first is not key_node:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice in one mapping (line {first.start_mark.line + 1} "
                    f"and line {key_node.start_mark.line + 1}); merge them", key_node.start_mark)
        return super().construct_mapping(node, deep=deep)


def _bound(value, where: str, what: str) -> float:
    """A min or max: a number, or absent/null (open)."""
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{where}: {what} must be a number, not {value!r}")
    try:
        return float(value)
    except OverflowError:
        raise ValueError(f"{where}: {what} {value} is too large for a float") from None


def load_ranges(source: str | Path | dict) -> Ranges:
    """Parse a ranges YAML file (or the dict it holds); errors name the task and phase.

    Any malformed file raises ValueError naming the file (fuzz/ranges_fuzz.py checks that):
    before, YAML syntax errors, deep nesting, non-UTF-8 bytes, a list where a mapping belongs,
    a string or a 400-digit number as a bound escaped as other exceptions, and a repeated key
    silently replaced the earlier one.
    """
    where = "<dict>"
    if not isinstance(source, dict):
        where = str(source)
        try:
            with open(source, encoding="utf-8") as fh:
                source = yaml.load(fh, Loader=_RangesLoader)  # a SafeLoader: no arbitrary objects
        except UnicodeDecodeError as e:
            raise ValueError(f"{where}: not UTF-8 text (byte {e.start}); a ranges file is YAML") from None
        except yaml.YAMLError as e:
            raise ValueError(f"{where}: not valid YAML: {e}") from None
        except RecursionError:
            raise ValueError(f"{where}: nested too deeply to be a ranges file") from None
    if not isinstance(source, dict) or not isinstance(source.get("tasks"), dict):
        raise ValueError(f"{where}: a ranges file needs a top-level 'tasks:' mapping "
                         f"(tasks -> <task> -> phases -> <percent> -> <variable> -> {{min, max}})")
    out: dict[str, list] = {}
    for task, spec in source["tasks"].items():
        phases = (spec or {}).get("phases") if isinstance(spec, dict) else None
        if not isinstance(phases, dict):
            raise ValueError(f"{where}: task {task!r} has no 'phases:' mapping")
        checks = out.setdefault(str(task), [])
        for pct, variables in phases.items():
            try:
                if isinstance(pct, bool):
                    raise TypeError
                p = float(pct)
            except (TypeError, ValueError, OverflowError):
                raise ValueError(f"{where}: task {task!r}: phase {pct!r} is not a percentage") from None
            if not 0 <= p <= 100:
                raise ValueError(f"{where}: task {task!r}: phase {pct} is outside 0..100")
            if not isinstance(variables or {}, dict):
                raise ValueError(f"{where}: task {task!r} phase {pct}: expected a mapping of variable -> {{min, max}}")
            for var, bounds in (variables or {}).items():
                if not isinstance(bounds, dict):
                    raise ValueError(f"{where}: task {task!r} phase {pct} variable {var!r}: expected {{min, max}}")
                at = f"task {task!r} phase {pct} variable {var!r}"
                lo = _bound(bounds.get("min"), where, f"{at}: min")
                hi = _bound(bounds.get("max"), where, f"{at}: max")
                if lo == lo and hi == hi and lo > hi:
                    raise ValueError(f"{where}: task {task!r} phase {pct} variable {var!r}: min {lo} > max {hi}")
                checks.append((str(var), p, phase_index(p), lo, hi))
    return Ranges(out, where)


def engine_checks(ranges: Ranges, task_names: list[str], features: list[str]) -> tuple[list, list[str]]:
    """Range checks by task code for the engine, and the ranges' variables missing from ``features``."""
    col = {f: i for i, f in enumerate(features)}
    by_task, missing = [], set()
    for task in task_names:
        checks = []
        for var, _pct, point, lo, hi in ranges.tasks.get(task, []):
            if var in col:
                checks.append((col[var], point, lo, hi))
            else:
                missing.add(var)
        by_task.append(checks)
    return by_task, sorted(missing)


@dataclass
class RangeReport:
    """Pass rates per task and variable, and the failing strides.

    ``pass_rates`` columns: task, variable, rule ('locohub' or 'ranges'), strides, failed,
    pass_rate. ``locohub_failures``: subject, task, step, cycle, variable, rules.
    ``range_failures``: subject, task, step, cycle, variable, phase_index, value, min, max.
    """

    strides: int
    valid: int
    pass_rates: pd.DataFrame
    locohub_failures: pd.DataFrame
    range_failures: pd.DataFrame
    missing_variables: list[str] = field(default_factory=list)
    tasks_without_ranges: list[str] = field(default_factory=list)

    @property
    def failing_strides(self) -> int:
        """Strides failing either check, each counted once."""
        hub, rng = self.locohub_failures, self.range_failures
        return len(set(zip(hub["subject"], hub["task"], hub["cycle"])) |
                   set(zip(rng["subject"], rng["task"], rng["cycle"])))

    def format_report(self, ranges_name=None, list_n: int = 20, csv=None) -> str:
        """The text ``cadence gait validate`` prints: pass rates below 100 %, then up to ``list_n``
        failing strides per check (``csv``: where all of them were written, if anywhere)."""
        out = [f"{self.strides:,} strides, {self.valid:,} pass LocoHub's rules "
               f"({self.valid / max(self.strides, 1):.1%})"]
        for rule, title in (("locohub", "LocoHub rules"), ("ranges", f"ranges from {ranges_name}")):
            rates = self.pass_rates[self.pass_rates["rule"] == rule]
            if rates.empty:
                continue
            out.append(f"\npass rate per task and variable, {title} (variables at 100% not shown):")
            table = rates.pivot(index="variable", columns="task", values="pass_rate")
            shown = table[(table < 1.0).any(axis=1)]
            if shown.empty:
                out.append("  every variable passes in every task")
            else:
                out.append(shown.map(lambda x: "" if x != x else f"{x:.1%}").to_string())
        if self.missing_variables:
            out.append(f"\nranges name variables this file does not have: {self.missing_variables}")
        if self.tasks_without_ranges:
            out.append(f"tasks with no ranges: {self.tasks_without_ranges}")
        for rows, title in ((self.locohub_failures, "LocoHub rules ({} stride x variable)"),
                            (self.range_failures, "ranges ({} checks)")):
            if not len(rows):
                continue
            out.append(f"\nfailing strides, {title.format(len(rows))}:")
            if list_n:
                out.append(rows.head(list_n).to_string(index=False))
            if len(rows) > list_n:  # a cut list says so, and how to see the rest
                where = f"all of them are in {csv}" if csv else "--csv FILE writes all of them"
                out.append(f"... and {len(rows) - list_n} more ({where}; --list {len(rows)} prints them)")
        return "\n".join(out)

    def as_dict(self, file=None, ranges_name=None, list_n: int = 20, csv=None) -> dict:
        """What ``cadence gait validate --json`` prints (plain JSON types but numpy scalars)."""
        def records(df, n=None):
            part = df if n is None else df.head(n)
            return json.loads(part.to_json(orient="records"))

        return {
            "file": None if file is None else str(file), "ranges": None if ranges_name is None else str(ranges_name),
            "strides": self.strides, "valid": self.valid, "failing_strides": self.failing_strides,
            "pass_rates": records(self.pass_rates),
            "locohub_failures": len(self.locohub_failures), "range_failures": len(self.range_failures),
            "first_locohub_failures": records(self.locohub_failures, list_n),
            "first_range_failures": records(self.range_failures, list_n),
            "missing_variables": self.missing_variables, "tasks_without_ranges": self.tasks_without_ranges,
            "csv": None if csv is None else str(csv),
        }


class _FlagSink:
    """Keeps the per-cycle keys and fail flags only: validation never holds the statistics."""

    def __init__(self, features: list[str]) -> None:
        self.keep = ["subject", "task", "step", "cycle", "valid"] + [f"{f}__fail" for f in features]
        self.batches: list[pa.RecordBatch] = []

    def __call__(self, batch: pa.RecordBatch) -> None:
        self.batches.append(batch.select(self.keep))


def validate_file(loco, ranges=None, features: list[str] | None = None, *, memory_limit=None, jobs=None,
                  show_progress: bool | None = None) -> RangeReport:
    """Stream the file once: LocoHub's rules on every stride, and the ranges file if given."""
    names = loco.features if features is None else list(features)
    rng = None if ranges is None else (ranges if isinstance(ranges, Ranges) else load_ranges(ranges))
    index = loco.cycle_index
    checks, missing = engine_checks(rng, index.task_names, names) if rng else ([], [])
    sink = _FlagSink(names)
    limit = loco.memory_limit if memory_limit is None else memory_limit
    run = feat.stream(loco.gait_file, index, names, sink, nan_policy=loco.nan_policy, range_checks=checks,
                      fail_flags=True, jobs=loco.jobs if jobs is None else jobs, memory_limit=limit,
                      show_progress=show_progress, desc="validate")
    table = pa.Table.from_batches(sink.batches) if sink.batches else feat.empty_schema(names, True).empty_table()
    keys = table.select(["subject", "task", "step", "cycle"]).to_pandas()
    keys["subject"] = keys["subject"].astype(str)
    keys["task"] = keys["task"].astype(str)
    flags = np.column_stack([table.column(f"{f}__fail").to_numpy() for f in names]) if names and table.num_rows \
        else np.zeros((table.num_rows, len(names)), np.uint8)
    rates, hub_rows = [], []
    checked = {(t, names[c[0]]) for t, cs in zip(index.task_names, checks) for c in cs}
    for task, sel in keys.groupby("task", sort=True).groups.items():
        rows = np.asarray(sel)
        for j, f in enumerate(names):
            hub = (flags[rows, j] & LOCOHUB_BITS) != 0
            rates.append((task, f, "locohub", len(rows), int(hub.sum())))
            if (task, f) in checked:
                rates.append((task, f, "ranges", len(rows), int(((flags[rows, j] & RANGE_BIT) != 0).sum())))
    bad_rows, bad_cols = np.nonzero(flags & LOCOHUB_BITS)
    for i, j in zip(bad_rows, bad_cols):
        bits = int(flags[i, j])
        step = keys.at[i, "step"]  # null for a cycle without a step value
        hub_rows.append((keys.at[i, "subject"], keys.at[i, "task"], None if pd.isna(step) else int(step),
                         int(keys.at[i, "cycle"]), names[j],
                         ",".join(name for b, name in RULES.items() if bits & b and b != RANGE_BIT)))
    pass_rates = pd.DataFrame(rates, columns=["task", "variable", "rule", "strides", "failed"])
    pass_rates["pass_rate"] = 1.0 - pass_rates["failed"] / pass_rates["strides"].where(pass_rates["strides"] > 0)
    failures = run.range_failures.to_pandas()
    for c in ("subject", "task"):
        failures[c] = failures[c].astype(str)
    return RangeReport(
        strides=table.num_rows, valid=int(np.sum(table.column("valid").to_numpy(zero_copy_only=False))),
        pass_rates=pass_rates,
        locohub_failures=pd.DataFrame(hub_rows, columns=["subject", "task", "step", "cycle", "variable", "rules"]),
        range_failures=failures, missing_variables=missing,
        tasks_without_ranges=sorted(set(index.task_names) - set(rng.tasks)) if rng else [])
