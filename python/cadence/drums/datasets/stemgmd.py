"""StemGMD (Mezza et al., 2023; zenodo.org/records/7860223): GMD's performances rendered one
drum instrument per file through ten kits. ROOT = ``StemGMD/``::

    info.csv                                     GMD's columns (audio_filename empty)
    drummerN/sessionM/<performance>.mid          GMD's MIDI
    drummerN/sessionM/<performance>/<kit>/<instrument>.wav   kick, snare, hi_tom, mid_tom,
                                                 low_tom, hihat_closed, hihat_open, crash_left, ride

A pair is one performance through one kit (``<performance>/<kit>``): its MIDI, and its nine
stems summed into the kit's mixture.
"""

from __future__ import annotations

import csv as csv_mod
import io
import math
import posixpath
import re

from ..corpus import MISSING_AUDIO, Corpus, InputReject, PairInput
from . import egmd, gmd
from .listing import Listing

TITLE = "StemGMD"
NAME = "stemgmd"
#: The class map (--mapping auto) records are made with unless told.
MAPPING = "gmd9"
LOOKS_FOR = "<performance>/<kit>/kick.wav stem folders beside GMD's MIDI (the 'StemGMD' folder)"
INSTRUMENTS = ("kick", "snare", "hi_tom", "mid_tom", "low_tom", "hihat_closed", "hihat_open", "crash_left", "ride")
_STEM = re.compile(r"^(.+)/([^/]+)/(" + "|".join(INSTRUMENTS) + r")\.wav$")


def _kits(files: list[str]) -> dict[str, dict[str, list[str]]]:
    """performance path (no suffix) -> kit -> its stem files."""
    out: dict[str, dict[str, list[str]]] = {}
    for f in files:
        m = _STEM.match(f)
        if m:
            out.setdefault(m.group(1), {}).setdefault(m.group(2), []).append(f)
    return out


def detect(corpus: Corpus) -> bool:
    files = corpus.files()
    midi = {posixpath.splitext(f)[0] for f in files if f.lower().endswith(".mid")}
    return any(p in midi for p in _kits(files))


def list_pairs(corpus: Corpus, *, csv=None, audio=None) -> Listing:
    files = corpus.files()
    kits = _kits(files)
    rel, text, _ = egmd.csv_text(corpus, csv, gmd.COLUMNS, "GMD")
    rows = {}
    if text is not None:  # the performances' metadata (split, style, bpm...), by MIDI path
        for row in csv_mod.DictReader(io.StringIO(text, newline="")):
            rows[posixpath.splitext(row.get("midi_filename", ""))[0]] = row
    pairs, rejects = [], []
    for performance in sorted({posixpath.splitext(f)[0] for f in files if f.lower().endswith(".mid")}):
        midi = performance + ".mid"
        if performance not in kits:
            rejects.append(InputReject(performance, MISSING_AUDIO, f"{corpus.where(midi)}: no stem folder "
                                       f"{corpus.where(performance)}/<kit>/ beside it"))
            continue
        row = rows.get(performance, {})
        parts = performance.split("/")
        for kit, stems in sorted(kits[performance].items()):
            meta = {"source_id": row.get("id", performance), "drummer": row.get("drummer", parts[0]),
                    "session": row.get("session", "/".join(parts[:2])), "split": row.get("split", ""),
                    "kit_name": kit, "style": row.get("style", ""), "beat_type": row.get("beat_type", ""),
                    "time_signature": row.get("time_signature", ""), "bpm": _bpm(row.get("bpm"))}
            pairs.append(PairInput(f"{performance}/{kit}", (midi,), tuple(sorted(stems)), "midi",
                                   _number(row.get("duration")), NAME, meta))
    return Listing(NAME, pairs, rejects, metadata={rel} if rel else set(), source=rel,
                   found=f"{corpus.name} (StemGMD): {len(kits)} performance(s) with stems, {len(pairs)} pair(s)")


def _number(text) -> float:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return math.nan
    return value if math.isfinite(value) and value >= 0 else math.nan


def _bpm(text) -> int:
    value = _number(text)
    return 0 if math.isnan(value) else int(value)
