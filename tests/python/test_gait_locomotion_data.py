"""LocomotionData against LocoHub's semantics (gait_reference) and the sample's ground truth."""

import contextlib

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import gait_reference as ref
from cadence.gait import LocomotionData
from cadence.gait.locomotion_data import OutlierNaNWarning
from cadence.sample import gait


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    path = tmp_path_factory.mktemp("gait") / "sample.parquet"
    truth = gait.generate(path, subjects=3, strides_per_task=24, n_features=40, seed=3, row_group_rows=2000)
    return truth, ref.load(path)


@pytest.fixture(scope="module")
def loco(sample):
    return LocomotionData(sample[0].path)


def groups(loco):
    return [(s, t) for s in loco.subjects for t in loco.tasks]


def test_subjects_tasks_features_as_locohub(loco, sample):
    truth, df = sample
    assert loco.subjects == sorted(truth.subjects) == loco.get_subjects()
    assert loco.tasks == sorted(truth.tasks)
    assert loco.features == ref.features_of(df)
    assert all(any(k in f for k in ref.KINDS + ref.FORCES) for f in loco.features)
    assert "grf_vertical_ipsi_BW" in loco.features and "cop_anterior_ipsi_m" in loco.features  # newest rule
    assert loco.get_validation_report()["non_standard"] == []


def test_get_cycles_equals_locohub_reshape(loco, sample):
    _, df = sample
    for s, t in groups(loco):
        data, names = loco.get_cycles(s, t)
        want = ref.get_cycles(df, s, t, names)
        assert names == loco.features
        np.testing.assert_array_equal(data, want)
    one, names = loco.get_cycles(loco.subjects[0], loco.tasks[0], ["knee_flexion_angle_ipsi_rad", "nope"])
    assert names == ["knee_flexion_angle_ipsi_rad"] and one.shape[2] == 1
    assert one.base is not None and not one.flags.owndata  # a view of the loaded column


def test_patterns_validation_outliers_rom_match_numpy(loco, sample):
    truth, df = sample
    for s, t in groups(loco):
        X = ref.get_cycles(df, s, t, loco.features)
        means, stds = loco.get_mean_patterns(s, t), loco.get_std_patterns(s, t)
        np.testing.assert_allclose(np.stack([means[f]["mean"] for f in loco.features], 1), X.mean(axis=0), rtol=1e-9,
                                   atol=1e-12, equal_nan=True)
        np.testing.assert_allclose(np.stack([stds[f] for f in loco.features], 1), X.std(axis=0), rtol=1e-9,
                                   atol=1e-12, equal_nan=True)
        np.testing.assert_array_equal(loco.validate_cycles(s, t), ref.validate(X, loco.features))
        # A NaN in the group: LocoHub's empty answer, kept, and said (OutlierNaNWarning)
        with pytest.warns(OutlierNaNWarning) if np.isnan(X).any() else contextlib.nullcontext():
            np.testing.assert_array_equal(loco.find_outlier_cycles(s, t), ref.outliers(X))
        ok = ref.validate(X, loco.features)
        np.testing.assert_array_equal(loco.find_outlier_cycles(s, t, valid_only=True), ref.outliers(X, basis=ok))
        rom = loco.calculate_rom(s, t)
        np.testing.assert_array_equal(rom[loco.features[0]], X[:, :, 0].max(axis=1) - X[:, :, 0].min(axis=1))
        overall = loco.calculate_rom(s, t, by_cycle=False)
        assert overall[loco.features[3]] == pytest.approx(X[:, :, 3].max() - X[:, :, 3].min(), nan_ok=True)


def test_ground_truth_invalid_and_outlier_strides_are_found(loco, sample):
    truth, df = sample
    failing, found, nan_in_features = set(), set(), set()
    for s, t in groups(loco):
        X = ref.get_cycles(df, s, t, loco.features)
        nan_in_features |= {(s, t, int(i)) for i in np.flatnonzero(np.isnan(X).any(axis=(1, 2)))}
        valid = loco.validate_cycles(s, t)
        failing |= {(s, t, int(i)) for i in np.flatnonzero(~valid)}
        found |= {(s, t, int(i)) for i in loco.find_outlier_cycles(s, t, valid_only=True)}
    assert set(truth.invalid_keys) <= failing
    assert nan_in_features <= set(truth.nan_keys)
    assert failing == set(truth.invalid_keys) | nan_in_features
    assert set(truth.outlier_keys) <= found
    assert len(truth.outlier_keys) >= 2


