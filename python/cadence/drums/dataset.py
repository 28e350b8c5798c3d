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

import atexit
import os
import sys
import weakref
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .. import _core
from .store import FORMAT_VERSION, JOURNAL, read_journal

# Engine codec numbers (src/cadence/drums/clip_codec.h, enum Codec).
CODEC_IDS = {"flac": 1, "pcm16": 2, "float16": 3, "float32": 4}
# Per-record columns every item carries (fixed shapes, so torch's default collate stacks them).
ITEM_ARRAYS = ("audio", "classes", "class_velocity", "index", "onset_s", "onset_sample", "sample_rate_hz")
ITEM_STRINGS = ("record_id", "pair_id", "kit", "split")
LABEL_COLUMNS = ("record_id", "pair_id", "source_id", "drummer", "session", "style", "bpm",
                 "beat_type", "kit", "split", "onset_index", "onset_s", "onset_sample",
                 "sample_rate_hz", "pitches", "velocities", "classes", "class_velocity")


_INHERITED_JOBS: list = []
# Datasets alive in this process: their engine objects are dropped at exit, before the
# interpreter tears the extension down (a DataLoader worker ends with its dataset still alive).
_OPEN: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for ds in list(_OPEN):
        ds._job = None
        ds._s._store = None
    _INHERITED_JOBS.clear()


class StoredAudioError(ValueError):
    """Stored audio that cannot be read back as it was written (damaged, truncated, mismatched)."""


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


class _Shared:
    """What every view of one directory shares: labels as numpy columns, the source table, and
    (opened lazily, per process) the engine's AudioStore."""

    def __init__(self, root: Path):
        self.root = root
        journal = root / JOURNAL
        if not journal.exists():
            raise FileNotFoundError(f"{root}: no {JOURNAL}; not a directory written by cadence drums prepare")
        header, commits = read_journal(journal)
        if header.get("version") != FORMAT_VERSION:
            raise ValueError(
                f"{root} was written by an older cadence (format {header.get('version')}; this version reads "
                f"format {FORMAT_VERSION}, whose audio can be read window by window). Prepare it again: "
                f"cadence drums prepare ROOT NEW_OUT (with the options in {root / 'manifest.json'})")
        self.config = header["config"]
        self.layout = self.config["layout"]
        self.class_names = [c for c, _ in self.config["classes"]]
        kind = "records" if self.layout == "clips" else "onsets"
        shards = [c for c in commits if any(n.startswith(kind) for n in c.files)]
        self.blobs = [str(root / f"audio-{c.shard:05d}.bin") for c in shards]
        label_tables, source_tables = [], []
        for b, c in enumerate(shards):
            records = pq.read_table(root / f"{kind}-{c.shard:05d}.parquet")
            label_tables.append(records)
            sources = records if self.layout == "clips" else pq.read_table(root / f"files-{c.shard:05d}.parquet")
            source_tables.append(sources.select([n for n in sources.column_names if n in _SOURCE_COLUMNS])
                                 .append_column("blob", pa.array(np.full(sources.num_rows, b, np.int32))))
        self.labels = pa.concat_tables(label_tables) if label_tables else None
        n = 0 if self.labels is None else self.labels.num_rows
        k = len(self.class_names)
        col = (lambda name, dtype: np.asarray(self.labels.column(name).to_numpy(), dtype)) if n else (
            lambda name, dtype: np.zeros(0, dtype))
        self.onset_s = col("onset_s", np.float64)
        self.onset_sample = col("onset_sample", np.int64)
        self.rate_hz = col("sample_rate_hz", np.int32)
        self.classes = _fixed(self.labels, "classes", k) if n else np.zeros((0, k), np.uint8)
        self.class_velocity = _fixed(self.labels, "class_velocity", k) if n else np.zeros((0, k), np.uint8)
        self.hit_offsets, self.pitches = _ragged(self.labels, "pitches") if n else (np.zeros(1, np.int64), np.zeros(0, np.uint8))
        self.velocities = _ragged(self.labels, "velocities")[1] if n else np.zeros(0, np.uint8)
        self.sources = pa.concat_tables(source_tables) if source_tables else None
        if self.layout == "clips":
            self.source_of = np.arange(n, dtype=np.int64)
            self.clip_samples = col("n_samples", np.int64)
        else:
            files = self.sources.column("pair_id") if n else pa.array([], pa.string())
            where = pc.index_in(self.labels.column("pair_id"), value_set=files) if n else pa.array([], pa.int32())
            if n and where.null_count:
                raise StoredAudioError(f"{root}: {where.null_count} records name audio files that no files-*.parquet "
                                       f"lists; run cadence drums verify {root}")
            self.source_of = np.asarray(where.to_numpy(zero_copy_only=False), np.int64)
        self._store = None
        self._store_pid = None

    def store(self):
        """The engine's reader, opened in this process (file handles do not cross fork)."""
        if self._store is None or self._store_pid != os.getpid():
            s = self.sources
            m = 0 if s is None else s.num_rows
            get = (lambda name, dtype: np.ascontiguousarray(s.column(name).to_numpy(zero_copy_only=False), dtype)) if m else (
                lambda name, dtype: np.zeros(0, dtype))
            codec = np.asarray([CODEC_IDS[c] for c in (s.column("codec").to_pylist() if m else [])], np.int8)
            if self.layout == "index" and m:
                frames = s.column("frame_offsets").combine_chunks()
                starts = np.asarray(frames.offsets.to_numpy(), np.int64)
                frames_begin, n_frames = starts[:-1].copy(), np.diff(starts)
                frame_offsets = np.ascontiguousarray(frames.values.to_numpy(), np.uint32)
                block = get("block_size", np.uint32)
            else:
                frames_begin = n_frames = np.zeros(m, np.int64)
                frame_offsets, block = np.zeros(0, np.uint32), np.zeros(m, np.uint32)
            try:
                self._store = _core.AudioStore(self.blobs, get("blob", np.int32), get("audio_offset", np.int64),
                                               get("audio_bytes", np.int64), get("n_samples", np.int64), codec,
                                               block, frames_begin, n_frames, frame_offsets)
            except _core.StoredAudioError as e:
                raise self.error(e) from None
            self._store_pid = os.getpid()
        return self._store

    def error(self, e: Exception) -> StoredAudioError:
        """The engine's error, naming the record(s) and what to run."""
        message, source = e.args if len(e.args) == 2 else (str(e), -1)
        what = ""
        if source >= 0 and self.sources is not None and source < self.sources.num_rows:
            row = self.sources.slice(source, 1)
            name = row.column("record_id" if self.layout == "clips" else "pair_id")[0].as_py()
            what = f" ({'record' if self.layout == 'clips' else 'file'} {name})"
        return StoredAudioError(f"{message}{what}; run: cadence drums verify {self.root}")

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_store"] = state["_store_pid"] = None  # each process opens its own
        return state


