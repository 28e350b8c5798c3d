"""IDMT-SMT-Drums V2 (Dittmar & Gärtner, DAFx 2014), ROOT = ``IDMT-SMT-DRUMS-V2/``::

    annotation_xml/<take>#MIX.xml     onsets (onsetSec) and instruments (KD, SD, HH) of the mix
    audio/<take>#MIX.wav              the mix the annotations describe
    audio/<take>#KD.wav, #SD.wav, #HH.wav, <take>#<I>#train.wav   single instruments and the
                                      training hits: not pairs of their own (listed as unpaired)
"""

from __future__ import annotations

import posixpath

from ..corpus import Corpus
from .listing import Listing, paired

TITLE = "IDMT-SMT-Drums"
NAME = "idmt"
#: The class map (--mapping auto) records are made with unless told.
MAPPING = "adtof5"
LOOKS_FOR = "annotation_xml/*#MIX.xml with audio/ (the 'IDMT-SMT-DRUMS-V2' folder)"


def _takes(files: list[str]) -> list[tuple[str, str]]:
    return [(posixpath.basename(f)[: -len("#MIX.xml")], f) for f in files
            if f.startswith("annotation_xml/") and f.endswith("#MIX.xml") and f.count("/") == 1]


def detect(corpus: Corpus) -> bool:
    files = corpus.files()
    return bool(_takes(files)) and any(f.startswith("audio/") for f in files)


def list_pairs(corpus: Corpus, *, csv=None, audio=None) -> Listing:
    takes = _takes(corpus.files())
    entries = [(take, [f], [f"audio/{take}#MIX.wav"], {}) for take, f in sorted(takes)]
    return paired(corpus, NAME, "idmt", entries, f"IDMT-SMT-Drums, {len(entries)} #MIX annotation(s)")
