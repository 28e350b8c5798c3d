"""TMIDT (Vogl et al., DAFx 2018: synthetic drum tracks from MIDI), ROOT = ``TMIDT/``::

    annotations/drums_f/<id>.txt      "time <TAB> class" (RBMA13's 47-class list), read
    mp3/<id>_accomp.mp3               the song with its accompaniment (default: --audio accomp)
    mp3/<id>.mp3                      the drums alone (--audio drums)
    annotations/drums_l/, drums_m/, beats/, splits/3-fold_cv_acc_<k>.txt

Each song's annotations exist under ``<id>`` and ``<id>_accomp`` (the same onsets): a pair is a
song (``<id>``), its audio the recording chosen.
"""

from __future__ import annotations

import posixpath

from ..corpus import Corpus
from .listing import Listing, paired, recording

TITLE = "TMIDT"
NAME = "tmidt"
#: The class map (--mapping auto) records are made with unless told.
MAPPING = "adtof5"
LOOKS_FOR = "annotations/drums_f/*.txt with mp3/*.mp3 (the 'TMIDT' folder)"
AUDIO = ("accomp", "drums")


def _annotations(files: list[str]) -> dict[str, str]:
    return {posixpath.basename(f)[:-4]: f for f in files
            if f.startswith("annotations/drums_f/") and f.endswith(".txt") and f.count("/") == 2}


def detect(corpus: Corpus) -> bool:
    files = corpus.files()
    return bool(_annotations(files)) and any(f.startswith("mp3/") for f in files)


def list_pairs(corpus: Corpus, *, csv=None, audio=None) -> Listing:
    files = set(corpus.files())
    notes = _annotations(sorted(files))
    songs = sorted(n for n in notes if not n.endswith("_accomp"))
    entries = []
    for song in songs:
        variant = f"{song}_accomp" if audio == "accomp" else song
        entries.append((song, [notes.get(variant, notes[song])], [recording(files, f"mp3/{variant}")], {}))
    listing = paired(corpus, NAME, "tmidt", entries, f"TMIDT, {len(songs)} song(s)", choices={"audio": audio})
    # The other variant's annotation holds the same onsets: read by no pair, on purpose.
    listing.metadata |= {f for n, f in notes.items() if f not in {p.annotation_paths[0] for p in listing.pairs}}
    return listing
