"""Small drum corpora laid out exactly as each public dataset is distributed, for tests, demos
and benchmarks of ``drums prepare --dataset NAME`` (``cadence sample drums --layout NAME``).

Each layout writes a few tracks of a few seconds under the dataset's own top folder (``ENST-
drums-public/``, ``MDB Drums/`` with its space, ``slakh2100_flac_redux/`` with its split
folders...), its annotation files in their native format and label spellings, and audio at the
dataset's rate and channel count, rendered with the engine's TinySoundFont from the same
events as the annotations (each label through the GM pitch it stands for; a label with no GM
pitch sounds quietly or not at all). Nothing else is written: no ground-truth file that the
real dataset lacks; tests read the annotation files themselves. Everything follows from
``seed``; the bytes do not depend on the machine's speed or core count.

``egmd`` is the E-GMD-shaped corpus of :mod:`cadence.sample.drums` (unchanged).

Sources for the layouts (file names, folders, annotation formats, label spellings):

- ENST-Drums: ADTOF (github.com/MZehren/ADTOF) ``adtof/ressources/instrumentsMapping.py``
  (``ENST_MIDI``, labels such as ``cr2``, ``rc4``, ``sd-``; ``sweep``/``mtr``/``ltr`` without a
  pitch) and ``splits.py`` (take names per drummer), ADTOF's ``model/dataLoader.py`` (space-
  separated annotations); RunarFosse/automatic-drum-transcription ``io/convert_enst.py``
  (``drummer_N/audio/wet_mix``, ``audio/accompaniment``, ``drummer_N/annotation``); the single
  microphones named as in public ENST loaders (``kick``, ``snare``, ``hi-hat``, ``overhead_L``,
  ``overhead_R``, ``tom_1``, ``tom_2``).
- MDB-Drums: the dataset's repository, CarlSouthall/MDBDrums (``MDB Drums/annotations/class``,
  ``/subclass``, ``audio/full_mix/*_MIX.wav``, ``audio/drum_only/*_Drum.wav``; the exact
  annotation line format), ADTOF's ``MDBS_MIDI`` for the 21 subclasses.
- IDMT-SMT-Drums V2: public readers of ``annotation_xml/<take>#MIX.xml`` (ishandvd/
  dissertation-backend ``xml_interface.py``: ``audioFileName``, ``audioTrainingFileName``,
  ``event/onsetSec/instrument``; an ADT toolkit's ``read_annotations_IDMT``: event children
  pitch, onsetSec, offsetSec, instrument).
- Slakh2100 redux: ethman/slakh-utils README (track folder, metadata.yaml keys, mono 44.1 kHz
  16-bit FLAC, split ranges), mirdata 1.0 ``datasets/slakh.py`` (splits train/validation/test/
  omitted, the stem fields it reads), RunarFosse ``io/convert_slakh.py`` (drum stem by
  ``is_drum``), ADTOF ``SLAKH2100_MIDI`` (drum ``plugin_name`` values).
- RBMA13: ADTOF ``model/dataLoader.py`` (getAllDatasets: ``rbma_13/audio/*.mp3``,
  ``rbma_13/annotations/drums_f/*.txt`` read with ``RBMA_FULL_MIDI``; the older loader:
  ``annotations/drums_m`` with ``RBMA_MIDI_8``), ADTOF ``RBMA_MIDI_18`` (drums_l), public RBMA13
  loaders (``RBMA-13-Track-NN.mp3``, ``annotations/beats``), ADTOF ``splits.RBMA_SPLITS``.
- TMIDT: ADTOF ``model/dataLoader.py`` (getTMIDT: ``TMIDT/mp3/*.mp3``, ``_accomp.mp3`` variants,
  ``TMIDT/annotations/drums_f``; factoryTMIDT: ``annotations/drums_m``,
  ``splits/3-fold_cv_acc_<k>.txt``), a public TMIDT loader (``annotations/drums_l``,
  ``annotations/beats``; its 18-class table equals RBMA13's drums_l).
- GMD: Magenta's groove-v1.0.0 (``groove/info.csv`` columns as mirdata's ``groove_midi`` reads
  them; drummer/session tree; some rows without audio).
- StemGMD: polimi-ispl/larsnet (README: nine stems, 16-bit 44.1 kHz WAV, ten kits; kit and
  instrument names from a LarsNet data module); the nesting is an assumption (see
  :mod:`.datasets.stemgmd`).

mirdata (1.0.0, PyPI) has no ENST-Drums, MDB-Drums or IDMT-SMT-Drums loader, and its Slakh and
GMD loaders download their track index from Zenodo at first use (0.3.x needs numpy < 2), so the
tests read these samples with plain Python and the engine's readers instead.

Known deviations: RBMA13 and TMIDT audio is written as MP3 as released (soundfile's libsndfile
encodes it; decoding it needs a libsndfile with MP3 support); GMD audio is mono here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .datasets import enst, gmd, idmt, mdb, pairs, rbma13, slakh, stemgmd, tmidt
from .datasets.writer import LayoutWriter
from .soundfont import find_soundfont, list_kits

__all__ = ["LAYOUTS", "LayoutSample", "MARKERS", "TOP_FOLDERS", "generate"]

_MODULES = {"gmd": gmd, "stemgmd": stemgmd, "slakh": slakh, "enst": enst, "mdb": mdb,
            "idmt": idmt, "rbma13": rbma13, "tmidt": tmidt, "pairs": pairs}
#: Every layout name, ``egmd`` (the default, :mod:`cadence.sample.drums`) first.
LAYOUTS = ("egmd", *_MODULES)
#: The top folder each layout writes under OUT ("" = OUT itself is the dataset's root).
TOP_FOLDERS = {name: module.TOP for name, module in _MODULES.items()}
#: A path under OUT that only this layout's sample has: ``--force`` replaces a directory only
#: when it holds it.
MARKERS = {name: module.TOP or module.NAMES[0][0].split("/")[0] for name, module in _MODULES.items()}
_SEED_KEY = {name: i for i, name in enumerate(_MODULES)}


@dataclass(frozen=True)
class LayoutSample:
    """What :func:`generate` wrote: ``files`` relative to ``root``, in writing order."""

    layout: str
    root: Path
    files: tuple[str, ...]
    total_audio_s: float

    @property
    def top(self) -> Path:
        return self.root / TOP_FOLDERS[self.layout]


def generate(layout: str, out_dir: str | os.PathLike[str], *, seed: int = 0,
             soundfont: str | os.PathLike[str] | None = None) -> LayoutSample:
    """Write the ``layout`` sample (one of :data:`LAYOUTS` but ``egmd``) under ``out_dir``.

    Files are written atomically, one by one; the CLI writes into a temporary directory and
    renames it to OUT when whole.
    """
    if layout not in _MODULES:
        raise ValueError(f"unknown layout {layout!r}: one of {', '.join(_MODULES)} "
                         "(egmd: cadence.sample.drums.generate)")
    if seed < 0:
        raise ValueError(f"need seed >= 0, got {seed}")
    sf2 = find_soundfont(soundfont)
    kits = list_kits(sf2)
    if not kits:
        raise ValueError(f"{sf2} has no drum kits (bank 128); pass another soundfont")
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    writer = LayoutWriter(root=root, soundfont=sf2, kits=kits, seed=seed, stream=_SEED_KEY[layout])
    _MODULES[layout].write(writer)
    return LayoutSample(layout, root, tuple(writer.files), writer.audio_s)
