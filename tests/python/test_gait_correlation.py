"""Feature correlations from the engine against numpy.corrcoef / pandas at 1e-9 (float64)."""

import warnings

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cadence import _core
from cadence.gait import LocomotionData
from cadence.runtime import make_job
from cadence.sample import gait


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    path = tmp_path_factory.mktemp("gait") / "sample.parquet"
    gait.generate(path, subjects=3, strides_per_task=12, n_features=24, seed=8, row_group_rows=1700)
    return path


def corrcoef(x3d):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return np.corrcoef(np.asarray(x3d, dtype=np.float64).reshape(-1, x3d.shape[2]).T)


def test_every_group_and_pooled_tasks_match_numpy(sample):
    loco = LocomotionData(sample, verbose=False)
    checked = 0
    for t in loco.tasks:
        for s in [*loco.subjects, None]:
            x, names = loco.get_cycles(s, t)
            if x is None:
                continue
            got = loco.get_feature_correlations(s, t)
            assert list(got.index) == list(got.columns) == names
            want = corrcoef(x)
            np.testing.assert_allclose(got.to_numpy(), want, rtol=0, atol=1e-9, equal_nan=True)
            checked += 1
    assert checked >= 10


def test_float64_file_large_offset_and_nan_policies(tmp_path):
    rng = np.random.default_rng(2)
    n = 150 * 40
    base = rng.normal(size=n)
    cols = {"subject": ["s1"] * n, "task": ["walk"] * n, "step": np.repeat(np.arange(40), 150),
            "phase_ipsi": np.tile(np.linspace(0, 100, 150), 40)}
    names = [f"{j}_flexion_angle_ipsi_rad" for j in ("hip", "knee", "ankle")] + ["hip_flexion_moment_ipsi_Nm_kg"]
    for i, f in enumerate(names):
        cols[f] = 1e5 + (i - 1.5) * base + 0.1 * rng.normal(size=n)  # offset: a naive sum-of-squares fails
    cols[names[1]][[17, 4000]] = np.nan
    path = tmp_path / "f64.parquet"
    pq.write_table(pa.table(cols), path)
    x = np.stack([cols[f] for f in names], axis=1)
    prop = LocomotionData(path, verbose=False).get_feature_correlations("s1", "walk")
    np.testing.assert_allclose(prop.to_numpy(), corrcoef(x.reshape(40, 150, 4)), atol=1e-9, rtol=0, equal_nan=True)
    assert np.isnan(prop.iloc[1]).all() and not np.isnan(prop.iloc[0, 2])
    omit = LocomotionData(path, verbose=False, nan_policy="omit").get_feature_correlations("s1", "walk")
    np.testing.assert_allclose(omit.to_numpy(), pd.DataFrame(x).corr().to_numpy(), atol=1e-9, rtol=0)


def test_in_subject_and_population_analysis(sample):
    loco = LocomotionData(sample, verbose=False)
    t = loco.tasks[0]
    sub = loco.subject_analysis(loco.subjects[0])
    assert set(sub["feature_correlations"]) == set(sub["tasks_completed"])
    pd.testing.assert_frame_equal(sub["feature_correlations"][t], loco.get_feature_correlations(loco.subjects[0], t))
    pop = loco.population_analysis(t)
    x, _ = loco.get_cycles(None, t)
    np.testing.assert_allclose(pop["feature_correlations"].to_numpy(), corrcoef(x), atol=1e-9, equal_nan=True)


def test_engine_border_checks_inputs():
    with pytest.raises(TypeError, match="float32 or float64"):
        _core.gait_feature_correlations([np.arange(10)], 10, 0, make_job(1, 0))
    with pytest.raises(ValueError, match="shorter"):
        _core.gait_feature_correlations([np.zeros(5)], 10, 0, make_job(1, 0))
    r = _core.gait_feature_correlations([np.zeros(5), np.arange(5.0)], 5, 0, make_job(1, 0))
    assert np.isnan(r[0]).all() and r[1, 1] == 1.0  # a constant feature: NaN, as numpy
