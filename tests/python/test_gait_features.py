"""cycle_features: every per-cycle statistic against numpy, whole cycles at any batch size,
bounded memory, and the Parquet / npy outputs."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pyarrow.parquet as pq
import pytest

import gait_reference as ref
from cadence.gait import STATS, LocomotionData, reader
from cadence.sample import gait


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    d = tmp_path_factory.mktemp("feat")
    f64 = gait.generate(d / "f64.parquet", subjects=2, strides_per_task=15, n_features=24, seed=5, row_group_rows=1000)
    f32 = gait.generate(d / "f32.parquet", subjects=2, strides_per_task=10, n_features=20, seed=6, dtype="float32")
    return f64, f32


def assert_same(a, b, msg=""):
    """Tables equal column by column, NaN equal to NaN (Table.equals says NaN != NaN)."""
    assert a.column_names == b.column_names, msg
    for c in a.column_names:
        np.testing.assert_array_equal(a.column(c).to_numpy(), b.column(c).to_numpy(), err_msg=f"{msg} {c}")


def reference_rows(path, features):
    df = ref.load(path)
    out = {}
    for (s, t), sub in df.groupby(["subject", "task"], sort=False):
        X = sub[features].to_numpy(dtype=np.float64).reshape(-1, 150, len(features))
        ok = ref.validate(X, features)
        pattern = X[ok].mean(axis=0)
        for c in range(X.shape[0]):
            row = {f"{f}__{k}": v for i, f in enumerate(features) for k, v in ref.cycle_stats(X[c, :, i]).items()}
            for i, f in enumerate(features):
                row[f"{f}__rmse"] = np.sqrt(np.mean((X[c, :, i] - pattern[:, i]) ** 2))
            row["valid"] = ok[c]
            out[(s, t, c)] = row
    return out


@pytest.mark.parametrize("which", [0, 1], ids=["float64", "float32"])
def test_every_statistic_matches_numpy(sample, which):
    path = sample[which].path
    loco = LocomotionData(path)
    table = loco.cycle_features(show_progress=False)
    want = reference_rows(path, loco.features)
    assert len(table) == len(want) == sample[which].n_strides
    columns = [f"{f}__{s}" for f in loco.features for s in STATS]
    got = table[columns].to_numpy()
    expect = np.array([[want[(s, t, c)][k] for k in columns]
                       for s, t, c in zip(table["subject"].astype(str), table["task"].astype(str), table["cycle"])])
    np.testing.assert_allclose(got, expect, rtol=1e-9, atol=1e-12, equal_nan=True)
    assert (np.isnan(got) == np.isnan(expect)).all()
    np.testing.assert_array_equal(table["valid"], [want[k]["valid"] for k in
                                                   zip(table["subject"].astype(str), table["task"].astype(str), table["cycle"])])
    dom = table[f"{loco.features[0]}__dominant_frequency"]
    assert dom.notna().sum() > 0.9 * len(dom) and dom.min() >= 1 and dom.max() <= 74


def test_nan_policy_omit_skips_nan(sample):
    path = sample[0].path
    loco = LocomotionData(path, nan_policy="omit")
    table = loco.cycle_features(show_progress=False)
    df = ref.load(path)
    hit = 0
    for (s, t), sub in df.groupby(["subject", "task"], sort=False):
        X = sub[loco.features].to_numpy().reshape(-1, 150, len(loco.features))
        rows = table[(table["subject"] == s) & (table["task"] == t)]
        for c, i in zip(*np.nonzero(np.isnan(X).any(axis=1))):
            x = X[c, :, i]
            row = rows[rows["cycle"] == c].iloc[0]
            f = loco.features[i]
            assert row[f"{f}__mean"] == pytest.approx(np.nanmean(x), rel=1e-12)
            assert row[f"{f}__std"] == pytest.approx(np.nanstd(x), rel=1e-12)
            assert row[f"{f}__peak_index"] == np.nanargmax(np.abs(x))
            assert np.isnan(row[f"{f}__dominant_frequency"])
            hit += 1
    assert hit > 0


def test_same_rows_at_any_batch_size_and_memory_limit(sample, monkeypatch):
    path = sample[0].path
    whole = LocomotionData(path).cycle_features(output="arrow", show_progress=False)
    for rows in (149, 1000, 4501):
        monkeypatch.setattr(reader, "BATCH_ROWS", rows)  # the test seam (reader.BATCH_ROWS)
        streamed = LocomotionData(path, memory_limit="2M").cycle_features(output="arrow", show_progress=False)
        assert_same(streamed, whole, str(rows))


def test_parquet_and_npy_outputs(sample, tmp_path):
    loco = LocomotionData(sample[0].path)
    table = loco.cycle_features(output="arrow", show_progress=False)
    out = loco.cycle_features(output="parquet", path=tmp_path / "f.parquet", show_progress=False)
    assert_same(pq.read_table(out), table)
    npy = loco.cycle_features(output="npy", path=tmp_path / "f.npy", memory_limit="4M", show_progress=False)
    matrix = np.load(npy, mmap_mode="r")
    meta = pq.read_table(tmp_path / "f.meta.parquet")
    columns = json.loads(meta.schema.metadata[b"cadence.gait.columns"])
    assert matrix.dtype == np.float32 and matrix.shape == (table.num_rows, len(columns))
    np.testing.assert_array_equal(matrix, np.column_stack([table.column(c).to_numpy() for c in columns]).astype(np.float32))
    assert meta.column("step").equals(table.column("step"))


def test_load_feature_matrix_gives_the_matrix_with_its_column_names(sample, tmp_path):
    """Before: the names lived only in features.meta.parquet's schema metadata, with no reader."""
    from cadence.gait import load_feature_matrix

    loco = LocomotionData(sample[0].path)
    table = loco.cycle_features(output="arrow", show_progress=False)
    loco.cycle_features(output="npy", path=tmp_path / "f.npy", show_progress=False)
    m = load_feature_matrix(tmp_path / "f.npy")
    assert m.columns == [f"{f}__{s}" for f in loco.features for s in STATS]
    assert isinstance(m.matrix, np.memmap) and m.matrix.shape == (table.num_rows, len(m.columns))
    np.testing.assert_array_equal(m.matrix[:, m.columns.index("knee_flexion_angle_ipsi_rad__rom")],
                                  table.column("knee_flexion_angle_ipsi_rad__rom").to_numpy().astype(np.float32))
    assert list(m.meta.columns) == ["subject", "task", "step", "cycle", "row", "valid", "is_outlier", "rmse"]
    frame = m.frame()
    assert frame.shape == (table.num_rows, 8 + len(m.columns)) and frame["task"].tolist() == table.column("task").to_pylist()
    np.save(tmp_path / "other.npy", np.zeros((3, 2), np.float32))
    (tmp_path / "other.meta.parquet").write_bytes((tmp_path / "f.meta.parquet").read_bytes())
    with pytest.raises(ValueError, match="does not match other.meta.parquet"):
        load_feature_matrix(tmp_path / "other.npy")
    (tmp_path / "f.meta.parquet").unlink()
    with pytest.raises(FileNotFoundError, match="f.meta.parquet: missing; the column names of f.npy are in it"):
        load_feature_matrix(tmp_path / "f.npy")


