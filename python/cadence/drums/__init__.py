"""Drum-transcription data preparation (E-GMD and friends)."""

from .scan import scan_corpus

__all__ = ["scan_corpus"]
