"""`cadence drums inspect` and `verify`: what a prepared directory holds, and whether it is whole."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow.compute as pc

from .. import _core
from . import alignment
from .dataset import DrumDataset
from .directory import Directory
from .report import records_in
from .store import JOURNAL, check_file, incomplete_message, progress, read_journal


def _prepared(path: str | os.PathLike) -> Path:
    """`path` as a prepared directory, or a FileNotFoundError/ValueError that says what it is
    instead and what to do."""
    root = Path(path)
    if not root.exists():
        raise FileNotFoundError(2, f"{root}: no such directory; give the OUT of `cadence drums prepare ROOT OUT`",
                                str(root))
    if not root.is_dir():
        raise NotADirectoryError(20, f"{root} is a file; give the directory written by `cadence drums prepare`",
                                 str(root))
    if not (root / JOURNAL).is_file():
        from . import datasets
        from .corpus import Corpus

        try:
            found = datasets.detect(Corpus(root))
        except ValueError:
            found = None
        what = (f"a drum corpus ({datasets.MODULES[found].TITLE}), not a prepared directory: run `cadence drums prepare "
                f"{root} OUT` first" if found else
                f"not a prepared directory (no {JOURNAL}); give the OUT of `cadence drums prepare ROOT OUT`")
        raise ValueError(f"{root}: {what}")
    return root


def inspect(path: str | os.PathLike) -> dict:
    """Layout, counts, splits, class histogram and sizes of a prepared directory.

    Raises
    ------
    FileNotFoundError, ValueError
        `path` is missing, is not a prepared directory, or is damaged (the message names the
        file and says to run ``cadence drums verify`` / ``prepare --resume``).
    """
    root = _prepared(path)
    header, commits = read_journal(root / JOURNAL)
    # Sizes only (cheap): a missing or truncated shard is named here instead of surfacing as an
    # Arrow error from deep inside the reader. `verify` does the checksums.
    damaged = [f"{name} is missing" if not (root / name).exists() else f"{name} is truncated or changed"
               for c in commits for name, meta in c.files.items()
               if not (root / name).exists() or (root / name).stat().st_size != meta["bytes"]]
    if damaged:
        raise ValueError(f"{root} is damaged ({'; '.join(damaged[:3])}{' ...' if len(damaged) > 3 else ''}); "
                         f"`cadence drums verify {root}` lists the problems, `cadence drums prepare ROOT {root} "
                         f"--resume` repairs them")
    try:
        ds = DrumDataset(root)
    except (OSError, ValueError) as e:  # pyarrow.ArrowInvalid is a ValueError: a shard that does not parse
        raise ValueError(f"{root} is damaged ({e}); `cadence drums verify {root}` lists the problems, "
                         f"`cadence drums prepare ROOT {root} --resume` repairs them") from None
    labels = ds.labels
    config = header["config"]
    hist = (np.asarray(labels.column("classes").combine_chunks().flatten(), np.int64)
            .reshape(len(ds), len(ds.class_names)).sum(axis=0) if len(ds) else np.zeros(len(ds.class_names), int))
    left = progress(root)
    return {
        "path": str(path),
        # Inputs left to do: the preparation was interrupted (None: it finished).
        "incomplete": None if left is None else {"inputs_done": left[0], "inputs_planned": left[1],
                                                 "message": incomplete_message(left)},
        "layout": ds.layout,
        "sample_rate_hz": ds.config["sample_rate_hz"],
        "mapping": ds.config["mapping"],
        "records": len(ds),
        "inputs": sum(len(c.inputs) for c in commits),
        "rejected": dict(Counter(r["reason"] for c in commits for r in c.rejects)),
        "shards": sum(1 for c in commits if c.files),
        "bytes": sum(f["bytes"] for c in commits for f in c.files.values()),
        "splits": dict(Counter(labels.column("split").to_pylist())) if len(ds) else {},
        "class_histogram": dict(zip(ds.class_names, hist.tolist())),
        "alignment": alignment.summarize(commits, config.get("max_offset_ms"), config.get("align", False)),
        "empty_label_records": int(pc.sum(pc.equal(pc.list_value_length(labels.column("pitches")), 0)).as_py() or 0)
        if len(ds) else 0,
    }


def verify(path: str | os.PathLike, *, decode: bool = True) -> list[str]:
    """Problems found: a preparation that did not finish (inputs left to do: "incomplete: N of
    M inputs; ..."), files missing, truncated or corrupted against the journal's checksums, and
    (with ``decode``) any stored clip or file that does not decode to its sample count. An empty
    list means the directory is whole."""
    root = _prepared(path)
    _, commits = read_journal(root / JOURNAL)
    left = progress(root)
    problems = [incomplete_message(left)] if left else []
    problems += [p for c in commits for name, meta in c.files.items() for p in check_file(root / name, meta)]
    if decode and not any(p.endswith("is missing") for p in problems):
        # Also after a checksum mismatch: decoding names the files and records that are hit.
        problems += _decode_all(root)
    return problems


def counts(path: str | os.PathLike) -> dict:
    """What the journal holds: inputs prepared, inputs rejected, records, shards, their files and
    bytes (what `cadence drums verify` checked)."""
    root = _prepared(path)
    _, commits = read_journal(root / JOURNAL)
    return {"inputs": sum(len(c.inputs) for c in commits), "rejected": sum(len(c.rejects) for c in commits),
            "records": sum(records_in(c) for c in commits), "shards": sum(1 for c in commits if c.files),
            "files": sum(len(c.files) for c in commits),
            "bytes": sum(f["bytes"] for c in commits for f in c.files.values())}


def _decode_all(root: Path) -> list[str]:
    """Open the audio store (every offset and frame table checked against the blob files), then
    decode every stored file or clip whole: each FLAC frame must carry the number its table
    gives it, and every item must give exactly its sample count."""
    try:
        shared = Directory(root)
        store = shared.store()
    except (ValueError, OSError) as e:
        return [str(e)]
    problems = []
    blobs = shared.src["blob"]
    for i in range(len(blobs)):
        try:
            store.check(i)
        except _core.StoredAudioError as e:
            problems.append(f"{Path(shared.blobs[blobs[i]]).name}: {shared.source_name(i)}: {e.args[0]}")
    return problems
