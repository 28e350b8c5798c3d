"""A drum corpus (ROOT of ``drums prepare``) as one thing, whatever holds it: a local directory, a
zip read in place, or a URI pyarrow opens (``s3://``, ``gs://``, ``hdfs://``, ``file://``).

Every reader of a dataset's layout (datasets/) lists files with :meth:`Corpus.files` and reads
annotation tables and metadata with :meth:`Corpus.read`, both through a pyarrow FileSystem
(a zip through :class:`_ZipHandler` over the engine's libzip reader), so each layout is written
once for the three. The pairs it lists name files relative to the corpus; :meth:`Corpus.engine_path`
gives what the engine's workers open: an absolute path for a directory, a member name for a zip
(the workers read members through their own handle), and nothing for a URI, whose files a Ray
task fetches first (ray_executor.py).
"""

from __future__ import annotations

import math
import os
import posixpath
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.fs as pafs

from .. import _core
from .. import cluster

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # first member; an empty archive
#: The most bytes :meth:`Corpus.read` takes from one metadata file (a CSV, YAML, annotation);
#: E-GMD's CSV is ~10 MB: anything near this is not metadata.
METADATA_MAX_BYTES = 1 << 30
MIDI_SUFFIXES = (".mid", ".midi")
AUDIO_SUFFIXES = (".wav", ".flac")


@dataclass(frozen=True)
class PairInput:
    """One input of a prepared directory: its annotation file(s) and audio file(s), relative to
    the corpus. ``pair_id`` is unique and stable across runs. Several audio files are summed
    (each averaged to mono first: Slakh's drum stems); several annotation files are merged."""

    pair_id: str
    annotation_paths: tuple[str, ...]
    audio_paths: tuple[str, ...]
    annotation_format: str = "midi"
    csv_duration_s: float = math.nan
    dataset: str = ""
    meta: dict = field(default_factory=dict, hash=False, compare=False)
    #: Empty, or one per annotation file: () or 128 tuples of the GM pitches each key sounds as
    #: (kit_maps.py: ``--slakh-kit-map``).
    kit_maps: tuple = field(default=(), hash=False, compare=False)

    def engine_input(self, path_of):
        """The tuple :class:`_core.PrepareRun` takes for this pair, ``path_of(rel)`` giving what
        the engine opens for a corpus file (:meth:`Corpus.engine_path`): ``(midi, audio,
        csv_duration_s)`` for one MIDI file and one audio file, else ``(annotations, format,
        audio, csv_duration_s)``, with the kit maps fifth when there are any."""
        notes = [path_of(p) for p in self.annotation_paths]
        audio = [path_of(p) for p in self.audio_paths]
        if self.kit_maps:
            return notes, self.annotation_format, audio, self.csv_duration_s, [list(m) for m in self.kit_maps]
        if self.annotation_format == "midi" and len(notes) == 1 and len(audio) == 1:
            return notes[0], audio[0], self.csv_duration_s
        return notes, self.annotation_format, audio, self.csv_duration_s

    def to_json(self) -> dict:
        return {"pair_id": self.pair_id, "annotation_paths": list(self.annotation_paths),
                "audio_paths": list(self.audio_paths), "annotation_format": self.annotation_format,
                "csv_duration_s": self.csv_duration_s, "dataset": self.dataset, "meta": self.meta} | (
                    {"kit_maps": [[list(k) for k in m] for m in self.kit_maps]} if self.kit_maps else {})

    @classmethod
    def from_json(cls, d: dict) -> "PairInput":
        return cls(d["pair_id"], tuple(d["annotation_paths"]), tuple(d["audio_paths"]), d["annotation_format"],
                   d["csv_duration_s"], d["dataset"], d["meta"],
                   tuple(tuple(tuple(k) for k in m) for m in d.get("kit_maps", ())))


def _engine_reject(name: str) -> str:
    """One of the engine's reject names (drums::reject_name), for the rejects a listing makes
    before processing: the same reason whether the listing or the engine finds the file missing."""
    if name not in _core.drums_reject_reasons():
        raise ValueError(f"{name!r} is not one of the engine's reject reasons")
    return name


MISSING_MIDI = _engine_reject("missing_midi")
MISSING_AUDIO = _engine_reject("missing_audio")


