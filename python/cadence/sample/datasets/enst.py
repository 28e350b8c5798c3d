"""ENST-Drums (public part), as distributed::

    ENST-drums-public/drummer_N/annotation/<take>.txt      "time label" lines, space-separated
    ENST-drums-public/drummer_N/audio/<mic>/<take>.wav     44.1 kHz 16-bit; single microphones
        hi-hat, kick, overhead_L, overhead_R, snare, tom_1, tom_2 mono; dry_mix and wet_mix
        stereo; accompaniment (minus-one takes only) stereo

Labels are ENST's own spellings, instance digits included (``cr1``, ``rc3``, ``cr2``, ``sd-``),
with ``sweep``, ``mtr`` and ``ltr``, which have no GM pitch (ADTOF's ``ENST_MIDI`` leaves them
out). Take names repeat across drummers (``001_hits_...``), as in the dataset. The overhead
pair is the left and right channel of the stereo kit render; each close microphone hears only
its own drums. The channel counts (single microphones mono, the mixes and the accompaniment
stereo) are from memory of the ENST-Drums paper (Gillet & Richard, ISMIR 2006), not confirmed
from a source at hand.
"""

from __future__ import annotations

import numpy as np

from ..audio_files import accompaniment, track_scale
from ..groove import Hit, plan_groove
from .writer import LayoutWriter, notes_for

TOP = "ENST-drums-public"
RATE_HZ = 44_100
# Label -> GM pitch to render (ADTOF instrumentsMapping.ENST_MIDI); the unmapped labels sound
# quietly (a brush sweep: nothing; a tom rim: the tom, soft) and are never annotated as a pitch.
RENDER = {"bd": 35, "cs": 37, "rs": 38, "sd": 38, "sd-": 38, "lft": 41, "chh": 42, "lt": 45,
          "ohh": 46, "lmt": 47, "mt": 48, "cr": 49, "c1": 49, "cr1": 49, "cr5": 49, "rc": 51,
          "rc1": 51, "rc3": 51, "ch": 52, "ch1": 52, "ch5": 52, "spl": 55, "spl2": 55, "cb": 56,
          "cr2": 57, "c": 57, "c4": 57, "rc2": 59, "rc4": 59, "sticks": 75,
          "sweep": None, "mtr": (47, 28), "ltr": (45, 28)}
_COMMON = {"kick": "bd", "snare": "sd", "snare_ghost": "sd-", "side_stick": "cs",
           "hat_closed": "chh", "hat_open": "ohh", "tom_high": "mt", "tom_mid": "lmt",
           "tom_low": "lt", "tom_floor": "lft", "sweep": "sweep", "mtr": "mtr", "ltr": "ltr",
           "cowbell": "cb", "splash": "spl2", "china": "ch5"}
# Each drummer's kit names its cymbals with its own instance numbers.
_CYMBALS = {1: {"crash": "cr1", "ride": "rc3"}, 2: {"crash": "cr2", "ride": "rc2"},
            3: {"crash": "c1", "ride": "rc4"}}
_MIC_ROLES = {"kick": {"kick"}, "snare": {"snare", "snare_ghost", "side_stick", "sweep"},
              "hi-hat": {"hat_closed", "hat_open"}, "tom_1": {"tom_high", "tom_mid", "mtr"},
              "tom_2": {"tom_low", "tom_floor", "ltr"}}
# (drummer, take, seconds, bpm, roles, extra roles with their chance per step, accompanied);
# a "hits" take is six strokes of one drum (its only role), half a second apart.
TAKES = (
    (1, "001_hits_snare-drum_sticks_x6", 3.8, 100, {"snare"}, {}, False),
    (1, "110_minus-one_musette_brushes", 6.0, 132,
     {"kick", "snare", "snare_ghost", "hat_closed", "hat_open", "ride", "crash", "tom_high",
      "tom_low", "sweep"}, {"sweep": 0.05}, True),
    (2, "001_hits_snare-drum_sticks_x6", 3.8, 96, {"snare"}, {}, False),
    (3, "126_minus-one_salsa_sticks", 6.0, 112,
     {"kick", "snare", "side_stick", "hat_closed", "hat_open", "ride", "crash", "tom_high",
      "tom_mid", "tom_low", "tom_floor", "mtr", "ltr", "cowbell"},
     {"mtr": 0.03, "ltr": 0.03, "cowbell": 0.04}, True),
)


def write(out: LayoutWriter) -> None:
    program = out.kit("Standard")
    for index, (drummer, take, seconds, bpm, roles, extras, accompanied) in enumerate(TAKES):
        rng = out.rng(index)
        n = round(seconds * RATE_HZ)
        if "_hits_" in take:
            (role,) = roles
            hits = [Hit(round((0.4 + 0.5 * k + rng.uniform(0, 0.02)) * RATE_HZ), role,
                        int(rng.integers(70, 120))) for k in range(6)]
        else:
            hits = plan_groove(rng, duration_s=seconds, roles=roles, bpm=bpm, extras=extras)
        labels = {**_COMMON, **_CYMBALS[drummer]}
        folder = f"{TOP}/drummer_{drummer}"
        out.text(f"{folder}/annotation/{take}.txt",
                 "".join(f"{h.time_s(RATE_HZ):.6f} {labels[h.role]}\n" for h in hits))
        pitch_of = {role: RENDER[label] for role, label in labels.items()}
        kit = out.render(program, notes_for(hits, pitch_of), n, RATE_HZ)
        mics = {mic: out.render(program, notes_for(hits, pitch_of, lambda r, m=m: r in m), n,
                                RATE_HZ).mean(axis=1)
                for mic, m in _MIC_ROLES.items()}
        wet = kit.copy()
        for delay_s, gain in ((0.023, 0.35), (0.041, 0.25), (0.067, 0.15)):  # a small room
            d = round(delay_s * RATE_HZ)
            wet[d:] += gain * kit[:-d, ::-1]
        extra = {}
        if accompanied:
            extra["accompaniment"] = np.repeat(
                accompaniment(rng, n, RATE_HZ, bpm)[:, None], 2, axis=1)
        scale = track_scale(kit, wet, *mics.values(), *extra.values())
        tracks = {"dry_mix": kit, "wet_mix": wet, "overhead_L": kit[:, 0],
                  "overhead_R": kit[:, 1], **mics, **extra}
        for mic in sorted(tracks):
            out.audio(f"{folder}/audio/{mic}/{take}.wav", tracks[mic], RATE_HZ, scale)
