"""Finding a corpus's MIDI/audio pairs (E-GMD CSV or a directory scan) and filtering them.

A bad CSV row is never skipped silently: it becomes a rejected input with a reason, exactly
like a pair whose audio fails to decode, and lands in the reject log.
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

EGMD_COLUMNS = (
    "drummer", "session", "id", "style", "bpm", "beat_type", "time_signature",
    "duration", "split", "midi_filename", "audio_filename", "kit_name",
)
MIDI_SUFFIXES = (".mid", ".midi")
AUDIO_SUFFIXES = (".wav", ".flac")
SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class PairInput:
    """One MIDI + audio pair to prepare. ``pair_id`` is unique and stable across runs."""

    pair_id: str
    midi_path: str
    audio_path: str
    csv_duration_s: float = math.nan
    meta: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class InputReject:
    """An input rejected before processing (bad CSV row, path outside the root...)."""

    pair_id: str
    reason: str
    message: str


def _pair_id(root: Path, audio_rel: str) -> str:
    return str(Path(audio_rel).with_suffix("")).replace(os.sep, "/")


def _inside(root: Path, rel: str) -> Path | None:
    """The absolute path of `rel` under `root`, or None if it escapes the root."""
    if not rel or Path(rel).is_absolute():
        return None
    full = (root / rel).resolve()
    return full if full.is_relative_to(root.resolve()) else None


def find_csv(root: Path) -> Path | None:
    """The E-GMD CSV in `root` (a .csv whose header is E-GMD's), if any."""
    for path in sorted(root.glob("*.csv")):
        with open(path, newline="") as f:
            header = next(csv.reader(f), [])
        if tuple(header) == EGMD_COLUMNS:
            return path
    return None


def read_csv(root: Path, csv_path: Path) -> tuple[list[PairInput], list[InputReject]]:
    """Pairs listed in an E-GMD CSV. Rows with missing fields, unreadable numbers or paths
    that escape `root` are returned as rejects naming the CSV line."""
    pairs, rejects = [], []
    with open(csv_path, newline="") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != EGMD_COLUMNS:
            raise ValueError(
                f"{csv_path}: columns {reader.fieldnames} are not E-GMD's; expected {list(EGMD_COLUMNS)}")
        for line, row in enumerate(reader, start=2):
            where = f"{csv_path.name} line {line}"
            rid = (row.get("audio_filename") or f"{csv_path.name}:{line}").strip()
            missing = [c for c in EGMD_COLUMNS if not (row.get(c) or "").strip()]
            if missing:
                rejects.append(InputReject(rid, "csv_missing_field", f"{where}: empty {', '.join(missing)}"))
                continue
            midi, audio = _inside(root, row["midi_filename"]), _inside(root, row["audio_filename"])
            if midi is None or audio is None:
                bad = row["midi_filename"] if midi is None else row["audio_filename"]
                rejects.append(InputReject(rid, "path_outside_root",
                                           f"{where}: path {bad!r} leaves the dataset root {root}"))
                continue
            try:
                duration_s, bpm = float(row["duration"]), int(float(row["bpm"]))
            except ValueError:
                rejects.append(InputReject(rid, "csv_bad_value",
                                           f"{where}: duration {row['duration']!r} or bpm {row['bpm']!r} is not a number"))
                continue
            meta = {k: row[k] for k in ("drummer", "session", "style", "beat_type", "time_signature",
                                        "split", "kit_name")}
            meta.update(source_id=row["id"], bpm=bpm)
            pairs.append(PairInput(_pair_id(root, row["audio_filename"]), str(midi), str(audio),
                                   duration_s, meta))
    return pairs, rejects


def scan_directory(root: Path) -> tuple[list[PairInput], list[InputReject]]:
    """Without a CSV: every .mid/.midi paired with the .wav/.flac of the same stem."""
    pairs, rejects = [], []
    for midi in sorted(p for p in root.rglob("*") if p.suffix.lower() in MIDI_SUFFIXES):
        rel = midi.relative_to(root)
        audio = next((midi.with_suffix(s) for s in AUDIO_SUFFIXES if midi.with_suffix(s).is_file()), None)
        pid = str(rel.with_suffix("")).replace(os.sep, "/")
        if audio is None:
            rejects.append(InputReject(pid, "missing_audio",
                                       f"{midi}: no .wav or .flac with the same name beside it"))
            continue
        parts = rel.parts
        meta = {"source_id": pid, "drummer": parts[0] if len(parts) > 2 else "",
                "session": "/".join(parts[:2]) if len(parts) > 2 else "", "split": "", "kit_name": "",
                "style": "", "beat_type": "", "time_signature": "", "bpm": 0}
        pairs.append(PairInput(pid, str(midi), str(audio), math.nan, meta))
    return pairs, rejects


def _keep_fraction(pair: PairInput, fraction: float, seed: int) -> bool:
    # A hash of (seed, performance id): the same pairs every run, and all kits of a performance
    # kept or dropped together, so a sample never splits a performance.
    key = f"{seed}:{pair.meta.get('source_id') or pair.pair_id}".encode()
    h = int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big")
    return h / 2**64 < fraction


def select(pairs: list[PairInput], *, splits=None, kits=None, drummers=None,
           sample_fraction: float | None = None, seed: int = 0, limit: int | None = None) -> list[PairInput]:
    """Apply the command line's filters, in a deterministic order."""
    def wanted(values, v):
        return not values or v in values

    out = [p for p in pairs
           if wanted(splits, p.meta.get("split")) and wanted(drummers, p.meta.get("drummer"))
           and (not kits or p.meta.get("kit_name") in kits or p.pair_id.rsplit("_", 1)[-1] in kits)]
    if sample_fraction is not None:
        if not 0 < sample_fraction <= 1:
            raise ValueError(f"--sample-fraction must be in (0, 1], got {sample_fraction}")
        out = [p for p in out if _keep_fraction(p, sample_fraction, seed)]
    return out[:limit] if limit is not None else out
