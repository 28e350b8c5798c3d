"""The gait cache's warm columns: a file's decoded feature columns kept as one uncompressed
Arrow IPC file in an entry and memory-mapped when read (zero-copy), so that a second run
(``LocomotionData(path, cache=...)``, ``--cache DIR``) decodes no Parquet. The file is not
digested on read (that would read every byte); its structure and column names are checked.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa

from .cache_entries import CacheWriteWarning
from .cache_values import mapped_table


class ColumnCache:
    """Mixed into LocomotionDataCache (an EntryStore with ``key``): the warm feature columns."""

    def columns(self, data_path: str | os.PathLike, names: list[str], read: Callable[[], pa.Table]) -> pa.Table:
        """Feature columns of a file as a memory-mapped, uncompressed Arrow table (zero-copy):
        from the cache when present, else ``read()`` once, stored, then mapped."""
        func = "cadence.gait.columns"
        key = self.key(func, (Path(data_path),), {"columns": list(names)})
        entry = self.entry_path(key)
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

        self.store(key, {"function": func, "columns": list(names)}, {}, write)
        return self._map_columns(func, entry, count=False) or decoded

    def _map_columns(self, func: str, entry: Path, count: bool = True) -> pa.Table | None:
        def read(entry: Path, manifest: dict):
            path = entry / "columns.arrow"
            if path.stat().st_size != manifest["blobs"]["columns.arrow"]["bytes"] or type(manifest["bytes"]) is not int:
                raise ValueError("columns.arrow: size differs from the manifest")
            # No digest here (a warm run would read every byte to check it): the file's structure is
            # checked instead, so damage of the right size is dropped rather than met by the caller.
            table = mapped_table(path)
            table.validate(full=True)
            if table.column_names != manifest.get("columns"):
                raise ValueError("columns.arrow: not the columns its manifest names")
            return table, manifest["bytes"]

        found = self.read_entry(entry, read)
        if count:
            self.count(func, hit=found is not None)
            if found is not None:
                self.counters.bytes_read += found[1]
        return None if found is None else found[0]
