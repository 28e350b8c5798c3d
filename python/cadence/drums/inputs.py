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

# E-GMD's CSV header, in order: the one definition (the sample generator and the summary use it).
EGMD_COLUMNS = (
    "drummer", "session", "id", "style", "bpm", "beat_type", "time_signature",
    "duration", "split", "midi_filename", "audio_filename", "kit_name",
)
EGMD_CSV_NAME = "e-gmd-v1.0.0.csv"
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
    """The E-GMD CSV in `root` (a .csv whose header is E-GMD's), if any.

    Other CSV files are passed over, whatever they hold: a prepared directory's rejects.csv, a
    spreadsheet in another encoding, a directory named ``x.csv``."""
    for path in sorted(root.glob("*.csv")):
        try:
            with open(path, newline="", encoding="utf-8") as f:
                header = next(csv.reader(f), [])
        except (OSError, UnicodeDecodeError, csv.Error):
            continue
        if tuple(h.strip() for h in header) == EGMD_COLUMNS:
            return path
    return None


def read_csv(root: Path, csv_path: Path) -> tuple[list[PairInput], list[InputReject]]:
    """Pairs listed in an E-GMD CSV. Rows with missing fields, unreadable numbers or paths
    that escape `root` are returned as rejects naming the CSV line."""
    with open(csv_path, newline="", encoding="utf-8") as f:
        return parse_csv(f, csv_path, lambda rel: _inside(root, rel), root)


def parse_csv(lines, csv_path, resolve, root) -> tuple[list[PairInput], list[InputReject]]:
    """The rows of an E-GMD CSV (an iterable of lines) as pairs and rejects; ``resolve(rel)``
    gives the path of a CSV path under the dataset root (a file, or a zip member), or None when
    it escapes the root. Shared by the directory and the zip reader (archive.py)."""
    pairs, rejects = [], []
    csv_name = Path(str(csv_path)).name
    reader = csv.DictReader(lines)
    if tuple(reader.fieldnames or ()) != EGMD_COLUMNS:
        raise ValueError(
            f"{csv_path}: columns {reader.fieldnames} are not E-GMD's; expected {list(EGMD_COLUMNS)}")
    for line, row in enumerate(reader, start=2):
        where = f"{csv_name} line {line}"
        rid = (row.get("audio_filename") or f"{csv_name}:{line}").strip()
        missing = [c for c in EGMD_COLUMNS if not (row.get(c) or "").strip()]
        if missing:
            rejects.append(InputReject(rid, "csv_missing_field", f"{where}: empty {', '.join(missing)}"))
            continue
        midi, audio = resolve(row["midi_filename"]), resolve(row["audio_filename"])
        if midi is None or audio is None:
            bad = row["midi_filename"] if midi is None else row["audio_filename"]
            rejects.append(InputReject(rid, "path_outside_root",
                                       f"{where}: path {bad!r} leaves the dataset root {root}"))
            continue
        try:
            duration_s, bpm = float(row["duration"]), int(float(row["bpm"]))
            if not (math.isfinite(duration_s) and duration_s >= 0):
                raise ValueError
        except (ValueError, OverflowError):  # "long", "inf" (int(inf) overflows), "nan"
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
    """Without a CSV: every .mid/.midi paired with the .wav/.flac of the same stem (suffixes in
    any case: ``.MID`` with ``.WAV``)."""
    pairs, rejects = [], []
    files = sorted(p for p in root.rglob("*") if p.is_file())
    audio_by_stem: dict[Path, Path] = {}
    for p in files:
        if p.suffix.lower() in AUDIO_SUFFIXES:
            stem = p.with_suffix("")
            # .wav before .flac, as the suffix list says, whatever the case of either.
            if stem not in audio_by_stem or _audio_rank(p) < _audio_rank(audio_by_stem[stem]):
                audio_by_stem[stem] = p
    for midi in (p for p in files if p.suffix.lower() in MIDI_SUFFIXES):
        rel = midi.relative_to(root)
        audio = audio_by_stem.get(midi.with_suffix(""))
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


def _audio_rank(path: Path) -> int:
    return AUDIO_SUFFIXES.index(path.suffix.lower())


def unpaired_files(root: Path, pairs: list[PairInput], csv_path: Path | None = None) -> list[str]:
    """Files under `root` that no pair uses (a .wav without its .mid, notes, stray files), as
    paths relative to the root, for the report: nothing in the corpus is passed over silently."""
    used = {Path(p.midi_path).resolve() for p in pairs} | {Path(p.audio_path).resolve() for p in pairs}
    if csv_path is not None:
        used.add(Path(csv_path).resolve())
    return [str(p.relative_to(root)).replace(os.sep, "/") for p in sorted(root.rglob("*"))
            if p.is_file() and not p.name.startswith(".") and p.resolve() not in used]