_SOURCE_COLUMNS = {"record_id", "pair_id", "n_samples", "codec", "block_size", "frame_offsets", "audio_offset",
                   "audio_bytes"}


def _fixed(t: pa.Table, name: str, k: int) -> np.ndarray:
    values = t.column(name).combine_chunks().flatten()
    return np.asarray(values.to_numpy(), np.uint8).reshape(-1, k)


def _ragged(t: pa.Table, name: str) -> tuple[np.ndarray, np.ndarray]:
    a = t.column(name).combine_chunks()
    offsets = np.asarray(a.offsets.to_numpy(), np.int64)
    return offsets - offsets[0], np.asarray(a.values.to_numpy(), np.uint8)[offsets[0]:offsets[-1]]


class Batch(Sequence):
    """What ``__getitems__`` returns: a batch already cut and collated (``.arrays``), that also
    reads as the list of per-item dicts PyTorch's default collate expects. ``drums.collate``
    takes ``.arrays`` directly (no per-item work)."""

    def __init__(self, arrays: dict, strings: dict):
        self.arrays = arrays
        self.strings = strings
        self._items: list[dict] | None = None  # made on first per-item access, then reused

    def __len__(self) -> int:
        return len(self.arrays["index"])

    def __getitem__(self, j):
        if self._items is None:
            self._items = [{**{k: self.arrays[k][i] for k in ITEM_ARRAYS}, **{k: v[i] for k, v in self.strings.items()}}
                           for i in range(len(self))]
        return self._items[j]


