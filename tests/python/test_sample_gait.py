"""Tests of cadence.sample.gait: LocoHub layout, physiological shapes, and injected ground truth.

The LocoHub rules (validate_cycles, find_outlier_cycles) are re-implemented here in plain numpy, as
DOMAIN.md states them, so the generator is checked against the rules users apply, not against itself.
"""

import re

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cadence.sample import gait

UNITS = ("_rad", "_rad_s", "_Nm_kg", "_W_kg", "_BW", "_m")
LOCOHUB_KINDS = ("angle", "velocity", "moment", "power")  # what LocomotionData calls features


def load(path):
    """Cycles of a sample file: per-cycle subject/task/step and X of shape (cycles, 150, features)."""
    t = pq.read_table(path)
    names = [c for c in t.column_names if c not in gait.META_COLUMNS]
    n = t.num_rows // 150
    first = slice(None, None, 150)
    meta = {c: np.asarray(t.column(c).to_pylist(), dtype=object)[first] for c in ("subject", "task")}
    X = np.stack([t.column(c).to_numpy() for c in names], axis=-1).reshape(n, 150, len(names))
    return {"table": t, "names": names, "X": X, "step": t.column("step").to_numpy()[first],
            "keys": list(zip(meta["subject"], meta["task"], t.column("step").to_numpy()[first].tolist())),
            **meta}


def locohub_columns(names):
    return [i for i, f in enumerate(names) if any(k in f for k in LOCOHUB_KINDS)]


def validate(X, names):
    """LocoHub validate_cycles: True per cycle that passes every rule."""
    ok = np.all(np.isfinite(X[:, :, locohub_columns(names)]), axis=(1, 2))
    with np.errstate(invalid="ignore"):
        for i, f in enumerate(names):
            x = X[:, :, i]
            if "angle" in f:
                ok &= np.all(np.abs(x) <= np.pi, axis=1)
                ok &= np.all(np.abs(np.diff(x, axis=1)) <= 0.5236, axis=1)
            elif "velocity" in f:
                ok &= np.all(np.abs(x) <= 17.45, axis=1)
            elif "moment" in f:
                ok &= np.all(np.abs(x) <= 300, axis=1)
    return ok


def outlier_cycles(X, threshold=2.0):
    """LocoHub find_outlier_cycles: RMSE to the mean pattern over all points and features."""
    rmse = np.sqrt(((X - X.mean(axis=0)) ** 2).mean(axis=(1, 2)))
    return np.flatnonzero(rmse > rmse.mean() + threshold * rmse.std())


@pytest.fixture(scope="module")
def faulty(tmp_path_factory):
    path = tmp_path_factory.mktemp("gait") / "faulty.parquet"
    return gait.generate(path, seed=0), load(path)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    path = tmp_path_factory.mktemp("gait") / "clean.parquet"
    s = gait.generate(path, seed=3, faults=False, n_features=80, tasks=gait.ALL_TASKS, strides_per_task=12)
    return s, load(path)


def test_columns_present_in_order_with_locohub_types(faulty):
    sample, d = faulty
    schema = d["table"].schema
    assert schema.names == list(gait.META_COLUMNS) + list(sample.features)
    assert len(sample.features) == 40
    for c in ("subject", "task", "task_id", "task_info"):
        assert schema.field(c).type == pa.dictionary(pa.int32(), pa.string())
    assert schema.field("step").type == pa.int64() and schema.field("phase_ipsi").type == pa.float64()
    assert pq.read_metadata(sample.path).row_group(0).column(6).compression == "ZSTD"