def test_correlations_and_summary_statistics(loco, sample):
    _, df = sample
    s, t = loco.subjects[1], loco.tasks[2]
    feats = loco.features[:4]
    X = ref.get_cycles(df, s, t, feats)
    corr = loco.get_phase_correlations(s, t, feats)
    assert corr.shape == (150, 4, 4)
    for p in (0, 77, 149):
        np.testing.assert_allclose(corr[p], np.corrcoef(X[:, p, :].T), rtol=1e-9, atol=1e-12)
    summary = loco.get_summary_statistics(s, t, feats)
    flat = X.reshape(-1, 4)
    np.testing.assert_allclose(summary["median"], np.median(flat, axis=0))
    np.testing.assert_allclose(summary["q75"], np.percentile(flat, 75, axis=0))
    assert list(summary.index) == feats and summary.index.name == "feature"


def test_merge_with_task_data(loco):
    info = pd.DataFrame({"subject": loco.subjects, "mass_kg": [70.0, 80.0, 90.0]})
    merged = loco.merge_with_task_data(info, join_keys=["subject"], how="left")
    assert "mass_kg" in merged and len(merged) == len(loco.df)
    with pytest.raises(ValueError, match="not found in task data"):
        loco.merge_with_task_data(info, join_keys=["subject", "task"])


def test_subject_and_population_analysis(loco, sample):
    _, df = sample
    s = loco.subjects[0]
    a = loco.subject_analysis(s)
    assert a["tasks_completed"] == loco.tasks
    assert a["total_cycles"] == sum(len(loco.validate_cycles(s, t)) for t in loco.tasks)
    t = loco.tasks[0]
    p = loco.population_analysis(t)
    per_subject = np.stack([ref.get_cycles(df, x, t, loco.features).mean(axis=0) for x in loco.subjects])
    np.testing.assert_allclose(p["population_mean"], per_subject.mean(axis=0), rtol=1e-9, equal_nan=True)
    np.testing.assert_allclose(p["population_std"], per_subject.std(axis=0), rtol=1e-9, atol=1e-12, equal_nan=True)
    assert p["subjects_with_data"] == loco.subjects


def test_plots_are_written(loco, tmp_path):
    s = loco.subjects[0]
    out = loco.plot_phase_patterns(s, loco.tasks[0], loco.features[:2], save_path=tmp_path / "p.png")
    cmp = loco.plot_task_comparison(s, loco.tasks[:2], loco.features[:2], save_path=tmp_path / "c.png")
    assert out.stat().st_size > 10_000 and cmp.stat().st_size > 10_000


def test_missing_columns_are_listed(tmp_path, sample):
    t = pq.read_table(sample[0].path).drop_columns(["task"])
    pq.write_table(t, tmp_path / "x.parquet")
    with pytest.raises(ValueError, match=r"Missing required columns: \['task'\]\nAvailable columns: \['subject'"):
        LocomotionData(tmp_path / "x.parquet")


def test_time_indexed_file_gets_a_clear_message(tmp_path):
    """It names the command that converts it (before: "LocoHub's phase normalisation")."""
    pq.write_table(pa.table({"subject": ["a"] * 3, "task": ["w"] * 3, "time_s": [0.0, 0.01, 0.02],
                             "knee_flexion_angle_ipsi_rad": [0.1, 0.2, 0.3]}), tmp_path / "t.parquet")
    with pytest.raises(ValueError, match="time-indexed") as e:
        LocomotionData(tmp_path / "t.parquet")
    t, out = tmp_path / "t.parquet", tmp_path / "t_phase.parquet"
    assert (f"Convert it with: cadence gait phase {t} {out} (in Python: cadence.gait.to_phase({str(t)!r}, "
            f"{str(out)!r})), then use t_phase.parquet; or pass phase_col='<name>'") in str(e.value)


