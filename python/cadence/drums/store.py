"""The output directory of `cadence drums prepare`: shards, the commit journal, recovery.

Crash safety rests on one rule: a shard becomes part of the dataset only when its line is in
``journal.jsonl``. Each shard is written under a temporary name, fsynced, renamed, and then
its commit line (files with row counts, sizes and SHA-256, the inputs it holds, the inputs
rejected since the previous commit) is appended and fsynced. After a crash anywhere in that
sequence, recovery keeps exactly the journalled shards that still check out, deletes anything
else, and the resumed run redoes the inputs that are not committed: nothing lost, nothing
duplicated.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..atomic import TEMP_MARK, AtomicFiles, atomic_path, fsync_dir

JOURNAL = "journal.jsonl"
#: Per file (pair) columns: written on every row by prepare, kept once per file by the reader.
PAIR_COLUMNS = ("pair_id", "source_id", "drummer", "session", "style", "bpm", "beat_type", "kit", "split")
#: Written after PAIR_COLUMNS on every row: the dataset the pair came from (``--dataset``), for
#: tools reading the Parquet files; the reader takes it from the journal (:func:`dataset_of`), so
#: that directories prepared before it existed read the same.
DATASET_COLUMN = "dataset"


def dataset_of(config: dict) -> str:
    """The dataset a prepared directory holds, from its journal's config: recorded for every
    dataset but E-GMD and plain pairs (whose journals predate the choice), told apart by the CSV."""
    return config.get("dataset") or ("egmd" if config.get("selection", {}).get("csv") else "pairs")
#: The run report (drums/prepare.py); while a run works it says ``"interrupted": true``.
REPORT = "report.json"
#: The points of a commit where :data:`fault_hook` is called, in order.
FAULT_POINTS = ("before_rename", "after_rename", "before_journal", "after_commit")
#: Test seam (docs/RELIABILITY.md, "Fault injection"): when set, called as
#: ``fault_hook(point, journal=path, line=text)`` at each of :data:`FAULT_POINTS`; ``line`` is the
#: commit line about to be appended (at ``before_journal``), so a test can write half of it and
#: kill the process. Production code never sets it and reads nothing from the environment.
fault_hook: Callable[..., None] | None = None


def _fault(point: str, journal: Path | None = None, line: str | None = None) -> None:
    if fault_hook is not None:
        fault_hook(point, journal=journal, line=line)


# 2: audio in flat blob files (audio-NNNNN.bin) with offsets and FLAC frame tables in Parquet,
# for random access (docs/drums.md, "Format"). 1: audio inside Parquet row groups.
FORMAT_VERSION = 2
# Each stored file starts on this boundary, so that PCM16/float32 audio can be viewed in place
# (np.memmap) with aligned loads.
BLOB_ALIGN = 64
# Small enough for random access and for the writer's memory (it holds ~2-3x a row group while
# encoding it), large enough for zstd to work well.
ROW_GROUP_BYTES = 8 << 20


def shard_file(kind: str, shard: int, suffix: str = "parquet") -> str:
    """The one shard file naming rule: ``records-00003.parquet``, ``audio-00003.bin``."""
    return f"{kind}-{shard:05d}.{suffix}"


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


class _HashingFile:
    """A write-only file that computes its SHA-256 as bytes go through (hashlib releases the GIL
    on large updates), so a shard's checksum is ready when the shard is."""

    def __init__(self, path: Path):
        self.file = open(path, "wb")  # noqa: SIM115 - closed by finish() or close()
        self.hash = hashlib.sha256()
        self.size = 0
        self.closed = False

    def write(self, data) -> int:
        n = self.file.write(data)
        self.hash.update(data)
        self.size += n
        return n

    def flush(self) -> None:
        self.file.flush()

    def tell(self) -> int:
        return self.size

    def close(self) -> None:
        if not self.closed:
            self.file.close()
            self.closed = True

    def finish(self) -> tuple[str, int]:
        """fsync, close; returns (sha256 hex, size in bytes)."""
        self.file.flush()
        os.fsync(self.file.fileno())
        self.close()
        return self.hash.hexdigest(), self.size