def _keep_fraction(pair: PairInput, fraction: float, seed: int) -> bool:
    # A hash of (seed, performance id): the same pairs every run, and all kits of a performance
    # kept or dropped together, so a sample never splits a performance.
    key = f"{seed}:{pair.meta.get('source_id') or pair.pair_id}".encode()
    h = int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "big")
    return h / 2**64 < fraction


def select(pairs: list[PairInput], *, splits=None, kits=None, drummers=None,
           sample_fraction: float | None = None, seed: int = 0, limit: int | None = None) -> list[PairInput]:
    """Apply the command line's filters, in a deterministic order."""
    if limit is not None and limit < 0:
        raise ValueError(f"--limit must be >= 0, got {limit}")
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


def view_mask(files: dict, *, split=None, kits=None, drummers=None, pair_ids=None) -> "np.ndarray":
    """Per file of a prepared directory (``files``: its ``split``, ``kit``, ``drummer`` and
    ``pair_id`` columns), whether :meth:`DrumDataset.filter` keeps it: the same names and
    matching as :func:`select` (``--split``, ``--kits`` by name or number, ``--drummers``). A value
    no file has raises ValueError listing the values present, as the command line does: a typo
    must not give an empty view silently."""
    import numpy as np

    n = len(files["pair_id"])
    keep = np.ones(n, bool)
    numbers = [str(p).rsplit("_", 1)[-1] for p in files["pair_id"]]  # E-GMD's kit number: the "_N" suffix
    for name, column, wanted in (("split", "split", split), ("kits", "kit", kits),
                                 ("drummers", "drummer", drummers), ("pair_ids", "pair_id", pair_ids)):
        if wanted is None:
            continue
        wanted = {str(w) for w in ([wanted] if isinstance(wanted, (str, int)) else wanted)}
        values = [str(v) for v in files[column]]
        present = set(values) | (set(numbers) if column == "kit" else set())
        unknown = sorted(wanted - present)
        if unknown:
            also = f" (or kit numbers {_some(sorted(set(numbers), key=_number_order))})" if column == "kit" else ""
            raise ValueError(f"{name}: {', '.join(map(repr, unknown))} not in this dataset; present: "
                             f"{_some(sorted(set(values)))}{also}")
        keep &= np.fromiter((v in wanted or (column == "kit" and k in wanted) for v, k in zip(values, numbers)),
                            bool, n)
    return keep


def _number_order(text: str) -> tuple:
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


def _some(values: list[str], most: int = 12) -> str:
    return (", ".join(values[:most]) or "none") + (" ..." if len(values) > most else "")


def explain_empty(root: Path, csv_path: Path | None, pairs: list[PairInput], rejects: list[InputReject], *,
                  splits=None, kits=None, drummers=None, sample_fraction=None, seed=0, limit=None,
                  found: str | None = None) -> str:
    """Why nothing is left to prepare: what was found in `root` (or `found`, said by the
    caller, e.g. of a zip's members), then what each filter left."""
    if found is not None:
        pass
    elif csv_path is not None:
        found = f"{csv_path} lists {len(pairs) + len(rejects)} row(s): {len(pairs)} usable, {len(rejects)} rejected"
    else:
        n_midi = sum(1 for p in root.rglob("*") if p.is_file() and p.suffix.lower() in MIDI_SUFFIXES)
        n_audio = sum(1 for p in root.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
        found = (f"{root} holds no E-GMD CSV; the scan found {n_midi} MIDI file(s) ({', '.join(MIDI_SUFFIXES)}) "
                 f"and {n_audio} audio file(s) ({', '.join(AUDIO_SUFFIXES)}): {len(pairs)} pair(s)")
    steps = [found]
    if pairs:
        left = pairs
        for option, values, key in (("--split", splits, "split"), ("--drummers", drummers, "drummer"),
                                    ("--kits", kits, "kit_name")):
            if not values:
                continue
            if key == "kit_name":
                kept = [p for p in left if p.meta.get(key) in values or p.pair_id.rsplit("_", 1)[-1] in values]
            else:
                kept = [p for p in left if p.meta.get(key) in values]
            present = sorted({str(p.meta.get(key)) for p in left})
            steps.append(f"{option} {' '.join(map(str, values))} kept {len(kept)} of {len(left)} "
                         f"(present: {', '.join(present[:12]) or 'none'}{' ...' if len(present) > 12 else ''})")
            left = kept
        if sample_fraction is not None and left:
            kept = [p for p in left if _keep_fraction(p, sample_fraction, seed)]
            steps.append(f"--sample-fraction {sample_fraction} --seed {seed} kept {len(kept)} of {len(left)}")
            left = kept
        if limit is not None and left:
            steps.append(f"--limit {limit} kept {min(limit, len(left))} of {len(left)}")
    elif rejects:
        steps.append(f"first reject: {rejects[0].message}")
    return "nothing to prepare: " + "; ".join(steps) + ". Check ROOT and the selection options."
