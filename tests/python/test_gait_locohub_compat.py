"""LocomotionData against LocoHub's LocomotionData, one test per behaviour a LocoHub user relies on.

Each test names the LocoHub version(s) and file it follows (github.com/jmontp/LocoHub):
  lib/core/locomotion_analysis.py        (oldest; phase column 'phase')
  user_libs/python/locomotion_data.py    ('phase'; get_cycles(None, task) pools subjects)
  src/locohub/locomotion_data.py         (newest package; 'phase_ipsi', filter(), nested
                                          get_mean_patterns, grf_*/cop_* features)
Written from LocoHub's documented behaviour and code read for facts; none of its tests copied.
Numbers are checked against the plain numpy/pandas reference in gait_reference.py.
"""

import warnings

import numpy as np
import pandas as pd
import pytest

import gait_reference as ref
import cadence.gait.locomotion_data as ld
from cadence.gait import LocomotionData
from cadence.gait.locomotion_data import efficient_reshape_3d
from cadence.sample import gait

GRID = np.linspace(0, 100, 150)


def frame(subjects=("S01", "S02"), tasks=("walk", "run"), cycles=3, phase_col="phase", seed=0, extra=None):
    """A small LocoHub-shaped table: sinusoids plus noise, 150 rows per cycle."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in subjects:
        for t in tasks:
            for c in range(cycles):
                base = np.sin(2 * np.pi * GRID / 100 + c * 0.1)
                rows.append(pd.DataFrame({
                    "subject": s, "task": t, phase_col: GRID,
                    "hip_flexion_angle_ipsi_rad": 0.4 * base + rng.normal(0, 0.02, 150),
                    "knee_flexion_angle_contra_rad": 0.8 * base + rng.normal(0, 0.02, 150),
                    "ankle_dorsiflexion_velocity_ipsi_rad_s": 2.0 * np.cos(2 * np.pi * GRID / 100),
                    "hip_flexion_moment_ipsi_Nm_kg": rng.normal(0, 0.3, 150),
                    "grf_vertical_ipsi_BW": np.clip(base, 0, None) + rng.normal(0, 0.01, 150),
                    "cop_anterior_ipsi_m": 0.1 * base,
                }))
    df = pd.concat(rows, ignore_index=True)
    for name, values in (extra or {}).items():
        df[name] = values
    return df


def write(df, path):
    df.to_parquet(path, index=False)
    return path


def quiet(path, **kw):
    return LocomotionData(path, verbose=False, **kw)


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    path = tmp_path_factory.mktemp("compat") / "sample.parquet"
    truth = gait.generate(path, subjects=3, strides_per_task=12, n_features=24, seed=5, row_group_rows=1500)
    return quiet(truth.path), ref.load(truth.path)


# ---- loading --------------------------------------------------------------------------------

def test_phase_column_found_in_locohub_order(tmp_path):
    """Every version names its phase column: 'phase_ipsi' (src/locohub/locomotion_data.py),
    'phase' (lib/core/locomotion_analysis.py, user_libs/python/locomotion_data.py),
    'phase_percent' (LocoHub's demo data, loaded with phase_col= in its tutorials)."""
    for name in ("phase_ipsi", "phase", "phase_percent"):
        loco = quiet(write(frame(phase_col=name), tmp_path / f"{name}.parquet"))
        assert loco.phase_col == name
        assert loco.get_cycles("S01", "walk")[0].shape == (3, 150, 6)
    both = frame(phase_col="phase").assign(phase_ipsi=lambda d: d["phase"])
    assert quiet(write(both, tmp_path / "both.parquet")).phase_col == "phase_ipsi"  # newest first
    none = frame(phase_col="gait_cycle_pct")
    with pytest.raises(ValueError, match=r"(?s)no phase column found \(looked for phase_ipsi, phase, phase_percent, "
                                         r"in that order\).*Available columns: \['subject', 'task', 'gait_cycle_pct'.*"
                                         r"phase_col="):
        quiet(write(none, tmp_path / "none.parquet"))
    assert quiet(tmp_path / "none.parquet", phase_col="gait_cycle_pct").phase_col == "gait_cycle_pct"


def test_corrupt_file_raises_failed_to_load(tmp_path):
    """All three versions wrap any read failure as ValueError('Failed to load data from <path>: ...')."""
    bad = tmp_path / "bad.parquet"
    bad.write_text("not a parquet file")
    with pytest.raises(ValueError, match=rf"^Failed to load data from {bad}: Failed to read parquet file"):
        quiet(bad)
    with pytest.raises(ValueError, match="Unsupported file type: xlsx"):
        quiet(bad, file_type="xlsx")
    with pytest.raises(FileNotFoundError, match="Data file not found"):
        quiet(tmp_path / "missing.parquet")
    other = write(frame(), tmp_path / "data.bin")  # an unknown suffix: whichever reader accepts it
    assert quiet(other).subjects == ["S01", "S02"]


def test_load_warnings_as_locohub(tmp_path):
    """_validate_data_format in every version: all-NaN phase, phase outside [0, 100], and a
    time/time_s column with fewer than 100 distinct phase values per group on average."""
    df = frame(subjects=("S01",), tasks=("walk",), cycles=1)
    with pytest.warns(UserWarning, match="^Phase column contains only NaN values$"):
        quiet(write(df.assign(phase=np.nan), tmp_path / "nan.parquet"))
    empty = tmp_path / "empty_phase.csv"  # every phase cell empty: pyarrow reads a null-typed column
    df.assign(phase="").to_csv(empty, index=False)
    with pytest.warns(UserWarning, match="^Phase column contains only NaN values$"):
        quiet(empty)
    with pytest.warns(UserWarning, match=r"^Phase values outside expected range \[0-100\]: \[0\.0, 149\.0\]$"):
        quiet(write(df.assign(phase=np.arange(150)), tmp_path / "integers.parquet"))  # integer phases: checked too
    with pytest.warns(UserWarning, match=r"^Phase values outside expected range \[0-100\]: \[-5\.0, 105\.0\]$") as caught:
        quiet(write(df.assign(phase=np.linspace(-5, 105, 150)), tmp_path / "range.parquet"))
    assert caught[0].filename == __file__  # the user's line (here: this file's), never cadence's
    coarse = df.assign(phase=np.repeat(np.arange(75.0), 2), time_s=np.arange(150) / 100)
    with pytest.warns(UserWarning, match=r"^Data appears to be time-indexed \(avg 75\.0 unique phase values per "
                                         r"subject-task\)"):
        quiet(write(coarse, tmp_path / "time.parquet"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 150 distinct phases with a time column: no warning
        quiet(write(df.assign(time_s=np.arange(150) / 100), tmp_path / "ok.parquet"))


def test_load_summary_lines_printed(tmp_path, capsys):
    """LocoHub prints three lines while loading (all versions); verbose=False is silent."""
    path = write(frame(), tmp_path / "d.parquet")
    LocomotionData(path)
    assert capsys.readouterr().out.splitlines() == [
        "Data validation passed: 2 subjects, 2 tasks",
        "Loaded data with 1800 rows, 2 subjects, 2 tasks, 6 features",
        "Variable name validation: All 6 variables are standard compliant"]
    quiet(path)
    assert capsys.readouterr().out == ""


# ---- variable names -------------------------------------------------------------------------

def test_non_standard_name_raises_with_suggestion(tmp_path):
    """_validate_variable_names in every version raises on the first non-standard feature."""
    df = frame(cycles=1).assign(knee_angle_left=0.0)
    with pytest.raises(ValueError, match=r"^Non-standard variable name detected: 'knee_angle_left'\. Expected format: "
                                         r"<joint>_<motion>_<measurement>_<side>_<unit>\. Suggestion: "
                                         r"knee_flexion_angle_ipsi_rad"):
        quiet(write(df, tmp_path / "n.parquet"))


def locohub_feature_constants():
    """Every name in LocoHub's current feature constants (src/locohub/feature_constants.py),
    built from its lists' structure."""
    sides = ("ipsi", "contra")
    joints = (("hip", "flexion"), ("knee", "flexion"), ("ankle", "dorsiflexion"))
    names = [f"{j}_{m}_{q}_{s}_{u}" for j, m in joints for s in sides
             for q, u in (("angle", "rad"), ("velocity", "rad_s"))]
    names += [f"{j}_{m}_moment_{s}_{u}" for j in ("hip", "knee", "ankle") for s in sides for u in ("Nm", "Nm_kg")
              for m in (("dorsiflexion" if j == "ankle" else "flexion"), "adduction", "rotation")]
    names += [f"{j}_{m}_{kind}_moment_{s}_Nm_kg" for j, m in joints for s in sides
              for kind in ("assistance", "biological")]
    names += [f"{seg}_{plane}_{q}_{u}" for seg in ("pelvis", "trunk") for plane in ("sagittal", "frontal", "transverse")
              for q, u in (("angle", "rad"), ("velocity", "rad_s"))]
    names += [f"{seg}_sagittal_{q}_{s}_{u}" for seg in ("thigh", "shank", "foot") for s in sides
              for q, u in (("angle", "rad"), ("velocity", "rad_s"))]
    names += [f"grf_{a}_{s}_{u}" for a in ("vertical", "anterior", "lateral") for s in sides for u in ("N", "BW")]
    names += [f"cop_{a}_{s}_m" for a in ("anterior", "lateral", "vertical") for s in sides]
    return names


def test_every_name_of_locohubs_feature_constants_loads(tmp_path):
    """src/locohub/locomotion_data.py accepts its feature constants (compound units, dorsiflexion,
    segment angles, grf_*/cop_*); older versions rejected _rad_s/_Nm_kg, which real files use."""
    names = locohub_feature_constants()
    assert len(names) == 102
    loco0 = quiet(write(frame(cycles=1), tmp_path / "d.parquet"))
    assert all(loco0._is_standard_compliant(n) for n in names)
    df = frame(subjects=("S01",), tasks=("walk",), cycles=1)[["subject", "task", "phase"]]
    wide = pd.concat([df, pd.DataFrame(np.zeros((150, len(names))), columns=names)], axis=1)
    loco = quiet(write(wide, tmp_path / "all.parquet"))
    assert loco.get_validation_report()["non_standard"] == [] and len(loco.features) == 102


def test_legacy_grf_names_read_under_current_names(tmp_path):
    """src/locohub renames <axis>_grf_<side>_<unit> columns to grf_<axis>_... in memory, with a
    warning; older versions do not count them as features at all."""
    df = frame(cycles=2).rename(columns={"grf_vertical_ipsi_BW": "vertical_grf_ipsi_BW"})
    path = write(df, tmp_path / "old.parquet")
    with pytest.warns(UserWarning, match="^Detected legacy GRF column names; they were renamed to the new "
                                         "grf_<axis>_<side>_<unit> schema in-memory. vertical_grf_ipsi_BW→"
                                         "grf_vertical_ipsi_BW$"):
        loco = quiet(path)
    assert "grf_vertical_ipsi_BW" in loco.features and "vertical_grf_ipsi_BW" not in loco.features
    data, _ = loco.get_cycles("S02", "walk", ["grf_vertical_ipsi_BW"])
    np.testing.assert_array_equal(data, ref.get_cycles(df, "S02", "walk", ["vertical_grf_ipsi_BW"]))
    assert "grf_vertical_ipsi_BW" in loco.df.columns
    table = loco.cycle_features(["grf_vertical_ipsi_BW"], show_progress=False)
    sub = table[(table["subject"].astype(str) == "S02") & (table["task"].astype(str) == "walk")]
    np.testing.assert_allclose(sub["grf_vertical_ipsi_BW__max"], data[:, :, 0].max(axis=1))
    assert "vertical_grf_ipsi_BW" not in quiet(path, api="legacy").features


def test_naming_helpers(tmp_path):
    """_is_standard_compliant, _has_biomechanical_keywords, suggest_standard_name (every version;
    STANDARD_JOINTS/MOTIONS as in src/locohub/locomotion_data.py)."""
    loco = quiet(write(frame(cycles=1), tmp_path / "d.parquet"))
    assert loco._is_standard_compliant("knee_flexion_angle_ipsi_rad")
    for bad in ("invalid_name", "knee_angle", "hip_flexion_angle_left_rad", "grf_vertical_ipsi_m",
                "elbow_flexion_angle_ipsi_rad", "knee_flexion_angle_ipsi_degrees"):
        assert not loco._is_standard_compliant(bad), bad
    assert loco._has_biomechanical_keywords("hip_test_variable")
    assert loco._has_biomechanical_keywords("KNEE_thing")
    assert not loco._has_biomechanical_keywords("random_variable")
    assert loco.suggest_standard_name("hip_angle_left") == "hip_flexion_angle_ipsi_rad"
    assert loco.suggest_standard_name("knee_moment_contra_nm_kg") == "knee_flexion_moment_contra_Nm_kg"
    assert loco.suggest_standard_name("ankle_vel_deg_s") == "ankle_flexion_angle_ipsi_deg_s"
    assert loco.suggest_standard_name("mystery") == "unknown_flexion_angle_ipsi_rad"
    assert "pelvis" in loco.STANDARD_JOINTS and "dorsiflexion" in loco.STANDARD_MOTIONS


# ---- features and statistics ------------------------------------------------------------------

def test_features_include_grf_cop_in_newest_only(tmp_path):
    """src/locohub counts grf_*/cop_* columns as features; lib/core and user_libs do not
    (api='legacy')."""
    path = write(frame(cycles=1), tmp_path / "d.parquet")
    df = pd.read_parquet(path)
    assert quiet(path).features == ref.features_of(df, "current")
    assert quiet(path, api="legacy").features == ref.features_of(df, "legacy")
    assert "grf_vertical_ipsi_BW" in quiet(path).features
    assert "grf_vertical_ipsi_BW" not in quiet(path, api="legacy").features


def test_mean_patterns_nested_newest_flat_legacy(sample):
    """get_mean_patterns: {f: {'mean': Series, 'std': Series}} indexed by linspace(0, 100, 150,
    endpoint=False) in src/locohub; {f: (150,)} in lib/core and user_libs."""
    loco, df = sample
    s, t = loco.subjects[0], loco.tasks[1]
    X = ref.get_cycles(df, s, t, loco.features)
    got, want = loco.get_mean_patterns(s, t), ref.mean_patterns(X, loco.features)
    assert list(got) == list(want)
    for f in loco.features:
        assert list(got[f]) == ["mean", "std"]
        pd.testing.assert_series_equal(got[f]["mean"], want[f]["mean"], rtol=1e-12)
        pd.testing.assert_series_equal(got[f]["std"], want[f]["std"], rtol=1e-9, atol=1e-12)
    legacy = LocomotionData(loco.data_path, api="legacy", verbose=False)
    flat = legacy.get_mean_patterns(s, t)
    X = ref.get_cycles(df, s, t, legacy.features)
    want = ref.mean_patterns(X, legacy.features, "legacy")
    assert list(flat) == legacy.features
    for f in legacy.features:
        assert isinstance(flat[f], np.ndarray) and flat[f].shape == (150,)
        np.testing.assert_allclose(flat[f], want[f], rtol=1e-12, equal_nan=True)
    with pytest.raises(ValueError, match="api='new'.*'current'.*'legacy'"):
        LocomotionData(loco.data_path, api="new")


def test_get_cycles_none_pools_every_subject_in_one_engine_call(sample, monkeypatch):
    """user_libs and src/locohub: get_cycles(None, task) takes the task's rows of every subject in
    file order; here the statistics of the pool are one engine call."""
    loco, df = sample
    task = loco.tasks[0]
    fresh = LocomotionData(loco.data_path, verbose=False)
    calls = []
    real = ld._core.gait_analyse_group
    monkeypatch.setattr(ld._core, "gait_analyse_group", lambda *a: calls.append(a[1]) or real(*a))
    X = ref.get_cycles(df, None, task, fresh.features)
    data, names = fresh.get_cycles(None, task)
    np.testing.assert_array_equal(data, X)
    means = fresh.get_mean_patterns(None, task)
    assert calls == [X.shape[0]]  # one call, over every subject's cycles
    np.testing.assert_allclose(np.stack([means[f]["mean"] for f in names], 1), X.mean(axis=0), rtol=1e-9,
                               equal_nan=True)
    np.testing.assert_array_equal(fresh.validate_cycles(None, task), ref.validate(X, names))
    with pytest.warns(UserWarning, match="^No data found for task 'nope'$"):
        assert fresh.get_cycles(None, "nope") == (None, [])


def test_pooling_refuses_to_join_cycles_across_subjects(tmp_path):
    """LocoHub checks only the pooled length; a subject whose rows are not whole cycles would
    shift every later cycle, so the pool is refused with LocoHub's warning, naming the subject."""
    df = frame(subjects=("S01", "S02", "S03"), tasks=("walk",), cycles=2)
    df.loc[299, "subject"] = "S02"  # S01 299 rows, S02 301: 900 rows in all, whole cycles in total
    loco = quiet(write(df, tmp_path / "d.parquet"))
    assert loco.get_cycles("S03", "walk")[0].shape == (2, 150, 6)
    with pytest.warns(UserWarning, match=r"Data length 299 not divisible by 150 \(subject 'S01'"):
        assert loco.get_cycles(None, "walk") == (None, [])


def test_efficient_reshape_3d(tmp_path):
    """The module function of every version: (n_cycles, points, features) of one group of a
    DataFrame, None for an absent group or no usable feature, a warning for partial cycles."""
    df = frame()
    names = ["knee_flexion_angle_contra_rad", "nope", "hip_flexion_angle_ipsi_rad"]
    data, valid = efficient_reshape_3d(df, "S02", "run", names)
    assert valid == ["knee_flexion_angle_contra_rad", "hip_flexion_angle_ipsi_rad"]
    np.testing.assert_array_equal(data, ref.get_cycles(df, "S02", "run", valid))
    assert efficient_reshape_3d(df, "S09", "run", names) == (None, [])
    assert efficient_reshape_3d(df, "S02", "run", ["nope"]) == (None, [])
    with pytest.warns(UserWarning, match="^Data length 140 not divisible by 150$"):
        assert efficient_reshape_3d(df.iloc[:140], "S01", "walk", names) == (None, [])
    data, _ = efficient_reshape_3d(df.rename(columns={"subject": "who"}), "S01", "walk", names[:1],
                                   subject_col="who", points_per_cycle=50)
    assert data.shape == (9, 50, 1)


# ---- filter() -----------------------------------------------------------------------------

def test_filter_subjects_tasks_as_newest(sample):
    """src/locohub filter(subject, task, subjects, tasks) -> a new LocomotionData of those rows;
    filter_task/filter_tasks/filter_subject/filter_subjects; len() counts rows."""
    loco, df = sample
    s, t = loco.subjects[1], loco.tasks[2]
    one = loco.filter(subject=s, task=t)
    assert isinstance(one, LocomotionData) and one.subjects == [s] and one.tasks == [t]
    assert len(one) == int(((df["subject"] == s) & (df["task"] == t)).sum()) == len(one.df)
    many = loco.filter(subjects=loco.subjects[:2], tasks=[t, "absent"])
    assert many.subjects == loco.subjects[:2] and many.tasks == [t]
    assert loco.filter_task(t).tasks == [t] and loco.filter_tasks([t]).subjects == loco.subjects
    assert loco.filter_subject(s).subjects == [s] and loco.filter_subjects([s]).tasks == loco.tasks
    np.testing.assert_array_equal(one.get_cycles(s, t)[0], loco.get_cycles(s, t)[0])
    with pytest.warns(UserWarning, match=f"No data found for subject '{loco.subjects[0]}'"):
        assert one.get_cycles(loco.subjects[0], t) == (None, [])
    assert loco.subjects == sorted(set(df["subject"]))  # the parent is untouched
    assert one.shape == (len(one), len(df.columns)) and list(one.columns) == list(df.columns)


def test_filter_is_a_view_and_chains(sample, tmp_path):
    """filter() copies no data: the view shares the parent's index and loaded columns."""
    loco, _ = sample
    s, t = loco.subjects[0], loco.tasks[0]
    view = loco.filter(tasks=loco.tasks[:2]).filter(subject=s).filter(task=t)
    assert view.cycle_index is loco.cycle_index and view.shared is loco.shared
    np.testing.assert_array_equal(view.get_cycles(s, t)[0], loco.get_cycles(s, t)[0])
    assert view.loaded_table is loco.loaded_table is not None  # the columns were read once, for both
    assert view.subjects == [s] and view.tasks == [t]
    one = quiet(write(frame(), tmp_path / "one_row_group.parquet"))
    whole, _ = one.get_cycles("S02", "run", ["knee_flexion_angle_contra_rad"])
    part, _ = one.filter(subject="S02").get_cycles("S02", "run", ["knee_flexion_angle_contra_rad"])
    assert np.shares_memory(part, whole)  # both views of the one loaded column
    assert loco.filter(task=t).filter(task=loco.tasks[1]).tasks == []  # each call narrows the last


def test_filter_phase_range_cycles_and_values(sample):
    """Beyond LocoHub (its filter ignores other keywords): a phase range of every cycle, chosen
    cycles, and cycles whose values meet conditions; statistics follow the view."""
    loco, df = sample
    s, t = loco.subjects[2], loco.tasks[1]
    names = loco.features[:5]
    key = names[0]
    X = ref.get_cycles(df, s, t, names)
    lo = float(np.median(X[1:, (GRID >= 20) & (GRID <= 60), 0].min(axis=1)))  # keeps about half
    view = loco.filter(subject=s, cycles=slice(1, None)).filter(phase_range=(20, 60), where={key: (lo, None)})
    want = ref.filtered_cycles(X, phase_range=(20, 60), cycles=slice(1, None), where={key: (lo, None)},
                               where_X=X[:, :, :1])
    got, got_names = view.get_cycles(s, t, names)
    assert got_names == names and got.shape == want.shape and 0 < got.shape[0] < X.shape[0] - 1
    np.testing.assert_array_equal(got, want)
    means = view.get_mean_patterns(s, t, names)
    np.testing.assert_allclose(means[key]["mean"].to_numpy(), want[:, :, 0].mean(axis=0), rtol=1e-12)
    np.testing.assert_array_equal(means[key]["mean"].index, ref.PATTERN_INDEX[(GRID >= 20) & (GRID <= 60)])
    np.testing.assert_array_equal(view.validate_cycles(s, t, names), ref.validate(want, names))
    np.testing.assert_array_equal(view.find_outlier_cycles(s, t, names, threshold=1.0), ref.outliers(want, 1.0))
    rom = view.calculate_rom(s, t, names)
    np.testing.assert_allclose(rom[key], np.ptp(want[:, :, 0], axis=1))
    chosen = loco.filter(cycles=[0, 2, 99])  # positions past a group's end keep nothing
    np.testing.assert_array_equal(chosen.get_cycles(s, t, names)[0], X[[0, 2]])
    np.testing.assert_array_equal(chosen.validate_cycles(s, t, names), ref.validate(X[[0, 2]], names))
    for bad, message in (({"phase_range": (70, 20)}, "low > high"), ({"cycles": 1.5}, "cycles must be"),
                         ({"where": {"nope": (0, 1)}}, "where names column"), ({"where": {key: 3}}, r"\(min, max\)")):
        with pytest.raises(ValueError, match=message):
            loco.filter(**bad)


def test_streamed_methods_on_a_view_say_what_they_support(sample):
    """cycle_features on a subject/task view returns the view's rows; what a streamed method
    cannot honour is refused rather than silently ignored (a cadence method, no LocoHub peer)."""
    loco, _ = sample
    s = loco.subjects[0]
    table = loco.filter(subject=s).cycle_features(loco.features[:2], show_progress=False)
    assert set(table["subject"].astype(str)) == {s}
    whole = loco.cycle_features(loco.features[:2], show_progress=False)
    assert len(table) == int((whole["subject"].astype(str) == s).sum())
    with pytest.raises(ValueError, match="streams the whole file"):
        loco.filter(phase_range=(0, 50)).cycle_features(loco.features[:2])
    with pytest.raises(ValueError, match="streams the whole file"):
        loco.filter(subject=s).validate_ranges(None)


# ---- newest accessors and plots --------------------------------------------------------------

def test_task_info_helpers(tmp_path):
    """src/locohub parse_task_info, get_task_metadata, filter_by_task_id, get_variables, head."""
    df = frame(cycles=1).assign(task_id=lambda d: d["task"] + "_1",
                                task_info=lambda d: np.where(d["task"] == "walk", "speed_m_s:1.2,incline_deg:5,"
                                                             "treadmill:true,note:x y", ""))
    loco = quiet(write(df, tmp_path / "d.parquet"))
    assert loco.parse_task_info("speed_m_s:1.2,incline_deg:5,treadmill:true,bad,note:x y") == {
        "speed_m_s": 1.2, "incline_deg": 5, "treadmill": True, "note": "x y"}
    assert loco.parse_task_info(None) == {} and loco.parse_task_info("") == {}
    assert loco.get_task_metadata("S02", "walk", "incline_deg") == 5
    assert loco.get_task_metadata("S02", "run", "incline_deg") is None
    assert len(loco.filter_by_task_id("run_1")) == 300
    assert loco.get_variables() == loco.features and len(loco.head(3)) == 3
    with pytest.raises(ValueError, match="does not contain 'task_id'"):
        quiet(write(frame(cycles=1), tmp_path / "plain.parquet")).filter_by_task_id("x")


def test_plot_time_series(tmp_path, capsys):
    """plot_time_series(subject, task, features, time_col='time_s', save_path) of every version:
    one panel per feature against time; a missing feature gets a 'not found' panel; no data prints
    a line and returns None."""
    df = frame(cycles=2).assign(time_s=lambda d: np.tile(np.arange(150) / 100.0, len(d) // 150))
    loco = quiet(write(df, tmp_path / "d.parquet"))
    out = loco.plot_time_series("S01", "walk", ["hip_flexion_angle_ipsi_rad", "nope"], save_path=tmp_path / "t.png")
    assert out == tmp_path / "t.png" and out.stat().st_size > 10_000
    assert not list(tmp_path.glob(".*partial*"))  # written under a temporary name, then renamed
    fig = loco.plot_time_series("S01", "walk", ["hip_flexion_angle_ipsi_rad"])
    x, y = fig.axes[0].lines[0].get_data()
    rows = df[(df["subject"] == "S01") & (df["task"] == "walk")]
    np.testing.assert_array_equal(x, rows["time_s"])
    np.testing.assert_array_equal(y, rows["hip_flexion_angle_ipsi_rad"])
    import matplotlib.pyplot as plt

    plt.close(fig)
    assert loco.plot_time_series("S09", "walk", ["hip_flexion_angle_ipsi_rad"]) is None
    assert "No data found for S09 - walk" in capsys.readouterr().out


def test_plots_need_matplotlib(tmp_path, monkeypatch):
    """MATPLOTLIB_AVAILABLE, the module flag of every version: plots raise ImportError without it."""
    assert ld.MATPLOTLIB_AVAILABLE is True
    loco = quiet(write(frame(cycles=1), tmp_path / "d.parquet"))
    monkeypatch.setattr(ld, "MATPLOTLIB_AVAILABLE", False)
    for call in (lambda: loco.plot_time_series("S01", "walk", ["hip_flexion_angle_ipsi_rad"]),
                 lambda: loco.plot_phase_patterns("S01", "walk", ["hip_flexion_angle_ipsi_rad"]),
                 lambda: loco.plot_task_comparison("S01", ["walk"], ["hip_flexion_angle_ipsi_rad"])):
        with pytest.raises(ImportError, match="^matplotlib is required for plotting. Install with: pip install "
                                              "matplotlib$"):
            call()


def test_task_comparison_draws_the_mean_pattern(tmp_path):
    """plot_task_comparison plots each task's mean pattern (newest API: the 'mean' entry)."""
    df = frame(cycles=2)
    loco = quiet(write(df, tmp_path / "d.parquet"))
    fig = loco.plot_task_comparison("S01", ["walk", "run"], ["knee_flexion_angle_contra_rad"])
    lines = fig.axes[0].lines
    assert [ln.get_label() for ln in lines] == ["walk", "run"]
    X = ref.get_cycles(df, "S01", "run", ["knee_flexion_angle_contra_rad"])
    np.testing.assert_allclose(lines[1].get_ydata(), X[:, :, 0].mean(axis=0), rtol=1e-12)
    import matplotlib.pyplot as plt

    plt.close(fig)
