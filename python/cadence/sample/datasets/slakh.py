"""Slakh2100 (flac redux), as distributed (slakh2100_flac_redux.tar.gz)::

    slakh2100_flac_redux/{train,validation,test}/TrackNNNNN/
        metadata.yaml    UUID, audio_dir, lmd_midi_dir, midi_dir, normalization_factor,
                         normalized, overall_gain, target_peak, and per stem SNN:
                         audio_rendered, inst_class, integrated_loudness, is_drum,
                         midi_program_name, midi_saved, plugin_name, program_num
        all_src.mid      every source in one MIDI file
        MIDI/SNN.mid     one MIDI file per stem
        stems/SNN.flac   one audio file per stem, mono 44.1 kHz 16-bit FLAC
        mix.flac         the sum of the stems (times overall_gain)

Track numbers follow the original split ranges (train 00001-01500, validation 01501-01875,
test 01876-02100). Track00002 has no drum stem (``is_drum: true`` nowhere), as many real tracks
have none. Drum-stem notes are GM pitches on MIDI channel 10 (the kits' own mappings, keyed by
``plugin_name``, are ADTOF's ``SLAKH2100_MIDI``); melodic stems are plain synthesised tones.
"""

from __future__ import annotations

import numpy as np
import yaml

from ..audio_files import track_scale
from ..groove import plan_groove
from ..smf_writer import Track, to_bytes
from .writer import LayoutWriter

TOP = "slakh2100_flac_redux"
RATE_HZ = 44_100
PPQ = 480
DRUM_PITCH = {"kick": 36, "snare": 38, "side_stick": 37, "hat_closed": 42, "hat_open": 46,
              "hat_pedal": 44, "ride": 51, "ride_bell": 53, "crash": 49, "tom_high": 48,
              "tom_mid": 45, "tom_low": 43, "tom_floor": 41}
# inst_class, program_num, midi_program_name, plugin_name (program 128 = the drum kit)
INSTRUMENTS = {"bass": ("Bass", 33, "Electric Bass (finger)", "scarbee_jay_bass_both.nkm"),
               "piano": ("Piano", 0, "Acoustic Grand Piano", "the_grandeur.nkm"),
               "guitar": ("Guitar", 27, "Electric Guitar (clean)", "elektrik_guitar.nkm"),
               "drums": ("Drums", 128, "Drums", "funk_kit.nkm")}
# (split, track number, seconds, bpm, kit, stems in order)
TRACKS = (("train", 1, 8.0, 120, "Standard", ("bass", "drums", "piano")),
          ("train", 2, 6.0, 100, "Standard", ("bass", "piano", "guitar")),
          ("validation", 1501, 8.0, 96, "Room", ("drums", "bass")),
          ("test", 1876, 8.0, 132, "Power", ("piano", "bass", "drums")))


