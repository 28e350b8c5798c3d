"""SoundFont rendering for the sample corpus: finding a GM soundfont, listing its drum kits,
rendering scheduled MIDI events to a mono 16-bit WAV.

The renderer is TinySoundFont inside the engine (``_core.render_drum_kit``, vendor/tsf): the
PyPI package of the same name requires PyAudio, which has no Linux wheels and needs PortAudio's
headers to build. The default soundfont is the TimGM6mb.sf2 that ``pretty_midi`` ships
(``pip install 'cadence[sample]'``).
"""

from __future__ import annotations

import io
import os
import struct
import wave
from pathlib import Path

import numpy as np

from .. import _core

INSTALL_HINT = "pip install 'cadence[sample]'"
SOUNDFONTS = ("TimGM6mb.sf2", "FluidR3_GM.sf2", "default-GM.sf2")
SOUNDFONT_DIR = Path("/usr/share/sounds/sf2")  # Debian's soundfont packages: a fallback only
FULL_SCALE = 32767
HEADROOM = 0.95  # a render whose peak would pass this fraction of full scale is turned down

# Events for render_wav, as (sample, kind, a, b) tuples; sorting them puts note-offs before
# control changes before note-ons at the same sample, as in the stored MIDI.
NOTE_OFF, CONTROL, NOTE_ON = 0, 1, 2


def _pretty_midi_soundfont() -> Path | None:
    try:
        import pretty_midi
    except ImportError:
        return None
    return Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"


def find_soundfont(soundfont: str | os.PathLike[str] | None = None) -> Path:
    """The soundfont to render with: ``soundfont`` if given, else the TimGM6mb.sf2 inside the
    ``pretty_midi`` package, else the first GM one in /usr/share/sounds/sf2."""
    if soundfont is not None:
        if not Path(soundfont).is_file():
            raise FileNotFoundError(f"soundfont not found: {soundfont}")
        return Path(soundfont)
    candidates = [_pretty_midi_soundfont()] + [SOUNDFONT_DIR / name for name in SOUNDFONTS]
    for path in candidates:
        if path is not None and path.is_file():
            return path
    raise FileNotFoundError(f"no GM soundfont found (pretty_midi's TimGM6mb.sf2, or one in "
                            f"{SOUNDFONT_DIR}); install one with `{INSTALL_HINT}` or pass "
                            "soundfont=PATH")


def list_kits(soundfont: str | os.PathLike[str]) -> list[tuple[int, str]]:
    """Drum kits of an SF2 file, read from its ``phdr`` chunk: ``(program, name)`` in bank 128."""
    with open(soundfont, "rb") as f:
        riff, _, form = struct.unpack("<4sI4s", f.read(12))
        if (riff, form) != (b"RIFF", b"sfbk"):
            raise ValueError(f"{soundfont}: not a SoundFont 2 file (no RIFF sfbk header)")
        phdr = None
        # Walk the chunks (skipping the large sample data) down to LIST pdta / phdr.
        while phdr is None and (head := f.read(8)) and len(head) == 8:
            chunk_id, size = struct.unpack("<4sI", head)
            if chunk_id == b"LIST":
                if f.read(4) == b"pdta":
                    continue  # descend: its sub-chunks follow
                size -= 4
            if chunk_id == b"phdr":
                phdr = f.read(size)
            else:
                f.seek(size + (size & 1), os.SEEK_CUR)
    if phdr is None:
        raise ValueError(f"{soundfont}: no preset headers (pdta/phdr chunk)")
    kits = {}
    for offset in range(0, len(phdr) - 38, 38):  # the last record is the EOP terminator
        name = phdr[offset:offset + 20].split(b"\0")[0].decode("latin-1").strip()
        program, bank = struct.unpack_from("<HH", phdr, offset + 20)
        if bank == 128:
            kits[program] = name if name.lower().endswith("kit") else f"{name} Kit"
    return sorted(kits.items())


def render_wav(soundfont: Path, program: int, events, *, n_samples: int,
               sample_rate_hz: int, gain: float) -> bytes:
    """Render `events` ``(sample, kind, a, b)`` -- note-on (a = key, b = velocity), note-off
    (a = key) or control change (a = controller, b = value) -- with drum kit
    `program` (bank 128) to mono 16-bit WAV bytes of exactly `n_samples` samples.

    The synth is advanced to each event's sample and the event applied there, so onsets are
    sample-exact and the bytes depend only on the arguments (TinySoundFont has no randomness and
    no clock; the engine sorts the events by sample, then note-off, control, note-on). Events
    at or after `n_samples` are dropped: the audio is cut there. `gain` scales full-scale float
    output to int16; a render whose peak would pass HEADROOM of full scale is turned down to it
    instead of clipping.
    """
    table = np.array([e for e in events if e[0] < n_samples], dtype=np.int64).reshape(-1, 4)
    stereo = _core.render_drum_kit(str(soundfont), program, table, n_samples, sample_rate_hz)
    frames = stereo.astype(np.float64)
    mono = frames.mean(axis=1) * (gain * FULL_SCALE)
    peak = float(np.abs(mono).max(initial=0.0))
    if peak > HEADROOM * FULL_SCALE:
        mono *= HEADROOM * FULL_SCALE / peak
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate_hz)
        w.writeframes(np.round(mono).astype("<i2").tobytes())
    return buffer.getvalue()
