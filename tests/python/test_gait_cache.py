"""cadence.gait.cache: keys follow the input file, values are data only, LRU, damage, processes."""

import json
import multiprocessing as mp
import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute  # noqa: F401
import pyarrow.parquet as pq
import pytest

from cadence.gait import LocomotionData
from cadence.gait.cache_entries import MANIFEST
from cadence.gait.cache import (CacheDamagedWarning, CacheWriteWarning, LocomotionDataCache, cached_analysis,
                                file_identity)
from cadence.sample import gait


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    path = tmp_path_factory.mktemp("gait") / "sample.parquet"
    gait.generate(path, subjects=2, strides_per_task=8, n_features=20, seed=4, row_group_rows=1500)
    return path


def test_values_round_trip_exactly(tmp_path):
    cache = LocomotionDataCache(tmp_path / "c")
    value = {"a": np.arange(12, dtype=np.float32).reshape(3, 4), "nan": float("nan"), "i": 2**70, "s": "x",
             "t": (1, 2.5, None, True), "df": pd.DataFrame({"x": [1.0, np.nan]}, index=["p", "q"]),
             "series": pd.Series([1, 2], name="n"), "arrow": pa.table({"k": ["u", "v"]}), 7: [np.float64(0.1)]}
    cache.set("f", (1,), {}, value)
    got = cache.get("f", (1,), {})
    np.testing.assert_array_equal(got["a"], value["a"])
    assert got["a"].dtype == np.float32 and np.isnan(got["nan"]) and got["i"] == 2**70 and got["t"] == value["t"]
    pd.testing.assert_frame_equal(got["df"], value["df"])
    pd.testing.assert_series_equal(got["series"], value["series"])
    assert got["arrow"].equals(value["arrow"]) and got[7] == [0.1] and isinstance(got[7][0], np.float64)
    assert cache.get("f", (2,), {}) is None
    assert cache.stats()["hits"] == 1 and cache.stats()["misses"] == 1
    # nothing pickled: only .npy, .arrow and the JSON manifest
    names = {p.suffix for p in (tmp_path / "c" / "entries").rglob("*") if p.is_file()}
    assert names <= {".npy", ".arrow", ".json"}


def test_other_types_raise_a_type_error_naming_them(tmp_path):
    cache = LocomotionDataCache(tmp_path / "c")
    with pytest.raises(TypeError, match=r"builtins.set \(result\['x'\]\)"):
        cache.set("f", (), {}, {"x": {1, 2}})
    with pytest.raises(TypeError, match="dtype object"):
        cache.set("f", (), {}, np.array([object()]))
    with pytest.raises(TypeError, match="cache key: cannot use a builtins.object"):
        cache.get("f", (object(),), {})
    assert not list((tmp_path / "c" / "entries").iterdir())


def test_a_changed_file_never_serves_an_old_result(tmp_path):
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"x": [1.0, 2.0]}), path)
    cache = LocomotionDataCache(tmp_path / "c")
    calls = []

    @cached_analysis(cache)
    def total(p):
        calls.append(1)
        return float(pq.read_table(p).column("x").to_numpy().sum())

    assert total(path) == 3.0 and total(str(path)) == 3.0 and len(calls) == 1
    before = file_identity(path)
    st = os.stat(path)
    pq.write_table(pa.table({"x": [1.0, 5.0]}), path)  # same size, same mtime: only the footer differs
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert file_identity(path)["size"] == before["size"] and file_identity(path) != before
    assert total(path) == 6.0 and len(calls) == 2
    full = LocomotionDataCache(tmp_path / "c", full_hash=True)
    assert "content" in file_identity(path, True) and full.key("f", (path,)) != cache.key("f", (path,))


def test_lru_eviction_by_bytes(tmp_path):
    cache = LocomotionDataCache(tmp_path / "c", max_cache_size="3M")
    block = np.zeros(100_000, dtype=np.float64)  # 800 kB: three fit in 3 MiB, four do not
    seen: set = set()
    for i in range(3):
        cache.set("f", (i,), {}, block)
        # Use times set, not slept: entry i last used at 1000 * (i + 1) s after the epoch.
        new = {m for m in (tmp_path / "c").rglob(MANIFEST)} - seen
        assert len(new) == 1
        os.utime(new.pop(), (1000.0 * (i + 1), 1000.0 * (i + 1)))
        seen = set((tmp_path / "c").rglob(MANIFEST))
    assert cache.get("f", (0,), {}) is not None  # 0 is now the most recently used (its manifest touched now)
    cache.set("f", (3,), {}, block)
    assert cache.stats()["evicted"] == 1 and cache.stats()["bytes"] <= 3 * 2**20
    assert cache.get("f", (1,), {}) is None and cache.get("f", (0,), {}) is not None


def test_a_damaged_entry_is_dropped_and_recomputed(tmp_path):
    cache = LocomotionDataCache(tmp_path / "c")
    calls = []

    @cached_analysis(cache)
    def f(n):
        calls.append(n)
        return np.arange(n, dtype=np.int64)

    f(1000)
    (blob,) = (tmp_path / "c" / "entries").glob("*/*.npy")
    data = bytearray(blob.read_bytes())
    data[-1] ^= 0xFF  # same size, one bit pattern changed
    blob.write_bytes(bytes(data))
    with pytest.warns(CacheDamagedWarning, match="damaged"):
        np.testing.assert_array_equal(f(1000), np.arange(1000))
    assert calls == [1000, 1000] and cache.stats()["damaged"] == 1
    np.testing.assert_array_equal(f(1000), np.arange(1000))  # stored again, whole
    assert calls == [1000, 1000]
    (manifest,) = (tmp_path / "c" / "entries").glob("*/manifest.json")
    manifest.write_text("{not json")
    with pytest.warns(CacheDamagedWarning):
        f(1000)
    assert len(calls) == 3


