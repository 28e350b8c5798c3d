"""Every subject x task group's mean curves in one streamed pass (cadence.gait.mean_curves, the
observations of spm_compare): equal to a plain numpy computation from the file's rows, with the
same bits whether the columns stream from the file in any batch size, come from the object's
loaded table or from a cache, on one thread or two; the decoded columns are not kept; a memory
limit too small for the sums is refused with the size to set."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from cadence.gait import LocomotionData

P = 150
FEATURES = ["knee_flexion_angle_ipsi_rad", "hip_flexion_moment_ipsi_Nm_kg"]
# (subject, task, rows) in file order: S1/walk comes back, its third cycle split across the two
# runs; S3/run is not whole cycles (left out, as LocoHub's get_cycles gives None)
RUNS = [("S1", "walk", 2 * P + 60), ("S2", "walk", 3 * P), ("S1", "run", 4 * P), ("S3", "run", 2 * P + 7),
        ("S2", "run", P), ("S1", "walk", 90), ("S3", "walk", 2 * P)]


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(7)
    parts = []
    for subject, task, rows in RUNS:
        k = np.arange(rows)
        d = {"subject": [subject] * rows, "task": [task] * rows, "step": k // P, "phase_ipsi": (k % P) * 100 / (P - 1)}
        for f in FEATURES:
            d[f] = np.sin(2 * np.pi * (k % P) / P) + rng.normal(0, 0.3, rows)
        parts.append(pd.DataFrame(d))
    df = pd.concat(parts, ignore_index=True)
    df.loc[[5, 700, 701], FEATURES[0]] = np.nan  # S1/walk point 5 of its first cycle; S1/run
    return df


def _write(df, path, row_group_size=1000):
    table = pa.table({c: pa.array(df[c].to_numpy()) for c in df.columns})  # NaN stays NaN, not null
    if str(path).endswith(".csv"):
        pacsv.write_csv(table, path)
    else:
        pq.write_table(table, path, row_group_size=row_group_size)  # 1000: cycles cross row groups
    return path


@pytest.fixture(scope="module")
def parquet(frame, tmp_path_factory):
    return _write(frame, tmp_path_factory.mktemp("means") / "runs.parquet")


def _expected(df, task, nan_policy):
    subjects, curves = [], []
    for subject in sorted(df["subject"].unique()):
        rows = df[(df["subject"] == subject) & (df["task"] == task)]  # file order
        if len(rows) == 0 or len(rows) % P:
            continue
        y = np.stack([rows[f].to_numpy().reshape(-1, P) for f in FEATURES], axis=1)  # (cycles, F, P)
        subjects.append(subject)
        curves.append(np.nanmean(y, axis=0) if nan_policy == "omit" else y.mean(axis=0))
    return subjects, np.stack(curves)


@pytest.mark.parametrize("nan_policy", ["omit", "propagate"])
def test_means_equal_numpy_from_the_rows(frame, parquet, nan_policy):
    loco = LocomotionData(parquet, verbose=False, nan_policy=nan_policy)
    for task in ("walk", "run"):
        subjects, got = loco.subject_mean_curves(task, FEATURES)
        want_subjects, want = _expected(frame, task, nan_policy)
        assert subjects == want_subjects
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-15)  # NaN where numpy has NaN
    _, walk = loco.subject_mean_curves("walk", FEATURES)
    # the NaN at S1/walk point 5: left out (a mean of 2 cycles), or the point's mean is NaN
    assert np.isnan(walk[0, 0, 5]) == (nan_policy == "propagate")
    assert not np.isnan(walk[0, 1, 5])
    assert loco.subject_mean_curves("run", FEATURES)[0] == ["S1", "S2"]  # S3's 307 rows left out


def test_every_source_gives_the_same_bits(frame, parquet, tmp_path):
    streamed = LocomotionData(parquet, verbose=False, nan_policy="omit")
    ref = {t: streamed.subject_mean_curves(t, FEATURES)[1] for t in ("walk", "run")}
    assert streamed.shared.table is None  # the decoded columns were not kept
    held = LocomotionData(parquet, verbose=False, nan_policy="omit")
    held.feature_table()
    one_thread = LocomotionData(parquet, verbose=False, nan_policy="omit", jobs=1)
    small_batches = LocomotionData(_write(frame, tmp_path / "rg.parquet", row_group_size=151), verbose=False,
                                   nan_policy="omit", memory_limit="64K")
    csv = LocomotionData(_write(frame, tmp_path / "runs.csv"), verbose=False, nan_policy="omit")
    cached = LocomotionData(parquet, verbose=False, nan_policy="omit", cache=tmp_path / "cache")
    cached.feature_table()
    warm = LocomotionData(parquet, verbose=False, nan_policy="omit", cache=tmp_path / "cache")
    with pytest.warns(UserWarning, match="null values"):  # the CSV writer wrote NaN as empty cells
        csv.subject_mean_curves("walk", FEATURES)
    for other in (held, one_thread, small_batches, csv, warm):
        for task in ("walk", "run"):
            got = other.subject_mean_curves(task, FEATURES)[1]
            assert got.tobytes() == ref[task].tobytes(), (other.data_path.name, task)


def test_a_filtered_view_takes_its_own_cycles(parquet):
    loco = LocomotionData(parquet, verbose=False, nan_policy="omit")
    view = loco.filter(subjects=["S1"])
    subjects, curves = view.subject_mean_curves("walk", FEATURES)
    assert subjects == ["S1"]
    np.testing.assert_allclose(curves[0], loco.subject_mean_curves("walk", FEATURES)[1][0], rtol=1e-12)


def test_a_memory_limit_too_small_for_the_sums_says_what_to_set(parquet):
    loco = LocomotionData(parquet, verbose=False, nan_policy="omit", memory_limit=2000)
    with pytest.raises(ValueError, match=r"memory limit of .* too small .* set it to \d+M or more"):
        loco.subject_mean_curves("walk", FEATURES)
