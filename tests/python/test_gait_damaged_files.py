"""Gait files that another tool or a damaged copy left (found by fuzz/gait_cache_fuzz.py and
fuzz/gait_input_fuzz.py): cache entries of another shape and an input whose columns repeat a name
give a clear answer, never a traceback."""

import hashlib
import json
import warnings

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cli_support import run

from cadence.gait import LocomotionData
from cadence.gait.cache import CacheDamagedWarning, LocomotionDataCache
from cadence.sample import gait


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    path = tmp_path_factory.mktemp("gait") / "sample.parquet"
    gait.generate(path, subjects=1, strides_per_task=2, tasks=list(gait.ALL_TASKS[:1]), n_features=20, faults=False)
    return path


def _entry(cache: LocomotionDataCache, name: str):
    return cache.cache_dir / "entries" / cache.key(name)


@pytest.mark.parametrize("manifest", [[1, 2], {"function": 5, "bytes": 10}, {"function": "f", "bytes": "10"},
                                      {"function": "f", "bytes": 1e400}, {"function": "f", "bytes": None}])
def test_manifests_of_another_shape_are_listed_as_damaged(tmp_path, capsys, manifest):
    """Eviction, info and `cache info` met a TypeError or OverflowError (a function named by a
    number, a list, an infinite or textual size)."""
    cache = LocomotionDataCache(tmp_path / "c")
    cache.set("f", (), None, np.arange(4))
    cache.set("g", (), None, np.arange(5))
    (_entry(cache, "f") / "manifest.json").write_text(json.dumps(manifest))
    info = cache.info()
    assert info["entries"] == 2 and info["functions"]["(damaged)"]["entries"] == 1, info
    assert set(info["functions"]) == {"(damaged)", "g"}
    cache.set("h", (), None, np.arange(6))  # evicts nothing at this size, but reads every manifest
    assert cache.stats()["entries"] == 3
    code, out, err = run(capsys, "gait", "cache", "info", tmp_path / "c")
    assert code == 0 and "(damaged)" in out, (out, err)
    with pytest.warns(CacheDamagedWarning):
        assert cache.get("f") is None
    np.testing.assert_array_equal(cache.get("g"), np.arange(5))


def test_npy_blob_with_damaged_or_lying_header_is_dropped(tmp_path):
    """numpy's header parser raised tokenize.TokenError, which the cache did not take for damage;
    a header claiming terabytes was allocated for. Both with the digest made to match."""
    cache = LocomotionDataCache(tmp_path / "c")
    for header in (b"{'descr': '<f8', 'fortran_order': False, 'shape': (4,",
                   b"{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776,), }"):
        cache.set("f", (), None, np.arange(4.0))
        entry = _entry(cache, "f")
        blob = next(entry.glob("*.npy"))
        data = bytearray(blob.read_bytes())
        length = int.from_bytes(data[8:10], "little")
        data[10:10 + length] = header.ljust(length - 1) + b"\n"
        blob.write_bytes(bytes(data))
        manifest = json.loads((entry / "manifest.json").read_text())
        manifest["blobs"][blob.name]["blake2b"] = hashlib.blake2b(bytes(data), digest_size=16).hexdigest()
        (entry / "manifest.json").write_text(json.dumps(manifest))
        with pytest.warns(CacheDamagedWarning, match="header"):
            assert cache.get("f") is None
        assert not entry.exists()


