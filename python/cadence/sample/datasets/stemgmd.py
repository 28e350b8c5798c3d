"""StemGMD (Mezza et al., zenodo.org/records/7860223): GMD performances rendered per drum
instrument, as laid out here::

    StemGMD/info.csv                                      GMD's metadata columns
    StemGMD/drummerN/sessionM/<gmd stem>.mid              the GMD MIDI
    StemGMD/drummerN/sessionM/<gmd stem>/<kit>/<instrument>.wav
        16-bit 44.1 kHz stereo, one file per instrument of the nine-piece kit: kick, snare,
        hi_tom, mid_tom, low_tom, hihat_closed, hihat_open, crash_left, ride

The nine instruments and the kit names (brooklyn, heavy, ...) are those of the LarsNet
repository (polimi-ispl/larsnet); the folder nesting follows GMD's drummer/session tree, with
one folder per performance and kit. Which MIDI pitch lands in which stem is GMD's 9-class
mapping (Gillick et al. 2019, appendix B). ``audio_filename`` in info.csv is empty: the audio
is the stem folder. The layout beyond the names above is an assumption (the dataset's own
README was not at hand).
"""

from __future__ import annotations

import csv
import io

import numpy as np

from .. import drums
from ..audio_files import track_scale
from .gmd import COLUMNS, gmd_stem
from .writer import LayoutWriter

TOP = "StemGMD"
RATE_HZ = 44_100
STEMS = {"kick": (35, 36), "snare": (37, 38, 40), "hi_tom": (48, 50), "mid_tom": (45, 47),
         "low_tom": (41, 43, 58), "hihat_closed": (22, 42, 44), "hihat_open": (26, 46),
         "crash_left": (49, 52, 55, 57), "ride": (51, 53, 59)}
KITS = (("brooklyn", "Standard"), ("heavy", "Power"))


def write(out: LayoutWriter) -> None:
    plan = drums.plan_corpus(2, seed=out.plan_seed, min_duration_s=4.0, max_duration_s=6.0)
    rows = []
    for perf, (kit_name, kit) in zip(plan, KITS):
        stem = f"{perf.session}/{gmd_stem(perf)}"
        out.write(f"{TOP}/{stem}.mid", drums.midi_bytes(perf))
        n = round(perf.duration_s * RATE_HZ)
        program = out.kit(kit)
        rendered = {}
        for name, pitches in STEMS.items():
            notes = [(round(h.onset_s * RATE_HZ), drums.GM_RENDER_PITCH.get(h.pitch, h.pitch),
                      h.velocity) for h in perf.hits if h.pitch in pitches]
            rendered[name] = out.render(program, notes, n, RATE_HZ)
        scale = track_scale(np.sum(list(rendered.values()), axis=0), *rendered.values())
        for name, frames in rendered.items():
            out.audio(f"{TOP}/{stem}/{kit_name}/{name}.wav", frames, RATE_HZ, scale)
        rows.append([perf.drummer, perf.session, perf.id, perf.style, perf.bpm, perf.beat_type,
                     "{}-{}".format(*perf.time_signature), f"{stem}.mid", "",
                     f"{perf.duration_s:.6f}", perf.split])
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(rows)
    out.text(f"{TOP}/info.csv", text.getvalue())
