"""Drum-transcription data preparation (E-GMD and friends).

>>> from cadence import drums
>>> report = drums.prepare("data/e-gmd", "data/e-gmd-prepared", layout="index")
>>> ds = drums.open("data/e-gmd-prepared")
>>> item = ds[0]   # {"audio": float32 window, "classes": multi-hot, ...}
"""

from .class_maps import load_class_map
from .dataset import DrumDataset, open
from .prepare import NothingSelected, journal_options, prepare, prepare_config
from .prepare import format_report as prepare_format
from .store import JOURNAL
from .scan import scan_corpus
from .verify import inspect, verify

__all__ = ["JOURNAL", "DrumDataset", "NothingSelected", "inspect", "journal_options", "load_class_map", "open",
           "prepare", "prepare_config", "prepare_format", "scan_corpus", "verify"]
