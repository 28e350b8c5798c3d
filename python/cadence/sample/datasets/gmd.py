"""Groove MIDI Dataset (GMD, Magenta), as distributed (groove-v1.0.0.zip)::

    groove/info.csv      drummer,session,id,style,bpm,beat_type,time_signature,
                         midi_filename,audio_filename,duration,split
    groove/drummerN/sessionM/<n>_<style>_<bpm>_<beat|fill>_<num-den>.mid   (and .wav)

Like the real set, not every performance has audio: one row here has an empty
``audio_filename``. The performances are the E-GMD sample's (TD-style MIDI with tempo maps
and hi-hat pedal CC 4) rendered once each, mono 44.1 kHz 16-bit.
"""

from __future__ import annotations

import csv
import io

from .. import drums
from .writer import LayoutWriter

TOP = "groove"
COLUMNS = ("drummer", "session", "id", "style", "bpm", "beat_type", "time_signature",
           "midi_filename", "audio_filename", "duration", "split")


def gmd_stem(perf: drums.Performance) -> str:
    """GMD's file stem of a performance: the E-GMD name without the kit number."""
    return perf.stem(0).rsplit("_", 1)[0]


def write(out: LayoutWriter, top: str = TOP, performances: int = 3,
          without_audio: int = 1) -> list[drums.Performance]:
    plan = drums.plan_corpus(performances, seed=out.plan_seed, min_duration_s=5.0,
                             max_duration_s=9.0)
    program = out.kit("Standard")
    rows = []
    for i, perf in enumerate(plan):
        stem = f"{perf.session}/{gmd_stem(perf)}"
        out.write(f"{top}/{stem}.mid", drums.midi_bytes(perf))
        audio = ""
        if i != without_audio:  # GMD has performances without audio; one here too
            audio = f"{stem}.wav"
            out.write(f"{top}/{audio}", drums.render_performance(out.soundfont, perf, program))
            out.audio_s += perf.duration_s
        rows.append([perf.drummer, perf.session, perf.id, perf.style, perf.bpm, perf.beat_type,
                     "{}-{}".format(*perf.time_signature), f"{stem}.mid", audio,
                     f"{perf.duration_s:.6f}", perf.split])
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    out.text(f"{top}/info.csv", text.getvalue())
    return list(plan)