def _notes(kind: str, rng, seconds: float, bpm: float, tempo_us: int):
    """(tick, length_ticks, pitch, velocity) of one stem, the drums planned as a groove."""
    if kind == "drums":
        hits = plan_groove(rng, duration_s=seconds, roles=set(DRUM_PITCH), bpm=bpm)
        ticks_per_s = PPQ * 1e6 / tempo_us
        return [(round(h.sample / RATE_HZ * ticks_per_s), PPQ // 8, DRUM_PITCH[h.role], h.velocity)
                for h in hits]
    lead_in = round(0.4 * 1e6 / tempo_us * PPQ)  # the groove's 0.4 s lead-in, in ticks
    n_beats = int((seconds - 1.0) * bpm / 60)
    roots = rng.choice([36, 38, 41, 43], size=4)
    notes = []
    for beat in range(n_beats):
        root = int(roots[(beat // 4) % 4])
        tick = lead_in + beat * PPQ
        if kind == "bass":
            notes.append((tick, PPQ - 20, root, int(rng.integers(80, 100))))
        elif beat % 2 == 0:
            chord = (24, 28, 31) if kind == "piano" else (19, 24, 28)
            notes += [(tick, 2 * PPQ - 30, root + c, int(rng.integers(50, 75))) for c in chord]
    return notes


def _tone(notes, n: int, tempo_us: int, kind: str) -> np.ndarray:
    """A plain synthesised melodic stem (decaying sine partials) of ``notes``."""
    out = np.zeros(n)
    seconds_per_tick = tempo_us / (PPQ * 1e6)
    partials = {"bass": (1.0, 0.3), "piano": (1.0, 0.5, 0.25), "guitar": (1.0, 0.6, 0.4, 0.2)}[kind]
    for tick, length, pitch, velocity in notes:
        a = round(tick * seconds_per_tick * RATE_HZ)
        b = min(n, a + round(length * seconds_per_tick * RATE_HZ))
        t = np.arange(b - a) / RATE_HZ
        hz = 440.0 * 2 ** ((pitch - 69) / 12)
        wave = sum(g * np.sin(2 * np.pi * hz * (k + 1) * t) for k, g in enumerate(partials))
        out[a:b] += velocity / 127 * 0.15 * wave * np.exp(-t * 3)
    return out


def _track(name: str, program: int, notes, drum: bool) -> Track:
    channel = 9 if drum else 0
    track = Track(name)
    if not drum:
        track.program_change(0, channel, program)
    for tick, length, pitch, velocity in notes:
        track.note_on(tick, channel, pitch, velocity)
        track.note_off(tick + length, channel, pitch)
    return track


def write(out: LayoutWriter) -> None:
    for index, (split, number, seconds, bpm, kit, kinds) in enumerate(TRACKS):
        rng = out.rng(index)
        folder = f"{TOP}/{split}/Track{number:05d}"
        n = round(seconds * RATE_HZ)
        tempo_us = round(60e6 / bpm)
        tempo = Track("tempo")
        tempo.set_tempo(0, tempo_us)
        tempo.time_signature(0, 4, 4)
        stems, tracks, meta = {}, [], {}
        for s, kind in enumerate(kinds):
            inst_class, program, program_name, plugin = INSTRUMENTS[kind]
            notes = _notes(kind, rng, seconds, bpm, tempo_us)
            track = _track(program_name, program, notes, kind == "drums")
            tracks.append(track)
            key = f"S{s:02d}"
            out.write(f"{folder}/MIDI/{key}.mid", to_bytes([tempo, track], ppq=PPQ, format=1))
            if kind == "drums":
                per_tick = tempo_us / (PPQ * 1e6) * RATE_HZ
                stems[key] = out.render(out.kit(kit), [(round(t * per_tick), p, v)
                                                      for t, _, p, v in notes], n, RATE_HZ).mean(axis=1)
            else:
                stems[key] = _tone(notes, n, tempo_us, kind)
            rms = float(np.sqrt(np.mean(stems[key] ** 2))) or 1e-9
            meta[key] = {"audio_rendered": True, "inst_class": inst_class,
                         "integrated_loudness": round(float(20 * np.log10(rms)) - 0.691, 6),
                         "is_drum": kind == "drums", "midi_program_name": program_name,
                         "midi_saved": True, "plugin_name": plugin, "program_num": program}
        out.write(f"{folder}/all_src.mid", to_bytes([tempo, *tracks], ppq=PPQ, format=1))
        overall_gain = round(float(rng.uniform(0.15, 0.6)), 12)
        mix = overall_gain * np.sum(list(stems.values()), axis=0)
        scale = track_scale(mix, *(overall_gain * s for s in stems.values()))
        for key, frames in stems.items():
            out.audio(f"{folder}/stems/{key}.flac", overall_gain * frames, RATE_HZ, scale, "flac")
        out.audio(f"{folder}/mix.flac", mix, RATE_HZ, scale, "flac")
        uuid = "".join(f"{b:02x}" for b in rng.integers(0, 256, size=16))
        out.text(f"{folder}/metadata.yaml", yaml.safe_dump({
            "UUID": uuid, "audio_dir": "stems",
            "lmd_midi_dir": f"lmd_matched/{uuid[0].upper()}/{uuid[1].upper()}/{uuid[2].upper()}/"
                            f"TR{uuid[:16].upper()}/{uuid}.mid",
            "midi_dir": "MIDI", "normalization_factor": -13.0, "normalized": True,
            "overall_gain": overall_gain, "stems": meta, "target_peak": -1.0},
            default_flow_style=False, sort_keys=True))
