"""Rendering and encoding for the dataset-layout samples: drum hits through a GM kit (the
engine's TinySoundFont), a plain synthesised accompaniment, and the containers the datasets
ship (16-bit WAV mono or stereo, FLAC, MP3).

All the files of one track share one scale factor (:func:`track_scale`), so a mix written
beside its stems is their sum, as in Slakh. WAV is written here; FLAC and MP3 go through
soundfile (libsndfile, ``pip install 'cadence[sample]'``), imported only when needed.
"""

from __future__ import annotations

import io
import wave

import numpy as np

from .. import _core
from .soundfont import NOTE_OFF, NOTE_ON

__all__ = ["accompaniment", "encode", "render_notes", "track_scale"]

FULL_SCALE = 32767
GAIN = 0.5  # float full scale -> int16 full scale, as the E-GMD sample's RENDER_GAIN
HEADROOM = 0.95
NOTE_LENGTH_S = 0.08


def render_notes(soundfont, program: int, notes, n_samples: int, rate_hz: int) -> np.ndarray:
    """Render ``notes`` ``(sample, gm_pitch, velocity)`` through drum kit ``program``; float64
    stereo frames ``(n_samples, 2)``. Notes at or after ``n_samples`` are cut off."""
    events = []
    for sample, pitch, velocity in notes:
        if sample < n_samples:
            events.append((sample, NOTE_ON, pitch, velocity))
            events.append((sample + round(NOTE_LENGTH_S * rate_hz), NOTE_OFF, pitch, 0))
    table = np.array(sorted(e for e in events if e[0] < n_samples), dtype=np.int64).reshape(-1, 4)
    return _core.render_drum_kit(str(soundfont), program, table, n_samples, rate_hz).astype(np.float64)


def accompaniment(rng: np.random.Generator, n_samples: int, rate_hz: int, bpm: float,
                  lead_in_s: float = 0.4) -> np.ndarray:
    """A bass line and a chord pad (decaying sines, one bass note a beat) starting with the
    drums; float64 mono. No drum sounds in it, so it changes no annotation."""
    t = np.arange(n_samples) / rate_hz
    out = np.zeros(n_samples)
    beat_s = 60.0 / bpm
    roots = rng.choice([41, 43, 45, 48], size=4)
    for i, start in enumerate(np.arange(lead_in_s, n_samples / rate_hz, beat_s)):
        pitch = int(roots[(i // 4) % 4]) + (12 if i % 4 == 2 else 0)
        hz = 440.0 * 2 ** ((pitch - 69) / 12)
        a, b = round(start * rate_hz), min(n_samples, round((start + beat_s) * rate_hz))
        local = t[a:b] - start
        out[a:b] += 0.12 * np.sin(2 * np.pi * hz * local) * np.exp(-local * 4)
        if i % 4 == 0:
            for ratio in (2.0, 2.52, 3.0):  # a major chord two octaves up, the whole bar
                c = min(n_samples, round((start + 4 * beat_s) * rate_hz))
                span = t[a:c] - start
                out[a:c] += 0.02 * np.sin(2 * np.pi * hz * ratio * span) * np.exp(-span)
    return out


def track_scale(*signals: np.ndarray) -> float:
    """One float -> int16 factor for every file of a track: GAIN, turned down when the
    loudest of ``signals`` would pass HEADROOM of full scale (never clipped)."""
    peak = max(float(np.abs(s).max(initial=0.0)) for s in signals)
    scale = GAIN * FULL_SCALE
    return min(scale, HEADROOM * FULL_SCALE / peak) if peak > 0 else scale


def encode(frames: np.ndarray, rate_hz: int, scale: float, container: str = "wav") -> bytes:
    """``frames`` (mono ``(n,)`` or ``(n, channels)`` float) as 16-bit ``wav``, ``flac`` or
    ``mp3`` bytes, multiplied by ``scale`` (see :func:`track_scale`)."""
    pcm = np.round(np.asarray(frames) * scale).astype("<i2")
    channels = 1 if pcm.ndim == 1 else pcm.shape[1]
    buffer = io.BytesIO()
    if container == "wav":
        with wave.open(buffer, "wb") as w:
            w.setnchannels(channels)
            w.setsampwidth(2)
            w.setframerate(rate_hz)
            w.writeframes(pcm.tobytes())
        return buffer.getvalue()
    try:
        import soundfile
    except ImportError:
        raise RuntimeError("writing FLAC/MP3 needs soundfile: pip install 'cadence[sample]'") from None
    if container == "flac":
        soundfile.write(buffer, pcm, rate_hz, format="FLAC", subtype="PCM_16")
    elif container == "mp3":
        soundfile.write(buffer, pcm.astype(np.float32) / 32768, rate_hz, format="MP3",
                        subtype="MPEG_LAYER_III")
    else:
        raise ValueError(f"unknown container {container!r}: wav, flac or mp3")
    return buffer.getvalue()
