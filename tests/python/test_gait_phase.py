"""Time-indexed gait to LocoHub phase: synthetic walking with known heel-strike samples (vertical
GRF as double humps), kinematics as known periodic functions of the stride phase; strikes within
one sample, phase curves within 1e-6 of the analytic ones, the drop log, LocomotionData and
`gait features` reading the output, and a phase -> time -> phase round trip."""

import csv

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from cadence import gait
from cadence.cli import main

FS = 2000.0  # Hz: linear interpolation of these curves is within 1e-6 at this rate
BW = 700.0
SLOPE = 14000.0  # N/s through the threshold


def knee(phase):
    return 0.3 * np.sin(2 * np.pi * phase) + 0.05 * np.sin(4 * np.pi * phase)


def hip(phase):
    return 0.4 * np.cos(2 * np.pi * phase) - 0.1


def walking(durations, rng_seed=0, start_s=0.5):
    """One trial: time_s, GRF (N), knee and hip angles; strikes on samples; returns the table
    columns and the strike sample indices."""
    strikes = [round(start_s * FS)]
    for d in durations:
        strikes.append(strikes[-1] + round(d * FS))
    strike_s = np.array(strikes) / FS
    n = int((strike_s[-1] + 0.4) * FS)
    t = np.arange(n) / FS
    grf = np.zeros(n)
    for k, s in enumerate(strike_s):
        t0 = s - 50.0 / SLOPE - 0.3 / FS  # crosses 50 N 0.3 samples before the strike sample
        nxt = strike_s[k + 1] if k + 1 < len(strike_s) else s + 1.1
        stance = 0.6 * (nxt - s)
        dt = t - t0
        m = (dt >= 0) & (dt < stance)
        u = dt[m] / stance
        grf[m] = np.minimum(SLOPE * dt[m], BW * (0.2 + np.sin(np.pi * u) + 0.25 * np.sin(3 * np.pi * u)))
    k = np.searchsorted(strike_s, t, side="right") - 1
    inside = (k >= 0) & (k + 1 < len(strike_s))
    phase = np.full(n, np.nan)
    phase[inside] = (t[inside] - strike_s[k[inside]]) / (strike_s[k[inside] + 1] - strike_s[k[inside]])
    return {"time_s": t, "grf_vertical_ipsi_N": grf, "knee_flexion_angle_ipsi_rad": knee(phase),
            "hip_flexion_angle_ipsi_rad": hip(phase)}, np.array(strikes)


def write_recording(path, trials):
    """trials: [(subject, task, task_id, durations)] -> a time-indexed Parquet, small row groups
    so that trials cross batch boundaries."""
    tables, truth = [], []
    for subject, task, task_id, durations in trials:
        cols, strikes = walking(durations)
        n = len(cols["time_s"])
        tables.append(pa.table({"subject": [subject] * n, "task": [task] * n, "task_id": [task_id] * n, **cols}))
        truth.append(strikes)
    pq.write_table(pa.concat_tables(tables), path, row_group_size=5000)
    return truth


DUR = [1.10, 1.08, 1.12, 1.09, 2.70, 1.11, 0.80, 1.10, 1.07, 1.13, 1.10, 1.09]


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    d = tmp_path_factory.mktemp("phase")
    trials = [("UM21_AB01", "level_walking", "speed_m_s:1.2", DUR),
              ("UM21_AB01", "level_walking", "speed_m_s:1.6", [1.0, 1.01, 0.99, 1.02, 1.0, 1.01]),
              ("UM21_AB02", "incline_walking", "incline_deg:10", [1.2, 1.21, 1.19, 1.2, 1.22])]
    truth = write_recording(d / "time.parquet", trials)
    summary = gait.to_phase(d / "time.parquet", d / "phase.parquet", batch_rows=7000, show_progress=False)
    return d, truth, summary


