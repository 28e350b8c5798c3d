"""Time-indexed gait recordings to LocoHub's phase standard (``cadence gait phase IN OUT``).

LocoHub's converters turn time-indexed recordings (``time_s``, ground reaction force, joint
kinematics) into 150 points per gait cycle; its ``LocomotionData`` only warns on such a file.
This module streams the input (Parquet row groups, or CSV blocks) in batches of whole trials,
has the engine (src/cadence/gait/phase_convert.h) find heel strikes, apply LocoHub's stride rules
and interpolate each kept stride on all cores, and writes the strides in LocoHub's layout as
they come (subject, task, task_id/task_info, step, phase_ipsi, then the variables), which
``LocomotionData`` and ``cadence gait features`` read directly, as Parquet or CSV (OUT's
suffix says which). Every stride left out is in ``OUT.drops.csv`` (OUT's extension replaced,
:func:`cadence.gait.outputs.companion`) with its reason.

Memory: one batch of rows plus the one trial that crosses into the next batch.
"""

from __future__ import annotations

import csv
import math
import os
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from .. import _core
from ..atomic import atomic_files
from ..runtime import make_job, run_job
from .loading import content_mismatch
from .outputs import companion
from .reader import PHASE_GRID_PCT, POINTS_PER_CYCLE

#: LocoHub's stride segmentation defaults (../shared/DOMAIN.md, section 2), the engine's
#: (gait::PhaseConfig): to_phase's signature and the CLI read them here.
DEFAULTS = _core.gait_phase_defaults()
THRESHOLD_N = DEFAULTS.pop("threshold")
THRESHOLD_BW = DEFAULTS.pop("threshold_bw")
#: Why a stride is left out: the engine's fixed list (after "kept") plus the trial-level one.
#: Not cycle features' drop reasons (features.CYCLE_DROP_REASONS), which name groups and cycles.
STRIDE_DROP_REASONS = (*_core.gait_stride_drop_reasons()[1:], "no_heel_strikes")
KEY_COLUMNS = ("subject", "task")
CONDITION_COLUMNS = ("task_id", "task_info")
NOT_VARIABLES = {"time", "time_s", "step", "phase", "phase_ipsi", "phase_percent", "cycle"}
BATCH_ROWS = 1 << 18
#: Output formats by OUT's suffix: the file holds what its name says.
OUTPUT_FORMATS = {".parquet": "parquet", ".csv": "csv"}


def find_grf(columns: list[str]) -> str | None:
    """The vertical GRF column LocoHub names ``grf_vertical_ipsi_<unit>`` (BW before N)."""
    for unit in ("_BW", "_N", ""):
        for c in columns:
            if c.startswith("grf_vertical_ipsi") and c.endswith(unit):
                return c
    return None


def default_threshold(grf: str) -> float:
    """50 N, or 0.05 for a force in body weights, as the column's unit says."""
    if grf.endswith("_BW"):
        return THRESHOLD_BW
    if grf.endswith("_N"):
        return THRESHOLD_N
    raise ValueError(f"the unit of {grf!r} is not in its name (_N or _BW): give threshold= "
                     f"(the CLI's --threshold) in the force's unit")