def test_every_cycle_has_150_points_on_the_locohub_phase_grid(faulty):
    sample, d = faulty
    t = d["table"]
    assert t.num_rows == sample.n_rows == 150 * sample.n_strides
    phase = t.column("phase_ipsi").to_numpy().reshape(-1, 150)
    np.testing.assert_array_equal(phase, np.broadcast_to(np.linspace(0, 100, 150), phase.shape))
    step = t.column("step").to_numpy().reshape(-1, 150)
    assert (step == step[:, :1]).all()  # each run of 150 rows is one stride
    subj = np.asarray(t.column("subject").to_pylist()).reshape(-1, 150)
    assert (subj == subj[:, :1]).all()
    # Rows ordered subject, task, step: each group appears once, steps 0..n-1 in order.
    groups = [(s, k) for s, k, _ in d["keys"]]
    starts = [i for i in range(len(groups)) if i == 0 or groups[i] != groups[i - 1]]
    assert len(starts) == len(set(groups)) == len(sample.subjects) * len(sample.tasks)
    for a, b in zip(starts, starts[1:] + [len(groups)]):
        np.testing.assert_array_equal(d["step"][a:b], np.arange(b - a))
    assert [g[0] for g in groups] == sorted(g[0] for g in groups)


def test_metadata_values_follow_locohub(faulty):
    sample, d = faulty
    t = d["table"]
    assert len(sample.subjects) == 4 and len(sample.tasks) >= 4
    assert all(re.fullmatch(r"[A-Z0-9]+_[A-Z]+\d{2}", s) for s in sample.subjects)
    assert set(d["subject"]) == set(sample.subjects) and set(d["task"]) == set(sample.tasks)
    assert set(sample.tasks) <= set(gait.ALL_TASKS)
    infos = {}
    for task, tid, info in zip(*(t.column(c).to_pylist()[::150] for c in ("task", "task_id", "task_info"))):
        assert tid.startswith(task) and isinstance(tid, str)
        pairs = dict(kv.split(":") for kv in info.split(","))
        assert all(re.fullmatch(r"[a-z_]+", k) and np.isfinite(float(v)) for k, v in pairs.items()), info
        infos[task] = pairs
    assert len({infos[k].get("speed_m_s") for k in infos}) >= 2
    assert infos["incline_walking"]["incline_deg"] != infos["decline_walking"]["incline_deg"]
    sizes = np.unique([(s, k) for s, k, _ in d["keys"]], axis=0, return_counts=True)[1]
    assert sizes.min() < sizes.max()  # unequal groups, as real recordings are


def test_feature_names_carry_locohub_units_and_sides():
    names = gait.ALL_FEATURES
    assert len(names) == len(set(names)) == 80
    for f in names:
        assert f.endswith(UNITS), f
        if not f.startswith(("pelvis_", "trunk_")):
            assert "_ipsi_" in f or "_contra_" in f, f
        if f.endswith("_rad_s"):
            assert "_velocity_" in f
    first20 = " ".join(names[:20])
    for kind in ("_angle_", "_velocity_", "_moment_", "grf_", "cop_"):
        assert kind in first20


def test_level_walking_shapes_are_physiological(clean):
    _, d = clean
    names, X = d["names"], d["X"][d["task"] == "level_walking"]
    mean = X.mean(axis=0)
    phase = np.linspace(0, 100, 150)
    col = {f: mean[:, names.index(f)] for f in names}
    knee, hip, ankle = (col[f"{j}_angle_ipsi_rad"] for j in ("knee_flexion", "hip_flexion", "ankle_dorsiflexion"))
    swing = phase >= 50
    peak = np.argmax(np.where(swing, knee, -np.inf))
    assert 55 <= phase[peak] <= 85 and 0.9 <= knee[peak] <= 1.3
    assert knee[0] < np.deg2rad(12) and np.deg2rad(12) < knee[(phase > 8) & (phase < 25)].max() < np.deg2rad(28)
    assert np.deg2rad(22) < hip[0] < np.deg2rad(38) and hip.min() < 0 and 40 < phase[hip.argmin()] < 65
    assert ankle.min() < np.deg2rad(-10) and 55 < phase[ankle.argmin()] < 70
    grf = col["grf_vertical_ipsi_BW"]
    assert 1.0 < grf.max() < 1.25 and np.all(grf[phase > 70] == 0)
    # First hump, valley, second hump: the classic double-hump vertical GRF.
    assert grf[(phase > 25) & (phase < 35)].min() < 0.9 * grf[phase < 25].max()
    # Contralateral = ipsilateral shifted by half a cycle.
    np.testing.assert_allclose(np.roll(col["knee_flexion_angle_contra_rad"], -75)[:140], knee[:140], atol=0.06)
    np.testing.assert_allclose(np.roll(col["grf_vertical_contra_BW"], -75)[:140], grf[:140], atol=0.08)


