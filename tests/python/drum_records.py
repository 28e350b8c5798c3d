"""Test helper: what a prepared directory holds, as record id -> SHA-256 of its audio window,
read back through drums.open (so interrupted and resumed runs can be compared record by record)."""

import hashlib
import warnings
from pathlib import Path

import numpy as np

from cadence import drums


def record_digests(out: Path) -> dict[str, str]:
    got: dict[str, str] = {}
    if not (out / "journal.jsonl").exists():
        return got
    with warnings.catch_warnings():  # a partial directory says so; here its records are compared
        warnings.simplefilter("ignore", drums.IncompleteDatasetWarning)
        ds = drums.open(out)
    if len(ds) == 0:
        return got
    audio = ds.read_batch(np.arange(len(ds)))["audio"]
    for rid, x in zip(ds.labels.column("record_id").to_pylist(), audio):
        assert rid not in got, f"duplicate {rid}"
        got[rid] = hashlib.sha256(x.tobytes()).hexdigest()
    return got
