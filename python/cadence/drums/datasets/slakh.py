"""Slakh2100 (Manilow et al., WASPAA 2019; flac redux), ROOT = ``slakh2100_flac_redux/``::

    {train,validation,test,omitted}/TrackNNNNN/metadata.yaml   per stem SNN: is_drum, plugin_name,
                                                               inst_class, program_num...
    .../TrackNNNNN/MIDI/SNN.mid       each stem's notes; a drum stem's are GM drum pitches
    .../TrackNNNNN/stems/SNN.flac     each stem's audio (``--audio drums``: the drum stems summed)
    .../TrackNNNNN/mix.flac           the mixture (default, as ADT on Slakh uses it)

The drum stems are those ``metadata.yaml`` marks ``is_drum: true`` (and whose MIDI was saved). A
track with none is not an error: its files are listed as unpaired in report.json.
"""

from __future__ import annotations

import re

import yaml

from ..corpus import MISSING_AUDIO, MISSING_MIDI, Corpus, InputReject, PairInput
from .listing import Listing, meta_of

TITLE = "Slakh2100"
NAME = "slakh"
#: The class map (--mapping auto) records are made with unless told.
MAPPING = "adtof5"
LOOKS_FOR = "<split>/TrackNNNNN/metadata.yaml (the 'slakh2100_flac_redux' folder)"
AUDIO = ("mix", "drums")
_TRACK = re.compile(r"^(?:(train|validation|test|omitted)/)?(Track\d+)/metadata\.yaml$")


def detect(corpus: Corpus) -> bool:
    return any(_TRACK.match(f) for f in corpus.files())


def list_pairs(corpus: Corpus, *, csv=None, audio=None) -> Listing:
    files = set(corpus.files())
    pairs, rejects, metadata, without = [], [], set(), 0
    for f in sorted(files):
        m = _TRACK.match(f)
        if not m:
            continue
        split, track = m.groups()
        folder = f.rpartition("/")[0]
        pair_id = f"{split}/{track}" if split else track
        try:
            meta = yaml.safe_load(corpus.read(f).decode("utf-8"))
            stems = meta["stems"]
            drums = sorted(name for name, s in stems.items() if s.get("is_drum") and s.get("midi_saved", True))
        except (yaml.YAMLError, UnicodeDecodeError, KeyError, TypeError, AttributeError) as e:
            rejects.append(InputReject(pair_id, "bad_metadata", f"{corpus.where(f)}: not Slakh's metadata "
                                       f"({type(e).__name__}: {e}); check the file or leave the track out"))
            continue
        if not drums:  # many Slakh tracks have no drums: nothing to transcribe, not an error
            without += 1
            continue
        metadata |= {f, f"{folder}/all_src.mid"}
        notes = [f"{folder}/{meta.get('midi_dir', 'MIDI')}/{s}.mid" for s in drums]
        recordings = ([f"{folder}/mix.flac"] if audio == "mix"
                      else [f"{folder}/{meta.get('audio_dir', 'stems')}/{s}.flac" for s in drums])
        lost = [p for p in notes + recordings if p not in files]
        if lost:
            rejects.append(InputReject(pair_id, MISSING_MIDI if lost[0].endswith(".mid") else MISSING_AUDIO,
                                       f"{corpus.where(lost[0])}: missing (metadata.yaml names drum stem(s) "
                                       f"{', '.join(drums)})"))
            continue
        kit = ",".join(str(stems[s].get("plugin_name", "")) for s in drums)
        pairs.append(PairInput(pair_id, tuple(notes), tuple(recordings), "midi", float("nan"), NAME,
                               meta_of(source_id=pair_id, split=split or "", kit_name=kit)))
    return Listing(NAME, pairs, rejects, metadata=metadata, choices={"audio": audio},
                   found=f"{corpus.name} (Slakh2100): {len(pairs) + len(rejects) + without} track(s), "
                         f"{without} without a drum stem")
