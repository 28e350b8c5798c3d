"""The cycle index as the reader builds it: drop-log rows, step identity (empty cells, conditions),
the engine's exported codes, the batch-size test seam and layout errors."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cadence import _core
from cadence.gait import LocomotionData, reader
from cadence.gait import features as feat
from cadence.gait import validation
from cadence.gait.reader import GaitFile, LayoutError
from cadence.sample.gait import ALL_FEATURES

P = 150


def frame(groups, n_features=2, seed=0):
    """LocoHub rows for [(subject, task, steps, extra columns)], each step one 150-point cycle."""
    rng = np.random.default_rng(seed)
    parts = []
    for subject, task, steps, extra in groups:
        n = len(steps) * P
        d = {"subject": [subject] * n, "task": [task] * n,
             "step": np.repeat(np.asarray(steps, dtype=object), P),
             "phase_ipsi": np.tile(np.linspace(0, 100, P), len(steps))}
        for k, v in extra.items():
            d[k] = np.repeat(np.asarray(v, dtype=object), P) if isinstance(v, list) else [v] * n
        for i in range(n_features):
            d[[f for f in ALL_FEATURES if "angle" in f][i]] = 0.3 * np.sin(np.linspace(0, 2 * np.pi * len(steps), n)) \
                + rng.normal(0, 0.01, n)
        parts.append(pd.DataFrame(d))
    return pd.concat(parts, ignore_index=True)


def write(df, path, row_group_size=None):
    table = pa.Table.from_pandas(df, preserve_index=False)
    if "step" in df:
        table = table.set_column(table.schema.get_field_index("step"), "step",
                                 pa.array([None if v is None else int(v) for v in df["step"]], pa.int64()))
    pq.write_table(table, path, row_group_size=row_group_size)
    return path


def test_drop_log_names_the_groups_own_first_row(tmp_path):
    """Issue 10 item 2: a dropped group that starts inside a batch was reported from the batch start."""
    df = frame([("S1", "walk", range(4), {}), ("S1", "run", range(3), {}), ("S2", "walk", range(2), {})])
    df = df.drop(index=range(4 * P + 10, 4 * P + 20)).reset_index(drop=True)  # S1/run: 440 rows
    path = write(df, tmp_path / "g.parquet")
    loco = LocomotionData(path)
    log = loco.drop_log
    assert list(log["reason"]) == ["group_rows_not_multiple_of_150"]
    assert (log.at[0, "subject"], log.at[0, "task"]) == ("S1", "run")
    assert int(log.at[0, "first_row"]) == 4 * P and int(log.at[0, "rows"]) == 3 * P - 10


def test_empty_step_cells_do_not_drop_cycles(tmp_path):
    """Issue 10 item 3: empty step cells were read as -1, and every cycle after the first in the
    group dropped as duplicate_step."""
    df = frame([("S1", "walk", [None] * 5, {}), ("S1", "run", [0, 1, 2], {})])
    path = write(df, tmp_path / "g.parquet")
    with pytest.warns(UserWarning, match=r"column 'step' has 750 empty value\(s\); 5 cycle\(s\) without a step "
                                         r"are identified by their position"):
        loco = LocomotionData(path)
    assert len(loco.drop_log) == 0
    table = loco.cycle_features(output="arrow", show_progress=False)
    assert table.num_rows == 8
    walk = table.filter(pa.compute.equal(table.column("task").cast(pa.string()), "walk"))
    assert walk.column("step").null_count == 5 and walk.column("cycle").to_pylist() == [0, 1, 2, 3, 4]
    run = table.filter(pa.compute.equal(table.column("task").cast(pa.string()), "run"))
    assert run.column("step").to_pylist() == [0, 1, 2]


def test_steps_restarting_per_task_id_or_task_info_are_kept(tmp_path):
    """Issue 10 item 3: the duplicate key ignored task_id / task_info."""
    for column in ("task_id", "task_info"):
        conds = ["speed_m_s:0.8"] * 3 + ["speed_m_s:1.2"] * 3 + ["speed_m_s:1.2"]
        df = frame([("S1", "walk", [0, 1, 2, 0, 1, 2, 2], {column: conds})])
        path = write(df, tmp_path / f"{column}.parquet")
        loco = LocomotionData(path)
        log = loco.drop_log
        assert list(log["reason"]) == ["duplicate_step"], column  # only the real copy: step 2 at 1.2 twice
        assert int(log.at[0, "first_row"]) == 6 * P and int(log.at[0, "step"]) == 2
        assert loco.cycle_features(output="arrow", show_progress=False).num_rows == 6


def test_engine_exports_its_codes_and_python_uses_them():
    """Issue 10 item 20: points per cycle, feature kinds, fail bits and NaN policies come from the
    engine instead of being mirrored by hand."""
    assert reader.POINTS_PER_CYCLE == _core.GAIT_POINTS_PER_CYCLE == 150
    assert reader.FEATURE_KINDS == ("other", "angle", "velocity", "moment", "power")
    assert reader.FEATURE_MARKERS == reader.FEATURE_KINDS[1:]
    assert [reader.feature_kind(n) for n in ("knee_flexion_angle_ipsi_rad", "hip_flexion_velocity_ipsi_rad_s",
                                             "hip_flexion_moment_ipsi_Nm_kg", "ankle_power_W_kg", "grf_vertical_BW")] \
        == [1, 2, 3, 4, 0]
    assert validation.RULES == {1: "angle_range", 2: "angle_jump", 4: "velocity", 8: "moment", 16: "non_finite",
                                32: "range"}
    assert validation.LOCOHUB_BITS == 31 and validation.RANGE_BIT == 32
    assert feat.NAN_POLICIES == ("propagate", "omit") and feat.nan_policy_code("omit") == 1


def test_batch_size_is_a_test_seam_not_an_environment_variable(tmp_path, monkeypatch):
    """Issue 10 item 19: CADENCE_GAIT_BATCH_ROWS was read by production code."""
    path = write(frame([("S1", "walk", range(10), {}), ("S2", "walk", range(10), {})]), tmp_path / "g.parquet")
    loco = LocomotionData(path)
    batches = []

    def count(batch):
        batches.append(batch.num_rows)

    monkeypatch.setenv("CADENCE_GAIT_BATCH_ROWS", "150")
    feat.stream(loco.gait_file, loco.cycle_index, loco.features, count, show_progress=False)
    assert batches == [20]  # one read batch: the environment changes nothing
    batches.clear()
    monkeypatch.setattr(reader, "BATCH_ROWS", 600)
    feat.stream(loco.gait_file, loco.cycle_index, loco.features, count, show_progress=False)
    assert sum(batches) == 20 and len(batches) > 1


def test_layout_error_names_the_cli_option_and_not_every_column(tmp_path):
    """Issue 10 item 15: the CLI said "Use custom column names in constructor" and listed every column."""
    df = frame([("S1", "walk", range(2), {})], n_features=12).rename(columns={"phase_ipsi": "phase"})
    path = write(df, tmp_path / "g.parquet")
    with pytest.raises(LayoutError) as info:
        GaitFile(path)
    python = str(info.value)
    assert "phase_col='phase'" in python and "Missing required columns: ['phase_ipsi']" in python  # LocoHub's
    cli = info.value.message(lambda role, value: f"--{role[:-4]}-col {value}")
    assert cli == f"{path}: no phase column 'phase_ipsi' (if it is 'phase', add --phase-col phase). " \
                  f"The file has 16 columns."
    assert "Available" not in cli and "constructor" not in cli


def test_points_per_cycle_and_markers_are_defined_once():
    """Issue 10 item 20: 150 was written in reader.py, sample/gait.py and summary.py, the feature
    markers in reader.py and summary.py; every module now takes the engine's. Issue 23: summary
    reads the reader's (no copy of its own); the 0-100 % grid is the reader's alone."""
    import re
    from pathlib import Path

    import cadence
    from cadence import summary
    from cadence.sample import gait as sample_gait

    assert sample_gait.POINTS_PER_CYCLE == reader.POINTS_PER_CYCLE == 150
    assert not hasattr(summary, "PHASE_POINTS") and not hasattr(summary, "FEATURE_MARKERS")
    assert reader.PHASE_GRID_PCT[0] == 0.0 and reader.PHASE_GRID_PCT[-1] == 100.0
    assert not reader.PHASE_GRID_PCT.flags.writeable
    # the sample generator keeps its own (it must not import the gait package: every CLI start
    # imports it), checked equal here
    grid = re.compile(r"linspace\(0(\.0)?, 100(\.0)?, POINTS_PER_CYCLE\)")
    found = sorted(str(p.relative_to(Path(cadence.__file__).parent)) for p in Path(cadence.__file__).parent.rglob("*.py")
                   if grid.search(p.read_text()))
    assert found == ["gait/reader.py", "sample/gait.py"]
    assert np.array_equal(sample_gait.PHASE_IPSI, reader.PHASE_GRID_PCT)
    literal = re.compile(r"^\s*([A-Z_]+(\s*:\s*\w+)?\s*=\s*150\b|[A-Z_]*(MARKERS|KINDS?)\b.*=\s*\(\s*\"angle\")", re.M)
    found = [str(p) for p in Path(cadence.__file__).parent.rglob("*.py") if literal.search(p.read_text())]
    assert found == []
