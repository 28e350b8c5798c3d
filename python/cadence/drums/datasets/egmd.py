"""E-GMD (Callender et al. 2020, magenta.tensorflow.org/datasets/e-gmd): ``e-gmd-v1.0.0.csv``
lists every pair (``midi_filename``, ``audio_filename``, ``duration``, ``split``, ``kit_name``...)
relative to the folder holding it; drummerN/sessionM/*.midi + .wav.

A bad CSV row is never skipped silently: it becomes a rejected input with a reason, exactly
like a pair whose audio fails to decode, and lands in the reject log.
"""

from __future__ import annotations

import csv as csv_mod
import io
import math
import os
import posixpath
from pathlib import Path

from ..corpus import MISSING_AUDIO, Corpus, InputReject, PairInput
from .listing import Listing

TITLE = "E-GMD"
NAME = "egmd"
#: The class map (--mapping auto) records are made with unless told.
MAPPING = "gmd9"
LOOKS_FOR = "a CSV with E-GMD's columns (e-gmd-v1.0.0.csv)"
# E-GMD's CSV header, in order: the one definition (the sample generator and the summary use it).
COLUMNS = (
    "drummer", "session", "id", "style", "bpm", "beat_type", "time_signature",
    "duration", "split", "midi_filename", "audio_filename", "kit_name",
)
CSV_NAME = "e-gmd-v1.0.0.csv"
#: The CSV's fields a pair keeps (``meta``), besides ``source_id`` (its ``id``) and ``bpm``.
META_FIELDS = ("drummer", "session", "style", "beat_type", "time_signature", "split", "kit_name")


def detect(corpus: Corpus) -> bool:
    return find_csv(corpus) is not None


def header_of(corpus: Corpus, rel: str) -> tuple[str, ...] | None:
    """The first line of the CSV `rel`, split, or None when it is not a readable text CSV."""
    try:
        head = corpus.read(rel).split(b"\n", 1)[0].decode("utf-8")
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return tuple(next(csv_mod.reader([head.rstrip("\r")]), []))


def find_csv(corpus: Corpus, columns: tuple[str, ...] = COLUMNS) -> str | None:
    """The shallowest ``*.csv`` of the corpus whose header is `columns`. Other CSV files are
    passed over, whatever they hold: a prepared directory's rejects.csv, a spreadsheet in another
    encoding."""
    for rel in sorted((f for f in corpus.files() if f.lower().endswith(".csv")), key=lambda f: (f.count("/"), f)):
        if f_header := header_of(corpus, rel):
            if tuple(h.strip() for h in f_header) == columns:
                return rel
    return None


def csv_text(corpus: Corpus, csv: str | os.PathLike | None, columns: tuple[str, ...] = COLUMNS,
             what: str = "E-GMD") -> tuple[str | None, str | None, str]:
    """(the CSV relative to the corpus or None when it lies outside it, its text, how messages
    name it) for `csv` (a path, a path in the corpus, or a file name matched against the
    corpus's files) or, when None, the one :func:`find_csv` finds; (None, None, "") when there is
    none."""
    if csv is None:
        rel = find_csv(corpus, columns)
        return (rel, corpus.read(rel).decode("utf-8"), corpus.where(rel)) if rel else (None, None, "")
    given = str(csv)
    if corpus.kind == "dir" and Path(given).is_file():
        path = Path(given)
        try:
            rel = path.resolve().relative_to(corpus.base).as_posix()
        except ValueError:
            rel = None
        return rel, path.read_text(encoding="utf-8"), str(path)
    want = given.replace(os.sep, "/")
    files = corpus.files()
    if want in files:
        return want, corpus.read(want).decode("utf-8"), corpus.where(want)
    base = posixpath.basename(want)
    found = sorted((f for f in files if posixpath.basename(f) == base), key=lambda f: (f.count("/"), f))
    if not found:
        raise ValueError(f"{corpus.name}: no file named {base!r} (the --csv given); CSV files: "
                         f"{', '.join(f for f in files if f.lower().endswith('.csv')) or 'none'}")
    return found[0], corpus.read(found[0]).decode("utf-8"), corpus.where(found[0])


