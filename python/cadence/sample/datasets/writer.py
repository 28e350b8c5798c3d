"""What every layout module writes with: the output root, the soundfont and its kits, a seeded
generator per track, atomic file writes, and the list of files written (relative paths)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..audio_files import encode, render_notes
from ..groove import Hit
from ..smf_writer import write_bytes_atomic

__all__ = ["LayoutWriter", "notes_for"]


@dataclass
class LayoutWriter:
    """Writes one layout under ``root``; ``files`` lists what was written, in order."""

    root: Path
    soundfont: Path
    kits: list[tuple[int, str]]  # (program, name) of the soundfont's drum kits
    seed: int
    stream: int = 0  # which layout: layouts draw different numbers from one seed
    files: list[str] = field(default_factory=list)
    audio_s: float = 0.0

    def rng(self, *key: int) -> np.random.Generator:
        """The generator of one track: depends only on the seed and ``key``."""
        return np.random.default_rng([self.seed, self.stream, *key])

    @property
    def plan_seed(self) -> int:
        """The seed for :func:`cadence.sample.drums.plan_corpus` (E-GMD-style performances)."""
        return self.seed * 100 + self.stream

    def kit(self, name: str) -> int:
        """The program of the first kit whose name contains ``name`` (else the first kit)."""
        return next((p for p, n in self.kits if name.lower() in n.lower()), self.kits[0][0])

    def write(self, rel: str, data: bytes) -> str:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        write_bytes_atomic(path, data)
        self.files.append(rel)
        return rel

    def text(self, rel: str, text: str) -> str:
        return self.write(rel, text.encode("utf-8"))

    def audio(self, rel: str, frames: np.ndarray, rate_hz: int, scale: float,
              container: str = "wav") -> str:
        self.audio_s += len(frames) / rate_hz
        return self.write(rel, encode(frames, rate_hz, scale, container))

    def render(self, program: int, notes, n_samples: int, rate_hz: int) -> np.ndarray:
        """Stereo float frames of ``notes`` ``(sample, gm_pitch, velocity)``."""
        return render_notes(self.soundfont, program, notes, n_samples, rate_hz)


def notes_for(hits: list[Hit], pitch_of: dict, keep=None) -> list[tuple[int, int, int]]:
    """The notes to render for ``hits``: ``pitch_of[role]`` is a GM pitch, ``(pitch,
    velocity)`` to override the velocity (a quiet stand-in), or None (silent). ``keep(role)``
    selects hits (a single microphone's share)."""
    notes = []
    for h in hits:
        if keep is not None and not keep(h.role):
            continue
        spec = pitch_of.get(h.role)
        if spec is None:
            continue
        pitch, velocity = spec if isinstance(spec, tuple) else (spec, h.velocity)
        notes.append((h.sample, pitch, velocity))
    return notes
