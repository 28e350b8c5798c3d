"""``cadence gait``: outputs whole or untouched, Ctrl-C without leaks, errors that speak CLI,
exit statuses, --quiet, --json and progress lines (issue 10 items 1, 9, 15, 16)."""

import json
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cadence import runtime
from cadence.atomic import TEMP_MARK
from cadence.cli import main
from cadence.gait import LocomotionData
from cadence.gait import features as feat
from cadence.sample import gait
from read_only import run_read_only

CADENCE = [sys.executable, "-c", "import sys; from cadence.cli import main; sys.exit(main())"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    path = tmp_path_factory.mktemp("cli") / "g.parquet"
    return gait.generate(path, subjects=2, strides_per_task=12, n_features=20, seed=3, row_group_rows=1500)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    path = tmp_path_factory.mktemp("clean") / "c.parquet"
    return gait.generate(path, subjects=2, strides_per_task=8, n_features=20, seed=4, faults=False)


def _leftovers(directory):
    return [p.name for p in directory.iterdir() if TEMP_MARK in p.name]


def _snapshot(*paths):
    return [p.read_bytes() for p in paths]


# ---- item 1: atomic outputs, Ctrl-C, the leak --------------------------------------------------

# SIGINT sent to the process itself from inside the pass (at the Nth feature column read), so the
# interrupt always lands mid-run, through the real Ctrl-C path (run_job cancels the job, the
# workers stop, KeyboardInterrupt reaches the CLI): no race with a run that finishes first.
INTERRUPT = textwrap.dedent("""
    import os, signal, sys
    from cadence.gait import features, reader
    from cadence.cli import main
    reader.BATCH_ROWS = 1500  # several batches, read ahead on the prefetch thread
    column_view, calls = features.column_view, [0]
    def interrupting(*a, **k):
        calls[0] += 1
        if calls[0] == int(os.environ["CADENCE_TEST_SIGINT_AT"]):
            os.kill(os.getpid(), signal.SIGINT)
        return column_view(*a, **k)
    features.column_view = interrupting
    sys.exit(main(sys.argv[1:]))
""")


@pytest.mark.parametrize("suffix", [".parquet", ".npy"])
def test_ctrl_c_keeps_the_old_output_and_leaks_nothing(sample, tmp_path, suffix):
    """Before: the final name was opened at once (a 0-row Parquet, a zero-filled .npy was left
    after Ctrl-C) and nanobind reported the job as leaked (the prefetch thread outlived the pass)."""
    out = tmp_path / f"f{suffix}"
    assert main(["gait", "features", str(sample.path), "-o", str(out), "-q"]) == 0
    outputs = [out] + ([out.with_suffix(".meta.parquet")] if suffix == ".npy" else [])
    before = _snapshot(*outputs)
    proc = subprocess.run([sys.executable, "-c", INTERRUPT, "gait", "features", str(sample.path), "-o", str(out)],
                          capture_output=True, text=True, env={**os.environ, "CADENCE_TEST_SIGINT_AT": "30"})
    assert proc.returncode == 130, proc.stderr
    assert "interrupted" in proc.stderr
    assert "leaked" not in proc.stderr, proc.stderr
    assert _snapshot(*outputs) == before
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("output", ["parquet", "npy"])
def test_an_error_mid_pass_keeps_the_old_output(sample, tmp_path, monkeypatch, output):
    out = tmp_path / f"f.{output}"
    loco = LocomotionData(sample.path, verbose=False)
    loco.cycle_features(output=output, path=out, show_progress=False)
    outputs = [out] + ([out.with_suffix(".meta.parquet")] if output == "npy" else [])
    before = _snapshot(*outputs)
    calls = [0]
    column_view = feat.column_view

    def failing(*a, **k):
        calls[0] += 1
        if calls[0] == 25:
            raise OSError(28, "No space left on device")
        return column_view(*a, **k)

    monkeypatch.setattr(feat, "column_view", failing)
    monkeypatch.setattr(feat.reader, "BATCH_ROWS", 1500)
    with pytest.raises(OSError, match="No space left"):
        loco.cycle_features(output=output, path=out, show_progress=False)
    assert _snapshot(*outputs) == before
    assert _leftovers(tmp_path) == []


def test_a_stale_drop_log_is_removed_with_the_new_output(sample, tmp_path):
    out = tmp_path / "f.parquet"
    out.with_suffix(".drops.csv").write_text("subject,task\nold,run\n")
    assert main(["gait", "features", str(sample.path), "-o", str(out), "-q"]) == 0
    assert not out.with_suffix(".drops.csv").exists()  # this file drops nothing


# ---- item 9: read-only outputs, --memory-limit 1K ----------------------------------------------

@pytest.mark.parametrize("command", ["features", "report", "validate"])
def test_read_only_output_is_exit_2_naming_it_before_any_work(sample, tmp_path, command):
    ro = tmp_path / "ro"
    ro.mkdir()
    args = {"features": ["-o", str(ro / "f.parquet")], "report": ["-o", str(ro / "rep")],
            "validate": ["--csv", str(ro / "v.csv")]}[command]
    proc = run_read_only(CADENCE + ["gait", command, str(sample.path), *args], ro, capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("cadence: error: cannot write to ") and str(ro) in err[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""  # validate used to print its whole analysis, then crash
    assert list(ro.iterdir()) == []


def test_a_memory_limit_too_small_is_exit_2_before_any_work(sample, tmp_path, capsys):
    out = tmp_path / "f.parquet"
    assert main(["gait", "features", str(sample.path), "-o", str(out), "--memory-limit", "1K"]) == 2
    err = capsys.readouterr().err
    assert f"{sample.path}: a memory limit of 1.0 KiB is too small" in err and "M or more" in err
    assert not out.exists() and _leftovers(tmp_path) == []
    assert main(["gait", "features", str(sample.path), "-o", str(out), "--memory-limit", "lots"]) == 2
    assert "--memory-limit: cannot read memory size 'lots'" in capsys.readouterr().err
    assert not out.exists()


def test_suggested_memory_limit_is_enough(sample, tmp_path, capsys):
    out = tmp_path / "f.parquet"
    assert main(["gait", "features", str(sample.path), "-o", str(out), "--memory-limit", "64K", "-q"]) == 2
    suggested = capsys.readouterr().err.split("set it to ")[1].split(" ")[0]
    assert main(["gait", "features", str(sample.path), "-o", str(out), "--memory-limit", suggested, "-q"]) == 0


# ---- item 15: errors and warnings in CLI terms ---------------------------------------------------

def _renamed(sample, tmp_path, name):
    table = pq.read_table(sample.path)
    path = tmp_path / f"{name}.parquet"
    pq.write_table(table.rename_columns([name if c == "phase_ipsi" else c for c in table.column_names]), path)
    return path


def test_missing_phase_column_names_the_cli_option(sample, tmp_path, capsys):
    """Before: "Use custom column names in constructor", "phase_col='phase'" and every column."""
    path = _renamed(sample, tmp_path, "gait_phase")
    out = str(tmp_path / "f.parquet")
    assert main(["gait", "features", str(path), "-o", out]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"cadence: error: {path}: no phase column (looked for phase_ipsi, phase, phase_percent); "
                          f"if it is 'gait_phase', add --phase-col gait_phase.")
    assert "constructor" not in err and "phase_col=" not in err
    assert "hip_flexion_angle_ipsi_rad" not in err  # the columns are counted, not dumped
    assert main(["gait", "features", str(path), "-o", out, "--phase-col", "phase_ipsi"]) == 2
    err = capsys.readouterr().err
    assert "no phase column 'phase_ipsi' (if it is 'gait_phase', add --phase-col gait_phase)" in err
    assert "constructor" not in err and "Available columns" not in err
    assert main(["gait", "features", str(path), "-o", out, "--phase-col", "gait_phase", "-q"]) == 0


def test_older_files_phase_column_is_found(sample, tmp_path):
    path = _renamed(sample, tmp_path, "phase")  # LocoHub's older files
    assert main(["gait", "features", str(path), "-o", str(tmp_path / "f.parquet"), "-q"]) == 0


def test_unknown_feature_suggests_a_name_without_listing_all(sample, tmp_path, capsys):
    assert main(["gait", "features", str(sample.path), "-o", str(tmp_path / "f.parquet"),
                 "--features", "knee_flexion_angle_rad"]) == 2
    err = capsys.readouterr().err
    assert "did you mean 'knee_flexion_angle_ipsi_rad'" in err
    assert err.count("_rad") < 8


def test_null_values_are_one_warning_line_not_python_s(sample, tmp_path):
    table = pq.read_table(sample.path)
    i = table.schema.get_field_index("knee_flexion_angle_ipsi_rad")
    values = table.column(i).to_numpy()
    mask = np.zeros(len(values), bool)
    mask[5:10] = True
    table = table.set_column(i, "knee_flexion_angle_ipsi_rad", pa.array(values, mask=mask))
    path = tmp_path / "nulls.parquet"
    pq.write_table(table, path)
    proc = subprocess.run(CADENCE + ["gait", "features", str(path), "-o", str(tmp_path / "f.parquet")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    lines = [l for l in proc.stderr.splitlines() if "null" in l]
    assert lines == ["cadence: warning: column 'knee_flexion_angle_ipsi_rad' has null values; they are read as "
                     "NaN (a copy of that column is made)"]
    assert "UserWarning" not in proc.stderr and "warnings.warn" not in proc.stderr and ".py:" not in proc.stderr


# ---- item 16: exit statuses, --quiet, --json, progress lines ------------------------------------

def test_validate_json_and_exit_status(sample, clean, tmp_path, capsys):
    assert main(["gait", "validate", str(sample.path), "--json", "--list", "3", "-q"]) == 1  # failing strides
    report = json.loads(capsys.readouterr().out)
    loco = LocomotionData(sample.path, verbose=False)
    direct = loco.validate_ranges(None)
    assert report["strides"] == direct.strides == sample.n_strides
    assert report["valid"] == direct.valid and report["failing_strides"] == direct.strides - direct.valid > 0
    assert report["locohub_failures"] == len(direct.locohub_failures)
    assert len(report["first_locohub_failures"]) == 3
    assert {r["rule"] for r in report["pass_rates"]} == {"locohub"}
    assert main(["gait", "validate", str(clean.path), "--json", "-q"]) == 0  # every stride passes
    assert json.loads(capsys.readouterr().out)["failing_strides"] == 0


def test_quiet_prints_no_notes_and_no_progress(sample, tmp_path):
    table = pq.read_table(sample.path)
    path = tmp_path / "drops.parquet"
    pq.write_table(table.slice(0, table.num_rows - 10), path)  # a short last group
    loud = subprocess.run(CADENCE + ["gait", "features", str(path), "-o", str(tmp_path / "a.parquet")],
                          capture_output=True, text=True)
    assert "cadence: dropped" in loud.stderr
    quiet = subprocess.run(CADENCE + ["gait", "features", str(path), "-o", str(tmp_path / "b.parquet"), "-q"],
                           capture_output=True, text=True)
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert "wrote" in quiet.stdout


def test_progress_lines_when_stderr_is_not_a_terminal(sample, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(runtime, "PROGRESS_LINE_INTERVAL_S", 0.0)  # a line at every poll
    assert main(["gait", "report", str(sample.path), "-o", str(tmp_path / "rep"),
                 "--features", "knee_flexion_angle_ipsi_rad"]) == 0
    err = capsys.readouterr().err
    assert "cycle features: " in err and " rows" in err
    assert f"report: {len(sample.tasks)}/{len(sample.tasks)} plots (100%)" in err


def test_drop_notes_are_capped(sample, tmp_path, capsys):
    table = pq.read_table(sample.path)
    keep = np.ones(table.num_rows, bool)
    keep[::150 * 5] = False  # a row missing in many groups
    path = tmp_path / "many.parquet"
    pq.write_table(table.filter(pa.array(keep)), path)
    main(["gait", "features", str(path), "-o", str(tmp_path / "f.parquet")])
    err = capsys.readouterr().err
    drops = pd.read_csv(tmp_path / "f.drops.csv")
    assert len(drops) > 5
    assert err.count("cadence: dropped ") == 5 and f"({len(drops)} in all:" in err


# ---- issue 22: what a new user met (points 5, 9, 11-15) --------------------------------------------

def test_a_parquet_file_named_csv_says_what_it_is(sample, tmp_path, capsys):
    """Before: "Failed to read CSV file: CSV parse error: ... PAR1..." with the file's bytes, and
    "pass file_type='parquet'", an argument the CLI has no option for."""
    misnamed = tmp_path / "g.csv"
    misnamed.write_bytes(sample.path.read_bytes())
    assert main(["gait", "features", str(misnamed), "-o", str(tmp_path / "f.parquet")]) == 2
    err = capsys.readouterr().err
    assert err == f"cadence: error: {misnamed} is a Parquet file, not CSV; rename it to g.parquet\n"
    with pytest.raises(ValueError) as e:  # Python users can name the type
        LocomotionData(misnamed)
    assert "is a Parquet file, not CSV; rename it to g.parquet or pass file_type='parquet'" in str(e.value)
    assert str(e.value).isprintable()


def test_a_time_indexed_file_names_the_command_that_converts_it(tmp_path, capsys):
    """Before: "Convert it with LocoHub's phase normalisation". Now the exact `cadence gait
    phase` command, which works as printed."""
    import shlex

    timed = tmp_path / "walk_time.parquet"
    assert main(["sample", "gait", "--time-indexed", str(timed), "--subjects", "1", "--strides-per-task", "8",
                 "--features", "20", "-q"]) == 0
    capsys.readouterr()
    assert main(["gait", "features", str(timed), "-o", str(tmp_path / "f.parquet")]) == 2
    err = capsys.readouterr().err
    phased = tmp_path / "walk_time_phase.parquet"
    command = f"cadence gait phase {timed} {phased}"
    assert f"Convert it with: {command}, then use walk_time_phase.parquet" in err and "--phase-col" in err
    assert "LocoHub's phase normalisation" not in err
    assert main(shlex.split(command)[1:] + ["-q"]) == 0
    assert main(["gait", "features", str(phased), "-o", str(tmp_path / "f.parquet"), "-q"]) == 0


def test_ranges_example_is_found_from_any_directory(sample, tmp_path, monkeypatch, capsys):
    """Before: --ranges docs/gait_ranges_example.yaml worked only from the repository root."""
    from cadence.gait.validation import EXAMPLE_RANGES

    monkeypatch.chdir(tmp_path)
    main(["gait", "validate", str(sample.path), "--ranges", "example", "--json", "-q"])
    report = json.loads(capsys.readouterr().out)
    assert report["ranges"] == str(EXAMPLE_RANGES) and EXAMPLE_RANGES.is_file()
    assert "ranges" in {r["rule"] for r in report["pass_rates"]}
    assert report["tasks_without_ranges"] and "level_walking" not in report["tasks_without_ranges"]


def test_features_companion_files_replace_the_extension(sample, tmp_path):
    """The naming rule of cadence.gait.outputs.companion, for gait features: f.parquet ->
    f.drops.csv and f.report.json; m.npy -> m.meta.parquet (gait phase: test_gait_phase.py)."""
    table = pq.read_table(sample.path)
    path = tmp_path / "short.parquet"
    pq.write_table(table.slice(0, table.num_rows - 10), path)  # a short last group: a drop log
    assert main(["gait", "features", str(path), "-o", str(tmp_path / "f.parquet"), "-q", "--monitor"]) == 0
    assert main(["gait", "features", str(path), "-o", str(tmp_path / "m.npy"), "-q"]) == 0
    assert {p.name for p in tmp_path.iterdir()} >= {"f.parquet", "f.drops.csv", "f.report.json", "m.npy",
                                                    "m.meta.parquet", "m.drops.csv"}


def test_validate_says_how_many_more_failures_there_are(sample, tmp_path, capsys):
    """Before: 20 of 22 failing rows listed without a word."""
    hub = LocomotionData(sample.path, verbose=False).validate_ranges(None).locohub_failures
    assert len(hub) > 3
    assert main(["gait", "validate", str(sample.path), "--list", "3", "-q"]) == 1
    out = capsys.readouterr().out
    assert f"... and {len(hub) - 3} more (--csv FILE writes all of them; --list {len(hub)} prints them)" in out
    csv_path = tmp_path / "v.csv"
    assert main(["gait", "validate", str(sample.path), "--list", "3", "--csv", str(csv_path), "-q"]) == 1
    assert f"... and {len(hub) - 3} more (all of them are in {csv_path}" in capsys.readouterr().out
    assert main(["gait", "validate", str(sample.path), "--list", str(len(hub)), "-q"]) == 1
    assert "more (" not in capsys.readouterr().out


def test_null_values_are_one_counted_line_per_run_and_quiet_silences_them(sample, tmp_path):
    """Before: one warning line per column with nulls (ten in a run), printed even with -q."""
    table = pq.read_table(sample.path)
    names = [c for c in table.column_names if c.endswith("_rad")][:7]
    for name in names:
        i = table.schema.get_field_index(name)
        mask = np.zeros(table.num_rows, bool)
        mask[150 * i:150 * i + 5] = True
        table = table.set_column(i, name, pa.array(table.column(i).to_numpy(), mask=mask))
    path = tmp_path / "nulls.parquet"
    pq.write_table(table, path)
    for command in (["features", str(path), "-o", str(tmp_path / "f.parquet")],
                    ["report", str(path), "-o", str(tmp_path / "rep")]):
        proc = subprocess.run(CADENCE + ["gait", *command], capture_output=True, text=True)
        assert proc.returncode == 0, proc.stderr
        lines = [l for l in proc.stderr.splitlines() if "null" in l]
        shown = ", ".join(repr(n) for n in sorted(names)[:5])
        assert lines == [f"cadence: warning: 7 columns have null values; they are read as NaN (a copy of each is "
                         f"made): {shown} and 2 more"], proc.stderr
        quiet = subprocess.run(CADENCE + ["gait", *command, "-q"], capture_output=True, text=True)
        assert quiet.returncode == 0 and quiet.stderr == "", quiet.stderr
    with pytest.warns(feat.reader.NullValuesWarning) as said:
        LocomotionData(path, verbose=False).cycle_features(show_progress=False)
    assert len(said) == 1 and said[0].message.columns == tuple(sorted(names))


@pytest.mark.parametrize("command", ["features", "validate", "report", "phase", "cache"])
def test_help_gives_each_default_once(command, capsys):
    """Before: `gait phase --help` said "(default 5) (default: 5)", "(0.4 2.5) (default: (0.4, 2.5))"."""
    with pytest.raises(SystemExit):
        main(["gait", command, "--help"])
    text = capsys.readouterr().out.split("options:")[1]
    entries = [" ".join(e.split()) for e in re.split(r"\n  (?=-)", text)]
    assert all(e.count("default") <= 1 for e in entries), [e for e in entries if e.count("default") > 1]
    if command == "phase":
        assert "--smooth N moving-average samples (default: 5)" in entries
        assert "--stride-s MIN MAX stride duration limits, seconds (default: 0.4 2.5)" in entries


def test_cache_info_shows_the_limit_set_in_python(sample, tmp_path, capsys):
    """Before: `gait cache info` made its own LocomotionDataCache and showed the default 1000 MiB."""
    from cadence.gait.cache import LocomotionDataCache

    LocomotionDataCache(tmp_path / "c", max_cache_size="3M")
    assert main(["gait", "cache", "info", str(tmp_path / "c")]) == 0
    assert "(limit 3.0 MiB)" in capsys.readouterr().out
    assert LocomotionDataCache(tmp_path / "c").max_bytes == 3 << 20  # every later user of the directory
    assert main(["gait", "features", str(sample.path), "-o", str(tmp_path / "f.parquet"), "--cache",
                 str(tmp_path / "c"), "-q"]) == 0
    assert LocomotionDataCache(tmp_path / "c").info()["bytes"] <= 3 << 20  # --cache DIR keeps it too
    LocomotionDataCache(tmp_path / "d")
    assert main(["gait", "cache", "info", str(tmp_path / "d")]) == 0
    assert "(limit 1000.0 MiB, the default)" in capsys.readouterr().out
