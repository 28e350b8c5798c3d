"""Decode a corpus's audio on all cores and report each file's header and level."""

from __future__ import annotations

import os
from collections.abc import Iterable

import pyarrow as pa

from .. import _core
from ..runtime import make_job, run_job


def scan_corpus(
    paths: Iterable[str | os.PathLike],
    *,
    jobs: int = 0,
    memory_limit: str | int | None = "auto",
    show_progress: bool | None = None,
    archive: str | os.PathLike | None = None,
) -> pa.Table:
    """Decode every file and return one row per file, in input order.

    Columns: ``path``, ``ok``, ``error`` (null when ok), ``sample_rate_hz``, ``channels``,
    ``frames``, ``duration_s``, ``peak`` (full scale 1.0), ``rms_dbfs``. A file that cannot be
    decoded gets ``ok = False`` and the reason; the scan carries on.

    Parameters
    ----------
    jobs
        Worker threads; 0 = all cores.
    memory_limit
        Bound on decoded audio held at once (``"4G"``, bytes, ``"auto"`` = half of RAM, 0 = none).
    archive
        A zip whose members `paths` name: each is read from it into memory and decoded there.
    """
    path_list = [os.fspath(p) for p in paths]
    job = make_job(jobs, memory_limit)
    batch = run_job(
        lambda: _core.scan_corpus(path_list, job, os.fspath(archive) if archive else ""), job, desc="scan audio",
        show_progress=show_progress,
    )
    return pa.table(batch)