def to_phase(source: str | os.PathLike, out: str | os.PathLike, *, grf: str | None = None,
             events: str | None = None, threshold: float | None = None, variables: list[str] | None = None,
             smooth_samples: int = DEFAULTS["smooth_samples"], min_contact_gap_s: float = DEFAULTS["min_contact_gap_s"],
             min_stride_s: float = DEFAULTS["min_stride_s"], max_stride_s: float = DEFAULTS["max_stride_s"],
             drop_first: int = DEFAULTS["drop_first"], drop_last: int = DEFAULTS["drop_last"],
             iqr_factor: float = DEFAULTS["iqr_factor"],
             jobs: int = 0, batch_rows: int = BATCH_ROWS, show_progress: bool | None = None) -> dict:
    """Convert a time-indexed recording to LocoHub's phase-indexed layout.

    Parameters
    ----------
    source
        Time-indexed Parquet or CSV: ``subject``, ``task``, ``time_s`` (seconds, rising within a
        trial), optionally ``task_id``/``task_info``, and the variables. A trial is a run of
        consecutive rows with the same subject, task and task_id (or task_info).
    out
        Phase-indexed output written atomically: Parquet for ``.parquet``, CSV for ``.csv`` (any
        other suffix is refused); the drop log goes to ``OUT.drops.csv`` (OUT's extension replaced).
    grf
        Vertical GRF column for heel strikes (default: ``grf_vertical_ipsi_BW``, else ``_N``).
    events
        Instead of the force: a column whose nonzero values mark heel-strike samples.
    threshold
        Rising-crossing threshold in the force's unit (default 50 N, 0.05 BW).
    variables
        Columns to interpolate (default: every numeric column but keys, time and phase).
    smooth_samples, min_contact_gap_s, min_stride_s, max_stride_s, drop_first, drop_last, iqr_factor
        LocoHub's segmentation rules: centred moving average of the force, the shortest time
        between contacts, stride duration limits (s), strides dropped at the start and the end of
        each trial, and the IQR factor for duration outliers (0: none).

    Returns
    -------
    dict
        Counts: trials, heel strikes, strides found, kept and dropped by reason, rows written.
    """
    source, out = Path(source), Path(out)
    fmt = OUTPUT_FORMATS.get(out.suffix.lower())
    if fmt is None:  # checked before any work: a .csv used to receive Parquet bytes
        raise ValueError(f"{out}: the output must end in .parquet or .csv (its format follows its name)")
    _check(smooth_samples, min_contact_gap_s, min_stride_s, max_stride_s, drop_first, drop_last, iqr_factor,
           batch_rows)
    reader = _Reader(source, batch_rows)
    columns = reader.columns
    missing = [c for c in (*KEY_COLUMNS, "time_s") if c not in columns]
    if missing:
        raise ValueError(f"{source}: no {', '.join(missing)} column; a time-indexed LocoHub file has subject, task, "
                         f"time_s and its variables (columns: {', '.join(columns[:20])})")
    if events is None:
        grf = grf or find_grf(columns)
        if grf is None:
            raise ValueError(f"{source}: no vertical GRF column (grf_vertical_ipsi_BW or _N) to find heel strikes; "
                             f"name one with grf= (--grf), or give heel strikes with events= (--events)")
        force = grf
        threshold = default_threshold(grf) if threshold is None else threshold
    else:
        force = events
        threshold = 0.0 if threshold is None else threshold
    if force not in columns:
        raise ValueError(f"{source}: no column {force!r}; columns: {', '.join(columns[:30])}")
    condition = next((c for c in CONDITION_COLUMNS if c in columns), None)
    keys = [*KEY_COLUMNS, *([condition] if condition else [])]
    extra_keys = [c for c in CONDITION_COLUMNS if c in columns and c != condition]
    if variables is None:
        variables = [c for c in columns if c not in NOT_VARIABLES and c not in keys and c not in extra_keys
                     and c != events and reader.numeric(c)]
    else:
        absent = [v for v in variables if v not in columns]
        if absent:
            raise ValueError(f"{source}: no column(s) {', '.join(absent)}")
    rules = dict(threshold=float(threshold), smooth_samples=smooth_samples, min_contact_gap_s=min_contact_gap_s,
                 min_stride_s=min_stride_s, max_stride_s=max_stride_s, drop_first=drop_first,
                 drop_last=drop_last, iqr_factor=iqr_factor, events=events is not None)
    job = make_job(jobs, None)
    state = _State(keys + extra_keys, variables)
    with atomic_files() as group:
        tmp_out, tmp_drops = group.path(out), group.path(companion(out, ".drops.csv"))
        writer = None
        drops_file = open(tmp_drops, "w", newline="", encoding="utf-8")
        try:
            drop_writer = csv.writer(drops_file, lineterminator="\n")
            drop_writer.writerow([*keys, *extra_keys, "stride", "start_s", "end_s", "duration_s", "reason"])

            def work():
                nonlocal writer
                for chunk in reader.trials(keys, [force, "time_s", *variables, *extra_keys]):
                    table = _convert(chunk, keys, extra_keys, force, variables, rules, job, state, drop_writer)
                    if table is not None and table.num_rows:
                        if writer is None:
                            writer = _writer(tmp_out, table.schema, fmt)
                        writer.write_table(table)
                if writer is None:  # nothing kept: an empty file with the right columns
                    writer = _writer(tmp_out, state.schema(), fmt)

            run_job(work, job, desc="to phase", show_progress=show_progress)
        finally:
            drops_file.close()
            if writer is not None:
                writer.close()
    return state.summary(out, force, threshold, variables)


