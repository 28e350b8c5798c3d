"""What a dataset module found in a corpus: its pairs, its rejects, the files it read."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..corpus import MISSING_AUDIO, Corpus, InputReject, PairInput


@dataclass
class Listing:
    """What a dataset module found in a corpus."""

    dataset: str
    pairs: list[PairInput]
    rejects: list[InputReject]
    #: Files read besides the pairs' own (a CSV, metadata.yaml): not reported as unpaired.
    metadata: set[str] = field(default_factory=set)
    #: The metadata file that lists the pairs (E-GMD's CSV), relative to the corpus; None if none.
    source: str | None = None
    #: One sentence: what was found, for the message when nothing is left to prepare.
    found: str = ""
    #: Choices that shape the output (``audio``: which recording of a multi-mic dataset), kept
    #: in the journal's config and the manifest.
    choices: dict = field(default_factory=dict)
    #: Files the dataset lists as not pairs on purpose (a Slakh track without a drum stem).
    unpaired_extra: list[str] = field(default_factory=list)

    def unpaired(self, corpus: Corpus) -> list[str]:
        """Files of the corpus that no pair uses, for the report: nothing passed over silently."""
        used = {p for pair in self.pairs for p in (*pair.annotation_paths, *pair.audio_paths)} | self.metadata
        return sorted(set(self.unpaired_extra) | {f for f in corpus.files()
                                                  if f not in used and not f.rpartition("/")[2].startswith(".")})


#: The metadata a pair of a dataset without a CSV carries (the columns of the file table).
def meta_of(**values) -> dict:
    meta = {"source_id": "", "drummer": "", "session": "", "split": "", "kit_name": "", "style": "",
            "beat_type": "", "time_signature": "", "bpm": 0}
    return meta | values


def paired(corpus: Corpus, dataset: str, fmt: str, entries, found: str, **listing) -> Listing:
    """A listing from ``entries``: (pair_id, annotation paths, audio paths, meta) each, its files
    relative to the corpus. An entry whose audio the corpus lacks is a ``missing_audio`` reject
    naming the file looked for (the annotation without its recording is never dropped silently)."""
    files = set(corpus.files())
    pairs, rejects = [], []
    for pair_id, notes, audio, meta in entries:
        lost = [a for a in audio if a not in files]
        if lost or not audio:
            rejects.append(InputReject(pair_id, MISSING_AUDIO,
                                       f"{corpus.where(notes[0])}: no recording {corpus.where(lost[0]) if lost else ''}"
                                       f" for it (the {dataset} layout pairs them by name)"))
            continue
        pairs.append(PairInput(pair_id, tuple(notes), tuple(audio), fmt, float("nan"), dataset,
                               meta_of(source_id=pair_id, **meta)))
    return Listing(dataset, pairs, rejects, found=f"{corpus.name} ({found}): {len(pairs)} pair(s), "
                                                  f"{len(rejects)} without their recording", **listing)


#: Where a dataset ships MP3 (RBMA13, TMIDT), a FLAC or WAV of the same name beside it is read
#: first: the way to use those sets with a libsndfile built without MP3 (the wheels': vendor/).
CONVERTED_FIRST = (".flac", ".wav", ".mp3")


def recording(files: set[str], stem: str) -> str:
    """``stem`` + the first suffix of CONVERTED_FIRST the corpus has (``.mp3`` when none)."""
    return next((stem + x for x in CONVERTED_FIRST if stem + x in files), stem + ".mp3")
