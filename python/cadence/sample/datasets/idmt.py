"""IDMT-SMT-Drums (V2), as distributed::

    IDMT-SMT-DRUMS-V2/annotation_xml/<take>#MIX.xml   IDMT instrumentRecording XML: per
        <event> pitch, onsetSec, offsetSec, instrument (KD, SD or HH)
    IDMT-SMT-DRUMS-V2/audio/<take>#MIX.wav            the mixture, 44.1 kHz 16-bit mono
    IDMT-SMT-DRUMS-V2/audio/<take>#KD.wav, #SD.wav, #HH.wav   one instrument each
    IDMT-SMT-DRUMS-V2/audio/<take>#KD#train.wav ...   isolated training hits, named by the
        XML's audioTrainingFileName

Take names follow the three sources of the set: RealDrum, TechnoDrum and WaveDrum.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from ..audio_files import track_scale
from ..groove import plan_groove
from .writer import LayoutWriter, notes_for

TOP = "IDMT-SMT-DRUMS-V2"
RATE_HZ = 44_100
LABEL = {"kick": "KD", "snare": "SD", "hat_closed": "HH", "hat_open": "HH"}
RENDER = {"kick": 36, "snare": 38, "hat_closed": 42, "hat_open": 46}
PITCH = {"KD": 36, "SD": 38, "HH": 42}  # the XML's <pitch> of each instrument
INSTRUMENTS = ("HH", "KD", "SD")
# (take, seconds, bpm, kit)
TAKES = (("RealDrum01_00", 6.0, 98, "Standard"), ("TechnoDrum01_04", 6.0, 128, "808"),
         ("WaveDrum02_03", 6.0, 104, "Electronic"))


def _xml(take: str, hits) -> str:
    head = [f"    <audioFileName>{escape(take)}#MIX.wav</audioFileName>"]
    head += [f"    <audioTrainingFileName>{escape(take)}#{i}#train.wav</audioTrainingFileName>"
             for i in INSTRUMENTS]
    events = []
    for h in hits:
        onset_s = h.time_s(RATE_HZ)
        events.append("    <event>\n"
                      f"      <pitch>{PITCH[LABEL[h.role]]}</pitch>\n"
                      f"      <onsetSec>{onset_s:.6f}</onsetSec>\n"
                      f"      <offsetSec>{onset_s + 0.1:.6f}</offsetSec>\n"
                      f"      <instrument>{LABEL[h.role]}</instrument>\n"
                      "    </event>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<instrumentRecording>\n'
            "  <globalParameter>\n" + "\n".join(head) + "\n    <instrument>drums</instrument>\n"
            "  </globalParameter>\n  <transcription>\n" + "\n".join(events) +
            "\n  </transcription>\n</instrumentRecording>\n")


def write(out: LayoutWriter) -> None:
    for index, (take, seconds, bpm, kit) in enumerate(TAKES):
        rng = out.rng(index)
        n = round(seconds * RATE_HZ)
        program = out.kit(kit)
        hits = plan_groove(rng, duration_s=seconds, roles=set(LABEL), bpm=bpm)
        out.text(f"{TOP}/annotation_xml/{take}#MIX.xml", _xml(take, hits))
        mix = out.render(program, notes_for(hits, RENDER), n, RATE_HZ).mean(axis=1)
        stems = {i: out.render(program, notes_for(hits, RENDER, lambda r, i=i: LABEL[r] == i),
                               n, RATE_HZ).mean(axis=1) for i in INSTRUMENTS}
        train_n = round(2.0 * RATE_HZ)  # four isolated hits, half a second apart
        pitch = {"HH": 42, "KD": 36, "SD": 38}
        train = {i: out.render(program, [(round((0.25 + 0.5 * k) * RATE_HZ), pitch[i], 60 + 15 * k)
                                         for k in range(4)], train_n, RATE_HZ).mean(axis=1)
                 for i in INSTRUMENTS}
        scale = track_scale(mix, *stems.values(), *train.values())
        out.audio(f"{TOP}/audio/{take}#MIX.wav", mix, RATE_HZ, scale)
        for i in INSTRUMENTS:
            out.audio(f"{TOP}/audio/{take}#{i}.wav", stems[i], RATE_HZ, scale)
            out.audio(f"{TOP}/audio/{take}#{i}#train.wav", train[i], RATE_HZ, scale)
