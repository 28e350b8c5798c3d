"""A prepared drum directory opened: its journal, its per-record and per-file tables held
compactly, and (opened lazily, per process) the engine's AudioStore over its blobs. One
:class:`Directory` is shared by every view of it, records (dataset.py) and sequences
(sequences.py) alike; :class:`JoinedDirectories` is several of them end to end (drums.mix).
Below both readers, so that neither imports the other.
"""

from __future__ import annotations

import atexit
import os
import sys
import weakref
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .. import _core
from .store import DATASET_COLUMN, FORMAT_VERSION, JOURNAL, PAIR_COLUMNS, dataset_of, read_journal, shard_file

# Engine codec numbers, from the engine (src/cadence/drums/clip_codec.h, enum Codec; 0 is auto).
CODEC_IDS = {name: code for code, name in enumerate(_core.drums_codecs()) if code}
#: The rate a view reports when it holds no record of a directory that kept each file's own rate
#: (--sample-rate 0): the engine's default output rate.
_EMPTY_VIEW_RATE_HZ = _core.drums_prepare_defaults()["sample_rate_hz"]
# Per-record columns every item carries (fixed shapes, so torch's default collate stacks them).
ITEM_ARRAYS = ("audio", "classes", "class_velocity", "index", "onset_s", "onset_sample", "sample_rate_hz")
ITEM_STRINGS = ("record_id", "pair_id", "kit", "split")

INHERITED_JOBS: list = []
# Datasets alive in this process: their engine objects are dropped at exit, before the
# interpreter tears the extension down (a DataLoader worker ends with its dataset still alive).
OPEN_DATASETS: weakref.WeakSet = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for ds in list(OPEN_DATASETS):
        ds._job = None
        ds._s._store = None
    INHERITED_JOBS.clear()


class StoredAudioError(ValueError):
    """Stored audio that cannot be read back as it was written (damaged, truncated, mismatched)."""


class IncompleteDatasetWarning(UserWarning):
    """:func:`open` of a directory whose preparation did not finish (interrupted, or inputs left
    to do): the records are whole, but not every input's are there yet."""