def test_threads_give_identical_results(sample):
    a = LocomotionData(sample[0].path, jobs=1).cycle_features(output="arrow", show_progress=False)
    b = LocomotionData(sample[0].path, jobs=4).cycle_features(output="arrow", show_progress=False)
    assert_same(a, b)


def test_peak_rss_stays_under_the_limit_plus_overhead(tmp_path):
    """A file whose features (~100 MiB) dwarf the limit (24 MiB): the process grows by less than
    limit + 48 MiB over its state right after loading the index."""
    path = tmp_path / "big.parquet"
    gait.generate(path, subjects=6, strides_per_task=60, n_features=60, seed=2, tasks=gait.ALL_TASKS)
    code = textwrap.dedent(f"""
        import resource, pyarrow, numpy
        from cadence.gait import LocomotionData
        loco = LocomotionData({str(path)!r}, memory_limit="24M")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        n = loco.cycle_features(output="parquet", path={str(tmp_path / 'o.parquet')!r}, show_progress=False)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(before, after, loco.last_run.peak_reserved_bytes, loco.last_run.cycles)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONWARNINGS": "error"})
    before_kib, after_kib, reserved, cycles = map(int, out.stdout.splitlines()[-1].split())
    rows = pq.read_metadata(path).num_rows
    assert cycles == rows // 150
    assert reserved <= 24 << 20
    assert (after_kib - before_kib) * 1024 < (24 + 48) << 20, (before_kib, after_kib)