def _writer(path: Path, schema: pa.Schema, fmt: str):
    if fmt == "parquet":
        return pq.ParquetWriter(path, schema, compression="zstd")
    return _CsvWriter(path, schema)


class _CsvWriter:
    """pyarrow's CSV writer with dictionary-encoded keys written as their text."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.schema = pa.schema([pa.field(f.name, f.type.value_type if pa.types.is_dictionary(f.type) else f.type)
                                 for f in schema])
        self.writer = pacsv.CSVWriter(path, self.schema)

    def write_table(self, table: pa.Table) -> None:
        self.writer.write_table(table.cast(self.schema))

    def close(self) -> None:
        self.writer.close()


def _check(smooth, gap, lo, hi, first, last, iqr, batch_rows) -> None:
    def need(ok, what):
        if not ok:
            raise ValueError(what)

    need(isinstance(smooth, int) and smooth >= 1, f"smooth_samples {smooth!r}: a whole number >= 1")
    need(math.isfinite(gap) and gap >= 0, f"min_contact_gap_s {gap!r}: seconds >= 0")
    need(math.isfinite(lo) and math.isfinite(hi) and 0 <= lo < hi, f"stride limits {lo!r}..{hi!r}: 0 <= min < max seconds")
    need(isinstance(first, int) and first >= 0 and isinstance(last, int) and last >= 0,
         f"drop_first {first!r} / drop_last {last!r}: whole numbers >= 0")
    need(math.isfinite(iqr) and iqr >= 0, f"iqr_factor {iqr!r}: >= 0 (0: no duration-outlier rule)")
    need(isinstance(batch_rows, int) and batch_rows >= 1, f"batch_rows {batch_rows!r}: >= 1")


class _Reader:
    """Batches of a Parquet or CSV file, and the runs of whole trials in them."""

    def __init__(self, path: Path, batch_rows: int) -> None:
        if not path.is_file():
            raise FileNotFoundError(2, f"{path}: input not found", str(path))
        self.path, self.batch_rows = path, batch_rows
        self.csv = path.suffix.lower() == ".csv"
        said = content_mismatch(path, "csv" if self.csv else "parquet")  # the suffix decides the reader
        if said is not None:
            raise ValueError(said)
        self.schema = (pacsv.open_csv(path).schema if self.csv else pq.ParquetFile(path).schema_arrow)
        self.columns = list(self.schema.names)

    def numeric(self, name: str) -> bool:
        t = self.schema.field(name).type
        return pa.types.is_floating(t) or pa.types.is_integer(t)

    def batches(self, columns: list[str]):
        if self.csv:
            opts = pacsv.ReadOptions(block_size=1 << 24)
            conv = pacsv.ConvertOptions(include_columns=columns)
            for b in pacsv.open_csv(self.path, read_options=opts, convert_options=conv):
                yield pa.Table.from_batches([b])
        else:
            f = pq.ParquetFile(self.path)
            for b in f.iter_batches(batch_size=self.batch_rows, columns=columns):
                yield pa.Table.from_batches([b])

    def trials(self, keys: list[str], others: list[str]):
        """Tables of whole trials: a trial still open at a batch's end waits for the next batch."""
        tail = None
        for t in self.batches(list(dict.fromkeys(keys + others))):
            t = t if tail is None else pa.concat_tables([tail, t])
            bounds = _trial_bounds(t, keys)
            last = bounds[-2]  # start of the last (maybe unfinished) trial
            if last > 0:
                yield t.slice(0, last)
            tail = t.slice(last)
        if tail is not None and tail.num_rows:
            yield tail


