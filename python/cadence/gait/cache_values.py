"""The gait cache's value codec: results as data only, never pickle.

numpy arrays become ``.npy`` blobs (``allow_pickle=False``, the header checked before numpy
allocates), pandas and Arrow tables Arrow IPC blobs, and dicts, lists, tuples, plain scalars
and strings a JSON tree (floats as hex: the same bits back). Any other type is a
``TypeError`` naming it and where it sits. Reading raises one of :data:`DAMAGED` for
anything a damaged or hostile entry can hold; nothing in an entry is executed.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import tokenize
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa


SUPPORTED = ("numpy arrays (numeric or bool), pandas DataFrames/Series, Arrow tables, dicts, lists, "
              "tuples, None, bool, int, float and str")


def encode(value: Any, blobs: dict[str, Any], where: str) -> Any:
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
                            f"it stores {SUPPORTED}")
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
                "v": [encode(v, blobs, f"{where}[{i}]") for i, v in enumerate(value)]}
    if isinstance(value, dict):
        return {"t": "dict", "v": [[encode(k, blobs, f"{where} key"), encode(v, blobs, f"{where}[{k!r}]")]
                                   for k, v in value.items()]}
    raise TypeError(f"cache: cannot store a {type(value).__module__}.{type(value).__qualname__} ({where}); "
                    f"it stores {SUPPORTED}")


#: What reading an entry written by someone else (a damaged disk, a hostile shared directory) can
#: raise; any of them drops the entry. Nothing in an entry is executed: no pickle, no eval.
DAMAGED = (OSError, ValueError, KeyError, TypeError, IndexError, AttributeError, RecursionError,
            pa.ArrowException)


def decode(node: Any, read_blob: Callable[[str], Any]) -> Any:
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
        items = [decode(v, read_blob) for v in node["v"]]
        return items if t == "list" else tuple(items)
    if t == "dict":
        return {decode(k, read_blob): decode(v, read_blob) for k, v in node["v"]}
    raise ValueError(f"unknown node type {t!r}")


def write_blob(path: Path, value: Any) -> None:
    if isinstance(value, np.ndarray):
        with open(path, "wb") as f:
            np.save(f, value, allow_pickle=False)
    else:
        with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_file(sink, value.schema) as w:
            w.write_table(value)


def mapped_table(path: Path) -> pa.Table:
    """An Arrow IPC file as a table over a read-only memory map (zero-copy). The kernel is told
    the whole file will be read (MADV_WILLNEED), so pages evicted from the page cache are read
    ahead instead of faulting in one by one while the engine runs."""
    with open(path, "rb") as f:
        mm = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
    if hasattr(mm, "madvise") and hasattr(mmap, "MADV_WILLNEED"):
        mm.madvise(mmap.MADV_WILLNEED)
    return pa.ipc.open_file(pa.py_buffer(mm)).read_all()  # the buffers keep the map alive


def load_npy(path: Path) -> np.ndarray:
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


def digest(path: Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 22), b""):
            h.update(chunk)
    return h.hexdigest()
