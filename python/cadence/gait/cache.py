"""A results cache for repeated gait analysis: the guide's ``LocomotionDataCache``, done safely.

The guide's cache pickles results (loading one runs code) and keys them by the MD5 of
``str(args)``, so a rewritten input file serves the old answer. This one:

- keys an entry by the function, its arguments (as canonical JSON), the engine version (the
  package version and a digest of the compiled engine) and the identity of every input file an
  argument names: size, mtime and a hash of the Parquet footer (which holds every column chunk's
  offsets and statistics), or of the whole file with ``full_hash=True``. A changed file never
  serves an old result;
- stores values as data only: numpy arrays as ``.npy`` (``allow_pickle=False``), pandas and Arrow
  tables as Arrow IPC, and dicts, lists, tuples, plain scalars and strings in a JSON manifest.
  Any other type raises ``TypeError`` naming it and where it sits in the result;
- writes each entry into a temporary directory renamed into place when whole, under an exclusive
  lock on ``DIR/lock`` (readers take it shared), so several processes can share a directory;
- evicts least recently used entries when the total exceeds ``max_cache_size``;
- drops a damaged entry (bad manifest, missing or truncated blob, digest mismatch) with a
  :class:`CacheDamagedWarning`, and the caller recomputes it;
- counts hits, misses, bytes read and written, evictions and damaged entries (:meth:`stats`).

Decoded feature columns for warm runs (``LocomotionData(path, cache=...)``) live in the same
directory as uncompressed Arrow IPC files, memory-mapped when read (:meth:`columns`).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import mmap
import os
import re
import shutil
import struct
import tempfile
import time
import tokenize
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .. import __version__
from ..atomic import atomic_path, publish_dir

#: Bumped when the entry layout changes; part of every key.
FORMAT = 1
_MANIFEST = "manifest.json"
#: The directory's own settings (its size limit), so that every process using it, and
#: ``cadence gait cache info``, see the limit set in Python.
_SETTINGS = "settings.json"
#: max_cache_size when neither the caller nor the directory names one: the guide's 1000 MB.
DEFAULT_MAX_MB = 1000
_MISSING = object()


class CacheWriteWarning(UserWarning):
    """A result could not be stored (disk full, no permission, larger than the limit)."""


class CacheDamagedWarning(UserWarning):
    """A cache entry could not be read back; it was removed and the result is recomputed."""


@functools.lru_cache(maxsize=1)
def engine_version() -> str:
    """The package version and a digest of the compiled engine: a rebuilt engine is a new version."""
    from .. import _core

    h = hashlib.blake2b(digest_size=12)
    with open(_core.__file__, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return f"{__version__}+{h.hexdigest()}"


def file_identity(path: str | os.PathLike, full_hash: bool = False) -> dict:
    """What identifies a file's contents: resolved path, size, mtime (ns) and a digest of the
    Parquet footer (another format: of its first and last 64 KiB), or of every byte."""
    p = Path(path).resolve()
    st = p.stat()
    h = hashlib.blake2b(digest_size=16)
    with open(p, "rb") as f:
        if full_hash:
            for chunk in iter(lambda: f.read(1 << 22), b""):
                h.update(chunk)
            kind = "content"
        else:
            kind = "footer"
            tail = b""
            if st.st_size >= 12:
                f.seek(st.st_size - 8)
                tail = f.read(8)
            if tail[4:] == b"PAR1":
                n = struct.unpack("<I", tail[:4])[0]
                f.seek(max(0, st.st_size - 8 - n))
                h.update(f.read(n + 8))
            else:
                kind = "ends"
                h.update(f.read(1 << 16))
                f.seek(max(0, st.st_size - (1 << 16)))
                h.update(f.read(1 << 16))
    return {"path": str(p), "size": st.st_size, "mtime_ns": st.st_mtime_ns, kind: h.hexdigest()}


def _key_part(value: Any, full_hash: bool, where: str) -> Any:
    """An argument as canonical JSON; files by their identity."""
    if value is None or isinstance(value, (bool, int, str)):
        if isinstance(value, str) and value and os.path.isfile(value):
            return {"file": file_identity(value, full_hash)}
        return value
    if isinstance(value, float):
        return {"float": value.hex()}
    if isinstance(value, np.generic):
        return _key_part(value.item(), full_hash, where)
    if isinstance(value, os.PathLike):
        p = Path(value)
        return {"file": file_identity(p, full_hash)} if p.is_file() else {"path": str(p)}
    if isinstance(value, (list, tuple)):
        return [_key_part(v, full_hash, f"{where}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {"dict": sorted([json.dumps(_key_part(k, full_hash, where), sort_keys=True),
                                _key_part(v, full_hash, f"{where}[{k!r}]")] for k, v in value.items())}
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return {"array": hashlib.blake2b(np.ascontiguousarray(value).tobytes(), digest_size=16).hexdigest(),
                "dtype": value.dtype.str, "shape": list(value.shape)}
    cache_key = getattr(value, "_cache_key", None)  # LocomotionData: its file and settings
    if callable(cache_key):
        return _key_part(cache_key(), full_hash, where)
    raise TypeError(f"cache key: cannot use a {type(value).__module__}.{type(value).__qualname__} ({where}); "
                    f"arguments may be plain scalars, strings, paths, numpy arrays, lists, tuples and dicts")


# ---- values: data only, never pickle ---------------------------------------------------------------
_SUPPORTED = ("numpy arrays (numeric or bool), pandas DataFrames/Series, Arrow tables, dicts, lists, "
              "tuples, None, bool, int, float and str")


def _encode(value: Any, blobs: dict[str, Any], where: str) -> Any:
    if isinstance(value, np.generic) and value.dtype.kind in "biuf":  # before float: np.float64 is one
        return {"t": "npscalar", "dtype": value.dtype.str,
                "v": value.item().hex() if value.dtype.kind == "f" else value.item()}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return {"t": "int", "v": str(value)}
    if isinstance(value, float):
        return {"t": "float", "v": value.hex()}
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise TypeError(f"cache: cannot store a numpy array of dtype {value.dtype} ({where}); "
                            f"it stores {_SUPPORTED}")
        name = f"b{len(blobs)}.npy"
        blobs[name] = value
        return {"t": "ndarray", "blob": name}
    if isinstance(value, (pd.DataFrame, pd.Series)):
        frame = value.to_frame() if isinstance(value, pd.Series) else value
        name = f"b{len(blobs)}.arrow"
        try:
            blobs[name] = pa.Table.from_pandas(frame, preserve_index=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as e:
            raise TypeError(f"cache: cannot store this DataFrame as Arrow ({where}): {e}") from None
        return {"t": "series" if isinstance(value, pd.Series) else "frame", "blob": name}
    if isinstance(value, (pa.Table, pa.RecordBatch)):
        name = f"b{len(blobs)}.arrow"
        blobs[name] = pa.table(value)
        return {"t": "table" if isinstance(value, pa.Table) else "batch", "blob": name}
    if isinstance(value, (list, tuple)):
        return {"t": "list" if isinstance(value, list) else "tuple",
                "v": [_encode(v, blobs, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, dict):
        return {"t": "dict", "v": [[_encode(k, blobs, f"{where} key"), _encode(v, blobs, f"{where}[{k!r}]")]
                                   for k, v in value.items()]}
    raise TypeError(f"cache: cannot store a {type(value).__module__}.{type(value).__qualname__} ({where}); "
                    f"it stores {_SUPPORTED}")


#: What reading an entry written by someone else (a damaged disk, a hostile shared directory) can
#: raise; any of them drops the entry. Nothing in an entry is executed: no pickle, no eval.
_DAMAGED = (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError, RecursionError,
            pa.ArrowException)


def _decode(node: Any, read_blob: Callable[[str], Any]) -> Any:
    if node is None or isinstance(node, (bool, str)):
        return node
    t = node["t"]
    if t == "int":
        return int(node["v"])
    if t == "float":
        return float.fromhex(node["v"])
    if t == "npscalar":
        dtype = np.dtype(node["dtype"])
        if dtype.kind not in "biuf":
            raise ValueError(f"scalar of dtype {dtype}")
        return dtype.type(float.fromhex(node["v"]) if dtype.kind == "f" else node["v"])
    if t == "ndarray":
        return read_blob(node["blob"])
    if t in ("frame", "series"):
        frame = read_blob(node["blob"]).to_pandas()
        return frame.iloc[:, 0] if t == "series" else frame
    if t == "table":
        return read_blob(node["blob"])
    if t == "batch":
        return read_blob(node["blob"]).combine_chunks().to_batches()[0]
    if t in ("list", "tuple"):
        items = [_decode(v, read_blob) for v in node["v"]]
        return items if t == "list" else tuple(items)
    if t == "dict":
        return {_decode(k, read_blob): _decode(v, read_blob) for k, v in node["v"]}
    raise ValueError(f"unknown node type {t!r}")


def _write_blob(path: Path, value: Any) -> None:
    if isinstance(value, np.ndarray):
        with open(path, "wb") as f:
            np.save(f, value, allow_pickle=False)
    else:
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, value.schema) as w:
            w.write_table(value)


def _mapped_table(path: Path) -> pa.Table:
    """An Arrow IPC file as a table over a read-only memory map (zero-copy). The kernel is told
    the whole file will be read (MADV_WILLNEED), so pages evicted from the page cache are read
    ahead instead of faulting in one by one while the engine runs."""
    with open(path, "rb") as f:
        mm = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
    if hasattr(mm, "madvise") and hasattr(mmap, "MADV_WILLNEED"):
        mm.madvise(mmap.MADV_WILLNEED)
    return pa.ipc.open_file(pa.py_buffer(mm)).read_all()  # the buffers keep the map alive


def _load_npy(path: Path) -> np.ndarray:
    """An .npy blob whose header is checked first: a damaged one is a ValueError (numpy's header
    parser raises tokenize and syntax errors too), and one claiming more data than the file
    holds is refused before numpy allocates for the claim."""
    with open(path, "rb") as f:
        try:
            fmt = np.lib.format
            version = fmt.read_magic(f)
            shape, _, dtype = (fmt.read_array_header_1_0 if version == (1, 0) else fmt.read_array_header_2_0)(f)
        except (SyntaxError, TypeError, tokenize.TokenError) as e:  # SyntaxError covers ast's errors
            raise ValueError(f"{path.name}: damaged header ({e})") from None
        claimed = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if dtype.hasobject or claimed > os.fstat(f.fileno()).st_size - f.tell():
            raise ValueError(f"{path.name}: the header claims {claimed} bytes of {dtype}, more than the file holds")
    return np.load(path, allow_pickle=False)


def _digest(path: Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class CacheStats:
    """Counters of one cache object (this process)."""

    hits: int = 0
    misses: int = 0
    bytes_read: int = 0
    bytes_written: int = 0
    evicted: int = 0
    damaged: int = 0
    by_function: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {"hits": self.hits, "misses": self.misses, "bytes_read": self.bytes_read,
                "bytes_written": self.bytes_written, "evicted": self.evicted, "damaged": self.damaged}


class LocomotionDataCache:
    """The guide's cache API over a directory shared safely by several processes.

    Parameters
    ----------
    cache_dir : str or Path
        Created when missing.
    max_cache_size : int or str, optional
        Megabytes (the guide's unit) or a size such as ``"2G"``. Least recently used entries are
        evicted past it. Given, it is recorded in the directory (``settings.json``) and becomes
        the limit of every later user of it, ``--cache DIR`` and ``cadence gait cache info``
        included; None: the limit recorded there, else 1000 MB.
    full_hash : bool
        Identify input files by a hash of every byte instead of size + mtime + Parquet footer.
    """

    def __init__(self, cache_dir: str | os.PathLike = ".cache", max_cache_size: int | str | None = None, *,
                 full_hash: bool = False) -> None:
        from ..runtime import parse_bytes

        self.cache_dir = Path(cache_dir)
        self.full_hash = full_hash
        (self.cache_dir / "entries").mkdir(parents=True, exist_ok=True)
        self._lock_path = self.cache_dir / "lock"
        self.counters = CacheStats()
        if max_cache_size is None:
            recorded = self._recorded_limit()
            self.max_bytes = DEFAULT_MAX_MB * 2**20 if recorded is None else recorded
        else:
            self.max_bytes = int(max_cache_size * 2**20) if isinstance(max_cache_size, (int, float)) \
                else parse_bytes(max_cache_size)
            self._record_limit()
        self.max_cache_size = max_cache_size if max_cache_size is not None else self.max_bytes / 2**20

    def _recorded_limit(self) -> int | None:
        try:
            value = json.loads((self.cache_dir / _SETTINGS).read_text())["max_bytes"]
        except (OSError, ValueError, KeyError, TypeError):
            return None  # none recorded, or unreadable: the default
        return value if isinstance(value, int) and value >= 0 else None

    def _record_limit(self) -> None:
        if self._recorded_limit() == self.max_bytes:
            return
        try:
            with self._locked(exclusive=True), atomic_path(self.cache_dir / _SETTINGS) as tmp:
                tmp.write_text(json.dumps({"max_bytes": self.max_bytes}))
        except OSError as e:
            warnings.warn(f"cache {self.cache_dir}: could not record max_cache_size ({e}); other users of the "
                          f"directory keep its earlier limit", CacheWriteWarning, stacklevel=3)

    # ---- locking ---------------------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self, exclusive: bool):
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)  # releases the lock

    # ---- keys ------------------------------------------------------------------------------------
    def key(self, func_name: str, args: tuple = (), kwargs: dict | None = None) -> str:
        """The entry name of a call: a digest of function, arguments, engine version and inputs."""
        doc = {"format": FORMAT, "engine": engine_version(), "function": func_name,
               "args": _key_part(list(args), self.full_hash, "args"),
               "kwargs": _key_part(dict(kwargs or {}), self.full_hash, "kwargs")}
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:40]

    def _entry(self, key: str) -> Path:
        return self.cache_dir / "entries" / key

    # ---- the guide's API -------------------------------------------------------------------------
    def get(self, func_name: str, args: tuple = (), kwargs: dict | None = None, default: Any = None) -> Any:
        """The cached result, or ``default`` (None, as the guide) when there is none."""
        value = self._lookup(func_name, self.key(func_name, args, kwargs))
        return default if value is _MISSING else value

    def set(self, func_name: str, args: tuple, kwargs: dict | None, result: Any) -> None:
        """Store a result (TypeError, before anything is written, for a type it cannot store)."""
        self._put(func_name, self.key(func_name, args, kwargs), result)

    def memoize(self, func_name: str, args: tuple, kwargs: dict | None, compute: Callable[[], Any]) -> Any:
        """The stored result of ``func_name(*args, **kwargs)``, or ``compute()``'s, stored on the
        way out (the one look-up / compute / encode / store sequence: ``cached_analysis`` and
        ``LocomotionData``'s analyses go through it)."""
        key = self.key(func_name, args, kwargs)
        value = self._lookup(func_name, key)
        if value is not _MISSING:
            return value
        value = compute()
        self._put(func_name, key, value)
        return value

    def _put(self, func_name: str, key: str, result: Any) -> None:
        blobs: dict[str, Any] = {}
        tree = _encode(result, blobs, "result")
        self._store(key, {"function": func_name, "value": tree}, blobs)

    def _lookup(self, func_name: str, key: str) -> Any:
        def read(entry: Path, manifest: dict):
            size = 0

            def read_blob(name: str):
                nonlocal size
                if not re.fullmatch(r"b[0-9]+\.(npy|arrow)", name):  # only files of this entry
                    raise ValueError(f"blob name {name!r}")
                path = entry / name
                info = manifest["blobs"][name]
                if path.stat().st_size != info["bytes"] or _digest(path) != info["blake2b"]:
                    raise ValueError(f"{name}: size or digest differs from the manifest")
                size += info["bytes"]
                if name.endswith(".npy"):
                    return _load_npy(path)
                with pa.OSFile(str(path), "rb") as f:
                    return pa.ipc.open_file(f).read_all()

            return _decode(manifest["value"], read_blob), size

        found = self._read_entry(self._entry(key), read)
        self._count(func_name, hit=found is not None)
        if found is None:
            return _MISSING
        value, size = found
        self.counters.bytes_read += size
        return value

    def _read_entry(self, entry: Path, read: Callable[[Path, dict], Any]) -> Any:
        """``read(entry, manifest)`` under the shared lock, or None when the entry is absent or
        damaged (a damaged one is dropped, with a warning, and recomputed by the caller). A
        read entry's manifest is touched: its last access, for LRU eviction."""
        with self._locked(exclusive=False):
            if not entry.is_dir():
                return None
            try:
                value = read(entry, json.loads((entry / _MANIFEST).read_text()))
            except _DAMAGED as e:
                damaged = e
            else:
                damaged = None
        if damaged is not None:
            self._drop_damaged(entry, damaged)
            return None
        with contextlib.suppress(OSError):
            os.utime(entry / _MANIFEST)
        return value

    def _count(self, func_name: str, hit: bool) -> None:
        c = self.counters
        c.hits += hit
        c.misses += not hit
        f = c.by_function.setdefault(func_name, {"hits": 0, "misses": 0})
        f["hits" if hit else "misses"] += 1

    def _drop_damaged(self, entry: Path, why: Exception) -> None:
        warnings.warn(f"cache entry {entry} is damaged ({why}); removed, the result is recomputed",
                      CacheDamagedWarning, stacklevel=4)
        self.counters.damaged += 1
        with self._locked(exclusive=True):
            shutil.rmtree(entry, ignore_errors=True)

    def _store(self, key: str, manifest: dict, blobs: dict[str, Any],
               write: Callable[[Path], None] | None = None) -> None:
        """Write an entry; a cache that cannot take it (disk full, read-only, larger than the
        whole limit) warns and the analysis goes on without it."""
        try:
            self._store_entry(key, manifest, blobs, write)
        except OSError as e:
            warnings.warn(f"cache {self.cache_dir}: could not store a {manifest.get('function')} result ({e}); "
                          f"continuing without caching it", CacheWriteWarning, stacklevel=3)

    def _store_entry(self, key: str, manifest: dict, blobs: dict[str, Any],
                     write: Callable[[Path], None] | None) -> None:
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.cache_dir))
        try:
            infos = {}
            for name, value in blobs.items():
                _write_blob(tmp / name, value)
            if write is not None:
                write(tmp)
            for path in tmp.iterdir():
                infos[path.name] = {"bytes": path.stat().st_size,
                                    "blake2b": None if write is not None else _digest(path)}
            manifest = {**manifest, "format": FORMAT, "engine": engine_version(), "created": time.time(),
                        "blobs": infos, "bytes": sum(i["bytes"] for i in infos.values())}
            if manifest["bytes"] > self.max_bytes:
                raise OSError(f"{manifest['bytes'] / 2**20:.0f} MiB is more than max_cache_size "
                              f"({self.max_bytes / 2**20:.0f} MiB); raise it to cache this")
            (tmp / _MANIFEST).write_text(json.dumps(manifest))
            for path in tmp.iterdir():
                with open(path, "rb") as f:
                    os.fsync(f.fileno())
            with self._locked(exclusive=True):
                if not publish_dir(tmp, self._entry(key)):  # another process stored the same result first
                    return
                self.counters.bytes_written += manifest["bytes"]
                self._evict(keep=key)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def _entries(self) -> list[tuple[float, int, Path, dict]]:
        out = []
        for e in (self.cache_dir / "entries").iterdir():
            try:
                m = e / _MANIFEST
                manifest = json.loads(m.read_text())
                # Only a manifest of the shape this cache writes counts: another tool's or a damaged
                # one (a list, a size that is not a count, a function that is not a name) is sized by
                # its files and listed as damaged, never met by eviction or `cache info`.
                if not (isinstance(manifest, dict) and type(manifest.get("bytes")) is int and manifest["bytes"] >= 0
                        and isinstance(manifest.get("function"), str)):
                    raise ValueError("not a manifest of this cache")
                out.append((m.stat().st_mtime, manifest["bytes"], e, manifest))
            except (OSError, ValueError, RecursionError):
                out.append((0.0, sum(p.stat().st_size for p in e.glob("*") if p.is_file()), e, {}))
        return out

    def _evict(self, keep: str) -> None:
        for tmp in self.cache_dir.glob(".tmp-*"):  # a writer killed mid-entry, an hour ago or more
            with contextlib.suppress(OSError):
                if time.time() - tmp.stat().st_mtime > 3600:
                    shutil.rmtree(tmp, ignore_errors=True)
        entries = sorted(self._entries(), key=lambda t: t[0])
        total = sum(t[1] for t in entries)
        for _, size, path, _ in entries:
            if total <= self.max_bytes:
                break
            if path.name == keep:
                continue
            shutil.rmtree(path, ignore_errors=True)
            total -= size
            self.counters.evicted += 1

    # ---- warm feature columns --------------------------------------------------------------------
    def columns(self, data_path: str | os.PathLike, names: list[str], read: Callable[[], pa.Table]) -> pa.Table:
        """Feature columns of a file as a memory-mapped, uncompressed Arrow table (zero-copy):
        from the cache when present, else ``read()`` once, stored, then mapped."""
        func = "cadence.gait.columns"
        key = self.key(func, (Path(data_path),), {"columns": list(names)})
        entry = self._entry(key)
        table = self._map_columns(func, entry)
        if table is not None:
            return table
        decoded = read()
        if decoded.nbytes > self.max_bytes:
            warnings.warn(f"cache {self.cache_dir}: the decoded columns ({decoded.nbytes / 2**20:.0f} MiB) are more "
                          f"than max_cache_size ({self.max_bytes / 2**20:.0f} MiB); not cached, raise it to "
                          f"make warm runs", CacheWriteWarning, stacklevel=3)
            return decoded

        def write(tmp: Path) -> None:
            with pa.OSFile(str(tmp / "columns.arrow"), "wb") as sink, pa.ipc.new_file(sink, decoded.schema) as w:
                for batch in decoded.to_batches(max_chunksize=1 << 20):
                    w.write_batch(batch)

        self._store(key, {"function": func, "columns": list(names)}, {}, write)
        return self._map_columns(func, entry, count=False) or decoded

    def _map_columns(self, func: str, entry: Path, count: bool = True) -> pa.Table | None:
        def read(entry: Path, manifest: dict):
            path = entry / "columns.arrow"
            if path.stat().st_size != manifest["blobs"]["columns.arrow"]["bytes"] or type(manifest["bytes"]) is not int:
                raise ValueError("columns.arrow: size differs from the manifest")
            # No digest here (a warm run would read every byte to check it): the file's structure is
            # checked instead, so damage of the right size is dropped rather than met by the caller.
            table = _mapped_table(path)
            table.validate(full=True)
            if table.column_names != manifest.get("columns"):
                raise ValueError("columns.arrow: not the columns its manifest names")
            return table, manifest["bytes"]

        found = self._read_entry(entry, read)
        if count:
            self._count(func, hit=found is not None)
            if found is not None:
                self.counters.bytes_read += found[1]
        return None if found is None else found[0]

    # ---- inspection ------------------------------------------------------------------------------
    def stats(self) -> dict:
        """This object's counters plus the directory's entries and bytes."""
        with self._locked(exclusive=False):
            entries = self._entries()
        return {**self.counters.as_dict(), "entries": len(entries), "bytes": sum(t[1] for t in entries),
                "max_bytes": self.max_bytes, "directory": str(self.cache_dir)}

    def info(self) -> dict:
        """Entries and bytes per function, for ``cadence gait cache info``."""
        with self._locked(exclusive=False):
            entries = self._entries()
        per: dict[str, dict] = {}
        for mtime, size, _, manifest in entries:
            f = per.setdefault(manifest.get("function", "(damaged)"), {"entries": 0, "bytes": 0, "last_used": 0.0})
            f["entries"] += 1
            f["bytes"] += size
            f["last_used"] = max(f["last_used"], mtime)
        return {"directory": str(self.cache_dir), "entries": len(entries), "bytes": sum(t[1] for t in entries),
                "max_bytes": self.max_bytes, "limit_recorded": self._recorded_limit() is not None, "functions": per}

    def clear(self) -> int:
        """Remove every entry; returns how many."""
        with self._locked(exclusive=True):
            entries = list((self.cache_dir / "entries").iterdir())
            for e in entries:
                shutil.rmtree(e, ignore_errors=True)
            for tmp in self.cache_dir.glob(".tmp-*"):  # left by a killed writer
                shutil.rmtree(tmp, ignore_errors=True)
        return len(entries)


def cached_analysis(cache_instance: LocomotionDataCache | None = None):
    """Decorator: the function's result is read from ``cache_instance`` when its function,
    arguments, engine and input files are unchanged, else computed and stored."""
    if cache_instance is None:
        cache_instance = LocomotionDataCache()

    def decorator(func: Callable) -> Callable:
        name = f"{func.__module__}.{func.__qualname__}"

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            return cache_instance.memoize(name, args, kwargs, lambda: func(*args, **kwargs))

        wrapper.cache = cache_instance
        return wrapper

    return decorator


def open_cache(cache: LocomotionDataCache | str | os.PathLike | None) -> LocomotionDataCache | None:
    """A cache object from what ``LocomotionData(cache=...)`` or ``--cache`` was given."""
    if cache is None or isinstance(cache, LocomotionDataCache):
        return cache
    return LocomotionDataCache(cache)

