"""FluidSynth rendering for the sample corpus: finding a GM soundfont, listing its drum kits,
rendering MIDI bytes to a mono 16-bit WAV."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

SOUNDFONTS = ("TimGM6mb.sf2", "FluidR3_GM.sf2", "default-GM.sf2")
SOUNDFONT_DIR = Path("/usr/share/sounds/sf2")


def find_soundfont(soundfont: str | os.PathLike[str] | None = None) -> Path:
    """The soundfont to render with: ``soundfont`` if given, else the first GM one installed."""
    if soundfont is not None:
        if not Path(soundfont).is_file():
            raise FileNotFoundError(f"soundfont not found: {soundfont}")
        return Path(soundfont)
    for name in SOUNDFONTS:
        if (SOUNDFONT_DIR / name).is_file():
            return SOUNDFONT_DIR / name
    raise FileNotFoundError(f"no GM soundfont ({', '.join(SOUNDFONTS)}) in {SOUNDFONT_DIR}; "
                            "install one with `apt-get install timgm6mb-soundfont` or pass "
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


def render_wav(fluidsynth: str, soundfont: Path, midi: bytes, *, n_samples: int,
               sample_rate_hz: int, gain: float) -> bytes:
    """Render `midi` through FluidSynth (no reverb or chorus) to mono 16-bit WAV bytes of exactly
    `n_samples` samples (cut, or padded with silence)."""
    with tempfile.TemporaryDirectory(prefix="cadence-render-") as tmp:
        mid, raw = Path(tmp, "render.mid"), Path(tmp, "render.raw")
        mid.write_bytes(midi)
        cmd = [fluidsynth, "-ni", "-q", "-R", "0", "-C", "0", "-g", str(gain),
               "-r", str(sample_rate_hz), "-O", "s16", "-T", "raw", "-F", str(raw),
               str(soundfont), str(mid)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0 or not raw.is_file():
            raise RuntimeError(f"fluidsynth failed (exit {done.returncode}): "
                               f"{done.stderr.strip() or done.stdout.strip()}")
        stereo = np.fromfile(raw, dtype="<i2")
    stereo = stereo[: stereo.size // 2 * 2].reshape(-1, 2).astype(np.int32)
    mono = np.zeros(n_samples, dtype=np.int16)
    mixed = np.clip((stereo[:, 0] + stereo[:, 1]) // 2, -32768, 32767)[:n_samples]
    mono[: mixed.size] = mixed  # pad with silence if fluidsynth stopped early
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sample_rate_hz)
        w.writeframes(mono.astype("<i2").tobytes())
    return buffer.getvalue()
