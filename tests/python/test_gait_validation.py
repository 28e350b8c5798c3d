"""Ranges files (LocoHub's validator YAML) and the ``cadence gait`` commands."""

import numpy as np
import pytest

import gait_reference as ref
from cadence.cli import main
from cadence.gait import LocomotionData, load_ranges
from cadence.sample import gait


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    path = tmp_path_factory.mktemp("val") / "g.parquet"
    return gait.generate(path, subjects=2, strides_per_task=12, n_features=20, seed=9)


RANGES = {"tasks": {"level_walking": {"phases": {
    0: {"knee_flexion_angle_ipsi_rad": {"min": -0.05, "max": 0.2}},
    50: {"hip_flexion_angle_ipsi_rad": {"min": -0.3, "max": -0.1}, "no_such_variable_rad": {"min": 0, "max": 1}},
    100: {"knee_flexion_angle_ipsi_rad": {"max": 0.1}}}}}}


def test_ranges_report_matches_a_direct_check(sample):
    loco = LocomotionData(sample.path)
    report = loco.validate_ranges(RANGES)
    df = ref.load(sample.path)
    want = set()
    for s in loco.subjects:
        X = ref.get_cycles(df, s, "level_walking", loco.features)
        for var, point, lo, hi in (("knee_flexion_angle_ipsi_rad", 0, -0.05, 0.2),
                                   ("hip_flexion_angle_ipsi_rad", 74, -0.3, -0.1),  # round(74.5) = 74
                                   ("knee_flexion_angle_ipsi_rad", 149, -np.inf, 0.1)):
            v = X[:, point, loco.features.index(var)]
            with np.errstate(invalid="ignore"):
                bad = np.isfinite(v) & ((v < lo) | (v > hi))
            want |= {(s, int(c), var, point) for c in np.flatnonzero(bad)}
    got = {(r.subject, int(r.cycle), r.variable, int(r.phase_index)) for r in report.range_failures.itertuples()}
    assert got == want and len(want) > 0
    assert report.missing_variables == ["no_such_variable_rad"]
    assert "run" in report.tasks_without_ranges or "stair_ascent" in report.tasks_without_ranges
    rates = report.pass_rates.set_index(["task", "variable", "rule"])
    n = rates.loc[("level_walking", "knee_flexion_angle_ipsi_rad", "ranges"), "strides"]
    failed = len({(s, c) for s, c, v, _ in want if v == "knee_flexion_angle_ipsi_rad"})
    assert rates.loc[("level_walking", "knee_flexion_angle_ipsi_rad", "ranges"), "failed"] == failed
    assert report.strides == sample.n_strides and n > 0


def test_locohub_rule_failures_are_the_invalid_strides(sample):
    loco = LocomotionData(sample.path)
    report = loco.validate_ranges(None)
    failing = {(r.subject, r.task, int(r.step)) for r in report.locohub_failures.itertuples()}
    assert set(sample.invalid_keys) <= failing
    assert report.strides - report.valid == len(failing)


def test_bad_ranges_files_say_where(tmp_path):
    (tmp_path / "r.yaml").write_text("tasks:\n  walk:\n    phases:\n      120:\n        x_angle_rad: {min: 0, max: 1}\n")
    with pytest.raises(ValueError, match="walk.*phase 120 is outside 0..100"):
        load_ranges(tmp_path / "r.yaml")
    with pytest.raises(ValueError, match="top-level 'tasks:'"):
        load_ranges({"level_walking": {}})
    with pytest.raises(ValueError, match="min 2.0 > max 1.0"):
        load_ranges({"tasks": {"w": {"phases": {0: {"a_angle_rad": {"min": 2, "max": 1}}}}}})


# Regression inputs found while writing fuzz/ranges_fuzz.py (atheris), embedded as bytes: before
# the fix each escaped as another exception type (or without the file's name), or dropped checks
# silently.
BAD_RANGES = [
    (b"tasks: [", "not valid YAML", "yaml ParserError"),
    (b"[" * 5000, "nested too deeply", "RecursionError"),
    (b"\xff", "not UTF-8 text", "UnicodeDecodeError without the file name"),
    (b"tasks:\n  t:\n    phases:\n      5: [1, 2]\n", "phase 5: expected a mapping", "AttributeError"),
    (b"tasks: {t: {phases: {5: {v: {min: abc}}}}}", "min must be a number, not 'abc'", "ValueError without the file name"),
    (b"tasks: {t: {phases: {5: {v: {min: [1]}}}}}", "min must be a number", "TypeError"),
    (b"tasks: {t: {phases: {5: {v: {max: " + b"9" * 400 + b"}}}}}", "too large for a float", "OverflowError"),
    (b"tasks: {t: {phases: {" + b"9" * 400 + b": {}}}}", "is not a percentage", "OverflowError"),
    (b"tasks:\n  t: {phases: {5: {v: {min: 1}}}}\n  t: {phases: {}}\n", "key 't' appears twice",
     "the first task's checks silently dropped"),
    (b"tasks: {t: {phases: {5: {v: {min: 1}}, 5.0: {v: {max: 0}}}}}", "key 5.0 appears twice",
     "phase 5's checks silently replaced by phase 5.0's"),
]


@pytest.mark.parametrize("data,message,before", BAD_RANGES, ids=[b[2] for b in BAD_RANGES])
def test_malformed_ranges_files_are_value_errors_naming_the_file(tmp_path, data, message, before):
    path = tmp_path / "r.yaml"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=message) as e:
        load_ranges(path)
    assert str(e.value).startswith(f"{path}: ")


def test_cli_features_validate_report(sample, tmp_path, capsys):
    assert main(["gait", "features", str(sample.path), "-o", str(tmp_path / "f.parquet"), "--memory-limit", "8M"]) == 0
    assert f"wrote {sample.n_strides:,} cycles" in capsys.readouterr().out
    assert main(["gait", "features", str(sample.path), "-o", str(tmp_path / "f.npy")]) == 0
    assert (tmp_path / "f.meta.parquet").exists()
    ranges = tmp_path / "r.yaml"
    ranges.write_text("tasks:\n  level_walking:\n    phases:\n      0:\n        knee_flexion_angle_ipsi_rad: {min: -0.05, max: 0.05}\n")
    # exit 1: the sample has failing strides ("checked and found problems")
    assert main(["gait", "validate", str(sample.path), "--ranges", str(ranges), "--csv", str(tmp_path / "v.csv")]) == 1
    out = capsys.readouterr().out
    assert "pass LocoHub's rules" in out and "failing strides, ranges" in out and (tmp_path / "v.csv").exists()
    assert main(["gait", "report", str(sample.path), "-o", str(tmp_path / "rep"),
                 "--features", "knee_flexion_angle_ipsi_rad,hip_flexion_moment_ipsi_Nm_kg"]) == 0
    pngs = sorted(p.name for p in (tmp_path / "rep").glob("*.png"))
    assert pngs == sorted(f"{t}.{page}.png" for t in sample.tasks for page in ("angles", "moments"))
    assert (tmp_path / "rep" / "outliers.csv").read_text().startswith("subject,task,step,cycle,rmse")


def test_cli_errors_are_one_line(tmp_path, capsys):
    assert main(["gait", "validate", str(tmp_path / "missing.parquet")]) == 2
    assert f"{tmp_path / 'missing.parquet'}: no such file" in capsys.readouterr().err
