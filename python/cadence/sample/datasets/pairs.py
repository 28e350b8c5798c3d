"""Plain MIDI/audio pairs: any folder tree where ``<name>.mid``/``.midi`` sits beside
``<name>.wav``/``.flac`` (the pairing ``drums prepare`` does without a CSV)::

    song_a/verse.mid + song_a/verse.wav        mono 44.1 kHz 16-bit WAV
    song_a/chorus.midi + song_a/chorus.flac    the same as FLAC
    song_b/take_1.mid + song_b/take_1.wav

No top folder: OUT itself is the root. The performances are the E-GMD sample's.
"""

from __future__ import annotations

import io
import wave

import numpy as np

from .. import drums
from ..audio_files import encode
from .writer import LayoutWriter

TOP = ""
NAMES = (("song_a/verse", ".mid", "wav"), ("song_a/chorus", ".midi", "flac"),
         ("song_b/take_1", ".mid", "wav"))


def write(out: LayoutWriter) -> None:
    plan = drums.plan_corpus(len(NAMES), seed=out.plan_seed, min_duration_s=4.0, max_duration_s=8.0)
    for (name, midi_suffix, container), perf, (program, _) in zip(NAMES, plan, out.kits):
        out.write(f"{name}{midi_suffix}", drums.midi_bytes(perf))
        data = drums.render_performance(out.soundfont, perf, program)
        if container == "flac":
            with wave.open(io.BytesIO(data)) as w:
                pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
            data = encode(pcm.astype(np.float64), drums.SAMPLE_RATE_HZ, 1.0, "flac")
        out.write(f"{name}.{container}", data)
        out.audio_s += perf.duration_s
