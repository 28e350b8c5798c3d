"""Packing a corpus directory into a zip as E-GMD's download is packed (the sample's ``--zip``).

Reading a zip in place is :class:`cadence.drums.corpus.Corpus`'s job (a zip is one of its kinds).
"""

from __future__ import annotations

import os
from pathlib import Path


def write_zip(directory: str | os.PathLike, final: str | os.PathLike, *, top: str | None = "e-gmd-v1.0.0",
              stored: tuple[str, ...] = ()) -> Path:
    """Pack a corpus directory into a zip as E-GMD's is packed: every file under one top
    directory (`top`; None for none), deflated except the suffixes in `stored`, zip64 allowed.
    Written under a temporary name and renamed when whole (atomic.py)."""
    import zipfile

    from ..atomic import atomic_path

    directory = Path(directory)
    files = sorted(p for p in directory.rglob("*") if p.is_file())
    with atomic_path(final) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as z:
            for f in files:
                rel = f.relative_to(directory).as_posix()
                method = zipfile.ZIP_STORED if f.suffix.lower() in stored else zipfile.ZIP_DEFLATED
                z.write(f, f"{top}/{rel}" if top else rel, compress_type=method)
    return Path(final)
