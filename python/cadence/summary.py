"""Summaries of a drum corpus (E-GMD layout) and a gait Parquet (LocoHub layout).

The drum summary decodes every audio file on the engine's workers and checks each duration
against the CSV, so it doubles as a health check of a downloaded corpus.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .text import plural
from .drums import scan_corpus
from .drums.corpus import Corpus
from .drums.datasets import egmd
from .drums.store import JOURNAL


def summarize_drums(root: Path, *, jobs: int = 0, show_progress: bool | None = None) -> dict:
    """Counts per split, kit and drummer, audio totals, and CSV-vs-audio duration checks, of an
    E-GMD corpus: its directory or its zip (read in place)."""
    if Path(root).is_dir() and (Path(root) / JOURNAL).is_file():
        raise ValueError(f"{root} is a prepared directory, not a corpus; summarise it with "
                         f"`cadence drums inspect {root}`")
    corpus = Corpus(root)
    rel = egmd.find_csv(corpus)
    if rel is None:
        others = sorted(f.rpartition("/")[2] for f in corpus.files() if f.lower().endswith(".csv"))
        seen = f" (its CSV files {', '.join(others)} do not have E-GMD's columns)" if others else ""
        raise ValueError(f"{root}: no E-GMD CSV (a .csv with the columns {', '.join(egmd.COLUMNS)}){seen}; "
                         f"give the corpus root, e.g. the directory holding e-gmd-v1.0.0.csv")
    csv_path = corpus.where(rel)
    top = rel.rpartition("/")[0]
    rows = list(csv.DictReader(io.StringIO(corpus.read(rel).decode("utf-8"), newline="")))
    names = set(corpus.files())

    def member(name: str) -> str:
        return f"{top}/{name}" if top else name

    audio = scan_corpus([corpus.engine_path(member(r["audio_filename"])) for r in rows], jobs=jobs,
                        show_progress=show_progress, archive=corpus.archive or None)
    midi_missing = sum(member(r["midi_filename"]) not in names for r in rows)
    ok = audio.column("ok").to_numpy(zero_copy_only=False)
    duration_s = audio.column("duration_s").to_numpy()
    csv_duration_s = np.array([_number(r["duration"]) for r in rows])
    mismatch_s = np.abs(duration_s - csv_duration_s)[ok & np.isfinite(csv_duration_s)]
    bpms = [b for b in (_number(r["bpm"]) for r in rows) if np.isfinite(b)]
    return {
        "csv": str(csv_path),
        "pairs": len(rows),
        "performances": len({r["id"] for r in rows}),
        "drummers": len({r["drummer"] for r in rows}),
        "kits": dict(Counter(r["kit_name"] for r in rows)),
        "splits": dict(Counter(r["split"] for r in rows)),
        "performances_per_split": dict(Counter(s for _, s in {(r["id"], r["split"]) for r in rows})),
        "beat_types": dict(Counter(r["beat_type"] for r in rows)),
        "bpm_range": (int(min(bpms)), int(max(bpms))) if bpms else None,
        "missing_midi": midi_missing,
        "audio_ok": int(ok.sum()),
        "audio_failed": [(p, e) for p, e, good in zip(
            audio.column("path").to_pylist(), audio.column("error").to_pylist(), ok) if not good],
        "audio_hours": float(duration_s[ok].sum() / 3600),
        "sample_rates_hz": dict(Counter(audio.column("sample_rate_hz").to_numpy()[ok].tolist())),
        "channels": dict(Counter(audio.column("channels").to_numpy()[ok].tolist())),
        "max_duration_mismatch_s": float(mismatch_s.max()) if mismatch_s.size else 0.0,
        "mean_rms_dbfs": float(np.mean(audio.column("rms_dbfs").to_numpy()[ok])) if ok.any() else None,
    }


def format_drums(s: dict) -> str:
    lines = [
        f"Drum corpus  {s['csv']}",
        f"  pairs            {s['pairs']:,}  ({plural(s['performances'], 'performance')}, "
        f"{plural(s['drummers'], 'drummer')})",
        f"  splits (pairs)   {_counts(s['splits'])}",
        f"  splits (perf.)   {_counts(s['performances_per_split'])}",
        f"  kits             {_counts(s['kits'])}",
        f"  beat types       {_counts(s['beat_types'])}",
        f"  bpm              {s['bpm_range'][0]}-{s['bpm_range'][1]}" if s["bpm_range"] else "  bpm              -",
        f"  audio            {s['audio_ok']} decoded, {s['audio_hours'] * 3600:.1f} s, "
        f"{_per_file(s['sample_rates_hz'], '{} Hz')}, {_per_file(s['channels'], '{} channel', '{} channels')}, "
        f"mean RMS {s['mean_rms_dbfs']:.1f} dBFS" if s["mean_rms_dbfs"] is not None else "  audio            none decoded",
        f"  CSV vs audio     max duration mismatch {s['max_duration_mismatch_s'] * 1e3:.2f} ms",
        f"  missing MIDI     {s['missing_midi']}",
    ]
    for path, error in s["audio_failed"]:
        lines.append(f"  FAILED           {path}: {error}")
    return "\n".join(lines) + "\n"


def summarize_gait(path: Path) -> dict:
    """Rows, subjects, tasks, strides per task, feature families and NaN counts."""
    from .gait.reader import FEATURE_MARKERS, POINTS_PER_CYCLE  # here: the drums summary needs no gait import

    meta = pq.ParquetFile(path)
    names = meta.schema_arrow.names
    required = ["subject", "task", "step"]
    missing = [c for c in required if c not in names]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; available: {names}")
    keys = pq.read_table(path, columns=required)
    # A stride is one (subject, task, step) run of rows; LocoHub requires 150 of them each.
    group = keys.group_by(required).aggregate([([], "count_all")])
    per_stride = group.column("count_all").to_numpy()
    features = [c for c in names if any(m in c for m in FEATURE_MARKERS)]
    others = [c for c in names if c not in features and c not in
              ("subject", "task", "task_id", "task_info", "step", "phase_ipsi", "time_s")]
    table = pq.read_table(path, columns=features + others)
    nan_counts = {c: int(pc.sum(pc.is_nan(table.column(c))).as_py() or 0) for c in features + others}
    strides_per_task = Counter(group.column("task").to_pylist())
    return {
        "path": str(path),
        "rows": meta.metadata.num_rows,
        "row_groups": meta.metadata.num_row_groups,
        "subjects": sorted(set(group.column("subject").to_pylist())),
        "strides": len(per_stride),
        "strides_per_task": dict(sorted(strides_per_task.items())),
        "strides_not_150": int((per_stride != POINTS_PER_CYCLE).sum()),
        "features": {m: sum(m in c for c in features) for m in FEATURE_MARKERS},
        "other_columns": others,
        "nan_values": sum(nan_counts.values()),
        "columns_with_nan": sorted(c for c, n in nan_counts.items() if n),
    }


def format_gait(s: dict) -> str:
    from .gait.reader import POINTS_PER_CYCLE

    lines = [
        f"Gait dataset  {s['path']}",
        f"  rows             {s['rows']:,} in {s['row_groups']} row groups",
        f"  subjects         {len(s['subjects'])}: {', '.join(s['subjects'])}",
        f"  strides          {s['strides']:,}  ({s['strides_not_150']} not of {POINTS_PER_CYCLE} points)",
        f"  strides per task {_counts(s['strides_per_task'])}",
        f"  features         {_counts(s['features'])}; other: {', '.join(s['other_columns']) or '-'}",
        f"  NaN values       {s['nan_values']:,} in {len(s['columns_with_nan'])} column(s)",
    ]
    return "\n".join(lines) + "\n"


def _number(text: str | None) -> float:
    """A CSV cell as a number; NaN when it is not one (the summary reports, it does not stop)."""
    try:
        return float(text or "nan")
    except ValueError:
        return float("nan")


def _per_file(d: dict, one: str, many: str | None = None) -> str:
    """"44100 Hz (12 files)", "1 channel (10 files), 2 channels (2 files)": a value and its files."""
    return ", ".join(f"{(one if k == 1 or many is None else many).format(k)} ({plural(v, 'file')})"
                     for k, v in sorted(d.items())) or "-"


def _counts(d: dict) -> str:
    return ", ".join(f"{k}: {v}" for k, v in sorted(d.items(), key=lambda kv: str(kv[0])))
