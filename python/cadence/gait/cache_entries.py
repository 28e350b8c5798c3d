"""The gait cache's entry store: one directory shared safely by several processes.

An entry is a directory ``entries/<key>/`` of blobs and a ``manifest.json`` (function, sizes,
digests, format and engine version), written under a temporary name and put in place whole
(atomic.publish_dir) under an exclusive flock on ``DIR/lock`` (readers take it shared).
Least recently used entries (the manifest's mtime, touched on every read) are evicted past
the size limit, which is recorded in the directory (``settings.json``). A damaged entry is
dropped with a :class:`CacheDamagedWarning`; a store that fails warns
(:class:`CacheWriteWarning`) and the analysis goes on. The counters are :class:`CacheStats`.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..atomic import atomic_path, publish_dir
from .cache_values import DAMAGED, digest, write_blob

#: Bumped when the entry layout changes; part of every key.
FORMAT = 1

MANIFEST = "manifest.json"
#: The directory's own settings (its size limit), so that every process using it, and
#: ``cadence gait cache info``, see the limit set in Python.
_SETTINGS = "settings.json"
#: max_cache_size when neither the caller nor the directory names one: the guide's 1000 MB.
DEFAULT_MAX_MB = 1000


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


class EntryStore:
    """Entries of one cache directory: locks, manifests, LRU eviction, damage, counters; what
    LocomotionDataCache's results and warm columns are stored in."""

    def __init__(self, cache_dir: str | os.PathLike, max_cache_size: int | str | None = None) -> None:
        from ..runtime import parse_bytes

        self.cache_dir = Path(cache_dir)
        (self.cache_dir / "entries").mkdir(parents=True, exist_ok=True)
        self._lock_path = self.cache_dir / "lock"
        self.counters = CacheStats()
        if max_cache_size is None:
            recorded = self.recorded_limit()
            self.max_bytes = DEFAULT_MAX_MB * 2**20 if recorded is None else recorded
        else:
            self.max_bytes = int(max_cache_size * 2**20) if isinstance(max_cache_size, (int, float)) \
                else parse_bytes(max_cache_size)
            self._record_limit()
        self.max_cache_size = max_cache_size if max_cache_size is not None else self.max_bytes / 2**20

    def recorded_limit(self) -> int | None:
        try:
            value = json.loads((self.cache_dir / _SETTINGS).read_text())["max_bytes"]
        except (OSError, ValueError, KeyError, TypeError, RecursionError):
            return None  # none recorded, or unreadable: the default
        return value if isinstance(value, int) and value >= 0 else None

    def _record_limit(self) -> None:
        if self.recorded_limit() == self.max_bytes:
            return
        try:
            with self.locked(exclusive=True), atomic_path(self.cache_dir / _SETTINGS) as tmp:
                tmp.write_text(json.dumps({"max_bytes": self.max_bytes}))
        except OSError as e:
            warnings.warn(f"cache {self.cache_dir}: could not record max_cache_size ({e}); other users of the "
                          f"directory keep its earlier limit", CacheWriteWarning, stacklevel=4)

    # ---- locking ---------------------------------------------------------------------------------
    @contextlib.contextmanager
    def locked(self, exclusive: bool):
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
            yield
        finally:
            os.close(fd)  # releases the lock

    def entry_path(self, key: str) -> Path:
        return self.cache_dir / "entries" / key

    def read_entry(self, entry: Path, read: Callable[[Path, dict], Any]) -> Any:
        """``read(entry, manifest)`` under the shared lock, or None when the entry is absent or
        damaged (a damaged one is dropped, with a warning, and recomputed by the caller). A
        read entry's manifest is touched: its last access, for LRU eviction."""
        with self.locked(exclusive=False):
            if not entry.is_dir():
                return None
            try:
                value = read(entry, json.loads((entry / MANIFEST).read_text()))
            except DAMAGED as e:
                damaged = e
            else:
                damaged = None
        if damaged is not None:
            self.drop_damaged(entry, damaged)
            return None
        with contextlib.suppress(OSError):
            os.utime(entry / MANIFEST)
        return value

    def count(self, func_name: str, hit: bool) -> None:
        c = self.counters
        c.hits += hit
        c.misses += not hit
        f = c.by_function.setdefault(func_name, {"hits": 0, "misses": 0})
        f["hits" if hit else "misses"] += 1

    def drop_damaged(self, entry: Path, why: Exception) -> None:
        warnings.warn(f"cache entry {entry} is damaged ({why}); removed, the result is recomputed",
                      CacheDamagedWarning, stacklevel=4)
        self.counters.damaged += 1
        with self.locked(exclusive=True):
            shutil.rmtree(entry, ignore_errors=True)

    def store(self, key: str, manifest: dict, blobs: dict[str, Any],
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
                write_blob(tmp / name, value)
            if write is not None:
                write(tmp)
            for path in tmp.iterdir():
                infos[path.name] = {"bytes": path.stat().st_size,
                                    "blake2b": None if write is not None else digest(path)}
            manifest = {**manifest, "format": FORMAT, "engine": engine_version(), "created": time.time(),
                        "blobs": infos, "bytes": sum(i["bytes"] for i in infos.values())}
            if manifest["bytes"] > self.max_bytes:
                raise OSError(f"{manifest['bytes'] / 2**20:.0f} MiB is more than max_cache_size "
                              f"({self.max_bytes / 2**20:.0f} MiB); raise it to cache this")
            (tmp / MANIFEST).write_text(json.dumps(manifest))
            for path in tmp.iterdir():
                with open(path, "rb") as f:
                    os.fsync(f.fileno())
            with self.locked(exclusive=True):
                if not publish_dir(tmp, self.entry_path(key)):  # another process stored the same result first
                    return
                self.counters.bytes_written += manifest["bytes"]
                self._evict(keep=key)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def entries(self) -> list[tuple[float, int, Path, dict]]:
        out = []
        for e in (self.cache_dir / "entries").iterdir():
            try:
                m = e / MANIFEST
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
        entries = sorted(self.entries(), key=lambda t: t[0])
        total = sum(t[1] for t in entries)
        for _, size, path, _ in entries:
            if total <= self.max_bytes:
                break
            if path.name == keep:
                continue
            shutil.rmtree(path, ignore_errors=True)
            total -= size
            self.counters.evicted += 1

    # ---- inspection ------------------------------------------------------------------------------
    def stats(self) -> dict:
        """This object's counters plus the directory's entries and bytes."""
        with self.locked(exclusive=False):
            entries = self.entries()
        return {**self.counters.as_dict(), "entries": len(entries), "bytes": sum(t[1] for t in entries),
                "max_bytes": self.max_bytes, "directory": str(self.cache_dir)}

    def info(self) -> dict:
        """Entries and bytes per function, for ``cadence gait cache info``."""
        with self.locked(exclusive=False):
            entries = self.entries()
        per: dict[str, dict] = {}
        for mtime, size, _, manifest in entries:
            f = per.setdefault(manifest.get("function", "(damaged)"), {"entries": 0, "bytes": 0, "last_used": 0.0})
            f["entries"] += 1
            f["bytes"] += size
            f["last_used"] = max(f["last_used"], mtime)
        return {"directory": str(self.cache_dir), "entries": len(entries), "bytes": sum(t[1] for t in entries),
                "max_bytes": self.max_bytes, "limit_recorded": self.recorded_limit() is not None, "functions": per}

    def clear(self) -> int:
        """Remove every entry; returns how many."""
        with self.locked(exclusive=True):
            entries = list((self.cache_dir / "entries").iterdir())
            for e in entries:
                shutil.rmtree(e, ignore_errors=True)
            for tmp in self.cache_dir.glob(".tmp-*"):  # left by a killed writer
                shutil.rmtree(tmp, ignore_errors=True)
        return len(entries)
