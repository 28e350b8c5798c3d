"""LocomotionData.spm_compare and ``cadence gait compare``: a LocoHub-format file built from
spm1d's PlantarArchAngle curves (resampled to 150 points, one cycle per subject and task) gives
the clusters spm1d finds on the same curves; bad input is refused naming the feature, task or
subject (exit 2 from the CLI); the CLI writes the table and the figures."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import spm1d
from cli_support import run

from cadence.gait import LocomotionData
from cadence.gait.spm import SpmInputError

P = 150
ANKLE, KNEE = "ankle_dorsiflexion_angle_ipsi_rad", "knee_flexion_angle_ipsi_rad"
TASKS = ("level_walking", "incline_walking")


def _resample(Y):
    x0, x1 = np.linspace(0, 1, Y.shape[1]), np.linspace(0, 1, P)
    return np.stack([np.interp(x1, x0, y) for y in Y])


@pytest.fixture(scope="module")
def curves():
    YA, YB = spm1d.data.uv1d.t2.PlantarArchAngle().get_data()
    a, b = _resample(YA), _resample(YB)
    # the knee column: the same subjects' curves reversed in time (clusters elsewhere)
    return {ANKLE: (a, b), KNEE: (a[:, ::-1].copy(), b[:, ::-1].copy())}


def _write(path, curves, subjects_b=None, nan_at=None):
    """One cycle per subject and task; subject j of task B is subjects_b[j] (default: the same)."""
    n = curves[ANKLE][0].shape[0]
    names_a = [f"PA_AB{j + 1:02d}" for j in range(n)]
    names_b = subjects_b or names_a
    parts = []
    for t, (task, names) in enumerate(zip(TASKS, (names_a, names_b))):
        for j, subject in enumerate(names):
            d = {"subject": [subject] * P, "task": [task] * P, "step": np.zeros(P, int),
                 "phase_ipsi": np.linspace(0, 100, P)}
            for name, pair in curves.items():
                d[name] = pair[t][j].astype(np.float64)
            parts.append(pd.DataFrame(d))
    df = pd.concat(parts, ignore_index=True)
    if nan_at is not None:
        df.loc[nan_at, KNEE] = np.nan
    # NaN stays NaN (pandas' conversion would write it as null)
    pq.write_table(pa.table({c: pa.array(df[c].to_numpy()) for c in df.columns}), path)
    return path


@pytest.fixture(scope="module")
def locohub(curves, tmp_path_factory):
    return _write(tmp_path_factory.mktemp("spm") / "arch.parquet", curves)


def _expected(curves, test, **inference):
    rows = []
    for name, (a, b) in curves.items():
        ti = test(a, b).inference(0.05, two_tailed=True, **inference)
        for c in ti.clusters:
            rows.append((name, float(c.endpoints[0]), float(c.endpoints[1]), float(c.P), c.csign, float(ti.zstar)))
    return rows


def _assert_table(table, expected):
    assert len(table) == len(expected) > 0
    got = table.sort_values(["feature", "start_node"])
    for row, (name, x0, x1, p, sign, zstar) in zip(got.itertuples(), sorted(expected)):
        assert row.feature == name and row.sign == sign
        assert row.start_node == pytest.approx(x0, abs=1e-6) and row.end_node == pytest.approx(x1, abs=1e-6)
        assert row.start == pytest.approx(x0 * 100 / (P - 1), abs=1e-6)
        assert row.end == pytest.approx(x1 * 100 / (P - 1), abs=1e-6)
        assert row.extent == pytest.approx((x1 - x0) * 100 / (P - 1), abs=1e-6)
        assert row.p == pytest.approx(p, abs=1e-6) and row.zstar == pytest.approx(zstar, abs=1e-6)


def test_paired_equals_spm1d(locohub, curves):
    table = LocomotionData(locohub, verbose=False).spm_compare(*TASKS, paired=True)
    _assert_table(table, _expected(curves, spm1d.stats.ttest_paired))
    assert set(table["test"]) == {"ttest_paired"} and set(table["n_a"]) == {10}


def test_unpaired_equals_spm1d_ttest2_equal_var(locohub, curves):
    table = LocomotionData(locohub, verbose=False).spm_compare(*TASKS, paired=False)
    _assert_table(table, _expected(curves, lambda a, b: spm1d.stats.ttest2(a, b, equal_var=True)))


def test_nonparametric_paired_equals_spm1d(locohub, curves):
    table = LocomotionData(locohub, verbose=False).spm_compare(*TASKS, paired=True, nonparametric=True)
    _assert_table(table, _expected(curves, spm1d.stats.nonparam.ttest_paired))


def test_paired_by_subject_name_not_row_order(curves, tmp_path):
    """Task B's subjects written in another order: pairing follows the names."""
    n = curves[ANKLE][0].shape[0]
    order = list(range(n))[::-1]
    shuffled = {k: (a, b[order]) for k, (a, b) in curves.items()}
    path = _write(tmp_path / "shuffled.parquet", shuffled, subjects_b=[f"PA_AB{j + 1:02d}" for j in order])
    table = LocomotionData(path, verbose=False).spm_compare(*TASKS, paired=True)
    _assert_table(table, _expected(curves, spm1d.stats.ttest_paired))