def test_curves_are_periodic_and_smooth(clean):
    _, d = clean
    ang = d["X"][:, :, [i for i, f in enumerate(d["names"]) if "_angle" in f]]
    assert np.abs(ang[:, 0] - ang[:, -1]).max() < 1e-9
    assert np.abs(np.diff(ang, axis=1)).max() < 0.15


def test_velocity_is_time_derivative_of_angle(clean):
    _, d = clean
    names, X = d["names"], d["X"]
    t_phase = np.linspace(0, 1, 150)
    stride = {}
    for f in (f for f in names if "_velocity_" in f):
        a = X[:, :, names.index(f.replace("_velocity", "_angle").replace("_rad_s", "_rad"))]
        v = X[:, :, names.index(f)]
        da = np.gradient(a, t_phase, axis=1)  # d angle / d (fraction of cycle)
        dc, vc = da - da.mean(1, keepdims=True), v - v.mean(1, keepdims=True)
        r = (dc * vc).sum(1) / np.sqrt((dc * dc).sum(1) * (vc * vc).sum(1))  # per-cycle correlation
        assert r.min() > 0.99, (f, r.min())
        stride[f] = (da * v).sum(axis=1) / (v * v).sum(axis=1)  # least-squares stride duration, s
    main = np.array([stride[f"{j}_velocity_{s}_rad_s"] for j in ("hip_flexion", "knee_flexion")
                     for s in ("ipsi", "contra")])
    assert np.all((main > 0.5) & (main < 5.0))
    # Durations per task are those of real strides: running is quick, rising from a chair is slow.
    median = {t: np.median(main[:, d["task"] == t]) for t in ("level_walking", "run", "sit_to_stand")}
    assert 0.9 < median["level_walking"] < 1.3 and median["run"] < 0.9 and median["sit_to_stand"] > 3
    # One stride duration per cycle, whichever joint it is read from.
    np.testing.assert_allclose(main, np.broadcast_to(main.mean(axis=0), main.shape), rtol=0.03)


def test_power_is_moment_times_velocity(clean):
    _, d = clean
    names, X = d["names"], d["X"]
    powers = [f for f in names if "_power_" in f]
    assert len(powers) == 8
    for f in powers:
        m = X[:, :, names.index(f.replace("_power_", "_moment_").replace("W_kg", "Nm_kg"))]
        v = X[:, :, names.index(f.replace("_power_", "_velocity_").replace("W_kg", "rad_s"))]
        np.testing.assert_allclose(X[:, :, names.index(f)], m * v, rtol=1e-12, atol=1e-12)


def test_clean_data_passes_validation_everywhere(clean):
    sample, d = clean
    assert sample.invalid_keys == sample.outlier_keys == sample.nan_keys == () and sample.nan_count == 0
    assert validate(d["X"], d["names"]).all()
    assert np.isfinite(d["X"]).all()