def _worker(args):
    directory, i = args
    cache = LocomotionDataCache(directory, max_cache_size="2M")
    out = []
    for k in range(6):
        key = (k % 3,)
        got = cache.get("f", key, {})
        if got is None:
            cache.set("f", key, {}, np.full(40_000, k % 3, dtype=np.float64))  # 320 kB
        else:
            out.append(bool((got == k % 3).all()))
    return out


def test_several_processes_share_a_directory(tmp_path):
    with mp.get_context("spawn").Pool(3) as pool:
        results = pool.map(_worker, [(str(tmp_path / "c"), i) for i in range(3)])
    assert all(all(r) for r in results) and sum(len(r) for r in results) > 0
    assert not list((tmp_path / "c").glob(".tmp-*"))
    for m in (tmp_path / "c" / "entries").glob("*/manifest.json"):
        json.loads(m.read_text())


def test_locomotion_data_results_and_warm_columns(sample, tmp_path):
    cache = LocomotionDataCache(tmp_path / "c")
    cold = LocomotionData(sample, verbose=False)
    warm1 = LocomotionData(sample, verbose=False, cache=cache)
    s, t = cold.subjects[0], cold.tasks[0]
    want = cold.subject_analysis(s)
    got = warm1.subject_analysis(s)
    again = LocomotionData(sample, verbose=False, cache=cache).subject_analysis(s)
    assert cache.stats()["hits"] >= 1
    for r in (got, again):
        assert r["total_cycles"] == want["total_cycles"] and r["outlier_counts"] == want["outlier_counts"]
        pd.testing.assert_frame_equal(r["feature_correlations"][t], want["feature_correlations"][t])
    # warm columns: a memory-mapped Arrow file, same cycle features as a cold read
    warm2 = LocomotionData(sample, verbose=False, cache=cache, cache_results=False)
    table = warm2.feature_table()
    assert table.num_rows == len(cold)
    pd.testing.assert_frame_equal(warm2.cycle_features(), cold.cycle_features())
    files = list((tmp_path / "c" / "entries").glob("*/columns.arrow"))
    assert len(files) == 1
    with pa.ipc.open_file(pa.memory_map(str(files[0]))) as r:
        assert r.read_all().column_names == [warm2.column_of(f) for f in warm2.features]
    # a view with conditions is not served from the results cache
    view = LocomotionData(sample, verbose=False, cache=cache).filter(cycles=[0, 1])
    assert view.get_feature_correlations(s, t).shape == (len(cold.features),) * 2


def test_what_does_not_fit_is_not_stored_and_the_analysis_goes_on(sample, tmp_path):
    cache = LocomotionDataCache(tmp_path / "c", max_cache_size="64K")
    with pytest.warns(CacheWriteWarning, match="more than max_cache_size"):
        cache.set("f", (), {}, np.zeros(20_000))
    assert cache.get("f", (), {}) is None and cache.stats()["entries"] == 0
    loco = LocomotionData(sample, verbose=False, cache=cache, cache_results=False)
    with pytest.warns(CacheWriteWarning, match="decoded columns"):
        table = loco.feature_table()
    assert table.num_rows == len(loco) and cache.stats()["entries"] == 0
    assert not list((tmp_path / "c").glob(".tmp-*"))


def test_a_rewritten_gait_file_is_analysed_afresh(sample, tmp_path):
    path = tmp_path / "g.parquet"
    path.write_bytes(sample.read_bytes())
    cache = LocomotionDataCache(tmp_path / "c")
    loco = LocomotionData(path, verbose=False, cache=cache)
    s, t = loco.subjects[0], loco.tasks[0]
    before = loco.subject_analysis(s)["rom_data"][t]
    feats = LocomotionData(path, verbose=False, cache=cache, cache_results=False).cycle_features()
    table = pq.read_table(path)
    name = loco.features[0]
    doubled = pa.compute.multiply(table.column(name), 2.0)
    pq.write_table(table.set_column(table.column_names.index(name), name, doubled), path)
    again = LocomotionData(path, verbose=False, cache=cache)
    after = again.subject_analysis(s)["rom_data"][t]
    assert after[name] == pytest.approx(2 * before[name]) and after[loco.features[1]] == before[loco.features[1]]
    new = LocomotionData(path, verbose=False, cache=cache, cache_results=False).cycle_features()
    np.testing.assert_allclose(new[f"{name}__mean"], 2 * feats[f"{name}__mean"], equal_nan=True)
    assert cache.info()["functions"]["cadence.gait.columns"]["entries"] == 2  # one per version of the file


@pytest.mark.parametrize("value", [
    "[" * 100_000 + "]" * 100_000,                                    # nesting past the recursion limit
    '{"t": "npscalar", "dtype": "O", "v": "x"}',                      # an object dtype
    '{"t": "ndarray", "blob": "../../lock"}',                          # a blob the manifest does not list
    '{"t": "dict", "v": [[{"t": "list", "v": []}, 1]]}',               # an unhashable key
    '{"t": "nothing"}',
    '{"t": "ndarray", "blob": "../b0.npy"}',                          # outside the entry
])
def test_a_hostile_manifest_is_a_damaged_entry_not_code(tmp_path, value):
    cache = LocomotionDataCache(tmp_path / "c")
    cache.set("f", (), {}, {"x": 1})
    (manifest,) = (tmp_path / "c" / "entries").glob("*/manifest.json")
    doc = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**doc, "value": "@@"}).replace('"@@"', value))
    with pytest.warns(CacheDamagedWarning):
        assert cache.get("f", (), {}) is None
    assert not list((tmp_path / "c" / "entries").iterdir())
