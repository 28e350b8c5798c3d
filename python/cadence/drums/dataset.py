"""Reading prepared drum records back: a map-style dataset over either layout.

``open(path)[i]`` gives the same thing for both layouts: a float32 window around onset ``i``
and its labels. In the ``clips`` layout the window is stored; in the ``index`` layout it is cut
from the file's audio (decoded once and cached) at read time, so the window can even be
changed when opening. The object is small and picklable, so a PyTorch DataLoader can copy it
into worker processes; each worker opens its own file handles.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .. import _core
from .store import JOURNAL, read_journal

LABEL_COLUMNS = ("record_id", "pair_id", "source_id", "drummer", "session", "style", "bpm",
                 "beat_type", "kit", "split", "onset_index", "onset_s", "onset_sample",
                 "sample_rate_hz", "pitches", "velocities", "classes", "class_velocity")


def decode_audio(codec: str, blob: bytes, name: str) -> np.ndarray:
    """Samples of one stored clip or file as float32 (full scale 1.0)."""
    if codec == "float32":
        return np.frombuffer(blob, "<f4")
    if codec == "float16":
        return np.frombuffer(blob, "<f2").astype(np.float32)
    if codec == "pcm16":
        return np.frombuffer(blob, "<i2").astype(np.float32) / np.float32(32768)
    if codec == "flac":
        return _core.audio_decode_bytes(blob, name)
    raise ValueError(f"{name}: unknown codec {codec!r}")


class DrumDataset:
    """Records of a prepared directory, in shard order.

    Parameters
    ----------
    path
        A directory written by ``cadence drums prepare``.
    clip_s, pad_before_s
        Window for the ``index`` layout (default: the values the directory was prepared with).
    cache_files
        Decoded files (index layout) or row groups (clips layout) kept in memory.
    """

    def __init__(self, path: str | os.PathLike, *, clip_s: float | None = None,
                 pad_before_s: float | None = None, cache_files: int = 8):
        self.path = Path(path)
        if not (self.path / JOURNAL).exists():
            raise FileNotFoundError(f"{self.path}: no {JOURNAL}; not a directory written by cadence drums prepare")
        header, commits = read_journal(self.path / JOURNAL)
        self.config = header["config"]
        self.layout = self.config["layout"]
        self.class_names = [c for c, _ in self.config["classes"]]
        self.clip_s = self.config["clip_s"] if clip_s is None else clip_s
        self.pad_before_s = self.config["pad_before_s"] if pad_before_s is None else pad_before_s
        self.cache_files = cache_files
        kind = "records" if self.layout == "clips" else "onsets"
        self.files = [name for c in commits for name in c.files if name.startswith(kind)]
        self.audio_files = [name for c in commits for name in c.files if name.startswith("audio-")]
        # Labels of every record (no audio): small, and what samplers and statistics need.
        self.labels = pa.concat_tables(
            [pq.read_table(self.path / f, columns=list(LABEL_COLUMNS)) for f in self.files]
        ) if self.files else None
        self._locate = self._clip_locations() if self.layout == "clips" else self._file_locations()
        self._cache: OrderedDict = OrderedDict()

    def _clip_locations(self) -> np.ndarray:
        # One row per record: (file number, row group, row in group).
        rows = []
        for k, f in enumerate(self.files):
            meta = pq.ParquetFile(self.path / f).metadata
            for g in range(meta.num_row_groups):
                n = meta.row_group(g).num_rows
                rows.append(np.column_stack([np.full(n, k), np.full(n, g), np.arange(n)]))
        return np.concatenate(rows) if rows else np.zeros((0, 3), np.int64)

    def _file_locations(self) -> dict:
        where = {}
        for k, f in enumerate(self.audio_files):
            pf = pq.ParquetFile(self.path / f)
            for g in range(pf.metadata.num_row_groups):
                for row, pid in enumerate(pf.read_row_group(g, columns=["pair_id"]).column(0).to_pylist()):
                    where[pid] = (k, g, row)
        return where

    def __len__(self) -> int:
        return 0 if self.labels is None else self.labels.num_rows

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_cache"] = OrderedDict()  # workers start with an empty cache
        return state

    def _cached(self, key, load):
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        value = self._cache[key] = load()
        if len(self._cache) > self.cache_files:
            self._cache.popitem(last=False)
        return value

    def _window(self, i: int) -> np.ndarray:
        if self.layout == "clips":
            k, g, row = (int(x) for x in self._locate[i])
            group = self._cached(("rg", k, g), lambda: pq.ParquetFile(self.path / self.files[k]).read_row_group(
                g, columns=["record_id", "codec", "n_samples", "audio"]))
            codec = group.column("codec")[row].as_py()
            x = decode_audio(codec, group.column("audio")[row].as_py(), group.column("record_id")[row].as_py())
            if len(x) != group.column("n_samples")[row].as_py():
                raise ValueError(f"{self.files[k]}: record {i} decodes to {len(x)} samples, expected "
                                 f"{group.column('n_samples')[row].as_py()}; run cadence drums verify")
            return x
        pid = self.labels.column("pair_id")[i].as_py()
        audio = self._cached(("file", pid), lambda: self._file_audio(pid))
        rate = self.labels.column("sample_rate_hz")[i].as_py()
        start = self.labels.column("onset_sample")[i].as_py() - round(self.pad_before_s * rate)
        n = round(self.clip_s * rate)
        out = np.zeros(n, np.float32)
        lo, hi = max(start, 0), min(start + n, len(audio))
        if hi > lo:
            out[lo - start:hi - start] = audio[lo:hi]
        return out

    def _file_audio(self, pid: str) -> np.ndarray:
        k, g, row = self._locate[pid]
        t = pq.ParquetFile(self.path / self.audio_files[k]).read_row_group(g, columns=["codec", "audio"])
        return decode_audio(t.column("codec")[row].as_py(), t.column("audio")[row].as_py(), pid)

    def __getitem__(self, i: int) -> dict:
        if not -len(self) <= i < len(self):
            raise IndexError(f"record {i} out of range for {len(self)} records")
        i %= len(self)
        row = {c: self.labels.column(c)[i].as_py() for c in LABEL_COLUMNS}
        row["classes"] = np.asarray(row["classes"], np.uint8)
        row["class_velocity"] = np.asarray(row["class_velocity"], np.uint8)
        row["audio"] = self._window(i)
        return row

    def iter_shards(self) -> Iterator[pa.Table]:
        """Each shard's records (clips layout: with audio; index layout: the onset table)."""
        for f in self.files:
            yield pq.read_table(self.path / f)


def open(path: str | os.PathLike, **kwargs) -> DrumDataset:  # noqa: A001 - mirrors builtins.open's role
    """Open a prepared directory; see :class:`DrumDataset`."""
    return DrumDataset(path, **kwargs)


