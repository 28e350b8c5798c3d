"""The files a gait command writes beside its output, and the feature matrix read back.

One naming rule for every companion file (drop logs, the matrix's metadata, the monitor's
report): the output's extension is replaced, so ``features.parquet`` has ``features.drops.csv``
and ``features.report.json``, ``walk_phase.parquet`` has ``walk_phase.drops.csv``, and
``features.npy`` has ``features.meta.parquet``. A name without an extension gets the suffix
appended (``out`` -> ``out.drops.csv``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path, PurePath
from typing import NamedTuple, TypeVar

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

P = TypeVar("P", bound=PurePath)

#: Key of the matrix's column names in the schema metadata of ``OUT.meta.parquet``.
COLUMNS_KEY = "cadence.gait.columns"
#: Key of the matrix's file name in the same metadata (the pair is checked when read back).
MATRIX_KEY = "cadence.gait.matrix"


def companion(output: P, suffix: str) -> P:
    """The file written beside ``output`` with ``suffix`` (".drops.csv", ".meta.parquet",
    ".report.json"): ``output`` with its extension replaced. Works for local paths and for the
    POSIX paths of a URI (``PurePosixPath``)."""
    return output.with_suffix(suffix)


class FeatureMatrix(NamedTuple):
    """``cycle_features(output="npy")`` read back: the float32 matrix (one row per cycle), its
    column names (``<feature>__<stat>``, feature-major, the statistics in
    :data:`cadence.gait.STATS` order) and the per-cycle metadata (subject, task, step, cycle,
    row, valid, is_outlier, rmse; row i describes matrix row i)."""

    matrix: np.ndarray
    columns: list[str]
    meta: pd.DataFrame

    def frame(self) -> pd.DataFrame:
        """The metadata and the matrix as one DataFrame (a copy of the matrix)."""
        return pd.concat([self.meta, pd.DataFrame(np.asarray(self.matrix), columns=self.columns)], axis=1)


def load_feature_matrix(path: str | os.PathLike, mmap_mode: str | None = "r") -> FeatureMatrix:
    """Read a feature matrix written by ``cadence gait features -o OUT.npy`` or
    ``cycle_features(output="npy", path=...)``, with its column names.

    Parameters
    ----------
    path : str or Path
        The ``.npy`` file; its metadata is ``OUT.meta.parquet`` beside it.
    mmap_mode : {'r', None, ...}
        Passed to :func:`numpy.load`: 'r' (default) maps the matrix read-only instead of reading it.

    Raises
    ------
    FileNotFoundError
        The matrix or its metadata is missing.
    ValueError
        The metadata does not describe this matrix (another run's, or no column names).
    """
    path = Path(path)
    meta_path = companion(path, ".meta.parquet")
    if not path.is_file():
        raise FileNotFoundError(2, f"{path}: no such feature matrix; write one with cadence gait features "
                                   f"FILE -o {path.name}", str(path))
    if not meta_path.is_file():
        raise FileNotFoundError(2, f"{meta_path}: missing; the column names of {path.name} are in it "
                                   f"(written with the matrix)", str(meta_path))
    table = pq.read_table(meta_path)
    kv = table.schema.metadata or {}
    if COLUMNS_KEY.encode() not in kv:
        raise ValueError(f"{meta_path}: no {COLUMNS_KEY!r} in its schema metadata; it was not written with a "
                         f"feature matrix")
    columns = json.loads(kv[COLUMNS_KEY.encode()])
    matrix = np.load(path, mmap_mode=mmap_mode, allow_pickle=False)
    named = kv.get(MATRIX_KEY.encode(), b"").decode()
    if matrix.ndim != 2 or matrix.shape != (table.num_rows, len(columns)):
        raise ValueError(f"{path}: shape {matrix.shape} does not match {meta_path.name} ({table.num_rows} cycles x "
                         f"{len(columns)} columns); they come from different runs (the metadata names "
                         f"{named or 'no matrix'})")
    return FeatureMatrix(matrix, columns, table.to_pandas())
