"""Drum-transcription data preparation (E-GMD and friends).

>>> from cadence import drums
>>> report = drums.prepare("data/e-gmd", "data/e-gmd-prepared", layout="index")
>>> ds = drums.open("data/e-gmd-prepared")
>>> item = ds[0]   # {"audio": float32 window, "classes": multi-hot, ...}
>>> batch = ds.read_batch(range(128))   # collated arrays, cut on all cores
>>> loader = torch.utils.data.DataLoader(ds, batch_size=128, collate_fn=drums.collate)
>>> mixed = drums.mix({"enst": drums.open("out/enst"), "mdb": drums.open("out/mdb")})  # ADTOF-style
"""

from .class_maps import load_class_map
from .dataset import DrumDataset
from .directory import Batch, IncompleteDatasetWarning, StoredAudioError
from .prepare import NothingSelected, journal_options, prepare, prepare_config
from .reader import open  # noqa: A004 - cadence.drums.open, the module's entry
from .report import format_report as prepare_format
from .store import JOURNAL
from .mix import Mix, mix
from .sampling import BlockShuffleSampler, collate, stream
from .sequences import LogFilteredSpec, MelSpec, SequenceDataset
from .scan import scan_corpus
from .verify import inspect, verify

__all__ = ["JOURNAL", "Batch", "BlockShuffleSampler", "DrumDataset", "IncompleteDatasetWarning", "LogFilteredSpec",
           "MelSpec", "Mix", "NothingSelected",
           "SequenceDataset", "StoredAudioError", "collate", "stream",
           "inspect", "journal_options", "load_class_map", "mix", "open", "prepare", "prepare_config", "prepare_format",
           "scan_corpus", "verify"]
