"""Reading prepared drum records back, at training speed: a map-style dataset over either layout.

``open(path)[i]`` gives the same thing for both layouts: a float32 window around onset ``i``
and its labels. In the ``clips`` layout the window is the stored clip; in the ``index`` layout
it is cut from the file's stored audio at read time (so window length and padding can be
chosen when opening). Either way the engine reads only the bytes the window needs
(``_core.AudioStore``: a pread at the window's offset, or the 1-3 FLAC frames that cover it),
and ``read_batch`` / ``__getitems__`` cut a whole batch on the job's threads with the GIL
released. The object is small and picklable: a PyTorch DataLoader copies it into its worker
processes, and each worker opens its own file handles on first use.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .. import _core
from .inputs import view_mask
from .sampling import in_order
from .directory import (INHERITED_JOBS, ITEM_STRINGS, OPEN_DATASETS, Batch, Directory, JoinedDirectories,
                        in_dataloader_worker)
from .store import DATASET_COLUMN, JOURNAL, PAIR_COLUMNS, read_journal

LABEL_COLUMNS = ("record_id", *PAIR_COLUMNS, "onset_index", "onset_s", "onset_sample",
                 "sample_rate_hz", "pitches", "velocities", "classes", "class_velocity")


class DrumDataset:
    """Records of a prepared directory (or a view of them), in storage order.

    Parameters
    ----------
    path
        A directory written by ``cadence drums prepare``.
    clip_s, pad_before_s
        Window for the ``index`` layout (default: the values the directory was prepared with).
        The clips layout stores its windows, so they cannot change.
    sample_rate_hz
        Output rate for the ``index`` layout (default: the stored rate). Another rate resamples
        the stored audio around each window with libsoxr (HQ, as prepare does); onsets are placed
        at the new rate from their times in seconds.
    jobs
        Threads that cut a batch (0 = all cores; inside a DataLoader worker process, 1).

    Items (``ds[i]``, and each element of ``ds.__getitems__(indices)``) hold ``audio``
    (float32, ``n_samples``), ``classes`` and ``class_velocity`` (uint8, one per class),
    ``index`` (the record's number in this dataset), ``onset_s``, ``onset_sample``,
    ``sample_rate_hz``, ``record_id``, ``pair_id``, ``kit`` and ``split``: fixed shapes, so
    ``torch.utils.data.DataLoader(ds, batch_size=...)`` works with its default collate.
    ``read_batch`` gives the same collated, plus the MIDI pitches and velocities of each record
    (ragged: values + ``hit_offsets``); ``record(i)`` gives every label column of one record.
    """

    def __init__(self, path: str | os.PathLike, *, clip_s: float | None = None,
                 pad_before_s: float | None = None, sample_rate_hz: int | None = None, jobs: int = 0,
                 _shared: Directory | None = None, _indices: np.ndarray | None = None):
        self._s = _shared or Directory(Path(path))
        s = self._s
        self.path = s.root
        self.config = s.config
        self.layout = s.layout
        self.class_names = s.class_names
        self.clip_s = float(s.config["clip_s"] if clip_s is None else clip_s)
        self.pad_before_s = float(s.config["pad_before_s"] if pad_before_s is None else pad_before_s)
        if self.layout == "clips" and (self.clip_s, self.pad_before_s) != (s.config["clip_s"], s.config["pad_before_s"]):
            raise ValueError(f"{self.path} holds stored clips of {s.config['clip_s']} s from {s.config['pad_before_s']} s "
                             f"before each onset; other windows need the index layout (cadence drums prepare "
                             f"--layout index)")
        if self.clip_s <= 0 or self.pad_before_s < 0 and -self.pad_before_s >= self.clip_s:
            raise ValueError(f"clip_s must be > 0 (got {self.clip_s})")
        self.jobs = jobs
        self._whole = _indices is None
        self._indices = np.arange(len(s.onset_s), dtype=np.int64) if _indices is None else _indices
        rates = np.unique(s.pair_rate_hz[np.unique(s.pair_of[self._indices])]) if len(self._indices) else np.array([s.nominal_rate_hz])
        if len(rates) > 1:
            raise ValueError(f"{self.path} holds records at several rates ({rates.tolist()} Hz: prepared with "
                             f"--sample-rate 0); batches need one rate: filter by rate or prepare with --sample-rate")
        self.stored_rate_hz = int(rates[0])
        self.sample_rate_hz = self.stored_rate_hz if sample_rate_hz is None else int(sample_rate_hz)
        if self.sample_rate_hz <= 0:
            raise ValueError(f"sample_rate_hz must be > 0 (got {sample_rate_hz})")
        if self.layout == "clips" and self.sample_rate_hz != self.stored_rate_hz:
            raise ValueError(f"{self.path} holds stored clips at {self.stored_rate_hz} Hz; another rate needs the "
                             f"index layout (cadence drums prepare --layout index)")
        self.n_samples = _core.drums_onset_window(0, self.pad_before_s, self.clip_s, self.sample_rate_hz)[1]
        self._job = None
        self._job_key = None
        OPEN_DATASETS.add(self)

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        OPEN_DATASETS.add(self)

    # ---- size, views --------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._indices)

    @property
    def labels(self) -> pa.Table | None:
        """Every label column of this dataset's records, read from the Parquet shards on each
        call (a pyarrow Table; not kept in memory: the reader holds only what batches need)."""
        files = self._s.label_files
        if not files:
            return None
        t = pa.concat_tables([pq.read_table(f, columns=list(LABEL_COLUMNS)) for f in files])
        return t if self._whole else t.take(pa.array(self._indices))

    def _view(self, indices: np.ndarray) -> DrumDataset:
        return DrumDataset(self.path, clip_s=self.clip_s, pad_before_s=self.pad_before_s,
                           sample_rate_hz=self.sample_rate_hz, jobs=self.jobs, _shared=self._s,
                           _indices=np.ascontiguousarray(indices, np.int64))

    def filter(self, *, split: str | Sequence[str] | None = None, kits: Sequence[str | int] | None = None,
               drummers: Sequence[str] | None = None, pair_ids: Sequence[str] | None = None,
               dataset: str | Sequence[str] | None = None) -> DrumDataset:
        """A view of the records whose split / kit (name or number) / drummer / pair / dataset
        (``enst``, ``mdb``...; see :func:`cadence.drums.mix`) is among those given (no audio or
        labels are copied: the view holds record numbers). The names are :func:`prepare`'s and the
        command line's (``--split``, ``--kits``, ``--drummers``, ``--dataset``).

        Raises
        ------
        ValueError
            A value that no record of this dataset has (a typo such as ``split="training"``),
            listing the values present.
        """
        s = self._s
        files = np.unique(s.pair_of[self._indices])  # the files of this view; every column filtered on is per file
        keep = np.zeros(len(s.first_record), bool)
        columns = {c: [s.pair_strings[c][f] for f in files]
                   for c in ("split", "kit", "drummer", "pair_id", DATASET_COLUMN)}
        keep[files] = view_mask(columns, split=split, kits=kits, drummers=drummers, pair_ids=pair_ids,
                                dataset=dataset)
        return self._view(self._indices[keep[s.pair_of[self._indices]]])

    def shard(self, rank: int, world_size: int, *, drop_last: bool = False) -> DrumDataset:
        """This rank's part for distributed training: a contiguous run of records (files stay
        together, so each rank reads its own part of the shards). Every rank gets the same length:
        the last records are repeated from the start unless ``drop_last`` drops the remainder."""
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must be in [0, {world_size}), got {rank}")
        n = len(self)
        per = n // world_size if drop_last else -(-n // world_size)
        idx = np.arange(rank * per, (rank + 1) * per)
        if not drop_last and n:
            idx %= n
        return self._view(self._indices[idx])

    # ---- reading --------------------------------------------------------------------------
    def _engine_job(self):
        key = (os.getpid(), self.jobs)
        if self._job is None or self._job_key != key:
            if self._job is not None and self._job_key[0] != key[0]:
                # Inherited through fork (a DataLoader worker): its pool's threads do not exist
                # here, and destroying it would join them forever. Keep it, unused.
                INHERITED_JOBS.append(self._job)
            jobs = self.jobs
            if jobs == 0 and in_dataloader_worker():
                jobs = 1  # the DataLoader's worker processes already use the cores
            self._job = _core.Job(jobs, 0)
            self._job_key = key
        return self._job

    def read_batch(self, indices) -> dict[str, np.ndarray]:
        """Cut and decode the windows of `indices` (positions in this dataset) on the job's
        threads; returns collated arrays: ``audio`` (batch, n_samples) float32, ``classes`` and
        ``class_velocity`` (batch, n_classes) uint8, ``index``, ``onset_s``, ``onset_sample``,
        ``sample_rate_hz`` (batch,), and the records' MIDI hits as ``pitches`` / ``velocities``
        (uint8 values) with ``hit_offsets`` (batch + 1): record j's hits are
        ``pitches[hit_offsets[j]:hit_offsets[j + 1]]``."""
        pos = np.asarray(indices, np.int64).reshape(-1)
        n = len(self)
        if pos.size and (pos.min() < -n or pos.max() >= n):
            bad = pos[(pos < -n) | (pos >= n)][0]
            raise IndexError(f"record {bad} out of range for {n} records")
        rec = self._indices[pos % n] if n else pos
        s = self._s
        sources = s.source_of[rec]
        onsets = self._onset_samples(rec)
        if self.layout == "clips":
            starts = np.zeros(len(rec), np.int64)
        else:
            starts = _core.drums_window_starts(onsets, self.pad_before_s, self.sample_rate_hz)
        try:
            audio = s.store().read_batch(sources, starts, self.n_samples, self._engine_job(),
                                         self.stored_rate_hz, self.sample_rate_hz)
        except _core.StoredAudioError as e:
            raise s.error(e) from None
        lo, hi = s.hit_offsets[rec], s.hit_offsets[rec + 1]
        hit_offsets = np.zeros(len(rec) + 1, np.int64)
        np.cumsum(hi - lo, out=hit_offsets[1:])
        take = np.repeat(lo - hit_offsets[:-1], hi - lo) + np.arange(hit_offsets[-1], dtype=np.int64)
        return {
            "audio": audio,
            "classes": (s.class_velocity[rec] > 0).view(np.uint8),
            "class_velocity": s.class_velocity[rec],
            "index": pos % n if n else pos,
            "onset_s": s.onset_s[rec],
            "onset_sample": onsets,
            "sample_rate_hz": np.full(len(rec), self.sample_rate_hz, np.int32),
            "pitches": s.pitches[take],
            "velocities": s.velocities[take],
            "hit_offsets": hit_offsets,
        }

    def _onset_samples(self, rec: np.ndarray) -> np.ndarray:
        if self.sample_rate_hz == self.stored_rate_hz:
            return self._s.onset_sample[rec]
        return _core.drums_onset_samples(np.ascontiguousarray(self._s.onset_s[rec]), self.sample_rate_hz)

    def __getitems__(self, indices) -> Batch:
        """What PyTorch's fetcher calls for a batch: one read_batch, viewed as a list of items."""
        arrays = self.read_batch(indices)
        rec = self._indices[arrays["index"]] if len(self) else arrays["index"]
        s = self._s
        pairs = s.pair_of[rec]
        numbers = (rec - s.first_record[pairs]).tolist()
        pairs = pairs.tolist()  # Python ints: list indexing by numpy scalars is slow (per batch)
        strings = {k: [s.pair_strings[k][p] for p in pairs] for k in ITEM_STRINGS if k != "record_id"}
        strings["record_id"] = [f"{pid}#{n:05d}" for pid, n in zip(strings["pair_id"], numbers)]
        return Batch(arrays, strings)

    def __getitem__(self, i: int) -> dict:
        if not isinstance(i, (int, np.integer)):
            raise TypeError(f"records are indexed by int, not {type(i).__name__}; use read_batch for many")
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"record {i} out of range for {n} records")
        pos = int(i) % n
        rec, s = int(self._indices[pos]), self._s
        if self.sample_rate_hz != self.stored_rate_hz:
            return self.__getitems__([pos])[0]
        if self.layout == "clips":
            source, start = rec, 0
        else:  # one item, no batch machinery: what a per-item loop pays
            source = int(s.source_of[rec])
            start = _core.drums_onset_window(int(s.onset_sample[rec]), self.pad_before_s, 0.0, self.sample_rate_hz)[0]
        try:
            audio = s.store().read(source, start, self.n_samples)
        except _core.StoredAudioError as e:
            raise s.error(e) from None
        velocity = s.class_velocity[rec]
        item = {"audio": audio, "classes": (velocity > 0).view(np.uint8), "class_velocity": velocity,
                "index": np.int64(pos), "onset_s": s.onset_s[rec], "onset_sample": s.onset_sample[rec],
                "sample_rate_hz": s.pair_rate_hz[s.pair_of[rec]]}
        p = int(s.pair_of[rec])
        item.update(record_id=s.record_id(rec), **{k: s.pair_strings[k][p] for k in ITEM_STRINGS if k != "record_id"})
        return item

    def __iter__(self) -> Iterator[dict]:
        for start in range(0, len(self), 256):
            yield from self.__getitems__(np.arange(start, min(start + 256, len(self))))

    def record(self, i: int) -> dict:
        """Every label column of record `i` (pitches and velocities as lists), and its window."""
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"record {i} out of range for {n} records")
        s, rec = self._s, int(self._indices[i % n])
        p = int(s.pair_of[rec])
        hits = slice(s.hit_offsets[rec], s.hit_offsets[rec + 1])
        row = {c: s.pair_strings[c][p] for c in PAIR_COLUMNS}
        row.update(record_id=s.record_id(rec), onset_index=rec - int(s.first_record[p]),
                   onset_s=float(s.onset_s[rec]), onset_sample=int(self._onset_samples(np.array([rec]))[0]),
                   sample_rate_hz=self.sample_rate_hz, pitches=s.pitches[hits].tolist(),
                   velocities=s.velocities[hits].tolist(),
                   classes=(s.class_velocity[rec] > 0).astype(int).tolist(),
                   class_velocity=s.class_velocity[rec].tolist(), audio=self[i % n]["audio"])
        return row

    def iter_batches(self, batch_size: int = 256, *, drop_last: bool = False) -> Iterator[dict]:
        """Batches in storage order (consecutive records, file after file): the fastest epoch,
        each file's bytes read once and sequentially. Shuffle between epochs with a sampler."""
        return in_order(self.read_batch, len(self), batch_size, drop_last)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_job"] = state["_job_key"] = None  # each process makes its own threads
        return state

    def __repr__(self) -> str:
        return (f"DrumDataset({str(self.path)!r}, layout={self.layout!r}, records={len(self)}, "
                f"window={self.clip_s} s from {self.pad_before_s} s before the onset at {self.sample_rate_hz} Hz)")

    def iter_shards(self) -> Iterator[pa.Table]:
        """Each shard's label table (clips: records; index: onsets), without audio."""
        kind = "records" if self.layout == "clips" else "onsets"
        _, commits = read_journal(self.path / JOURNAL)
        for c in commits:
            for name in c.files:
                if name.startswith(kind):
                    yield pq.read_table(self.path / name)


# ---- several directories as one ----------------------------------------------------------------

def join(parts: Sequence[DrumDataset]) -> tuple[DrumDataset, np.ndarray]:
    """One dataset over the records of several opened directories (or views of them), part after
    part: position ``offsets[k] + i`` of the result is record ``i`` of ``parts[k]``, read with
    the window and rate of ``parts[0]`` (the parts must agree: :func:`cadence.drums.mix` checks).
    One ``read_batch`` reads windows of every part in one engine call. Its ``path`` is the first
    part's. Returns the dataset and ``offsets`` (int64, one per part)."""
    shared = list({id(p._s): p._s for p in parts}.values())  # a directory twice (two views) joined once
    joined = JoinedDirectories.join(shared)
    where = {id(s): k for k, s in enumerate(shared)}
    indices = np.concatenate([p._indices + joined.record_base[where[id(p._s)]] for p in parts])
    first = parts[0]
    out = DrumDataset(first.path, clip_s=first.clip_s, pad_before_s=first.pad_before_s,
                      sample_rate_hz=first.sample_rate_hz, jobs=first.jobs, _shared=joined, _indices=indices)
    return out, np.concatenate([[0], np.cumsum([len(p) for p in parts])[:-1]]).astype(np.int64)
