"""Deterministic sample data: an E-GMD-shaped drum corpus and a LocoHub gait Parquet."""

from . import drums, gait

__all__ = ["drums", "gait"]
