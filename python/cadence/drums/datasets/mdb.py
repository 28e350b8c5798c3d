"""MDB-Drums (Southall et al., ISMIR 2017; github.com/CarlSouthall/MDBDrums), ROOT = ``MDB Drums/``::

    annotations/subclass/MusicDelta_<X>_subclass.txt   "time \\t label" (21 subclasses), read
    annotations/class/MusicDelta_<X>_class.txt         the same onsets in 6 classes (coarser: used
                                                       only when a take has no subclass file)
    audio/full_mix/MusicDelta_<X>_MIX.wav              the song (default, as ADT papers use it)
    audio/drum_only/MusicDelta_<X>_Drum.wav            the drum stem alone (--audio drum_only)
"""

from __future__ import annotations

import posixpath

from ..corpus import Corpus
from .listing import Listing, paired

TITLE = "MDB-Drums"
NAME = "mdb"
#: The class map (--mapping auto) records are made with unless told.
MAPPING = "adtof5"
LOOKS_FOR = "annotations/subclass/*_subclass.txt and audio/full_mix/ (the 'MDB Drums' folder)"
AUDIO = ("full_mix", "drum_only")
_SUFFIX = {"full_mix": "_MIX.wav", "drum_only": "_Drum.wav"}


def _takes(files: list[str], kind: str) -> dict[str, str]:
    tail = f"_{kind}.txt"
    return {posixpath.basename(f)[: -len(tail)]: f for f in files
            if f.startswith(f"annotations/{kind}/") and f.endswith(tail) and f.count("/") == 2}


def detect(corpus: Corpus) -> bool:
    files = corpus.files()
    return bool(_takes(files, "subclass") or _takes(files, "class")) and any(
        f.startswith("audio/full_mix/") or f.startswith("audio/drum_only/") for f in files)


def list_pairs(corpus: Corpus, *, csv=None, audio=None) -> Listing:
    files = corpus.files()
    sub, cls = _takes(files, "subclass"), _takes(files, "class")
    entries = {"mdb": [], "mdb_class": []}
    for take in sorted(set(sub) | set(cls)):
        fmt, notes = ("mdb", sub[take]) if take in sub else ("mdb_class", cls[take])
        entries[fmt].append((take, [notes], [f"audio/{audio}/{take}{_SUFFIX[audio]}"], {}))
    # Subclass files are what MDB is read by; a class file is read where its take has no other.
    listing = paired(corpus, NAME, "mdb", entries["mdb"], f"MDB-Drums, {len(sub)} subclass annotation(s)",
                     choices={"audio": audio}, metadata={cls[t] for t in cls if t in sub})
    if entries["mdb_class"]:
        coarse = paired(corpus, NAME, "mdb_class", entries["mdb_class"], "")
        listing.pairs = sorted(listing.pairs + coarse.pairs, key=lambda p: p.pair_id)
        listing.rejects += coarse.rejects
    return listing