def test_strides_and_curves(converted):
    d, truth, summary = converted
    assert summary["trials"] == 3
    assert summary["heel_strikes"] == sum(len(s) for s in truth)
    # Trial 1: 12 strides, 5 dropped (2 start, 1 end, 1 too long, 1 outlier); trial 2: 6 - 3;
    # trial 3: 5 - 3.
    assert summary["strides_kept"] == 7 + 3 + 2
    assert summary["strides_dropped"] == {"trial_start": 6, "trial_end": 3, "too_long": 1, "duration_outlier": 1}
    t = pq.read_table(d / "phase.parquet").to_pydict()
    assert len(t["phase_ipsi"]) == 12 * 150
    assert t["phase_ipsi"][:150] == pytest.approx(list(np.linspace(0, 100, 150)), abs=1e-12)
    j = np.tile(np.arange(150) / 149, 12)
    assert np.max(np.abs(np.array(t["knee_flexion_angle_ipsi_rad"]) - knee(j))) < 1e-6
    assert np.max(np.abs(np.array(t["hip_flexion_angle_ipsi_rad"]) - hip(j))) < 1e-6
    steps = {(s, k): sorted(set(st for s2, k2, st in zip(t["subject"], t["task"], t["step"]) if (s2, k2) == (s, k)))
             for s, k in {(a, b) for a, b in zip(t["subject"], t["task"])}}
    assert steps[("UM21_AB01", "level_walking")] == list(range(10))  # both trials, numbered on
    assert steps[("UM21_AB02", "incline_walking")] == [0, 1]


def test_drop_log_names_every_stride(converted):
    d, truth, _ = converted
    with open(d / "phase.drops.csv", newline="") as f:  # OUT.drops.csv: the extension replaced
        rows = list(csv.DictReader(f))
    assert len(rows) == 11
    first = [r for r in rows if r["task_id"] == "speed_m_s:1.2"]
    assert [(int(r["stride"]), r["reason"]) for r in first] == [
        (0, "trial_start"), (1, "trial_start"), (4, "too_long"), (6, "duration_outlier"), (11, "trial_end")]
    s = truth[0]
    long_row = first[2]
    assert float(long_row["start_s"]) == pytest.approx(s[4] / FS, abs=1e-6)
    assert float(long_row["duration_s"]) == pytest.approx((s[5] - s[4]) / FS, abs=1e-6)


def test_strike_times_within_one_sample(converted):
    """The kept strides' boundaries are the true strike samples (0.3 samples after the force
    crosses 50 N)."""
    d, truth, _ = converted
    from cadence import _core
    from cadence.runtime import make_job

    cols, strikes = walking(DUR)
    _, kept, dropped, n = _core.gait_to_phase(cols["time_s"], cols["grf_vertical_ipsi_N"],
                                              np.array([0, len(cols["time_s"])], np.int64), [], make_job(1, None),
                                              threshold=50.0, smooth_samples=5, min_contact_gap_s=0.3,
                                              min_stride_s=0.4, max_stride_s=10.0, drop_first=0, drop_last=0,
                                              iqr_factor=0.0, events=False)
    assert n.tolist() == [len(strikes)]
    found = np.concatenate([kept["start_s"], kept["end_s"][-1:]]) * FS
    assert np.max(np.abs(found - strikes)) <= 1.0


def test_locomotion_data_and_features_read_the_output(converted, tmp_path):
    d, _, _ = converted
    loco = gait.LocomotionData(str(d / "phase.parquet"))
    cycles, names = loco.get_cycles("UM21_AB01", "level_walking")
    assert cycles.shape[:2] == (10, 150)
    knee_at = names.index("knee_flexion_angle_ipsi_rad")
    assert np.max(np.abs(cycles[:, :, knee_at] - knee(np.arange(150) / 149))) < 1e-6
    assert main(["gait", "features", str(d / "phase.parquet"), "-o", str(tmp_path / "f.parquet"), "-q"]) == 0
    f = pq.read_table(tmp_path / "f.parquet")
    assert f.num_rows == 12