@dataclass(frozen=True)
class InputReject:
    """An input rejected before processing (bad CSV row, path outside the root, no audio...)."""

    pair_id: str
    reason: str
    message: str


def is_zip(path: str | os.PathLike) -> bool:
    """True when `path` is a file that starts as a zip does (or is named ``*.zip``): it is then
    read as an archive, and a damaged one is reported as such rather than as a missing root."""
    p = Path(path)
    if not p.is_file():
        return False
    try:
        with open(p, "rb") as f:
            head = f.read(4)
    except OSError:
        return False
    return head in ZIP_MAGIC or p.suffix.lower() == ".zip"


class Corpus:
    """ROOT opened: ``kind`` is ``"dir"``, ``"zip"`` or ``"uri"``; ``name`` is ROOT as given.

    A zip whose members all sit under one top directory (E-GMD's ``e-gmd-v1.0.0/``) is entered,
    as the extracted directory would be given."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.name = str(root)
        self.archive = ""
        if cluster.is_uri(root):
            self.kind = "uri"
            self.fs, base = cluster.filesystem(str(root))
            self.base = base.rstrip("/")
            if self.base.endswith(".zip"):
                raise ValueError(f"{root}: a zip on a remote filesystem is not read in place; extract it there, "
                                 f"or copy it to a local path")
            if self.fs.get_file_info(self.base).type != pafs.FileType.Directory:
                raise FileNotFoundError(2, f"{root}: dataset root not found (a directory or a .zip of a drum "
                                        f"dataset, or .mid files with their .wav/.flac)", str(root))
            self.where_prefix = self.name.rstrip("/") + "/"
        elif is_zip(root):
            self.kind = "zip"
            self.zip = _core.ZipArchive(str(root))  # a ValueError naming the file when damaged
            self.archive = str(Path(root))
            self.fs = pafs.PyFileSystem(_ZipHandler(self, self.zip))
            names = [n for n in self.zip.names() if n and not n.endswith("/")]
            tops = {n.split("/", 1)[0] for n in names}
            top = tops.pop() if len(tops) == 1 and all("/" in n for n in names) else ""
            self.base = top
            self.where_prefix = f"{self.archive}:{top + '/' if top else ''}"
        else:
            path = Path(root)
            if path.exists() and not path.is_dir():
                use = (f"; to use this CSV give its directory as ROOT, or pass --csv {path}"
                       if path.suffix.lower() == ".csv" else "")
                raise NotADirectoryError(20, f"{path} is a file, not a dataset root: give the corpus directory "
                                         f"(a drum dataset's top folder, an E-GMD CSV with its files, or .mid "
                                         f"files with their .wav/.flac) or the dataset's .zip{use}", str(path))
            if not path.is_dir():
                raise FileNotFoundError(2, f"{path}: dataset root not found (a directory or a .zip with an E-GMD "
                                        f"CSV, or .mid files with their .wav/.flac)", str(path))
            self.kind = "dir"
            self.fs = pafs.LocalFileSystem()
            self.base = str(path.resolve())
            self.where_prefix = str(path) + os.sep
        self._files: list[str] | None = None

    def files(self) -> list[str]:
        """Every file of the corpus, relative to it ('/'-separated), sorted."""
        if self._files is None:
            selector = pafs.FileSelector(self.base, recursive=True, allow_not_found=True)
            cut = len(self.base) + 1 if self.base else 0
            self._files = sorted(i.path[cut:] for i in self.fs.get_file_info(selector)
                                 if i.type == pafs.FileType.File)
        return self._files

    def read(self, rel: str, max_bytes: int = METADATA_MAX_BYTES) -> bytes:
        """The whole file `rel` (a metadata or annotation file, at most `max_bytes`)."""
        path = self._path(rel)
        if self.kind == "zip":
            return self.zip.read(path, max_bytes)
        try:
            # The size first: a read of max_bytes would allocate that much whatever the file holds.
            size = self.fs.get_file_info(path).size
            if size is not None and size > max_bytes:
                raise ValueError(f"{self.where(rel)}: larger than {max_bytes} bytes: not a metadata file")
            with self.fs.open_input_stream(path) as f:
                data = f.read()
        except (FileNotFoundError, ValueError):
            raise
        except OSError as e:
            raise OSError(e.errno, f"{self.where(rel)}: {e}") from None
        if len(data) > max_bytes:  # grown since its size was read
            raise ValueError(f"{self.where(rel)}: larger than {max_bytes} bytes: not a metadata file")
        return data

    def where(self, rel: str) -> str:
        """How messages name the file `rel`: a path, ``archive.zip:member`` or a URI."""
        return self.where_prefix + (rel.replace("/", os.sep) if self.kind == "dir" else rel)

    def engine_path(self, rel: str) -> str:
        """What the engine opens for `rel`: an absolute path, or a zip member; a URI corpus's files
        are fetched by the Ray task that prepares them (ray_executor.py)."""
        if self.kind == "uri":
            raise ValueError(f"{self.name}: a corpus on a remote filesystem is prepared with --ray, whose tasks "
                             f"fetch its files; a local run takes a local path")
        return self._path(rel)

    def descriptor(self) -> dict:
        """What a Ray task needs to open the same corpus (a path every node sees, or the URI)."""
        return {"kind": self.kind, "name": self.name, "base": self.base}

    def _path(self, rel: str) -> str:
        return posixpath.join(self.base, rel) if self.base else rel

    @staticmethod
    def inside(rel: str) -> str | None:
        """`rel` normalised, or None when it is absolute or climbs out of the corpus."""
        if not rel or rel.startswith("/") or "\\" in rel or Path(rel).is_absolute():
            return None
        norm = posixpath.normpath(rel)
        return None if norm == ".." or norm.startswith("../") else norm


class _ZipHandler(pafs.FileSystemHandler):
    """A zip as a read-only pyarrow FileSystem, over the engine's archive reader (the members'
    CRCs and declared sizes are checked as the workers check them)."""

    def __init__(self, corpus: "Corpus", archive) -> None:
        # The archive through a weak reference to its Corpus: pyarrow keeps a PyFileSystem's
        # handler until the interpreter is gone, and the archive is the Corpus's to close.
        self._corpus = weakref.ref(corpus)
        self._path = archive.path
        self._files = {n for n in archive.names() if n and not n.endswith("/")}
        self._dirs = {posixpath.dirname(n) for n in self._files}
        for d in list(self._dirs):
            while d:
                d = posixpath.dirname(d)
                self._dirs.add(d)

    def __eq__(self, other):
        return isinstance(other, _ZipHandler) and other._path == self._path

    def __ne__(self, other):
        return not self == other

    def get_type_name(self):
        return "cadence-zip"

    def normalize_path(self, path):
        return path.strip("/")

    def _info(self, path):
        path = path.strip("/")
        if path in self._files:
            return pafs.FileInfo(path, pafs.FileType.File, size=self._zip().size(path))
        if path in self._dirs:
            return pafs.FileInfo(path, pafs.FileType.Directory)
        return pafs.FileInfo(path, pafs.FileType.NotFound)

    def get_file_info(self, paths):
        return [self._info(p) for p in paths]

    def get_file_info_selector(self, selector):
        base = selector.base_dir.strip("/")
        if base and base not in self._dirs:
            if selector.allow_not_found:
                return []
            raise FileNotFoundError(base)
        prefix = base + "/" if base else ""
        out = []
        for name in sorted(self._files | (self._dirs - {""})):
            if not name.startswith(prefix) or name == base:
                continue
            if not selector.recursive and "/" in name[len(prefix):]:
                continue
            out.append(self._info(name))
        return out

    def open_input_stream(self, path):
        import pyarrow as pa

        path = path.strip("/")
        if path not in self._files:
            raise FileNotFoundError(path)
        return pa.BufferReader(self._zip().read(path, METADATA_MAX_BYTES))

    def open_input_file(self, path):
        return self.open_input_stream(path)

    def _read_only(self, *args, **kw):
        raise OSError(f"{self._path}: a zip corpus is read-only")

    def _zip(self):
        corpus = self._corpus()
        if corpus is None:
            raise OSError(f"{self._path}: the corpus reading it was closed")
        return corpus.zip

    create_dir = delete_dir = delete_dir_contents = delete_root_dir_contents = delete_file = _read_only
    move = copy_file = open_output_stream = open_append_stream = _read_only
