"""TMIDT (Vogl et al., DAFx 2018: synthetic MIDI drum tracks), as its readers find it::

    TMIDT/mp3/<id>.mp3                          the rendered song (stereo MP3, 44.1 kHz)
    TMIDT/annotations/drums_f/<id>.txt          "time<TAB>class" lines, 47 classes
    TMIDT/annotations/drums_l/<id>.txt          the same onsets in 18 classes
    TMIDT/annotations/drums_m/<id>.txt          the same onsets in 8 classes
    TMIDT/annotations/beats/<id>.txt            "time<TAB>beat-in-bar"
    TMIDT/splits/3-fold_cv_acc_<k>.txt          the ids of fold k, one a line

Each song comes twice: ``<n>_<Artist>_-_<Title>`` (drums alone) and ``..._accomp`` (with the
accompaniment), with the same drum annotations. The class lists are RBMA13's (:mod:`.rbma13`).
Paths as ADTOF's ``model/dataLoader.py`` (getTMIDT, factoryTMIDT) reads them.
"""

from __future__ import annotations

from ..audio_files import accompaniment, track_scale
from ..groove import plan_groove
from .rbma13 import CLASSES, GRANULARITIES, annotation_lines, beat_lines
from .writer import LayoutWriter, notes_for

TOP = "TMIDT"
RATE_HZ = 44_100
SONGS = (("7_The_Metronomes_-_Paper_Kites", 8.0, 118, "Standard"),
         ("42_Lowland_Radio_-_Night_Bus", 8.0, 88, "Room"),
         ("103_Quiet_Harbour_-_Tin_Roof", 6.0, 140, "Jazz"))


def write(out: LayoutWriter) -> None:
    pitch_of = {role: c[2] for role, c in CLASSES.items()}
    for index, (song, seconds, bpm, kit) in enumerate(SONGS):
        rng = out.rng(index)
        n = round(seconds * RATE_HZ)
        hits = plan_groove(rng, duration_s=seconds, roles=set(CLASSES) - {"clap"}, bpm=bpm,
                           extras={"tambourine": 0.02, "cowbell": 0.01})
        drums = out.render(out.kit(kit), notes_for(hits, pitch_of), n, RATE_HZ)
        accomp = drums + accompaniment(rng, n, RATE_HZ, bpm)[:, None]
        scale = track_scale(drums, accomp)
        for name, audio in ((song, drums), (f"{song}_accomp", accomp)):
            for folder in GRANULARITIES:
                out.text(f"{TOP}/annotations/{folder}/{name}.txt", annotation_lines(hits, folder))
            out.text(f"{TOP}/annotations/beats/{name}.txt", beat_lines(seconds, bpm))
            out.audio(f"{TOP}/mp3/{name}.mp3", audio, RATE_HZ, scale, "mp3")
    for fold, (song, *_) in enumerate(SONGS):  # one song (both versions) a fold
        out.text(f"{TOP}/splits/3-fold_cv_acc_{fold}.txt", f"{song}\n{song}_accomp\n")