class Directory:
    """What every view of one directory shares, compact so that a corpus of millions of records
    fits: per record only numbers (file number, onset, class velocities, MIDI hits: ~40 bytes
    with 9 classes); strings once per file; the audio source table; and (opened lazily, per
    process) the engine's AudioStore. The full label tables stay in Parquet (``labels``)."""

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
        self.label_files = [root / shard_file(kind, c.shard) for c in shards]
        self.blobs = [str(root / shard_file("audio", c.shard, "bin")) for c in shards]
        # index layout: the stored files of each blob (the AudioStore's sources, in order)
        self.file_tables = [root / shard_file("files", c.shard) for c in shards]
        #: the output rate, or the rate an empty view reports where each file kept its own
        self.nominal_rate_hz = int(self.config["sample_rate_hz"] or _EMPTY_VIEW_RATE_HZ)
        clips = self.layout == "clips"
        record_columns = ["pair_id", "onset_s", "onset_sample", "pitches", "velocities", "class_velocity"]
        pair_columns = list(PAIR_COLUMNS) + ["sample_rate_hz"]
        parts: dict[str, list] = {k: [] for k in ("pair_of", "onset_s", "onset_sample", "class_velocity", "hits",
                                                   "pitches", "velocities", "pairs", "src")}
        n_records = n_pairs = 0
        for b, c in enumerate(shards):
            rec = _read_checked(self.label_files[b], record_columns + (
                list(PAIR_COLUMNS[1:]) + ["sample_rate_hz"] + list(_CLIP_SOURCE) if clips else []),
                len(self.class_names))
            if clips:  # the pairs of this shard, in order of first appearance
                codes = pc.dictionary_encode(rec.column("pair_id")).combine_chunks()
                pair_of = np.asarray(codes.indices.to_numpy(zero_copy_only=False), np.int64)
                first = np.unique(pair_of, return_index=True)[1]
                pairs = rec.select(pair_columns).take(pa.array(first))
                src = {k: rec.column(k).to_numpy() for k in _CLIP_SOURCE if k != "codec"}
                src["codec"] = _codec_ids(rec.column("codec"))
            else:
                files = _read_checked(self.file_tables[b], pair_columns + list(_FILE_SOURCE), len(self.class_names))
                where = pc.index_in(rec.column("pair_id"), value_set=files.column("pair_id"))
                if where.null_count:
                    raise StoredAudioError(f"{root}: {where.null_count} records of {self.label_files[b].name} name "
                                           f"audio files that {self.file_tables[b].name} does not list; run "
                                           f"cadence drums verify {root}")
                pair_of = np.asarray(where.to_numpy(zero_copy_only=False), np.int64)
                pairs = files.select(pair_columns)
                frames = files.column("frame_offsets").combine_chunks()
                starts = np.asarray(frames.offsets.to_numpy(), np.int64)
                src = {k: files.column(k).to_numpy() for k in ("n_samples", "audio_offset", "audio_bytes", "block_size")}
                src["codec"] = _codec_ids(files.column("codec"))
                src["n_frames"] = np.diff(starts)
                src["frame_offsets"] = np.asarray(frames.values.to_numpy()[starts[0]:starts[-1]], np.uint32)
            src["blob"] = np.full(len(src["n_samples"]), b, np.int32)
            parts["src"].append(src)
            parts["pair_of"].append((pair_of + n_pairs).astype(np.int32))
            parts["pairs"].append(pairs)
            parts["onset_s"].append(np.asarray(rec.column("onset_s").to_numpy(), np.float64))
            parts["onset_sample"].append(np.asarray(rec.column("onset_sample").to_numpy(), np.int64))
            parts["class_velocity"].append(_fixed(rec, "class_velocity", len(self.class_names)))
            offsets, pitches = _ragged(rec, "pitches")
            parts["hits"].append(offsets[1:] + sum(len(p) for p in parts["pitches"]))
            parts["pitches"].append(pitches)
            parts["velocities"].append(_ragged(rec, "velocities")[1])
            n_records += rec.num_rows
            n_pairs += pairs.num_rows
            del rec
        k = len(self.class_names)
        cat = (lambda key, empty: np.concatenate(parts[key]) if parts[key] else empty)
        self.pair_of = cat("pair_of", np.zeros(0, np.int32))
        self.onset_s = cat("onset_s", np.zeros(0))
        self.onset_sample = cat("onset_sample", np.zeros(0, np.int64))
        self.class_velocity = cat("class_velocity", np.zeros((0, k), np.uint8))
        self.hit_offsets = np.concatenate([[0], *parts["hits"]]).astype(np.int64)
        self.pitches = cat("pitches", np.zeros(0, np.uint8))
        self.velocities = cat("velocities", np.zeros(0, np.uint8))
        pairs = pa.concat_tables(parts["pairs"]) if parts["pairs"] else None
        # Per file: the strings items carry, its rate, and its first record (record ids count from it).
        self.pair_strings = {c: (pairs.column(c).to_pylist() if pairs else []) for c in PAIR_COLUMNS}
        self.pair_strings[DATASET_COLUMN] = [dataset_of(self.config)] * n_pairs
        self.pair_rate_hz = np.asarray(pairs.column("sample_rate_hz").to_numpy(), np.int32) if pairs else np.zeros(0, np.int32)
        first = np.full(n_pairs, n_records, np.int64)
        np.minimum.at(first, self.pair_of, np.arange(n_records))
        self.first_record = first
        # The audio sources: a file per pair (index layout) or a clip per record (clips layout).
        self.source_of = np.arange(n_records, dtype=np.int64) if clips else self.pair_of.astype(np.int64)
        srcs = parts["src"]
        self.src = {key: np.concatenate([x[key] for x in srcs]) if srcs else np.zeros(0, np.int64)
                    for key in ("blob", "audio_offset", "audio_bytes", "n_samples", "codec")}
        m = len(self.src["blob"])
        if clips or not srcs:
            self.src.update(block_size=np.zeros(m, np.uint32), frames_begin=np.zeros(m, np.int64),
                            n_frames=np.zeros(m, np.int64))
            self.frame_offsets = np.zeros(0, np.uint32)
        else:
            self.src["block_size"] = np.concatenate([x["block_size"] for x in srcs]).astype(np.uint32)
            self.src["n_frames"] = np.concatenate([x["n_frames"] for x in srcs]).astype(np.int64)
            self.src["frames_begin"] = np.concatenate([[0], np.cumsum(self.src["n_frames"])[:-1]]).astype(np.int64)
            self.frame_offsets = np.concatenate([x["frame_offsets"] for x in srcs])
        self._store = None
        self._store_pid = None
        self.identity = _identity(self.blobs)

    def record_id(self, rec: int) -> str:
        p = int(self.pair_of[rec])
        return f"{self.pair_strings['pair_id'][p]}#{rec - int(self.first_record[p]):05d}"

    def source_name(self, source: int) -> str:
        """The file (index layout) or record (clips layout) a source holds."""
        return self.record_id(source) if self.layout == "clips" else self.pair_strings["pair_id"][source]

    def store(self):
        """The engine's reader, opened in this process (file handles do not cross fork)."""
        if self._store is None or self._store_pid != os.getpid():
            if _identity(self.blobs) != self.identity:  # e.g. in a DataLoader worker, started later
                raise StoredAudioError(
                    f"{self.root} was {'deleted' if not self.root.exists() else 'prepared again'} after this "
                    f"dataset was opened (a DataLoader worker opens the files again); open it again "
                    f"(drums.open({str(self.root)!r})) and make a new DataLoader")
            s = self.src
            c = np.ascontiguousarray
            try:
                self._store = _core.AudioStore(self.blobs, c(s["blob"], np.int32), c(s["audio_offset"], np.int64),
                                               c(s["audio_bytes"], np.int64), c(s["n_samples"], np.int64),
                                               c(s["codec"], np.int8), c(s["block_size"], np.uint32),
                                               c(s["frames_begin"], np.int64), c(s["n_frames"], np.int64),
                                               c(self.frame_offsets, np.uint32))
            except _core.StoredAudioError as e:
                raise self.error(e) from None
            self._store_pid = os.getpid()
        return self._store

    def error(self, e: Exception) -> StoredAudioError:
        """The engine's error, naming the record or file and what to run."""
        message, source = e.args if len(e.args) == 2 else (str(e), -1)
        what = ""
        if 0 <= source < len(self.src["blob"]):
            what = f" ({'record' if self.layout == 'clips' else 'file'} {self.source_name(source)})"
        return StoredAudioError(f"{message}{what}; run: cadence drums verify {self.root}")

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_store"] = state["_store_pid"] = None  # each process opens its own
        return state


