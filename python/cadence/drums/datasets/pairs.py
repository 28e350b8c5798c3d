"""Plain pairs: every ``.mid``/``.midi`` with the ``.wav``/``.flac`` of the same name beside it
(suffixes in any case: ``.MID`` with ``.WAV``; ``.wav`` before ``.flac`` when both are there).
The pair id is the MIDI file's path without its suffix; a drummer/session are read from the
first two folders when the files sit two deep (drummerN/sessionM/, as E-GMD and GMD have them).
"""

from __future__ import annotations

import math
import posixpath

from ..corpus import AUDIO_SUFFIXES, MIDI_SUFFIXES, MISSING_AUDIO, Corpus, InputReject, PairInput
from .listing import Listing

TITLE = "MIDI + audio pairs"
NAME = "pairs"
#: The class map (--mapping auto) records are made with unless told.
MAPPING = "gmd9"
LOOKS_FOR = f"{'/'.join(MIDI_SUFFIXES)} files with a {'/'.join(AUDIO_SUFFIXES)} of the same name"


def _suffix(rel: str) -> str:
    return posixpath.splitext(rel)[1].lower()


def detect(corpus: Corpus) -> bool:
    return any(_suffix(f) in MIDI_SUFFIXES for f in corpus.files())


def list_pairs(corpus: Corpus, *, csv=None, audio=None) -> Listing:
    # Folder by folder, as a path sorts (a/b before a-c), whatever the corpus's kind.
    files = sorted(corpus.files(), key=lambda f: f.split("/"))
    audio_by_stem: dict[str, str] = {}
    for rel in files:
        if _suffix(rel) in AUDIO_SUFFIXES:
            stem = posixpath.splitext(rel)[0]
            if stem not in audio_by_stem or _rank(rel) < _rank(audio_by_stem[stem]):
                audio_by_stem[stem] = rel
    pairs, rejects = [], []
    for rel in (f for f in files if _suffix(f) in MIDI_SUFFIXES):
        pid = posixpath.splitext(rel)[0]
        found = audio_by_stem.get(pid)
        if found is None:
            rejects.append(InputReject(pid, MISSING_AUDIO,
                                       f"{corpus.where(rel)}: no .wav or .flac with the same name beside it"))
            continue
        parts = rel.split("/")
        meta = {"source_id": pid, "drummer": parts[0] if len(parts) > 2 else "",
                "session": "/".join(parts[:2]) if len(parts) > 2 else "", "split": "", "kit_name": "",
                "style": "", "beat_type": "", "time_signature": "", "bpm": 0}
        pairs.append(PairInput(pid, (rel,), (found,), "midi", math.nan, NAME, meta))
    return Listing(NAME, pairs, rejects, found=f"{corpus.name} holds no E-GMD CSV nor another dataset's layout; "
                                               f"{counted(corpus)}: {len(pairs)} pair(s)")


def counted(corpus: Corpus) -> str:
    """What a scan finds: 'the scan found N MIDI file(s) (.mid, .midi) and M audio file(s) (...)'."""
    files = corpus.files()
    n_midi = sum(1 for f in files if _suffix(f) in MIDI_SUFFIXES)
    n_audio = sum(1 for f in files if _suffix(f) in AUDIO_SUFFIXES)
    return (f"the scan found {n_midi} MIDI file(s) ({', '.join(MIDI_SUFFIXES)}) and {n_audio} audio file(s) "
            f"({', '.join(AUDIO_SUFFIXES)})")


def _rank(rel: str) -> int:
    return AUDIO_SUFFIXES.index(_suffix(rel))
