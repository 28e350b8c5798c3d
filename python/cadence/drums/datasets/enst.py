"""ENST-Drums (Gillet & Richard, ISMIR 2006), ROOT = ``ENST-drums-public/``::

    drummer_N/annotation/<take>.txt         "time label" lines (ENST's labels: bd, sd, sd-, chh,
                                            ohh, cr1, rc3, ...; sweep/mtr/ltr have no GM pitch)
    drummer_N/audio/<mic>/<take>.wav        wet_mix (default, as ADT papers use it), dry_mix, or
                                            one microphone: hi-hat, kick, overhead_L, overhead_R,
                                            snare, tom_1, tom_2
    drummer_N/audio/accompaniment/<take>.wav   minus-one takes only; ``--audio wet_mix+accompaniment``
                                            sums it with the wet mix (drums in a song)

Take names repeat across drummers, so a pair id is ``drummer_N/<take>``.
"""

from __future__ import annotations

import re

from ..corpus import Corpus
from .listing import Listing, paired

TITLE = "ENST-Drums"
NAME = "enst"
#: The class map (--mapping auto) records are made with unless told.
MAPPING = "adtof5"
LOOKS_FOR = "drummer_N/annotation/*.txt with drummer_N/audio/ (the 'ENST-drums-public' folder)"
AUDIO = ("wet_mix", "dry_mix", "wet_mix+accompaniment", "hi-hat", "kick", "overhead_L", "overhead_R", "snare",
         "tom_1", "tom_2")
_ANNOTATION = re.compile(r"^(drummer_\d+)/annotation/([^/]+)\.txt$")


def detect(corpus: Corpus) -> bool:
    files = corpus.files()
    return any(_ANNOTATION.match(f) for f in files) and any(re.match(r"^drummer_\d+/audio/", f) for f in files)


def list_pairs(corpus: Corpus, *, csv=None, audio=None) -> Listing:
    files = set(corpus.files())
    entries = []
    for f in sorted(files):
        m = _ANNOTATION.match(f)
        if not m:
            continue
        drummer, take = m.groups()
        if audio == "wet_mix+accompaniment":
            recordings = [f"{drummer}/audio/wet_mix/{take}.wav"]
            backing = f"{drummer}/audio/accompaniment/{take}.wav"
            recordings += [backing] if backing in files else []
        else:
            recordings = [f"{drummer}/audio/{audio}/{take}.wav"]
        entries.append((f"{drummer}/{take}", [f], recordings, {"drummer": drummer, "kit_name": drummer}))
    return paired(corpus, NAME, "enst", entries, f"ENST-Drums, {len(entries)} annotation(s)",
                  choices={"audio": audio})
