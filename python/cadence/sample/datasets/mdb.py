"""MDB-Drums, as distributed (github.com/CarlSouthall/MDBDrums)::

    MDB Drums/annotations/class/MusicDelta_<X>_class.txt        6 classes (KD SD HH TT CY OT)
    MDB Drums/annotations/subclass/MusicDelta_<X>_subclass.txt  21 subclasses (KD SD SDB SDD
        SDF SDG SDNS SST CHH OHH PHH HIT MHT HFT LFT RDC RDB CRC CHC SPC TMB)
    MDB Drums/audio/full_mix/MusicDelta_<X>_MIX.wav             44.1 kHz 16-bit stereo
    MDB Drums/audio/drum_only/MusicDelta_<X>_Drum.wav

Annotation lines are written byte for byte like the originals: ``"0.570000 \\t SD \\n"`` (time
with six decimals, a tab with a space either side, a trailing space). Most takes were annotated
on a 10 ms grid (``x.xx0000``); one take here keeps full precision, as some original lines do.
The class and subclass files hold the same onsets.
"""

from __future__ import annotations

import numpy as np

from ..audio_files import accompaniment, track_scale
from ..groove import plan_groove
from .writer import LayoutWriter, notes_for

TOP = "MDB Drums"
RATE_HZ = 44_100
SUBCLASS = {"kick": "KD", "snare": "SD", "snare_ghost": "SDG", "side_stick": "SST",
            "hat_closed": "CHH", "hat_open": "OHH", "hat_pedal": "PHH", "ride": "RDC",
            "ride_bell": "RDB", "crash": "CRC", "tom_high": "HIT", "tom_mid": "MHT",
            "tom_low": "HFT", "tom_floor": "LFT", "china": "CHC", "splash": "SPC",
            "tambourine": "TMB", "flam": "SDF", "drag": "SDD", "brush": "SDB",
            "snares_off": "SDNS"}
CLASS = {"KD": "KD", "SD": "SD", "SDB": "SD", "SDD": "SD", "SDF": "SD", "SDG": "SD",
         "SDNS": "SD", "SST": "SD", "CHH": "HH", "OHH": "HH", "PHH": "HH", "HIT": "TT",
         "MHT": "TT", "HFT": "TT", "LFT": "TT", "RDC": "CY", "RDB": "CY", "CRC": "CY",
         "CHC": "CY", "SPC": "CY", "TMB": "OT"}
# Subclass -> GM pitch to render (ADTOF instrumentsMapping.MDBS_MIDI).
RENDER = {"KD": 35, "SD": 38, "SDB": 38, "SDD": 38, "SDF": 38, "SDG": 38, "SDNS": 38,
          "CHH": 42, "OHH": 46, "PHH": 44, "HIT": 50, "MHT": 48, "HFT": 43, "LFT": 41,
          "RDC": 51, "RDB": 53, "CRC": 49, "CHC": 52, "SPC": 55, "SST": 37, "TMB": 54}
_ALL = set(SUBCLASS)
# (take, seconds, bpm, kit, roles, extras, grid_s)
TAKES = (
    ("MusicDelta_80sRock", 8.0, 116, "Power", _ALL - {"ride", "ride_bell", "hat_pedal"},
     {"flam": 0.01, "splash": 0.01}, 0.01),
    ("MusicDelta_SwingJazz", 8.0, 150, "Jazz", {"kick", "snare", "snare_ghost", "ride",
     "ride_bell", "hat_pedal", "crash", "tom_high", "tom_floor", "brush", "drag"},
     {"brush": 0.02, "drag": 0.01}, 0.01),
    ("MusicDelta_Reggae", 8.0, 76, "Standard", {"kick", "side_stick", "hat_closed", "hat_open",
     "snare", "china", "tambourine", "snares_off", "tom_mid", "tom_low"},
     {"tambourine": 0.04, "snares_off": 0.02}, None),
)


def write(out: LayoutWriter) -> None:
    pitch_of = {role: RENDER[label] for role, label in SUBCLASS.items()}
    for index, (take, seconds, bpm, kit, roles, extras, grid_s) in enumerate(TAKES):
        rng = out.rng(index)
        n = round(seconds * RATE_HZ)
        hits = plan_groove(rng, duration_s=seconds, roles=roles, bpm=bpm, extras=extras,
                           grid_s=grid_s)
        for kind, spell in (("class", lambda r: CLASS[SUBCLASS[r]]), ("subclass", SUBCLASS.get)):
            out.text(f"{TOP}/annotations/{kind}/{take}_{kind}.txt",
                     "".join(f"{h.time_s(RATE_HZ):.6f} \t {spell(h.role)} \n" for h in hits))
        drums = out.render(out.kit(kit), notes_for(hits, pitch_of), n, RATE_HZ)
        mix = drums + accompaniment(rng, n, RATE_HZ, bpm)[:, None] * np.array([0.8, 1.0])
        scale = track_scale(drums, mix)
        out.audio(f"{TOP}/audio/drum_only/{take}_Drum.wav", drums, RATE_HZ, scale)
        out.audio(f"{TOP}/audio/full_mix/{take}_MIX.wav", mix, RATE_HZ, scale)