def test_events_column_and_round_trip(tmp_path):
    """phase -> time -> phase: strides placed back on a time axis (heel strikes as events),
    converted again, give the same curves."""
    cols, strikes = walking([1.05, 1.1, 1.0, 1.08, 1.12, 1.04, 1.09])
    n = len(cols["time_s"])
    pq.write_table(pa.table({"subject": ["S"] * n, "task": ["run"] * n, **cols}), tmp_path / "a.parquet")
    gait.to_phase(tmp_path / "a.parquet", tmp_path / "p1.parquet", show_progress=False)
    p1 = pq.read_table(tmp_path / "p1.parquet").to_pydict()
    # Back to time at 1 kHz-ish: each stride's 150 points onto its own time span.
    knee1 = np.array(p1["knee_flexion_angle_ipsi_rad"]).reshape(-1, 150)
    starts = strikes[2:2 + len(knee1)] / FS
    ends = strikes[3:3 + len(knee1)] / FS
    t_parts, k_parts, ev_parts = [], [], []
    for s, e, k in zip(starts, ends, knee1):
        tt = np.linspace(s, e, 150)[:-1]  # the end point is the next stride's start
        t_parts.append(tt)
        k_parts.append(k[:-1])
        ev_parts.append(np.r_[1.0, np.zeros(148)])
    t_parts.append([ends[-1]])
    k_parts.append([knee1[-1][-1]])
    ev_parts.append([1.0])
    t2, k2, ev2 = np.concatenate(t_parts), np.concatenate(k_parts), np.concatenate(ev_parts)
    m = len(t2)
    pq.write_table(pa.table({"subject": ["S"] * m, "task": ["run"] * m, "time_s": t2,
                             "knee_flexion_angle_ipsi_rad": k2, "hs": ev2}), tmp_path / "b.parquet")
    r = gait.to_phase(tmp_path / "b.parquet", tmp_path / "p2.parquet", events="hs", drop_first=0, drop_last=0,
                      iqr_factor=0, show_progress=False)
    assert r["strides_kept"] == len(knee1)
    knee2 = np.array(pq.read_table(tmp_path / "p2.parquet").column("knee_flexion_angle_ipsi_rad")).reshape(-1, 150)
    assert np.max(np.abs(knee2 - knee1)) < 1e-9


def test_nan_and_bad_input(tmp_path, capsys):
    cols, _ = walking([1.1] * 8)
    n = len(cols["time_s"])
    cols["knee_flexion_angle_ipsi_rad"][5000:5010] = np.nan  # a short gap: interpolated across
    cols["ankle_dorsiflexion_angle_ipsi_rad"] = np.full(n, np.nan)  # all NaN: NaN strides
    pq.write_table(pa.table({"subject": ["S"] * n, "task": ["t"] * n, **cols}), tmp_path / "a.parquet")
    gait.to_phase(tmp_path / "a.parquet", tmp_path / "p.parquet", show_progress=False)
    t = pq.read_table(tmp_path / "p.parquet")
    assert np.isfinite(np.array(t.column("knee_flexion_angle_ipsi_rad"))).all()
    assert np.isnan(np.array(t.column("ankle_dorsiflexion_angle_ipsi_rad"))).all()
    # A file without GRF and without --events: exit 2, a message naming the options.
    pq.write_table(pa.table({"subject": ["S"], "task": ["t"], "time_s": [0.0], "x_angle_ipsi_rad": [1.0]}),
                   tmp_path / "nogrf.parquet")
    assert main(["gait", "phase", str(tmp_path / "nogrf.parquet"), str(tmp_path / "o.parquet")]) == 2
    assert "--events" in capsys.readouterr().err
    assert not (tmp_path / "o.parquet").exists()
    assert main(["gait", "phase", str(tmp_path / "a.parquet"), str(tmp_path / "o.parquet"), "--stride-s", "2", "1"]) == 2


