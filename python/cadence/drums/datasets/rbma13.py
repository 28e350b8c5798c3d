"""RBMA13 (Vogl et al., the 2013 Red Bull Music Academy tracks), ROOT = ``rbma_13/``::

    annotations/drums_f/RBMA-13-Track-NN.txt   "time <TAB> class" (the full 47-class list:
                                               index = GM pitch - 35), read
    annotations/drums_l/, drums_m/, beats/     the same onsets in 18 and 8 classes; beats
    audio/RBMA-13-Track-NN.mp3                 the track (MP3: a libsndfile with MP3 support, or a
                                               .flac/.wav of the same name beside it, read first)
"""

from __future__ import annotations

import posixpath

from ..corpus import Corpus
from .listing import Listing, paired, recording

TITLE = "RBMA13"
NAME = "rbma13"
#: The class map (--mapping auto) records are made with unless told.
MAPPING = "adtof5"
LOOKS_FOR = "annotations/drums_f/*.txt with audio/*.mp3 (the 'rbma_13' folder)"


def _annotations(files: list[str]) -> list[str]:
    return [f for f in files if f.startswith("annotations/drums_f/") and f.endswith(".txt") and f.count("/") == 2]


def detect(corpus: Corpus) -> bool:
    files = corpus.files()
    return bool(_annotations(files)) and any(f.startswith("audio/") and f.lower().endswith(".mp3") for f in files)


def list_pairs(corpus: Corpus, *, csv=None, audio=None) -> Listing:
    files = set(corpus.files())
    entries = []
    for f in _annotations(sorted(files)):
        track = posixpath.basename(f)[:-4]
        entries.append((track, [f], [recording(files, f"audio/{track}")], {}))
    return paired(corpus, NAME, "rbma13", entries, f"RBMA13, {len(entries)} drums_f annotation(s)")