def _trial_bounds(t: pa.Table, keys: list[str]) -> np.ndarray:
    """Row offsets of the runs of equal keys: [0, ..., n]."""
    n = t.num_rows
    change = np.zeros(max(n - 1, 0), bool)
    for k in keys:
        col = t.column(k).combine_chunks()
        if n > 1:
            a, b = col.slice(1), col.slice(0, n - 1)
            ne = pc.fill_null(pc.not_equal(a, b), True)
            # Null next to null is the same key (a file without task_id values).
            both_null = pc.and_(pc.is_null(a), pc.is_null(b))
            change |= np.asarray(pc.and_not(ne, both_null), bool)
    return np.concatenate([[0], np.flatnonzero(change) + 1, [n]]).astype(np.int64)


def _float(col) -> np.ndarray:
    return np.ascontiguousarray(pc.cast(col, pa.float64()).to_numpy(zero_copy_only=False), dtype=np.float64)


class _State:
    """What carries over between batches: step counters per (subject, task), the counts, the
    output schema."""

    def __init__(self, keys, variables) -> None:
        self.keys, self.variables = keys, variables
        self.next_step: Counter = Counter()
        self.trials = self.strikes = self.kept = self.rows = 0
        self.dropped: Counter = Counter()
        self.key_types: dict[str, pa.DataType] = {}

    def schema(self) -> pa.Schema:
        fields = [pa.field(k, self.key_types.get(k, pa.string())) for k in self.keys]
        fields += [pa.field("step", pa.int64()), pa.field("phase_ipsi", pa.float64())]
        return pa.schema(fields + [pa.field(v, pa.float64()) for v in self.variables])

    def summary(self, out, force, threshold, variables) -> dict:
        return {"output": str(out), "drops": str(companion(out, ".drops.csv")), "trials": self.trials,
                "heel_strikes": self.strikes, "strides": self.kept + sum(self.dropped.values()),
                "strides_kept": self.kept, "strides_dropped": dict(self.dropped), "rows": self.rows,
                "heel_strikes_from": force, "threshold": threshold, "variables": len(variables)}


def _convert(t: pa.Table, keys, extra_keys, force, variables, rules, job, state: _State, drop_writer):
    bounds = _trial_bounds(t, keys)
    time_s, f = _float(t.column("time_s")), _float(t.column(force))
    values, kept, dropped, strikes = _core.gait_to_phase(
        time_s, f, bounds, [_float(t.column(v)) for v in variables], job, **rules)
    n_trials = len(bounds) - 1
    state.trials += n_trials
    state.strikes += int(strikes.sum())
    key_cols = keys + extra_keys
    for k in key_cols:
        state.key_types.setdefault(k, t.schema.field(k).type)
    first_rows = bounds[:-1]
    key_values = {k: t.column(k).take(pa.array(first_rows)).to_pylist() for k in key_cols}

    def trial_key(i):
        return [key_values[k][i] for k in key_cols]

    for i in np.flatnonzero(strikes < 2):
        drop_writer.writerow([*trial_key(i), "", "", "", "", "no_heel_strikes"])
        state.dropped["no_heel_strikes"] += 1
    for i, s, a, b, why in zip(dropped["trial"], dropped["stride"], dropped["start_s"], dropped["end_s"],
                               dropped["reason"]):
        drop_writer.writerow([*trial_key(i), int(s), f"{a:.6f}", f"{b:.6f}", f"{b - a:.6f}", why])
        state.dropped[why] += 1
    n_kept = len(kept["trial"])
    if not n_kept:
        return None
    # Steps numbered per (subject, task) in file order, across trials and batches.
    steps = np.empty(n_kept, np.int64)
    for r, i in enumerate(kept["trial"]):
        g = (key_values["subject"][i], key_values["task"][i])
        steps[r] = state.next_step[g]
        state.next_step[g] += 1
    rows = np.repeat(first_rows[kept["trial"]], POINTS_PER_CYCLE)
    cols = [t.column(k).take(pa.array(rows)) for k in key_cols]
    cols += [pa.array(np.repeat(steps, POINTS_PER_CYCLE)), pa.array(np.tile(PHASE_GRID_PCT, n_kept))]
    cols += [pa.array(v) for v in values]
    state.kept += n_kept
    state.rows += n_kept * POINTS_PER_CYCLE
    return pa.Table.from_arrays(cols, names=key_cols + ["step", "phase_ipsi"] + variables)