def test_bad_input_names_what(curves, tmp_path, locohub):
    data = LocomotionData(locohub, verbose=False)
    with pytest.raises(SpmInputError, match="task 'running' is not in arch.parquet"):
        data.spm_compare("level_walking", "running")
    with pytest.raises(SpmInputError, match="'hip_flexion_angle_ipsi_rad' is not a feature"):
        data.spm_compare(*TASKS, features=["hip_flexion_angle_ipsi_rad"])
    other = _write(tmp_path / "other.parquet", curves,
                   subjects_b=[f"PA_AB{j + 1:02d}" for j in range(9)] + ["PA_AB99"])
    with pytest.raises(SpmInputError, match="only in 'level_walking': PA_AB10; only in 'incline_walking': PA_AB99"):
        LocomotionData(other, verbose=False).spm_compare(*TASKS, paired=True)
    nan = _write(tmp_path / "nan.parquet", curves, nan_at=3 * P + 20)  # subject 4 of task A
    with pytest.raises(SpmInputError, match="feature 'knee_flexion_angle_ipsi_rad', task 'level_walking'.*'PA_AB04'"):
        LocomotionData(nan, verbose=False).spm_compare(*TASKS)
    few = _write(tmp_path / "few.parquet", {k: (a[:1], b[:1]) for k, (a, b) in curves.items()})
    with pytest.raises(SpmInputError, match="at least 2 observations"):
        LocomotionData(few, verbose=False).spm_compare(*TASKS)


def test_zero_variance_feature_is_skipped_and_said(curves, tmp_path):
    """A feature spm1d would refuse (every subject equal at some node, e.g. GRF in swing) is left
    out with a warning naming it; the others are tested as usual."""
    flat = {ANKLE: curves[ANKLE], KNEE: (curves[KNEE][0].copy(), curves[KNEE][1])}
    flat[KNEE][0][:, 100:] = 0.0
    path = _write(tmp_path / "flat.parquet", flat)
    with pytest.warns(UserWarning, match="1 of 2 feature.*knee_flexion_angle_ipsi_rad .zero variance in level_walking"):
        table = LocomotionData(path, verbose=False).spm_compare(*TASKS, paired=True)
    assert set(table["feature"]) == {ANKLE}
    assert list(table.attrs["skipped"]) == [KNEE]
    _assert_table(table, _expected({ANKLE: curves[ANKLE]}, spm1d.stats.ttest_paired))


def test_cli_writes_table_and_figures(locohub, curves, tmp_path, capsys):
    out = tmp_path / "cmp"
    code, stdout, _ = run(capsys, "gait", "compare", locohub, "--tasks", *TASKS, "--paired", "-o", out, "-q")
    assert code == 0, stdout
    assert "2 of 2 features tested differ" in stdout
    table = pd.read_parquet(out / "spm.parquet")
    _assert_table(table, _expected(curves, spm1d.stats.ttest_paired))
    pd.testing.assert_frame_equal(pd.read_csv(out / "spm.csv"), table, check_dtype=False)
    for name in (ANKLE, KNEE, "overview"):
        assert (out / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temporary left


@pytest.mark.parametrize("argv, said", [
    (["--tasks", "level_walking", "running"], "task 'running' is not in"),
    (["--tasks", *TASKS, "--nonparametric"], "184756"),  # unpaired 10 + 10: too many without --iterations
    (["--tasks", *TASKS, "--alpha", "1.5"], "--alpha 1.5"),
    (["--tasks", *TASKS, "--features", "hip_flexion_angle_ipsi_rad"], "no feature column"),
])
def test_cli_bad_input_exits_2(locohub, tmp_path, capsys, argv, said):
    out = tmp_path / "cmp"
    code, _, err = run(capsys, "gait", "compare", locohub, *argv, "-o", out)
    assert code == 2
    assert said in err
    assert not out.exists()  # a failed first run leaves no directory


def test_cli_nonparametric_random_iterations(locohub, tmp_path, capsys):
    out = tmp_path / "np"
    code, stdout, err = run(capsys, "gait", "compare", locohub, "--tasks", *TASKS, "--nonparametric",
                            "--iterations", "200", "--no-figures", "-o", out)
    assert code == 0, err
    table = pd.read_parquet(out / "spm.parquet")
    assert set(table["test"]) == {"nonparam.ttest2"}
    assert (table["p"] <= 0.05).all() and (table["p"] >= 1 / 200).all()
    assert not (out / "overview.png").exists()
