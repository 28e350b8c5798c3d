"""Deterministic sample data: an E-GMD-shaped drum corpus, small corpora in other drum
datasets' layouts, and a LocoHub gait Parquet."""

from . import drums, gait, layouts

__all__ = ["drums", "gait", "layouts"]