def test_cli(tmp_path, capsys):
    cols, _ = walking([1.1] * 6)
    n = len(cols["time_s"])
    pq.write_table(pa.table({"subject": ["S"] * n, "task": ["t"] * n, **cols}), tmp_path / "a.parquet")
    assert main(["gait", "phase", str(tmp_path / "a.parquet"), str(tmp_path / "p.parquet"), "-q"]) == 0
    out = capsys.readouterr().out
    assert "3 strides kept" in out and "drops" in out
    assert pq.read_table(tmp_path / "p.parquet").num_rows == 450


# ---- issue 22: output format by suffix, misnamed input, one naming rule ----------------------------

def _recording(tmp_path):
    cols, _ = walking([1.1] * 6)
    n = len(cols["time_s"])
    pq.write_table(pa.table({"subject": ["S"] * n, "task": ["t"] * n, **cols}), tmp_path / "a.parquet")
    return tmp_path / "a.parquet"


def test_output_format_follows_the_suffix_or_is_refused(tmp_path, capsys):
    """Before: `gait phase IN out.csv` wrote Parquet bytes into out.csv."""
    src = _recording(tmp_path)
    assert main(["gait", "phase", str(src), str(tmp_path / "p.parquet"), "-q"]) == 0
    assert main(["gait", "phase", str(src), str(tmp_path / "p.csv"), "-q"]) == 0
    assert (tmp_path / "p.csv").read_bytes()[:4] != b"PAR1"
    as_csv = pacsv.read_csv(tmp_path / "p.csv")
    as_parquet = pq.read_table(tmp_path / "p.parquet")
    assert as_csv.column_names == as_parquet.column_names
    for name in ("step", "phase_ipsi", "knee_flexion_angle_ipsi_rad"):
        np.testing.assert_allclose(as_csv.column(name).to_numpy(), as_parquet.column(name).to_numpy(), rtol=1e-15)
    capsys.readouterr()
    assert main(["gait", "phase", str(src), str(tmp_path / "p.txt"), "-q"]) == 2
    assert capsys.readouterr().err == (f"cadence: error: {tmp_path / 'p.txt'}: the output must end in .parquet or "
                                       f".csv (its format follows its name)\n")
    assert not (tmp_path / "p.txt").exists()


def test_a_parquet_file_named_csv_is_named_for_what_it_is(tmp_path, capsys):
    """Before: pyarrow's CSV error quoting the file's binary bytes, and advice for a Python argument
    (file_type=) the CLI does not have."""
    src = _recording(tmp_path)
    misnamed = tmp_path / "walk.csv"
    misnamed.write_bytes(src.read_bytes())
    assert main(["gait", "phase", str(misnamed), str(tmp_path / "p.parquet")]) == 2
    err = capsys.readouterr().err
    assert err == f"cadence: error: {misnamed} is a Parquet file, not CSV; rename it to walk.parquet\n"
    assert not (tmp_path / "p.parquet").exists()


def test_companion_files_replace_the_extension_everywhere(tmp_path, capsys):
    """One rule (cadence.gait.outputs.companion): before, `gait phase` kept the extension
    (walk.parquet.drops.csv) while `gait features` replaced it (f.drops.csv)."""
    from pathlib import PurePosixPath

    src = _recording(tmp_path)
    summary = gait.to_phase(src, tmp_path / "walk.parquet", show_progress=False)
    assert summary["drops"] == str(tmp_path / "walk.drops.csv") and (tmp_path / "walk.drops.csv").exists()
    assert not list(tmp_path.glob("*.parquet.*"))
    from cadence.gait.outputs import companion  # the one helper every gait output uses

    assert companion(tmp_path / "f.npy", ".meta.parquet") == tmp_path / "f.meta.parquet"
    assert companion(PurePosixPath("bucket/x/f.parquet"), ".drops.csv") == PurePosixPath("bucket/x/f.drops.csv")
    assert companion(tmp_path / "out", ".drops.csv") == tmp_path / "out.drops.csv"