def list_pairs(corpus: Corpus, *, csv=None, audio=None) -> Listing:
    rel, text, where = csv_text(corpus, csv)
    if text is None:
        raise ValueError(f"{corpus.name}: no E-GMD CSV (a .csv with the columns {', '.join(COLUMNS)})")
    top = posixpath.dirname(rel) if rel else ""
    pairs, rejects = parse_csv(io.StringIO(text, newline=""), where, corpus, top, COLUMNS, NAME)
    return Listing(NAME, pairs, rejects, metadata={rel} if rel else set(), source=rel,
                   found=f"{where} lists {len(pairs) + len(rejects)} row(s): {len(pairs)} usable, "
                         f"{len(rejects)} rejected")


def parse_csv(lines, where: str, corpus: Corpus, top: str, columns: tuple[str, ...],
              dataset: str) -> tuple[list[PairInput], list[InputReject]]:
    """The rows of an E-GMD (or GMD) CSV as pairs and rejects; paths are relative to `top`, the
    CSV's folder in the corpus. Rows with missing fields, unreadable numbers or paths that leave
    the corpus are rejects naming the CSV line."""
    pairs, rejects = [], []
    csv_name = posixpath.basename(where.replace(os.sep, "/"))
    reader = csv_mod.DictReader(lines)
    if tuple(reader.fieldnames or ()) != columns:
        raise ValueError(f"{where}: columns {reader.fieldnames} are not {dataset.upper().replace('EGMD', 'E-GMD')}'s; "
                         f"expected {list(columns)}")
    prefix = f"{top}/" if top else ""
    root_named = corpus.where(prefix)[:-1] if prefix else corpus.name
    for line, row in enumerate(reader, start=2):
        at = f"{csv_name} line {line}"
        rid = (row.get("audio_filename") or f"{csv_name}:{line}").strip()
        missing = [c for c in columns if not (row.get(c) or "").strip()]
        if missing == ["audio_filename"] and dataset == "gmd":  # GMD: a performance kept as MIDI only
            rejects.append(InputReject(rid if rid != f"{csv_name}:{line}" else posixpath.splitext(
                row["midi_filename"].strip())[0], MISSING_AUDIO,
                f"{at}: {row['midi_filename'].strip()} has no audio_filename (recorded as MIDI only)"))
            continue
        if missing:
            rejects.append(InputReject(rid, "csv_missing_field", f"{at}: empty {', '.join(missing)}"))
            continue
        midi, audio = Corpus.inside(row["midi_filename"]), Corpus.inside(row["audio_filename"])
        if midi is None or audio is None:
            bad = row["midi_filename"] if midi is None else row["audio_filename"]
            rejects.append(InputReject(rid, "path_outside_root",
                                       f"{at}: path {bad!r} leaves the dataset root {root_named}"))
            continue
        try:
            duration_s, bpm = float(row["duration"]), int(float(row["bpm"]))
            if not (math.isfinite(duration_s) and duration_s >= 0):
                raise ValueError
        except (ValueError, OverflowError):  # "long", "inf" (int(inf) overflows), "nan"
            rejects.append(InputReject(rid, "csv_bad_value",
                                       f"{at}: duration {row['duration']!r} or bpm {row['bpm']!r} is not a number"))
            continue
        meta = {k: row.get(k, "") for k in META_FIELDS}
        meta.update(source_id=row["id"], bpm=bpm)
        pair_id = str(Path(row["audio_filename"]).with_suffix("")).replace(os.sep, "/")
        pairs.append(PairInput(pair_id, (prefix + midi,), (prefix + audio,), "midi", duration_s, dataset, meta))
    return pairs, rejects
