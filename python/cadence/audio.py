"""Audio decoding through the engine (libsndfile): WAV, FLAC, AIFF, OGG."""

from __future__ import annotations

import os

import numpy as np

from . import _core

AudioError = _core.AudioError


def probe(path: str | os.PathLike) -> dict:
    """Header of an audio file: ``frames``, ``sample_rate_hz``, ``channels``, ``duration_s``,
    ``container``, ``encoding``. Raises :class:`AudioError` naming the file."""
    return _core.audio_probe(os.fspath(path))


def decode(path: str | os.PathLike, *, mono: bool = True) -> tuple[np.ndarray, dict]:
    """Decode a whole file to float32, full scale 1.0.

    Returns ``(samples, info)``; ``samples`` has shape ``(frames,)`` when ``mono`` (channels
    averaged), else ``(frames, channels)``. The array owns the decoder's buffer: no copy.
    """
    return _core.audio_decode(os.fspath(path), mono)


def decode_bytes(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Decode an encoded file held in memory (WAV, FLAC...) to mono float32 (no copy out).
    ``name`` appears in error messages."""
    return _core.audio_decode_bytes(data, name)