def test_phase_column_with_another_name_is_suggested(tmp_path, sample):
    t = pq.read_table(sample[0].path).rename_columns(
        [("gait_phase" if c == "phase_ipsi" else c) for c in pq.read_schema(sample[0].path).names])
    pq.write_table(t, tmp_path / "p.parquet")
    with pytest.raises(ValueError, match=r"(?s)no phase column found \(looked for phase_ipsi, phase, phase_percent.*"
                                         r"Available columns: \['subject'.*phase_col='gait_phase'"):
        LocomotionData(tmp_path / "p.parquet")
    assert LocomotionData(tmp_path / "p.parquet", phase_col="gait_phase").features


def test_group_not_multiple_of_150_warns_and_is_in_the_drop_log(tmp_path, sample):
    t = pq.read_table(sample[0].path)
    pq.write_table(t.slice(0, 150 * 5 - 1).concat_batches() if False else pa.concat_tables(
        [t.slice(0, 150 * 5 - 1), t.slice(150 * 5 + 10**6)]), tmp_path / "short.parquet")
    loco = LocomotionData(tmp_path / "short.parquet")
    s, task = str(t.column("subject")[0]), str(t.column("task")[0])
    with pytest.warns(UserWarning, match="Data length 749 not divisible by 150"):
        assert loco.get_cycles(s, task) == (None, [])
    log = loco.drop_log
    assert list(log["reason"]) == ["group_rows_not_multiple_of_150"]
    assert (log["subject"][0], log["task"][0], log["rows"][0]) == (s, task, 749)
    with pytest.warns(UserWarning, match="No data found"):
        assert loco.get_cycles("nobody", task) == (None, [])


def test_non_standard_names_are_explained(tmp_path):
    n = 300
    pq.write_table(pa.table({"subject": ["a"] * n, "task": ["w"] * n, "phase_ipsi": np.tile(np.linspace(0, 100, 150), 2),
                             "knee_angle": np.zeros(n), "knee_flexion_angle_ipsi_rad": np.zeros(n)}), tmp_path / "n.parquet")
    with pytest.raises(ValueError, match=r"Non-standard variable name detected: 'knee_angle'\. Expected format: "
                                         r"<joint>_<motion>_<measurement>_<side>_<unit>\. Suggestion: "
                                         r"knee_flexion_angle_ipsi_rad"):
        LocomotionData(tmp_path / "n.parquet")  # strict by default, as every LocoHub version
    with pytest.warns(UserWarning, match="do not follow LocoHub's convention.*knee_angle"):
        loco = LocomotionData(tmp_path / "n.parquet", strict_names=False)
    assert loco.get_validation_report()["non_standard"] == ["knee_angle"]


@pytest.mark.filterwarnings("ignore:column .* has null values")
def test_csv_input_gives_the_same_cycles(tmp_path, sample, loco):
    _, df = sample
    sub = df[df["subject"] == loco.subjects[0]]
    sub.to_csv(tmp_path / "s.csv", index=False)
    from_csv = LocomotionData(tmp_path / "s.csv")
    assert from_csv.features == loco.features
    for t in loco.tasks:
        a, _ = from_csv.get_cycles(loco.subjects[0], t)
        b, _ = loco.get_cycles(loco.subjects[0], t)
        np.testing.assert_allclose(a, b, rtol=1e-15, equal_nan=True)
        np.testing.assert_array_equal(from_csv.validate_cycles(loco.subjects[0], t), loco.validate_cycles(loco.subjects[0], t))
    # NaN is written to CSV as an empty cell, which Arrow reads as null: that is said, once per column.
    with pytest.warns(UserWarning, match="has null values; they are read as NaN"):
        LocomotionData(tmp_path / "s.csv").get_cycles(loco.subjects[0], loco.tasks[0])


def test_reading_per_call_when_the_data_does_not_fit(sample, loco):
    small = LocomotionData(sample[0].path, memory_limit="1M")
    s, t = loco.subjects[2], loco.tasks[1]
    np.testing.assert_array_equal(small.get_cycles(s, t)[0], loco.get_cycles(s, t)[0])
    assert small.loaded_table is None