def test_injected_invalid_cycles_fail_validation_and_nothing_else_does(faulty):
    sample, d = faulty
    ok = validate(d["X"], d["names"])
    failing = {k for k, good in zip(d["keys"], ok) if not good}
    hub = locohub_columns(d["names"])
    nan_in_features = {k for k, x in zip(d["keys"], d["X"]) if np.isnan(x[:, hub]).any()}
    assert set(sample.invalid_keys) <= failing
    assert failing == set(sample.invalid_keys) | nan_in_features
    assert set(sample.invalid_kinds) <= {"jump", "range", "velocity", "moment"}
    assert len(sample.invalid_kinds) == len(sample.invalid_keys)
    assert 0.01 <= len(sample.invalid_keys) / sample.n_strides <= 0.035
    assert not set(sample.invalid_keys) & set(sample.outlier_keys)


def check_outliers(sample, d):
    """Every injected outlier is flagged by the LocoHub rule and stands clear of every normal cycle."""
    ok = validate(d["X"], d["names"])  # outliers are judged among valid cycles, as a pipeline would
    hub = locohub_columns(d["names"])
    truth, found, n_valid, groups_with_outliers = set(sample.outlier_keys), set(), 0, 0
    for subject in sample.subjects:
        for task in sample.tasks:
            sel = np.flatnonzero((d["subject"] == subject) & (d["task"] == task) & ok)
            X = d["X"][sel][:, :, hub]
            keys = [d["keys"][i] for i in sel]
            found |= {keys[i] for i in outlier_cycles(X)}
            n_valid += len(sel)
            is_out = np.array([k in truth for k in keys])
            if is_out.any():
                groups_with_outliers += 1
                rmse = np.sqrt(((X - X.mean(axis=0)) ** 2).mean(axis=(1, 2)))
                assert rmse[is_out].min() > 1.2 * rmse[~is_out].max(), (subject, task)
    assert truth <= found and groups_with_outliers >= 3
    # mean + 2 SD also flags the upper tail of normal cycles; that tail must stay thin.
    assert len(found - truth) <= 0.05 * n_valid


def test_injected_outliers_are_found_by_the_locohub_rule(faulty):
    sample, d = faulty
    assert 0.005 <= len(sample.outlier_keys) / sample.n_strides <= 0.025
    check_outliers(sample, d)


def test_nan_count_matches_ground_truth(faulty):
    sample, d = faulty
    nan = np.isnan(d["X"])
    assert nan.sum() == sample.nan_count > 0
    assert {k for k, x in zip(d["keys"], nan) if x.any()} == set(sample.nan_keys)


def test_same_seed_same_file_different_seed_different(tmp_path, faulty):
    sample, d = faulty
    again = gait.generate(tmp_path / "again.parquet", seed=0)
    t = pq.read_table(again.path)
    assert t.schema == d["table"].schema
    for c in t.column_names:  # column by column, NaN equal to NaN (Table.equals says NaN != NaN)
        np.testing.assert_array_equal(t.column(c).to_numpy(), d["table"].column(c).to_numpy(), err_msg=c)
    assert (again.invalid_keys, again.outlier_keys, again.nan_count) == (
        sample.invalid_keys, sample.outlier_keys, sample.nan_count)
    other = gait.generate(tmp_path / "other.parquet", seed=1)
    assert not pq.read_table(other.path).equals(d["table"])
    assert gait.read_truth(sample.path) == sample


def test_row_groups_float32_and_progress(tmp_path):
    calls = []
    s = gait.generate(tmp_path / "small.parquet", subjects=2, strides_per_task=10, n_features=20,
                      dtype="float32", row_group_rows=1000, seed=5, progress=lambda a, b: calls.append((a, b)))
    meta = pq.read_metadata(s.path)
    sizes = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    assert sizes[:-1] == [1000] * (len(sizes) - 1) and 0 < sizes[-1] <= 1000 and sum(sizes) == s.n_rows
    t = pq.read_table(s.path)
    assert t.schema.field(gait.ALL_FEATURES[0]).type == pa.float32() and t.num_columns == 26
    assert calls[-1] == (s.n_strides, s.n_strides) and len(calls) == 2 * len(s.tasks)
    assert [a for a, _ in calls] == sorted(a for a, _ in calls)


