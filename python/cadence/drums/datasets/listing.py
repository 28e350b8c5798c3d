"""What a dataset module found in a corpus: its pairs, its rejects, the files it read."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..corpus import Corpus, InputReject, PairInput


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
