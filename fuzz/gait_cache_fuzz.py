"""atheris target: the gait cache reading entries that a crash, a partial copy or another tool
left behind (cadence.gait.LocomotionDataCache: get, set with eviction, info, stats, clear, the
warm columns of LocomotionData(path, cache=DIR), `cadence gait cache info|clear`).

Each input takes a cache holding results of every kind it stores (arrays, tables, frames, series,
nested lists, tuples and dicts of scalars) and the warm columns of a small gait file, and
damages it: a manifest edited (hostile values at any place, keys removed, not JSON at all, deep
nesting), a blob's bytes written over, cut or extended (mostly "resealed": its size and digest
put in the manifest, as a tool that rewrote the entry would), a file removed, an entry replaced
by a file, settings.json rewritten.

Must hold: no call raises; each get gives the value stored or, for a damaged entry, None (a
CacheDamagedWarning; the entry is gone) - a different value only where the manifest or a
resealed blob says so; the warm columns give the same cycles as the file read without a cache
unless a resealed columns.arrow says otherwise; a value set after the damage reads back equal;
the CLI exits 0 or 2.
Run by `make fuzz`; alone: ``.venv/bin/python fuzz/gait_cache_fuzz.py -max_total_time=60 DIR``.
"""

import hashlib
import json
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fuzz_support  # noqa: E402

fuzz_support.use_fuzz_engine()
import atheris  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow as pa  # noqa: E402

from cadence.gait import LocomotionData  # noqa: E402
from cadence.gait.cache import LocomotionDataCache  # noqa: E402
from cadence.sample import gait as sample_gait  # noqa: E402

_WORK = fuzz_support.scratch("gait_cache_fuzz")
_DATA = _WORK / "gait.parquet"
sample_gait.generate(_DATA, subjects=1, strides_per_task=2, tasks=list(sample_gait.ALL_TASKS[:1]), n_features=20,
                     faults=False)
_PRISTINE = _WORK / "pristine"
_CACHE = _WORK / "cache"
_VALUES = {
    "array": np.arange(12, dtype=np.float32).reshape(3, 4),
    "table": pa.table({"a": [1, 2, 3], "b": ["x", "y", None]}),
    "frame": pd.DataFrame({"v": [0.5, 1.5], "w": [1, 2]}),
    "series": pd.Series([1.0, 2.0], name="s"),
    "nested": {"k": [1, 2.5, "s", None, True, (3, np.int16(4), np.float64(0.25))], 7: {"inner": np.ones(2)}},
}


def _equal(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and np.array_equal(a, b)
    if isinstance(a, (pa.Table, pd.DataFrame, pd.Series)):
        return a.equals(b)
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    return a == b


def _cycles(cache) -> np.ndarray:
    loco = LocomotionData(_DATA, cache=cache, verbose=False, jobs=1)
    return loco.get_cycles(loco.get_subjects()[0], loco.get_tasks()[0], loco.get_variables()[:4])[0]


with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    _REFERENCE = _cycles(None)
    _c = LocomotionDataCache(_PRISTINE)
    for _name, _value in _VALUES.items():
        _c.set(_name, (), None, _value)
    assert np.array_equal(_cycles(str(_PRISTINE)), _REFERENCE, equal_nan=True)
_ENTRIES = sorted(p.name for p in (_PRISTINE / "entries").iterdir())
fuzz_support.instrument_cadence(atheris)


def _reseal(entry, name: str) -> None:
    """The manifest's size and digest of `name` made those of its bytes now."""
    manifest_path = entry / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text())
        info = manifest["blobs"][name]
        data = (entry / name).read_bytes()
        info["bytes"] = len(data)
        if info.get("blake2b") is not None:
            info["blake2b"] = hashlib.blake2b(data, digest_size=16).hexdigest()
        manifest_path.write_text(json.dumps(manifest))
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        pass  # the manifest is damaged too


def _damage(fdp: atheris.FuzzedDataProvider) -> bool:
    """Damages the cache; True when what it now says may differ without being damaged."""
    entry = _CACHE / "entries" / fdp.PickValueInList(_ENTRIES)
    files = sorted(p.name for p in entry.iterdir()) if entry.is_dir() else []
    kind = fdp.ConsumeIntInRange(0, 9)
    if kind == 0:  # settings.json
        (_CACHE / "settings.json").write_bytes(
            json.dumps(fuzz_support.hostile_json(fdp)).encode() if fdp.ConsumeBool() else fdp.ConsumeBytes(64))
        return False
    if kind == 1 and entry.is_dir():  # the entry is a file now
        for f in files:
            (entry / f).unlink()
        entry.rmdir()
        entry.write_bytes(fdp.ConsumeBytes(16))
        return False
    if not files:
        return False
    name = fdp.PickValueInList(files)
    path = entry / name
    if kind == 2:
        path.unlink()
        return False
    if name == "manifest.json" or kind <= 5:
        if name != "manifest.json":
            path = entry / "manifest.json"
        try:
            manifest = json.loads(path.read_text())
        except (OSError, ValueError, RecursionError):
            manifest = None
        new = (fuzz_support.hostile_text(fdp) if kind == 3 else
               json.dumps(fuzz_support.edit_json(manifest, fdp)).encode())
        path.write_bytes(new)
        return True
    data = bytearray(path.read_bytes())
    if kind == 6 or not data:
        data = data[:fdp.ConsumeIntInRange(0, len(data))] + fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 32))
    else:
        for _ in range(fdp.ConsumeIntInRange(1, 6)):
            at = fdp.ConsumeIntInRange(0, len(data) - 1)
            chunk = fdp.ConsumeBytes(fdp.ConsumeIntInRange(1, 8))
            data[at:at + len(chunk)] = chunk
    path.write_bytes(bytes(data))
    if fdp.ConsumeIntInRange(0, 3):
        _reseal(entry, name)
        return True
    # Warm columns carry no digest (a warm run would read every byte to check one): damage that
    # keeps the size and the Arrow structure reads as other numbers (docs/RELIABILITY.md).
    return name == "columns.arrow" and len(data) == (entry / name).stat().st_size


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    fuzz_support.copy_tree(_PRISTINE, _CACHE)
    may_differ = False
    for _ in range(fdp.ConsumeIntInRange(1, 3)):
        may_differ |= _damage(fdp)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        limit = fdp.PickValueInList([None, None, 0.001, 1])  # MB: small ones make set() evict
        cache = LocomotionDataCache(_CACHE, max_cache_size=limit)
        for name, value in _VALUES.items():
            got = cache.get(name)
            assert got is None or may_differ or _equal(got, value), (name, got)
        cycles = _cycles(cache)
        assert cycles.shape == _REFERENCE.shape, cycles.shape
        if not may_differ:
            assert np.array_equal(cycles, _REFERENCE, equal_nan=True)
        cache.set("after", (1,), {"x": 2}, _VALUES["nested"])
        got = cache.get("after", (1,), {"x": 2})
        assert got is None or _equal(got, _VALUES["nested"]), got  # None: evicted at once by a tiny limit
        cache.info()
        cache.stats()
        fuzz_support.run_cli("gait", "cache", "info", _CACHE)
        if fdp.ConsumeBool():
            fuzz_support.run_cli("gait", "cache", "clear", _CACHE)
        else:
            cache.clear()


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