def test_plan_matches_generate_and_umich_scale():
    p = gait.plan(scale="umich")
    assert len(p.subjects) == 10 and p.tasks == gait.ALL_TASKS and len(p.features) >= 40
    assert p.n_strides == 14_240 == sum(map(sum, p.strides)) and p.n_rows == 2_136_000
    assert min(map(min, p.strides)) > 0 and len({n for row in p.strides for n in row}) > 10
    assert gait.plan(scale="gtech").n_strides == 32_859
    q = gait.plan(seed=0)
    assert q.n_strides == sum(map(sum, q.strides)) and q.n_rows == 150 * q.n_strides
    assert q.features == gait.ALL_FEATURES[:40]


def test_plan_matches_written_file(faulty):
    sample, _ = faulty
    p = gait.plan(seed=0)
    assert (p.n_rows, p.n_strides, p.subjects, p.tasks) == (
        sample.n_rows, sample.n_strides, sample.subjects, sample.tasks)
    assert pq.read_metadata(sample.path).num_rows == p.n_rows


@pytest.mark.parametrize("kwargs", [{"n_features": 19}, {"n_features": 81}, {"tasks": ["walk"]},
                                    {"scale": "huge"}, {"subjects": 0}, {"dtype": "int32"},
                                    {"tasks": ["run", "run"]}])
def test_bad_arguments_are_refused(tmp_path, kwargs):
    with pytest.raises(ValueError):
        gait.generate(tmp_path / "x.parquet", **kwargs)


def test_time_indexed_sample_converts_back_to_its_strides(tmp_path):
    """`cadence sample gait --time-indexed`: a recording `gait phase` segments with LocoHub's
    defaults into the phase sample's own strides (issue 22: nothing wrote one to try it on)."""
    from cadence.cli import main
    from cadence.gait import to_phase

    timed, phased = tmp_path / "walk_time.parquet", tmp_path / "walk_phase.parquet"
    assert main(["sample", "gait", "--time-indexed", str(timed), "--subjects", "2", "--strides-per-task", "10",
                 "--features", "20", "--clean", "-q"]) == 0
    t = pq.read_table(timed)
    assert t.column_names[:5] == ["subject", "task", "task_id", "task_info", "time_s"]
    assert "phase_ipsi" not in t.column_names and "step" not in t.column_names
    assert np.allclose(np.diff(t.column("time_s").to_numpy()[:50]), 0.01)  # 100 Hz
    s = to_phase(timed, phased, iqr_factor=0, show_progress=False)
    p = gait.plan(subjects=2, strides_per_task=10, n_features=20)
    trials = 2 * len(p.tasks)
    assert s["trials"] == trials and s["heel_strikes"] == p.n_strides  # every stride's strike found
    assert s["strides_kept"] == p.n_strides - 4 * trials  # 1 unclosed, 2 first and 1 last dropped per trial
    reference = load(gait.generate(tmp_path / "phase.parquet", subjects=2, strides_per_task=10, n_features=20,
                                   faults=False).path)
    out = pq.read_table(phased).to_pandas()
    for (subject, task), g in out.groupby(["subject", "task"], observed=True):
        got = g["knee_flexion_angle_ipsi_rad"].to_numpy().reshape(-1, 150)
        mine = (reference["subject"] == subject) & (reference["task"] == task)
        cycles = reference["X"][mine][:, :, reference["names"].index("knee_flexion_angle_ipsi_rad")]
        error = {k: np.abs(got - cycles[k:k + len(got)]).mean() for k in (1, 2, 3)}  # kept stride i = cycle i + 2
        assert error[2] < 0.03 and error[2] < min(error[1], error[3]), error  # strikes within a 10 ms sample
    assert main(["sample", "gait", "--time-indexed", str(tmp_path / "x.csv"), "-q"]) == 2  # it is Parquet
