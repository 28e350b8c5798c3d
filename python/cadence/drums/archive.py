"""A drum corpus read straight from its zip (E-GMD ships as one ~90 GB zip64 archive).

The CSV is read here through the engine's libzip reader; the MIDI and audio members are read by
the engine's workers, each through its own archive handle, and decoded from memory
(``_core.PrepareRun(..., archive=...)``). Pairs, rejects and pair ids are the ones the extracted
directory gives (inputs.py), so both give the same records, byte for byte.

A zip holding one directory (``e-gmd-v1.0.0/e-gmd-v1.0.0.csv``, as E-GMD's does) is read
relative to the directory holding the CSV, exactly as the extracted directory would be.
"""

from __future__ import annotations

import io
import math
import os
import posixpath
from pathlib import Path

from .. import _core
from . import inputs as inputs_mod
from .inputs import AUDIO_SUFFIXES, EGMD_COLUMNS, MIDI_SUFFIXES, InputReject, PairInput

ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")  # first member; an empty archive
CSV_MAX_BYTES = 1 << 30  # E-GMD's CSV is ~10 MB; anything near this is not a CSV of pairs


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


class ZipCorpus:
    """The members of a zip as a corpus: its E-GMD CSV, its pairs, the members left unused.

    Raises ValueError (naming the file and what to do) when it is not a readable zip, e.g. a
    truncated download, whose central directory (at the end) is missing."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self._zip = _core.ZipArchive(str(self.path))
        self.names = [n for n in self._zip.names() if n and not n.endswith("/")]
        self._members = set(self.names)

    def find_csv(self, csv: str | os.PathLike | None = None) -> str | None:
        """The member holding the E-GMD CSV: `csv` when given (a member path, or a name matched
        against the members' last component), else the shallowest ``*.csv`` with E-GMD's header."""
        if csv is not None:
            want = str(csv).replace(os.sep, "/")
            if want in self._members:
                return want
            base = posixpath.basename(want)
            found = sorted((n for n in self.names if posixpath.basename(n) == base), key=_depth)
            if not found:
                raise ValueError(f"{self.path}: no member named {base!r} (the --csv given); "
                                 f"CSV members: {', '.join(n for n in self.names if n.endswith('.csv')) or 'none'}")
            return found[0]
        for name in sorted((n for n in self.names if n.lower().endswith(".csv")), key=_depth):
            try:
                head = self._zip.read(name, CSV_MAX_BYTES).split(b"\n", 1)[0].decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                continue
            if tuple(h.strip() for h in head.strip().split(",")) == EGMD_COLUMNS:
                return name
        return None

    def root_of(self, csv_member: str | None) -> str:
        """The directory inside the zip that paths are relative to ('' or 'dir/')."""
        if csv_member is not None:
            d = posixpath.dirname(csv_member)
        else:  # no CSV: a single top directory, as an extracted zip would be entered
            tops = {n.split("/", 1)[0] for n in self.names}
            d = tops.pop() if len(tops) == 1 and all("/" in n for n in self.names) else ""
        return f"{d}/" if d else ""

    def read_csv(self, csv_member: str) -> tuple[list[PairInput], list[InputReject]]:
        """Pairs and rejects of the CSV member, as inputs.read_csv gives them for the extracted
        directory; the pairs' paths are member names."""
        data = self._zip.read(csv_member, CSV_MAX_BYTES)
        root = self.root_of(csv_member)
        text = io.StringIO(data.decode("utf-8"), newline="")
        return inputs_mod.parse_csv(text, f"{self.path}:{csv_member}", lambda rel: self._resolve(root, rel),
                                    f"{self.path}:{root or '/'}")

    def scan(self) -> tuple[list[PairInput], list[InputReject]]:
        """Without a CSV: every .mid/.midi member paired with the .wav/.flac member of the same
        stem, as inputs.scan_directory pairs files."""
        root = self.root_of(None)
        rels = sorted(n[len(root):] for n in self.names if n.startswith(root))
        audio_by_stem: dict[str, str] = {}
        for rel in rels:
            stem, ext = posixpath.splitext(rel)
            if ext.lower() in AUDIO_SUFFIXES:
                if stem not in audio_by_stem or _rank(rel) < _rank(audio_by_stem[stem]):
                    audio_by_stem[stem] = rel
        pairs, rejects = [], []
        for rel in rels:
            stem, ext = posixpath.splitext(rel)
            if ext.lower() not in MIDI_SUFFIXES:
                continue
            audio = audio_by_stem.get(stem)
            if audio is None:
                rejects.append(InputReject(stem, "missing_audio",
                                           f"{self.path}:{root}{rel}: no .wav or .flac member with the same name beside it"))
                continue
            parts = rel.split("/")
            meta = {"source_id": stem, "drummer": parts[0] if len(parts) > 2 else "",
                    "session": "/".join(parts[:2]) if len(parts) > 2 else "", "split": "", "kit_name": "",
                    "style": "", "beat_type": "", "time_signature": "", "bpm": 0}
            pairs.append(PairInput(stem, root + rel, root + audio, math.nan, meta))
        return pairs, rejects

    def unpaired(self, pairs: list[PairInput], csv_member: str | None) -> list[str]:
        """Members under the root that no pair uses, relative to the root (as for a directory)."""
        root = self.root_of(csv_member)
        used = {p.midi_path for p in pairs} | {p.audio_path for p in pairs} | {csv_member}
        return [n[len(root):] for n in sorted(self.names)
                if n.startswith(root) and n not in used and not posixpath.basename(n).startswith(".")]

    def audio_members(self) -> int:
        return sum(1 for n in self.names if posixpath.splitext(n)[1].lower() in AUDIO_SUFFIXES)

    def midi_members(self) -> int:
        return sum(1 for n in self.names if posixpath.splitext(n)[1].lower() in MIDI_SUFFIXES)

    def read(self, name: str, max_bytes: int) -> bytes:
        return self._zip.read(name, max_bytes)

    @staticmethod
    def _resolve(root: str, rel: str) -> str | None:
        # Like inputs._inside for files: no absolute paths, nothing that climbs out of the root.
        if not rel or rel.startswith("/") or "\\" in rel:
            return None
        norm = posixpath.normpath(rel)
        if norm.startswith("../") or norm == "..":
            return None
        return root + norm


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


def explain_empty(corpus: ZipCorpus, csv_member: str | None, pairs, rejects, **filters) -> str:
    """Why nothing is left to prepare from a zip (inputs.explain_empty, members for files)."""
    if csv_member is not None:
        return inputs_mod.explain_empty(corpus.path, f"{corpus.path}:{csv_member}", pairs, rejects, **filters)
    found = (f"{corpus.path} holds no E-GMD CSV; its {len(corpus.names)} member(s) include "
             f"{corpus.midi_members()} MIDI ({', '.join(MIDI_SUFFIXES)}) and {corpus.audio_members()} audio "
             f"({', '.join(AUDIO_SUFFIXES)}): {len(pairs)} pair(s)")
    return inputs_mod.explain_empty(corpus.path, None, pairs, rejects, found=found, **filters)


def _depth(name: str) -> tuple[int, str]:
    return name.count("/"), name


def _rank(rel: str) -> int:
    return AUDIO_SUFFIXES.index(posixpath.splitext(rel)[1].lower())
