"""The `cadence` command line as a user runs it: help, sample generation, summaries, errors."""

import subprocess
import sys
from pathlib import Path

import pytest

from cadence.cli import main

CADENCE = Path(sys.executable).with_name("cadence")


def test_console_script_is_installed_and_helps():
    out = subprocess.run([CADENCE, "--help"], capture_output=True, text=True, check=True).stdout
    assert "sample" in out and "drum" in out
    out = subprocess.run([CADENCE, "sample", "drums", "--help"], capture_output=True, text=True,
                         check=True).stdout
    assert "--performances" in out and "example:" in out


@pytest.fixture(scope="module")
def drums_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "drums"
    assert main(["sample", "drums", str(out), "--performances", "3", "--kits", "2",
                 "--min-duration", "3", "--max-duration", "5"]) == 0
    return out


def test_sample_drums_then_summary(drums_dir, capsys):
    capsys.readouterr()
    assert main(["sample", "summary", str(drums_dir)]) == 0
    out = capsys.readouterr().out
    assert "pairs            6  (3 performances" in out
    assert "splits (perf.)   test: 1, train: 1, validation: 1" in out
    assert "44100 Hz (6 files), 1 channel (6 files)" in out and "1 drummer)" in out
    assert "max duration mismatch 0.00 ms" in out
    assert "FAILED" not in out


def test_summary_reports_a_broken_wav_and_keeps_the_rest(drums_dir, tmp_path, capsys):
    broken = tmp_path / "broken"
    subprocess.run(["cp", "-r", drums_dir, broken], check=True)
    victim = sorted(broken.rglob("*.wav"))[0]
    victim.write_bytes(b"RIFF....garbage")
    capsys.readouterr()
    assert main(["sample", "summary", str(broken)]) == 0
    out = capsys.readouterr().out
    assert "5 decoded" in out
    assert f"FAILED           {victim}" in out


def test_refuses_to_overwrite_without_force(drums_dir, tmp_path, capsys):
    assert main(["sample", "drums", str(drums_dir)]) == 2
    assert "--force" in capsys.readouterr().err
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    assert main(["sample", "drums", str(precious), "--force"]) == 2
    assert "refusing to delete" in capsys.readouterr().err
    assert (precious / "thesis.tex").exists()


def test_summary_of_an_unknown_path_is_a_clear_error(tmp_path, capsys):
    assert main(["sample", "summary", str(tmp_path / "nope.txt")]) == 2
    assert "expected a drum corpus directory or a .parquet file" in capsys.readouterr().err


def test_gait_sample_then_summary(tmp_path, capsys):
    out = tmp_path / "gait.parquet"
    assert main(["sample", "gait", str(out), "--subjects", "2", "--strides-per-task", "5",
                 "--features", "20"]) == 0
    capsys.readouterr()
    assert main(["sample", "summary", str(out)]) == 0
    text = capsys.readouterr().out
    assert "subjects         2:" in text
    assert "(0 not of 150 points)" in text


def test_gait_report_writes_a_plot_per_task_and_the_cycle_lists(tmp_path, capsys):
    from cadence.gait import LocomotionData
    from cadence.sample import gait

    sample = gait.generate(tmp_path / "g.parquet", subjects=2, strides_per_task=6, n_features=20, seed=4)
    out = tmp_path / "report"
    assert main(["gait", "report", str(sample.path), "-o", str(out), "--max-invalid", "3"]) == 0
    capsys.readouterr()
    loco = LocomotionData(sample.path)
    table = loco.cycle_features(show_progress=False)
    from cadence.gait.report import report_pages

    pages = [key for key, _, _ in report_pages(loco.features)]  # one PNG per task and kind of variable
    assert sorted(p.name for p in out.glob("*.png")) == sorted(f"{t}.{k}.png" for t in set(table["task"].astype(str))
                                                               for k in pages)
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in out.glob("*.png"))
    import pandas as pd

    invalid = pd.read_csv(out / "invalid.csv")
    outliers = pd.read_csv(out / "outliers.csv")
    assert len(invalid) == int((~table["valid"]).sum()) and len(outliers) == int(table["is_outlier"].sum())
    assert f"cycles      {len(table):,}" in (out / "summary.txt").read_text()
