"""Groove MIDI Dataset (Gillick et al., ICML 2019), ROOT = ``groove/``::

    info.csv    drummer, session, id, style, bpm, beat_type, time_signature, midi_filename,
                audio_filename, duration, split (paths relative to it)
    drummerN/sessionM/<n>_<style>_<bpm>_<beat|fill>_<num-den>.mid (and .wav)

Performances recorded without audio (an empty ``audio_filename``, about a third of GMD) are
rejects with reason ``missing_audio``, counted and listed, never dropped silently.
"""

from __future__ import annotations

import csv as csv_mod
import io
import posixpath

from ..corpus import Corpus
from . import egmd
from .listing import Listing

TITLE = "GMD"
NAME = "gmd"
#: The class map (--mapping auto) records are made with unless told.
MAPPING = "gmd9"
LOOKS_FOR = "info.csv with GMD's columns (the 'groove' folder)"
COLUMNS = ("drummer", "session", "id", "style", "bpm", "beat_type", "time_signature",
           "midi_filename", "audio_filename", "duration", "split")


def detect(corpus: Corpus) -> bool:
    """GMD's info.csv naming audio (StemGMD's, with the same columns, names none: its audio is
    the stem folders)."""
    rel = egmd.find_csv(corpus, COLUMNS)
    if rel is None:
        return False
    rows = csv_mod.DictReader(io.StringIO(corpus.read(rel).decode("utf-8", "replace"), newline=""))
    return any((row.get("audio_filename") or "").strip() for row in rows)


def is_gmd_csv(corpus: Corpus, csv) -> bool:
    """Whether the CSV named by ``--csv`` has GMD's columns (else it is read as E-GMD's)."""
    try:
        _, text, _ = egmd.csv_text(corpus, csv, COLUMNS)
    except (OSError, ValueError):
        return False
    return text is not None and text.split("\n", 1)[0].strip().split(",") == list(COLUMNS)


def list_pairs(corpus: Corpus, *, csv=None, audio=None) -> Listing:
    rel, text, where = egmd.csv_text(corpus, csv, COLUMNS, "GMD")
    if text is None:
        raise ValueError(f"{corpus.name}: no GMD info.csv (a .csv with the columns {', '.join(COLUMNS)})")
    top = posixpath.dirname(rel) if rel else ""
    pairs, rejects = egmd.parse_csv(io.StringIO(text, newline=""), where, corpus, top, COLUMNS, NAME)
    return Listing(NAME, pairs, rejects, metadata={rel} if rel else set(), source=rel,
                   found=f"{where} lists {len(pairs) + len(rejects)} row(s): {len(pairs)} usable, "
                         f"{len(rejects)} rejected")
