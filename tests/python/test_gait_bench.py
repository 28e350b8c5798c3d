"""The gait benchmark checks its own answers (issue 10 item 22): every statistic a contender
computes is compared with cadence's, and every contender is timed the same way."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "gait_features_bench.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("gait_features_bench", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_check_covers_every_statistic_a_contender_computes(bench):
    rng = np.random.default_rng(0)
    ref = {s: rng.normal(size=(6, 3)) for s in ("mean", "std", "min", "max", "rom", "peak_index", "peak_timing",
                                                "skewness", "kurtosis", "dominant_frequency", "rmse")}
    ref["peak_index"] = np.round(ref["peak_index"] * 10)
    ref["dominant_frequency"] = np.round(np.abs(ref["dominant_frequency"]) * 5) + 1
    complete = np.ones(6, bool)
    got = {s: ref[s].copy() for s in bench.COMPUTES["locohub"]}
    assert bench.check("locohub", got, ref, complete) == list(bench.COMPUTES["locohub"])
    for stat in ("rmse", "dominant_frequency", "kurtosis"):  # before: only mean/std/min/max were compared
        wrong = {s: v.copy() for s, v in got.items()}
        wrong[stat][2, 1] += 1
        with pytest.raises(AssertionError, match=f"locohub {stat}"):
            bench.check("locohub", wrong, ref, complete)
    with pytest.raises(AssertionError):  # a statistic claimed but not returned
        bench.check("locohub", {s: v for s, v in got.items() if s != "rmse"}, ref, complete)


def test_every_contender_is_imported_before_its_clock(bench):
    assert set(bench.IMPORTS) == {"locohub", "polars", "duckdb", "pyarrow", "cadence1", "cadence"}
    assert "pandas" in bench.IMPORTS["locohub"]


def test_small_run_checks_and_times_every_contender_alike(tmp_path):
    proc = subprocess.run([sys.executable, str(BENCH), "--scale", "small", "--repeat", "2", "--skip", "polars,duckdb"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Every contender: best of 2 runs, imports outside the clock" in out
    assert ("- LocoHub way (pandas + get_cycles + numpy per cycle): mean, std, min, max, rom, peak_index, "
            "skewness, kurtosis, dominant_frequency, rmse") in out