_CLIP_SOURCE = ("n_samples", "codec", "audio_offset", "audio_bytes")
_FILE_SOURCE = _CLIP_SOURCE + ("block_size", "frame_offsets")


def _identity(paths: list[str]) -> list[tuple]:
    """What tells the audio files read at open from those there now: inode, size, mtime."""
    out = []
    for p in paths:
        try:
            st = os.stat(p)
            out.append((st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns))
        except OSError:
            out.append(None)
    return out


def _is_text(t) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def _list_of(value_type):
    return lambda t: (pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)) \
        and t.value_type == value_type


# The kinds of column prepare writes (the engine's Arrow export) that the reader turns into
# numbers: a table rewritten by another tool with other types, nulls or ragged labels is refused
# by name here, before numpy or the engine meet it.
_COLUMN_KINDS = {
    "pair_id": _is_text, "onset_s": pa.types.is_floating, "onset_sample": pa.types.is_integer,
    "sample_rate_hz": pa.types.is_integer, "n_samples": pa.types.is_integer, "audio_offset": pa.types.is_integer,
    "audio_bytes": pa.types.is_integer, "block_size": pa.types.is_integer,
    "codec": lambda t: _is_text(t) or (pa.types.is_dictionary(t) and _is_text(t.value_type)),
    "pitches": _list_of(pa.uint8()), "velocities": _list_of(pa.uint8()), "class_velocity": _list_of(pa.uint8()),
    "frame_offsets": _list_of(pa.uint32()),
}
_NOT_NEGATIVE = ("sample_rate_hz", "n_samples", "audio_offset", "audio_bytes", "block_size")


