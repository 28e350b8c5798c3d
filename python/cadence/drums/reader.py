"""``cadence.drums.open``: a prepared directory as records (:class:`DrumDataset`, one item per
onset) or as sequences (:class:`SequenceDataset`, windows of seconds with frame targets): the
entry above both readers."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from .dataset import DrumDataset
from .directory import IncompleteDatasetWarning
from .sequences import SequenceDataset
from .store import incomplete_message, progress


def open(path: str | os.PathLike, mode: str = "records", **kwargs):  # noqa: A001 - mirrors builtins.open's role
    """Open a prepared directory: ``mode="records"`` gives one item per onset (:class:`DrumDataset`),
    ``mode="sequences"`` windows of seconds with frame targets (:class:`~.sequences.SequenceDataset`).
    Warns (:class:`IncompleteDatasetWarning`) when the directory's preparation did not finish."""
    if mode == "sequences":
        ds = SequenceDataset(path, **kwargs)
        _warn_if_incomplete(path)
        return ds
    if mode != "records":
        raise ValueError(f"mode must be 'records' or 'sequences', not {mode!r}")
    ds = DrumDataset(path, **kwargs)
    _warn_if_incomplete(path)
    return ds


def _warn_if_incomplete(path: str | os.PathLike) -> None:
    """One warning per :func:`open` (views do not repeat it) when the preparation did not finish."""
    left = progress(Path(path))
    if left:
        warnings.warn(f"{path}: {incomplete_message(left)}", IncompleteDatasetWarning, stacklevel=3)