class _TableWriter:
    """One Parquet file, written through a temporary name, in row groups of ~ROW_GROUP_BYTES.

    Batches are buffered until a row group's worth has arrived, because pyarrow writes at least
    one row group per write_table call and per-file batches are small. The buffer holds copies,
    so that it never keeps an engine result alive: the writer's memory is one row group's, whatever
    the shard size."""

    def __init__(self, final: Path, schema: pa.Schema):
        self.final = final
        self.group = AtomicFiles()  # written for minutes, renamed at close
        self.tmp = self.group.path(final)
        # Clip audio is not in Parquet (it goes to audio-NNNNN.bin): every column gets zstd,
        # dictionaries and statistics.
        compression = "zstd"
        levels = 3
        others = list(schema.names)
        # Hash while writing: the checksum costs no second read of the file at commit time.
        self.sink = _HashingFile(self.tmp)
        self.writer = pq.ParquetWriter(self.sink, schema, compression=compression, compression_level=levels,
                                       use_dictionary=others, write_statistics=others)
        self.buffer: list[pa.Table] = []
        self.buffered_bytes = 0
        self.rows = 0

    def add(self, table: pa.Table) -> bool:
        """Buffers a copy of `table` (see owned_copy), writing a row group when one is whole.
        Returns True: the writer holds nothing of `table`, so the caller may give its bytes back
        to the budget."""
        self.buffer.append(owned_copy(table))
        # Row groups are cut on the size of the tables as given, not of their copies (take()
        # adds validity bitmaps): the cuts, and so the files' bytes, stay where they were.
        self.buffered_bytes += table.nbytes
        self.rows += table.num_rows
        if self.buffered_bytes >= ROW_GROUP_BYTES:
            self.flush()
        return True

    def flush(self) -> None:
        if self.buffer:
            merged = pa.concat_tables(self.buffer)  # no combine_chunks: the writer takes chunks
            rows = max(1, merged.num_rows * ROW_GROUP_BYTES // max(self.buffered_bytes, 1))
            self.writer.write_table(merged, row_group_size=rows)
            self.buffer, self.buffered_bytes = [], 0

    def close(self) -> dict:
        self.flush()
        self.writer.close()
        digest, size = self.sink.finish()
        _fault("before_rename")
        self.group.commit()
        return {"rows": self.rows, "bytes": size, "sha256": digest}

    def close_files(self) -> dict:
        return {self.final.name: self.close()}

    def abort(self) -> None:
        # Closing fails again on a full disk (the buffered bytes and the footer cannot be
        # written). That is the error already being raised, and the shard's other writers must
        # still be aborted after this one: the temporary file goes and nothing is raised.
        with contextlib.suppress(OSError):
            self.writer.close()
        with contextlib.suppress(OSError):
            self.sink.close()
        self.group.abort()


class _BlobWriter:
    """A flat file of byte strings, each starting on a BLOB_ALIGN boundary, written through a
    temporary name and hashed on the way like the Parquet shards."""

    def __init__(self, final: Path):
        self.final = final
        self.group = AtomicFiles()
        self.tmp = self.group.path(final)
        self.sink = _HashingFile(self.tmp)
        self.items = 0

    def add(self, data) -> int:
        """Appends `data` (bytes-like); returns its offset."""
        pad = -self.sink.size % BLOB_ALIGN
        if pad:
            self.sink.write(b"\0" * pad)
        offset = self.sink.size
        self.sink.write(data)
        self.items += 1
        return offset

    def close(self) -> dict:
        digest, size = self.sink.finish()
        _fault("before_rename")
        self.group.commit()
        return {"rows": self.items, "bytes": size, "sha256": digest}

    def abort(self) -> None:
        with contextlib.suppress(OSError):  # as _TableWriter.abort
            self.sink.close()
        self.group.abort()


def owned_copy(table: pa.Table) -> pa.Table:
    """`table` copied into pyarrow's memory, sharing no buffer with it.

    The engine exports a pair's result as one Arrow struct with one release: while any buffer
    of it is alive, all of it is, audio included. A table buffered until its row group is
    written must therefore hold copies. take() copies values but keeps a dictionary column's
    dictionary zero-copy (the clips' ``codec``), which kept every pair's audio alive until its
    shard closed (issue 23, point 8): dictionaries are copied as well."""
    taken = table.take(np.arange(table.num_rows))
    columns = [_owned_dictionaries(c) if pa.types.is_dictionary(c.type) else c for c in taken.columns]
    return pa.Table.from_arrays(columns, schema=taken.schema)


def _owned_dictionaries(column: pa.ChunkedArray) -> pa.ChunkedArray:
    def copy(chunk: pa.DictionaryArray) -> pa.DictionaryArray:
        values = chunk.dictionary.take(np.arange(len(chunk.dictionary)))
        return pa.DictionaryArray.from_arrays(chunk.indices, values, ordered=column.type.ordered)
    return pa.chunked_array([copy(c) for c in column.chunks], column.type)


class _AudioTableWriter:
    """A table whose ``audio`` column (large_binary) goes to a blob file: the Parquet file gets
    ``audio_offset`` and ``audio_bytes`` instead, so that one record's or one file's audio is read
    at its offset without reading a row group (random access for training)."""

    def __init__(self, table: Path, blob: Path, schema: pa.Schema):
        fields = [f for f in schema if f.name != "audio"]
        fields += [pa.field("audio_offset", pa.int64(), False), pa.field("audio_bytes", pa.int64(), False)]
        self.blob = _BlobWriter(blob)
        self.table = _TableWriter(table, pa.schema(fields))
        self.final = self.table.final

    def add(self, table: pa.Table) -> bool:
        column = table.column("audio")
        # combine_chunks() copies even a single chunk: a pair's whole audio once more in memory.
        audio = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
        n = len(audio)
        offsets = np.frombuffer(audio.buffers()[1], np.int64, n + 1, audio.offset * 8)
        data = audio.buffers()[2]
        starts = np.empty(n, np.int64)
        if n and (table.num_rows == 1 or "window_start_sample" not in table.column_names):
            for k in range(n):  # whole files: each aligned on its own
                starts[k] = self.blob.add(memoryview(data)[offsets[k]:offsets[k + 1]])
        elif n:  # clips: one write of every clip back to back
            starts[:] = self.blob.add(memoryview(data)[offsets[0]:offsets[n]]) + offsets[:n] - offsets[0]
        # Taken as before the copies (self.table.add copies it again, a few bytes a record): the
        # row groups are cut on this table's size.
        rest = table.drop_columns(["audio"]).take(np.arange(table.num_rows))
        rest = rest.append_column(pa.field("audio_offset", pa.int64(), False), pa.array(starts))
        rest = rest.append_column(pa.field("audio_bytes", pa.int64(), False), pa.array(np.diff(offsets)))
        self.table.add(rest)
        return True  # the audio is written: the caller may give its bytes back to the budget

    def close_files(self) -> dict:
        return {self.blob.final.name: self.blob.close(), self.table.final.name: self.table.close()}

    def abort(self) -> None:
        try:
            self.table.abort()
        finally:
            self.blob.abort()


@dataclass
class Commit:
    shard: int
    files: dict
    inputs: list
    rejects: list
    stats: dict = field(default_factory=dict)  # the figures of its inputs, for the report


@dataclass
class Store:
    """An output directory opened for writing (fresh, or recovered for --resume)."""

    root: Path
    config: dict
    commits: list[Commit] = field(default_factory=list)
    recovered: list[str] = field(default_factory=list)  # what recovery repaired, for the report

    @classmethod
    def open(cls, root: Path, config: dict, *, resume: bool) -> Store:
        root.mkdir(parents=True, exist_ok=True)
        journal = root / JOURNAL
        store = cls(root, config)
        if journal.exists():
            if not resume:
                raise FileExistsError(
                    f"{root} already holds a prepared dataset; pass --resume to continue it, "
                    f"or choose a new output directory")
            header, commits = read_journal(journal)
            if _drop_torn_tail(journal):
                store.recovered.append("cut a torn last line off the journal (a crash mid-commit)")
            if header.get("version") != FORMAT_VERSION:
                raise ValueError(f"{root} was written by an older cadence (format {header.get('version')}, this "
                                 f"one writes {FORMAT_VERSION}) and cannot be resumed; prepare into a new directory")
            if header.get("config") != config:
                diff = sorted(k for k in set(config) | set(header.get("config", {}))
                              if config.get(k) != header.get("config", {}).get(k))
                raise ValueError(f"{root} was prepared with different options ({', '.join(diff)}); "
                                 f"resume with the same options or use a new directory")
            store._recover(commits)
        else:
            if any(p for p in root.iterdir() if not p.name.startswith(".")):
                raise FileExistsError(f"{root} is not empty and holds no {JOURNAL}; choose an empty directory")
            for stale in [*root.glob(f".*{TEMP_MARK}*"), *root.glob(".*.tmp")]:  # .tmp: names of earlier versions
                stale.unlink()
            store._append({"type": "header", "version": FORMAT_VERSION, "config": config}, create=True)
        return store

    def _recover(self, commits: list[Commit]) -> None:
        """Keep the commits whose files are whole; remove the shard files no kept commit names."""
        files = self._files()
        good = []
        for c in commits:
            problems = [p for name, meta in c.files.items() for p in self._file_problems(name, meta, files)]
            if problems:
                self.recovered.append(f"shard {c.shard} dropped ({'; '.join(problems)}); "
                                      f"its {len(c.inputs)} inputs will be redone")
            else:
                good.append(c)
        keep = {name for c in good for name in c.files} | {JOURNAL}
        for name in files:
            if name not in keep and (name.endswith((".parquet", ".bin", ".tmp")) or TEMP_MARK in name):
                self.recovered.append(f"removed uncommitted {name}")
                self._delete(name)
        self.commits = good
        if len(good) != len(commits):
            self._rewrite_journal()

    def _rewrite_journal(self) -> None:
        """The journal anew, atomically: the header and the kept commits."""
        with atomic_path(self.root / JOURNAL) as tmp, open(tmp, "w") as f:
            f.write(json.dumps({"type": "header", "version": FORMAT_VERSION, "config": self.config}) + "\n")
            for c in self.commits:
                f.write(json.dumps({"type": "commit", **c.__dict__}) + "\n")

    # Where OUT's files are: here a local directory; drums/ray_executor.py's remote store
    # overrides these three for a pyarrow file system.
    def _files(self) -> dict[str, int]:
        """Name -> size in bytes of every plain file in OUT."""
        return {p.name: p.stat().st_size for p in self.root.iterdir() if p.is_file()}

    def _file_problems(self, name: str, meta: dict, files: dict[str, int]) -> list[str]:
        return check_file(self.root / name, meta)

    def _delete(self, name: str) -> None:
        (self.root / name).unlink()

    def _append(self, entry: dict, create: bool = False) -> None:
        with open(self.root / JOURNAL, "w" if create else "a") as f:
            f.write(json.dumps(entry) + "\n")
            f.flush()
            os.fsync(f.fileno())
        if create:
            fsync_dir(self.root)

    @property
    def done_ids(self) -> set[str]:
        """Inputs already committed or rejected: a resumed run skips them."""
        return done_ids(self.commits)

    def next_shard(self) -> int:
        return max((c.shard for c in self.commits), default=-1) + 1

    def writer(self, shard: int, schemas: dict[str, pa.Schema]) -> dict:
        """A writer per kind of table; a table with an ``audio`` column has its audio bytes
        written to ``audio-NNNNN.bin`` (see _AudioTableWriter), the rest to Parquet."""
        def make(kind: str, schema: pa.Schema):
            if "audio" in schema.names:
                table = "files" if kind == "audio" else kind
                return _AudioTableWriter(self.root / shard_file(table, shard),
                                         self.root / shard_file("audio", shard, "bin"), schema)
            return _TableWriter(self.root / shard_file(kind, shard), schema)
        return {kind: make(kind, schema) for kind, schema in schemas.items()}

    def commit(self, shard: int, writers: dict[str, _TableWriter], inputs: list[str], rejects: list[dict],
               stats: dict | None = None) -> Commit:
        files = {name: meta for w in writers.values() for name, meta in w.close_files().items()}
        return self._commit_files(shard, files, inputs, rejects, stats)

    def adopt(self, shard: int, files: dict[str, tuple[Path, dict]], inputs: list[str], rejects: list[dict],
              stats: dict | None = None) -> Commit:
        """Commit shard files that another process wrote whole (a Ray task, drums/ray_executor.py):
        ``files`` maps each final name to (its finished temporary file, its rows/bytes/sha256).
        A file whose size is not the one its writer measured is refused before anything moves."""
        for name, (src, meta) in files.items():
            problems = check_file(Path(src), meta, checksum=False)
            if problems:
                raise OSError(f"{src}: cannot commit it as {name}: {problems[0]}")
        group = AtomicFiles()
        for name, (src, _) in files.items():
            group.adopt(self.root / name, src)
        group.commit()
        return self._commit_files(shard, {name: meta for name, (_, meta) in files.items()}, inputs, rejects, stats)

    def _commit_files(self, shard: int, files: dict, inputs: list[str], rejects: list[dict],
                      stats: dict | None) -> Commit:
        fsync_dir(self.root)
        _fault("after_rename")
        c = Commit(shard, files, list(inputs), list(rejects), stats or {})  # callers reuse their lists
        _fault("before_journal", journal=self.root / JOURNAL, line=json.dumps({"type": "commit", **c.__dict__}))
        self._append({"type": "commit", **c.__dict__})
        _fault("after_commit")
        self.commits.append(c)
        return c


def read_journal(path: Path) -> tuple[dict, list[Commit]]:
    """The header and the complete commit lines; a torn last line (a crash mid-append) is ignored."""
    header, commits = {}, []
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            if not raw.endswith(b"\n"):
                break  # torn write: never acknowledged, so never committed
            try:
                entry = json.loads(raw)
                why = _entry_problem(entry)
            except (ValueError, RecursionError) as e:  # RecursionError: nesting deeper than json parses
                why = str(e) or type(e).__name__
            if why:
                raise ValueError(f"{path} line {number} is damaged ({why}); the shards it lists cannot be "
                                 f"trusted: prepare into a new directory") from None
            if entry["type"] == "header":
                header = entry
            elif entry["type"] == "commit":
                commits.append(Commit(entry["shard"], entry["files"], entry["inputs"], entry["rejects"],
                                      entry.get("stats", {})))
    if not header:
        raise ValueError(f"{path}: no header line; this is not a cadence output journal")
    return header, commits


def _number(x) -> bool:
    return type(x) in (int, float)


def _names(x) -> bool:
    return isinstance(x, list) and all(type(v) is str for v in x)


# The JSON kinds of the options prepare's build_config writes into the header (values are
# checked by prepare itself): another kind would reach the engine's arguments as a TypeError.
_CONFIG_KINDS = {
    **dict.fromkeys(("layout", "mapping", "codec", "index_codec", "dataset"), lambda v: type(v) is str),
    **dict.fromkeys(("sample_rate_hz", "flac_level", "shard_bytes"), lambda v: type(v) is int),
    **dict.fromkeys(("merge_ms", "pad_before_s", "clip_s", "csv_tolerance_s", "midi_tolerance_s", "max_offset_ms"),
                    _number),
    "align": lambda v: type(v) is bool,
    "selection": lambda v: isinstance(v, dict),
    "choices": lambda v: isinstance(v, dict),
    "channels": lambda v: isinstance(v, list) and all(type(c) is int for c in v),
    "classes": lambda v: isinstance(v, list) and all(
        isinstance(c, list) and len(c) == 2 and type(c[0]) is str and isinstance(c[1], list)
        and all(type(p) is int for p in c[1]) for c in v),
}
_SELECTION_KINDS = {
    "csv": lambda v: v is None or type(v) is str,
    **dict.fromkeys(("splits", "kits", "drummers"), lambda v: v is None or _names(v)),
    "sample_fraction": lambda v: v is None or _number(v),
    "seed": lambda v: type(v) is int,
    "limit": lambda v: v is None or type(v) is int,
}


def _entry_problem(entry) -> str | None:
    """What is wrong with a journal line's shape (another tool's or a damaged copy's), or None:
    a header with its options, or a commit whose files, inputs and rejects are what
    Store.commit writes, so that no reader meets a wrong type deep inside."""
    def count(x) -> bool:
        return type(x) is int and x >= 0

    def text(x) -> bool:
        return type(x) is str

    if not isinstance(entry, dict) or entry.get("type") not in ("header", "commit"):
        return "neither a header nor a commit"
    if entry["type"] == "header":
        config = entry.get("config")
        if not isinstance(config, dict):
            return "a header without its options"
        bad = sorted(k for k, v in config.items() if k in _CONFIG_KINDS and not _CONFIG_KINDS[k](v))
        bad += sorted(f"selection.{k}" for k, v in (config.get("selection") or {}).items()
                      if k in _SELECTION_KINDS and not _SELECTION_KINDS[k](v))
        return f"a header whose options {', '.join(bad)} are not of their kind" if bad else None
    files, inputs, rejects = entry.get("files"), entry.get("inputs"), entry.get("rejects")
    if not (count(entry.get("shard")) or entry.get("shard") == -1):  # -1: a commit of rejects alone
        return "a commit without a shard number"
    if not isinstance(files, dict) or not all(
            text(k) and k == os.path.basename(k) and not k.startswith(".") and isinstance(v, dict)
            and count(v.get("rows")) and count(v.get("bytes")) and text(v.get("sha256")) for k, v in files.items()):
        return "a commit whose files are not names with rows, bytes and sha256"
    # Readers name a shard's files by its number (shard_file): a file named for another shard would
    # pass the commit's own checks and be missing to every reader.
    shard = entry["shard"]
    if any(k != shard_file(k.partition("-")[0], shard, k.partition(".")[2]) for k in files):
        return f"a commit whose files are not named for its shard {shard}"
    if not isinstance(inputs, list) or not all(text(i) for i in inputs):
        return "a commit whose inputs are not names"
    if not isinstance(rejects, list) or not all(
            isinstance(r, dict) and text(r.get("pair_id")) and text(r.get("reason")) and text(r.get("message"))
            for r in rejects):
        return "a commit whose rejects are not pair_id, reason and message"
    return _stats_problem(entry.get("stats", {}))


def _stats_problem(stats) -> str | None:
    """The shape of a commit's figures (consumer.Totals.to_json): numbers, counters keyed by
    name (by number for pitches and channels), notes per channel per input, and [kit, offset ms,
    peak ratio] per input. Keys this version does not know are left to the versions that do."""
    def number(x) -> bool:
        return type(x) in (int, float)

    def counter(x, numbered: bool = False) -> bool:
        return isinstance(x, dict) and all(number(v) and (not numbered or k.isdigit()) for k, v in x.items())

    if not isinstance(stats, dict):
        return "a commit whose figures are not a mapping"
    shapes = {
        "unmapped_by_pitch": lambda v: counter(v, numbered=True),
        "unmapped_labels": counter,
        "notes_by_channel": lambda v: counter(v, numbered=True),
        "channels_by_input": lambda v: isinstance(v, dict) and all(counter(x) for x in v.values()),
        "alignment_by_input": lambda v: isinstance(v, dict) and all(
            isinstance(x, list) and len(x) == 3 and type(x[0]) is str and number(x[1]) and number(x[2])
            for x in v.values()),
    }
    for key in ("files", "records", "notes", "unmapped", "audio_s", "raw_bytes", "warnings"):
        shapes[key] = number
    for key in ("clips_by_codec", "bytes_by_codec", "dropped"):
        shapes[key] = counter
    bad = sorted(k for k, v in stats.items() if k in shapes and not shapes[k](v))
    return f"a commit whose figures {', '.join(bad)} are not of their kind" if bad else None


def done_ids(commits: list[Commit]) -> set[str]:
    """The inputs the commits hold or rejected."""
    return {i for c in commits for i in c.inputs} | {r["pair_id"] for c in commits for r in c.rejects}


def progress(root: Path) -> tuple[int, int | None] | None:
    """(inputs done, inputs planned) of a directory whose runs left inputs to do, else None.

    Left to do: the report says its run was interrupted (Ctrl-C; a run marks its report so while
    it works, so a killed run says it too), or the journal holds fewer inputs than the report
    planned (a damaged shard dropped by a later --resume that did not finish). Planned is None
    for a report written before reports counted it. No report at all says nothing: None."""
    try:
        report = json.loads((root / REPORT).read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):  # RecursionError: nesting deeper than json parses
        return None
    if not isinstance(report, dict):
        return None
    planned = report.get("inputs_planned")
    planned = planned if isinstance(planned, int) and not isinstance(planned, bool) else None
    done = len(done_ids(read_journal(root / JOURNAL)[1]))
    if report.get("interrupted") is True or (planned is not None and done < planned):
        return done, planned
    return None


def incomplete_message(left: tuple[int, int | None]) -> str:
    """"incomplete: N of M inputs; ..." for :func:`progress`'s answer."""
    done, planned = left
    of = f"{done:,} of {planned:,} inputs" if planned is not None else f"{done:,} inputs done, the last run stopped"
    return f"incomplete: {of}; run the same `cadence drums prepare` command with --resume"


def _drop_torn_tail(path: Path) -> bool:
    """Cut a torn last line off the journal, so that the next append starts a fresh line."""
    data = path.read_bytes()
    keep = data.rfind(b"\n") + 1
    if keep == len(data):
        return False
    with open(path, "rb+") as f:
        f.truncate(keep)
        os.fsync(f.fileno())
    return True


def check_file(path: Path, meta: dict, checksum: bool = True) -> list[str]:
    """Problems with one committed file: missing, wrong size, wrong checksum (unless not asked)."""
    if not path.exists():
        return [f"{path.name} is missing"]
    size = path.stat().st_size
    if size != meta["bytes"]:
        return [f"{path.name} has {size} bytes, the journal says {meta['bytes']} (truncated?)"]
    if checksum and sha256_of(path) != meta["sha256"]:
        return [f"{path.name} checksum differs from the journal (corrupted)"]
    return []