def _read_checked(path: Path, columns: list[str], n_classes: int) -> pa.Table:
    """These columns of a shard's table if they are what prepare writes, else a StoredAudioError
    naming the file."""
    def refuse(why: str):
        raise StoredAudioError(f"{path}: {why}, not what cadence drums prepare writes; run cadence drums verify "
                               f"{path.parent}, or prepare it again")

    names = pq.read_schema(path).names
    missing = [c for c in columns if c not in names]
    if missing:
        refuse(f"no column {', '.join(missing)}")
    if len(set(names)) != len(names):
        refuse("a column name is used twice")
    table = pq.read_table(path, columns=columns)
    for name in table.column_names:
        column, kind = table.column(name), _COLUMN_KINDS.get(name)
        if kind is None:
            continue
        if not kind(column.type):
            refuse(f"column {name!r} holds {column.type}")
        if column.null_count:
            refuse(f"column {name!r} has {column.null_count} empty value(s)")
        if name in _NOT_NEGATIVE and len(column) and not pc.all(pc.greater_equal(column, 0)).as_py():
            refuse(f"column {name!r} has negative values")
    names = set(columns)
    if len(table) and {"pitches", "velocities"} <= names and not pc.all(pc.equal(
            pc.list_value_length(table.column("pitches")), pc.list_value_length(table.column("velocities")))).as_py():
        refuse("a record has not one velocity per pitch")
    if len(table) and "class_velocity" in names and not pc.all(pc.equal(
            pc.list_value_length(table.column("class_velocity")), n_classes)).as_py():
        refuse(f"a record has not {n_classes} class velocities")
    return table


def _codec_ids(column) -> np.ndarray:
    names = column.to_pylist() if not pa.types.is_dictionary(column.type) else [
        x for x in column.cast(pa.string()).to_pylist()]
    try:
        return np.asarray([CODEC_IDS[x] for x in names], np.int8)
    except KeyError as e:
        raise StoredAudioError(f"unknown codec {e.args[0]!r} in the store; run cadence drums verify") from None


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


def in_dataloader_worker() -> bool:
    # Only a process that has imported torch can be a DataLoader worker: never import it here.
    tud = sys.modules.get("torch.utils.data")
    return tud is not None and tud.get_worker_info() is not None



class JoinedDirectories(Directory):
    """What several directories' readers share, joined end to end (records, files, audio sources
    and blobs numbered part after part), so that one engine call reads a batch from all of them
    (drums.mix). Made by :meth:`join`; the parts are not copied on disk."""

    @classmethod
    def join(cls, parts: list[Directory]) -> JoinedDirectories:
        first = parts[0]
        j = cls.__new__(cls)
        j.root, j.config, j.layout, j.class_names = first.root, first.config, first.layout, first.class_names
        j.roots = [p.root for p in parts]
        j.nominal_rate_hz = first.nominal_rate_hz
        for key in ("label_files", "blobs", "file_tables", "identity"):
            setattr(j, key, [x for p in parts for x in getattr(p, key)])
        base = lambda sizes: np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)  # noqa: E731
        rec = base([len(p.onset_s) for p in parts])
        pair = base([len(p.first_record) for p in parts])
        src = base([len(p.src["blob"]) for p in parts])
        blob = base([len(p.blobs) for p in parts])
        frame = base([len(p.frame_offsets) for p in parts])
        hit = base([int(p.hit_offsets[-1]) for p in parts])
        cat = np.concatenate
        j.pair_of = cat([p.pair_of + np.int32(b) for p, b in zip(parts, pair)]).astype(np.int32)
        for key in ("onset_s", "onset_sample", "class_velocity", "pitches", "velocities", "pair_rate_hz",
                    "frame_offsets"):
            setattr(j, key, cat([getattr(p, key) for p in parts]))
        j.hit_offsets = cat([[0], *[p.hit_offsets[1:] + b for p, b in zip(parts, hit)]]).astype(np.int64)
        j.first_record = cat([p.first_record + b for p, b in zip(parts, rec)])
        j.source_of = cat([p.source_of + b for p, b in zip(parts, src)])
        j.pair_strings = {k: [x for p in parts for x in p.pair_strings[k]] for k in first.pair_strings}
        j.src = {k: cat([p.src[k] for p in parts]) for k in first.src}
        j.src["blob"] = cat([p.src["blob"] + np.int32(b) for p, b in zip(parts, blob)]).astype(np.int32)
        j.src["frames_begin"] = cat([p.src["frames_begin"] + b for p, b in zip(parts, frame)])
        j.record_base, j.file_base, j.source_base = rec, pair, src
        j._store = j._store_pid = None
        return j

    def error(self, e: Exception) -> StoredAudioError:
        """The engine's error, naming the directory that holds the record or file."""
        message, source = e.args if len(e.args) == 2 else (str(e), -1)
        root = self.roots[max(int(np.searchsorted(self.source_base, source, side="right")) - 1, 0)]
        what = ""
        if 0 <= source < len(self.src["blob"]):
            what = f" ({'record' if self.layout == 'clips' else 'file'} {self.source_name(source)})"
        return StoredAudioError(f"{message}{what}; run: cadence drums verify {root}")
