"""RBMA13 (Vogl et al., the 2013 Red Bull Music Academy tracks), as its readers find it::

    rbma_13/audio/RBMA-13-Track-NN.mp3                  stereo MP3 (44.1 kHz)
    rbma_13/annotations/drums_f/RBMA-13-Track-NN.txt    "time<TAB>class" lines, 47 classes
    rbma_13/annotations/drums_l/RBMA-13-Track-NN.txt    the same onsets in 18 classes
    rbma_13/annotations/drums_m/RBMA-13-Track-NN.txt    the same onsets in 8 classes
    rbma_13/annotations/beats/RBMA-13-Track-NN.txt      "time<TAB>beat-in-bar"

The class indices are Vogl's (DAFx 2018 mappings.py, as ADTOF's instrumentsMapping has them:
``RBMA_FULL_MIDI`` for drums_f, index = GM pitch - 35, the list cadence's ``rbma13`` reader
uses; ``RBMA_MIDI_18`` for drums_l; ``RBMA_MIDI_8`` for drums_m). :data:`CLASSES` maps each
groove role to its (drums_m, drums_l) index and the GM pitch rendered, whose drums_f index is
pitch - 35; TMIDT uses the same lists.
"""

from __future__ import annotations

import numpy as np

from ..audio_files import accompaniment, track_scale
from ..groove import plan_groove
from .writer import LayoutWriter, notes_for

TOP = "rbma_13"
RATE_HZ = 44_100
# role -> (drums_m index, drums_l index, GM pitch rendered)
CLASSES = {"kick": (0, 0, 36), "snare": (1, 1, 38), "side_stick": (1, 2, 37),
           "clap": (1, 3, 39), "tom_low": (2, 4, 41), "tom_mid": (2, 5, 45),
           "tom_high": (2, 6, 48), "hat_closed": (3, 7, 42), "hat_pedal": (3, 8, 44),
           "hat_open": (3, 9, 46), "tambourine": (3, 10, 54), "ride": (5, 11, 51),
           "ride_bell": (6, 12, 53), "crash": (4, 13, 49), "splash": (4, 14, 55),
           "china": (4, 15, 52), "cowbell": (6, 16, 56), "sticks": (7, 17, 75)}
# (track number, seconds, bpm, kit, roles, extras)
TRACKS = ((2, 10.0, 124, "808", {"kick", "clap", "hat_closed", "hat_open", "crash", "cowbell",
                                "tom_low", "tom_mid"}, {"clap": 0.02, "cowbell": 0.03}),
          (13, 10.0, 96, "Standard", set(CLASSES) - {"clap", "cowbell"},
           {"tambourine": 0.03, "sticks": 0.01, "splash": 0.01}))


#: The annotation folders and each one's index of a role.
GRANULARITIES = {"drums_f": lambda role: CLASSES[role][2] - 35,
                 "drums_l": lambda role: CLASSES[role][1],
                 "drums_m": lambda role: CLASSES[role][0]}


def annotation_lines(hits, folder: str) -> str:
    """``time<TAB>index`` lines of ``folder`` (drums_f, drums_l or drums_m)."""
    index = GRANULARITIES[folder]
    return "".join(f"{h.time_s(RATE_HZ):.6f}\t{index(h.role)}\n" for h in hits)


def beat_lines(seconds: float, bpm: float, lead_in_s: float = 0.4) -> str:
    beats = np.arange(lead_in_s, seconds, 60.0 / bpm)
    return "".join(f"{t:.6f}\t{i % 4 + 1}\n" for i, t in enumerate(beats))


def write(out: LayoutWriter) -> None:
    pitch_of = {role: c[2] for role, c in CLASSES.items()}
    for index, (number, seconds, bpm, kit, roles, extras) in enumerate(TRACKS):
        rng = out.rng(index)
        n = round(seconds * RATE_HZ)
        name = f"RBMA-13-Track-{number:02d}"
        hits = plan_groove(rng, duration_s=seconds, roles=roles, bpm=bpm, extras=extras)
        for folder in GRANULARITIES:
            out.text(f"{TOP}/annotations/{folder}/{name}.txt", annotation_lines(hits, folder))
        out.text(f"{TOP}/annotations/beats/{name}.txt", beat_lines(seconds, bpm))
        mix = (out.render(out.kit(kit), notes_for(hits, pitch_of), n, RATE_HZ)
               + accompaniment(rng, n, RATE_HZ, bpm)[:, None])
        out.audio(f"{TOP}/audio/{name}.mp3", mix, RATE_HZ, track_scale(mix), "mp3")