# ---- issue 22: silent answers, plots that say what is missing, useful reprs ------------------------

@pytest.fixture(scope="module")
def docs_sample(tmp_path_factory):
    """`cadence sample gait data/gait.parquet`'s file: the one docs/gait.md's examples use
    (tests/python/test_docs_examples.py runs them)."""
    return gait.generate(tmp_path_factory.mktemp("docs") / "gait.parquet").path


def test_outliers_hidden_by_nan_are_said_once(docs_sample):
    """Before: [] without a word on the docs' own example (one NaN cycle in the group)."""
    loco = LocomotionData(docs_sample, verbose=False)
    with pytest.warns(OutlierNaNWarning) as said:
        assert loco.find_outlier_cycles("SAMPLE_AB01", "level_walking").tolist() == []  # LocoHub's answer
    assert len(said) == 1
    assert str(said[0].message) == ("find_outlier_cycles('SAMPLE_AB01', 'level_walking') finds no outlier: NaN "
                                    "values in 1 of 44 cycles make every RMSE NaN under LocoHub's rule; "
                                    "valid_only=True judges the 43 valid cycles and finds 1")
    assert loco.find_outlier_cycles("SAMPLE_AB01", "level_walking", valid_only=True).tolist() == [12]  # no warning
    omit = LocomotionData(docs_sample, verbose=False, nan_policy="omit")
    assert omit.find_outlier_cycles("SAMPLE_AB01", "level_walking").size  # NaN skipped: an answer, no warning


def test_time_series_panels_say_the_time_column_is_missing(loco):
    """Before: "Feature knee_flexion_angle_ipsi_rad not found" on a file that has the feature but
    no time_s column."""
    import matplotlib.pyplot as plt

    fig = loco.plot_time_series(loco.subjects[0], loco.tasks[0], loco.features[:2])
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    plt.close(fig)
    assert len(texts) == 2 and all(t.startswith("Time column 'time_s' not found") for t in texts)
    assert not any("Feature" in t for t in texts)


def test_task_comparison_warns_once_per_missing_task_and_draws_sd_bands(loco):
    """Before: one warning per feature for a task the file lacks, and means without bands."""
    import matplotlib.pyplot as plt

    s, feats = loco.subjects[0], loco.features[:3]
    with pytest.warns(UserWarning) as said:
        fig = loco.plot_task_comparison(s, [loco.tasks[0], "run", loco.tasks[1]], feats)
    assert [str(w.message) for w in said] == [f"No data found for subject '{s}', task 'run'"]
    stds = loco.get_std_patterns(s, loco.tasks[1], feats)
    means = loco.get_mean_patterns(s, loco.tasks[1], feats)
    for ax, f in zip(fig.axes, feats):
        assert [ln.get_label() for ln in ax.lines] == [loco.tasks[0], loco.tasks[1]]
        assert len(ax.collections) == 2  # one ± SD band per task drawn
        upper = ax.collections[1].get_paths()[0].vertices[:, 1].max()
        assert upper == pytest.approx(float(np.max(means[f]["mean"].to_numpy() + stds[f])), rel=1e-12)
    plt.close(fig)


def test_views_print_what_they_hold(loco):
    """Before: <cadence.gait.locomotion_data.LocomotionData object at 0x...>."""
    s, t = loco.subjects[0], loco.tasks[0]
    whole = repr(loco)
    assert "object at 0x" not in whole and f"{len(loco):,} rows" in whole and f"{len(loco.features)} features" in whole
    assert whole.startswith(f"<LocomotionData of {str(loco.data_path)!r}: ") and "3 subjects (" in whole
    view = loco.filter(subjects=[s], tasks=[t]).filter(phase_range=(0, 60), cycles=slice(0, 10),
                                                       where={"knee_flexion_angle_ipsi_rad": (-0.2, 1.4)})
    assert repr(view) == (f"<LocomotionData view of {str(loco.data_path)!r}: {len(view):,} rows, 1 subject ({s}), "
                          f"1 task ({t}), {len(loco.features)} features; phase 0.0-59.7 % (90 points), cycles 0:10, "
                          f"knee_flexion_angle_ipsi_rad in [-0.2, 1.4]>")