def test_warm_columns_damaged_in_place_are_read_again(sample, tmp_path):
    """columns.arrow has no digest (a warm run would read it whole to check one); a field name
    damaged in place (same size) raised UnicodeDecodeError out of get_cycles. Now the structure
    and the names are checked, and the columns are read from the file again."""
    def cycles(cache):
        loco = LocomotionData(sample, cache=cache, verbose=False, jobs=1)
        return loco.get_cycles(loco.get_subjects()[0], loco.get_tasks()[0], loco.get_variables()[:3])[0]

    reference = cycles(None)
    cache = tmp_path / "c"
    np.testing.assert_array_equal(cycles(str(cache)), reference)
    path = next(cache.glob("entries/*/columns.arrow"))
    data = bytearray(path.read_bytes())
    name = next(n for n in pq.read_schema(sample).names if "angle" in n).encode()
    at = data.find(name)
    assert at > 0
    while at >= 0:  # the schema at the start and in the footer
        data[at] = 0x8C  # not UTF-8
        at = data.find(name, at + 1)
    path.write_bytes(bytes(data))
    with pytest.warns(CacheDamagedWarning, match="utf-8"):
        np.testing.assert_array_equal(cycles(str(cache)), reference)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_columns_with_the_same_name_are_refused_by_name(sample, tmp_path, capsys, suffix):
    """`gait features` met a KeyError from Arrow ("exists 2 times in schema") deep in a batch."""
    t = pq.read_table(sample)
    name = next(n for n in t.column_names if "moment" in n)
    t = pa.Table.from_arrays(t.columns + [t.column(name)] * 2, names=t.column_names + [name] * 2)
    path = tmp_path / f"repeated{suffix}"
    if suffix == ".csv":
        import pyarrow.csv as pacsv
        pacsv.write_csv(t, path)
    else:
        pq.write_table(t, path)
    want = f"several columns have the same name: '{name}' (3 columns)"
    with pytest.raises(ValueError, match=want.replace("(", r"\(").replace(")", r"\)")):
        LocomotionData(path, verbose=False)
    for command in (["features", path, "-o", tmp_path / "f.parquet"], ["validate", path]):
        code, _, err = run(capsys, "gait", *command)
        assert code == 2 and want in err and str(path) in err, err
    assert not (tmp_path / "f.parquet").exists()


def test_a_million_columns_named_alike(tmp_path, capsys):
    """10^6 columns of one name (a runaway export): refused at once, with the count."""
    n = 1_000_000
    path = tmp_path / "wide.csv"
    path.write_text("subject,task,step,phase_ipsi," + ",".join(["knee_flexion_angle_ipsi_rad"] * n) + "\n"
                    + "S1,walk,1,0," + ",".join(["0.5"] * n) + "\n")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        code, _, err = run(capsys, "gait", "features", path, "-o", tmp_path / "f.parquet")
    assert code == 2 and "'knee_flexion_angle_ipsi_rad' (1,000,000 columns)" in err, err


@pytest.mark.parametrize("header", [b"subject,task\rphase_ipsi,knee_angle", b"subject,\x00task,phase_ipsi"])
def test_a_header_the_csv_module_cannot_split_is_pyarrows_to_judge(tmp_path, capsys, header):
    """The repeated-name check split the header with the csv module, whose csv.Error (a lone
    carriage return, a NUL) escaped as a traceback (gait_input_fuzz, in a one-minute `make fuzz` run)."""
    path = tmp_path / "odd.csv"
    path.write_bytes(header + b"\nS1,walk,0,1\n")
    with pytest.raises(ValueError):
        LocomotionData(path, verbose=False)
    code, _, err = run(capsys, "gait", "features", path, "-o", tmp_path / "f.parquet")
    assert code == 2 and str(path) in err, err


@pytest.mark.parametrize("column, array", [
    ("phase_ipsi", lambda n: pa.array([{"x": 1.0}] * n)),
    ("step", lambda n: pa.array([[1]] * n)),
    ("subject", lambda n: pa.array([{"id": "S1"}] * n)),
])
def test_key_columns_of_another_kind_are_refused_by_name(sample, tmp_path, capsys, column, array):
    """A struct phase raised TypeError from numpy inside build_index (gait_input_fuzz, a
    90-second `make fuzz` run); nested subjects or steps were as bad."""
    t = pq.read_table(sample)
    t = t.set_column(t.schema.get_field_index(column), column, array(t.num_rows))
    path = tmp_path / "kinds.parquet"
    pq.write_table(t, path)
    with pytest.raises(ValueError, match=f"'{column}' holds"):
        LocomotionData(path, verbose=False)
    code, _, err = run(capsys, "gait", "features", path, "-o", tmp_path / "f.parquet")
    assert code == 2 and f"'{column}' holds" in err, err


def test_settings_nested_deeper_than_json_parses_mean_the_default_limit(tmp_path):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "settings.json").write_bytes(b"[" * 100_000 + b"]" * 100_000)
    assert LocomotionDataCache(tmp_path / "c").max_bytes == 1000 * 2**20