class DrumDataset:
    """Records of a prepared directory (or a view of them), in storage order.

    Parameters
    ----------
    path
        A directory written by ``cadence drums prepare``.
    clip_s, pad_before_s
        Window for the ``index`` layout (default: the values the directory was prepared with).
        The clips layout stores its windows, so they cannot change.
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
                 pad_before_s: float | None = None, jobs: int = 0, _shared: _Shared | None = None,
                 _indices: np.ndarray | None = None):
        self._s = _shared or _Shared(Path(path))
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
        rates = np.unique(s.rate_hz[self._indices]) if len(self._indices) else np.array([s.config["sample_rate_hz"] or 22050])
        if len(rates) > 1:
            raise ValueError(f"{self.path} holds records at several rates ({rates.tolist()} Hz: prepared with "
                             f"--sample-rate 0); batches need one rate: filter by rate or prepare with --sample-rate")
        self.sample_rate_hz = int(rates[0])
        self.n_samples = _core.drums_onset_window(0, self.pad_before_s, self.clip_s, self.sample_rate_hz)[1]
        self._job = None
        self._job_key = None
        _OPEN.add(self)

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        _OPEN.add(self)

    # ---- size, views --------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._indices)

    @property
    def labels(self) -> pa.Table | None:
        """Every label column of this dataset's records (a pyarrow Table)."""
        t = self._s.labels
        if t is None or self._whole:
            return t
        return t.take(self._indices)

    def _view(self, indices: np.ndarray) -> DrumDataset:
        return DrumDataset(self.path, clip_s=self.clip_s, pad_before_s=self.pad_before_s, jobs=self.jobs,
                           _shared=self._s, _indices=np.ascontiguousarray(indices, np.int64))

    def filter(self, *, split: str | Sequence[str] | None = None, kits: Sequence[str] | None = None,
               drummers: Sequence[str] | None = None, pair_ids: Sequence[str] | None = None) -> DrumDataset:
        """A view of the records whose split / kit / drummer / pair is among those given (no
        audio or labels are copied: the view holds record numbers)."""
        keep = np.ones(len(self), bool)
        t = self._s.labels
        for column, wanted in (("split", split), ("kit", kits), ("drummer", drummers), ("pair_id", pair_ids)):
            if wanted is None or t is None:
                continue
            wanted = [wanted] if isinstance(wanted, str) else list(wanted)
            mask = np.asarray(pc.is_in(t.column(column), value_set=pa.array(wanted, pa.string()))
                              .to_numpy(zero_copy_only=False), bool)
            keep &= mask[self._indices]
        return self._view(self._indices[keep])

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
                _INHERITED_JOBS.append(self._job)
            jobs = self.jobs
            if jobs == 0 and _in_dataloader_worker():
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
        if self.layout == "clips":
            starts = np.zeros(len(rec), np.int64)
        else:
            starts = _core.drums_window_starts(s.onset_sample[rec], self.pad_before_s, self.sample_rate_hz)
        try:
            audio = s.store().read_batch(sources, starts, self.n_samples, self._engine_job())
        except _core.StoredAudioError as e:
            raise s.error(e) from None
        lo, hi = s.hit_offsets[rec], s.hit_offsets[rec + 1]
        hit_offsets = np.zeros(len(rec) + 1, np.int64)
        np.cumsum(hi - lo, out=hit_offsets[1:])
        take = np.repeat(lo - hit_offsets[:-1], hi - lo) + np.arange(hit_offsets[-1], dtype=np.int64)
        return {
            "audio": audio,
            "classes": s.classes[rec],
            "class_velocity": s.class_velocity[rec],
            "index": pos % n if n else pos,
            "onset_s": s.onset_s[rec],
            "onset_sample": s.onset_sample[rec],
            "sample_rate_hz": s.rate_hz[rec],
            "pitches": s.pitches[take],
            "velocities": s.velocities[take],
            "hit_offsets": hit_offsets,
        }

    def __getitems__(self, indices) -> Batch:
        """What PyTorch's fetcher calls for a batch: one read_batch, viewed as a list of items."""
        arrays = self.read_batch(indices)
        rec = self._indices[arrays["index"]] if len(self) else arrays["index"]
        strings = {k: self._s.labels.column(k).take(pa.array(rec)).to_pylist() for k in ITEM_STRINGS} if len(rec) else (
            {k: [] for k in ITEM_STRINGS})
        return Batch(arrays, strings)

    def __getitem__(self, i: int) -> dict:
        if not isinstance(i, (int, np.integer)):
            raise TypeError(f"records are indexed by int, not {type(i).__name__}; use read_batch for many")
        return self.__getitems__([int(i)])[0]

    def __iter__(self) -> Iterator[dict]:
        for start in range(0, len(self), 256):
            yield from self.__getitems__(np.arange(start, min(start + 256, len(self))))

    def record(self, i: int) -> dict:
        """Every label column of record `i` (pitches and velocities as lists), and its window."""
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"record {i} out of range for {n} records")
        row = {c: self._s.labels.column(c)[int(self._indices[i % n])].as_py() for c in LABEL_COLUMNS}
        row["audio"] = self.read_batch([i])["audio"][0]
        return row

    def iter_batches(self, batch_size: int = 256, *, drop_last: bool = False) -> Iterator[dict]:
        """Batches in storage order (consecutive records, file after file): the fastest epoch,
        each file's bytes read once and sequentially. Shuffle between epochs with a sampler."""
        n = len(self)
        stop = n - n % batch_size if drop_last else n
        for start in range(0, stop, batch_size):
            yield self.read_batch(np.arange(start, min(start + batch_size, n)))

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


def _in_dataloader_worker() -> bool:
    # Only a process that has imported torch can be a DataLoader worker: never import it here.
    tud = sys.modules.get("torch.utils.data")
    return tud is not None and tud.get_worker_info() is not None


def open(path: str | os.PathLike, mode: str = "records", **kwargs):  # noqa: A001 - mirrors builtins.open's role
    """Open a prepared directory: ``mode="records"`` gives one item per onset (:class:`DrumDataset`),
    ``mode="sequences"`` windows of seconds with frame targets (:class:`~.sequences.SequenceDataset`)."""
    if mode == "sequences":
        from .sequences import SequenceDataset  # noqa: PLC0415 - sequences imports this module

        return SequenceDataset(path, **kwargs)
    if mode != "records":
        raise ValueError(f"mode must be 'records' or 'sequences', not {mode!r}")
    return DrumDataset(path, **kwargs)
