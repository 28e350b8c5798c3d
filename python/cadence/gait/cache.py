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

The pieces: cache_values.py (the value codec), cache_entries.py (the entry store: locks, LRU,
damage, counters), cache_columns.py (the warm columns); this module keys calls and holds the
guide's API.

Decoded feature columns for warm runs (``LocomotionData(path, cache=...)``) live in the same
directory as uncompressed Arrow IPC files, memory-mapped when read (:meth:`columns`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from .cache_columns import ColumnCache
from .cache_entries import (DEFAULT_MAX_MB, FORMAT, CacheDamagedWarning, CacheStats, CacheWriteWarning,
                            EntryStore, engine_version)
from .cache_values import decode, digest, encode, load_npy

__all__ = ["LocomotionDataCache", "cached_analysis", "open_cache", "file_identity", "engine_version",
           "CacheStats", "CacheWriteWarning", "CacheDamagedWarning", "DEFAULT_MAX_MB", "FORMAT"]
_MISSING = object()


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


class LocomotionDataCache(ColumnCache, EntryStore):
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
        self.full_hash = full_hash
        super().__init__(cache_dir, max_cache_size)

    # ---- keys ------------------------------------------------------------------------------------
    def key(self, func_name: str, args: tuple = (), kwargs: dict | None = None) -> str:
        """The entry name of a call: a digest of function, arguments, engine version and inputs."""
        doc = {"format": FORMAT, "engine": engine_version(), "function": func_name,
               "args": _key_part(list(args), self.full_hash, "args"),
               "kwargs": _key_part(dict(kwargs or {}), self.full_hash, "kwargs")}
        return hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()[:40]

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
        tree = encode(result, blobs, "result")
        self.store(key, {"function": func_name, "value": tree}, blobs)

    def _lookup(self, func_name: str, key: str) -> Any:
        def read(entry: Path, manifest: dict):
            size = 0

            def read_blob(name: str):
                nonlocal size
                if not re.fullmatch(r"b[0-9]+\.(npy|arrow)", name):  # only files of this entry
                    raise ValueError(f"blob name {name!r}")
                path = entry / name
                info = manifest["blobs"][name]
                if path.stat().st_size != info["bytes"] or digest(path) != info["blake2b"]:
                    raise ValueError(f"{name}: size or digest differs from the manifest")
                size += info["bytes"]
                if name.endswith(".npy"):
                    return load_npy(path)
                with pa.OSFile(str(path), "rb") as f:
                    return pa.ipc.open_file(f).read_all()

            return decode(manifest["value"], read_blob), size

        found = self.read_entry(self.entry_path(key), read)
        self.count(func_name, hit=found is not None)
        if found is None:
            return _MISSING
        value, size = found
        self.counters.bytes_read += size
        return value


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
