"""``cadence gait report`` (issue 10 item 18): invalid cycles marked only in the variables that
failed, with the rules in invalid.csv; robust y limits with clipped cycles counted; the SD band
pooled from the engine's per-group std, not from E[x^2] - E[x]^2."""

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cadence.cli import main
from cadence.gait import LocomotionData
from cadence.gait.report import invalid_rows, pool_patterns, task_panels
from cadence.runtime import make_job

P = 150
NAMES = ["hip_flexion_angle_ipsi_rad", "knee_flexion_angle_ipsi_rad", "hip_flexion_moment_ipsi_Nm_kg"]
PHASE = np.linspace(0, 100, P)


def _write(path, cycles_by_subject):
    """cycles_by_subject: {subject: (n, 150, 3) array}, one task 'walk'."""
    parts = []
    for subject, x in cycles_by_subject.items():
        n = x.shape[0]
        d = {"subject": [subject] * (n * P), "task": ["walk"] * (n * P),
             "step": np.repeat(np.arange(n), P), "phase_ipsi": np.tile(PHASE, n)}
        for i, name in enumerate(NAMES):
            d[name] = x[:, :, i].reshape(-1)
        parts.append(pd.DataFrame(d))
    pq.write_table(pa.Table.from_pandas(pd.concat(parts, ignore_index=True), preserve_index=False), path)
    return path


def _cycles(n, seed, offset=0.0):
    rng = np.random.default_rng(seed)
    base = np.stack([0.4 * np.sin(2 * np.pi * PHASE / 100), 0.6 * np.sin(np.pi * PHASE / 100),
                     np.cos(2 * np.pi * PHASE / 100)], axis=1)  # (150, 3)
    return base[None] + offset + rng.normal(0, 0.02, (n, P, 3)) + rng.normal(0, 0.05, (n, 1, 3))


@pytest.fixture()
def crafted(tmp_path):
    a, b = _cycles(20, 1), _cycles(16, 2, offset=0.1)
    a[3, 70:, 1] += 0.9          # AB01 cycle 3: a jump in the knee angle only -> angle_jump there
    b[5, 40, 2] = 250.0          # AB02 cycle 5: a moment spike, still valid (|moment| <= 300)
    return _write(tmp_path / "g.parquet", {"AB01": a, "AB02": b}), a, b


def _table_and_panels(path, max_drawn=40):
    loco = LocomotionData(path, verbose=False)
    table = loco.cycle_features(NAMES, fail_flags=True, show_progress=False)
    panels = task_panels(loco, table, "walk", NAMES, max_drawn, make_job(1, 0))
    return table, panels


def test_an_invalid_cycle_is_drawn_only_where_its_variable_failed(crafted):
    """Before: every invalid cycle was drawn red in every panel."""
    path, _, _ = crafted
    table, panels = _table_and_panels(path)
    assert [len(panels.invalid[n]) for n in NAMES] == [0, 1, 0]
    rows = invalid_rows(table, NAMES)
    assert rows[["subject", "task", "step", "cycle", "variable", "rules"]].values.tolist() == \
        [["AB01", "walk", 3, 3, "knee_flexion_angle_ipsi_rad", "angle_jump"]]


def test_one_spike_does_not_set_the_y_axis_and_is_counted(crafted):
    """Before: the y axis spanned every drawn value, so one spike flattened mean +- SD."""
    path, a, b = crafted
    _, panels = _table_and_panels(path)
    lo, hi = panels.ylim[2]
    assert hi < 2 and lo > -2  # the spike at 250 is cut off; the cycles' ~[-1.2, 1.2] range is kept
    band_lo, band_hi = panels.mean[2] - panels.sd[2], panels.mean[2] + panels.sd[2]
    away = np.abs(np.arange(P) - 40) > 0  # the band is cut only at the spike's point
    assert (band_lo[away] > lo).all() and (band_hi[away] < hi).all()
    assert panels.clipped[2] == 1  # AB02 cycle 5, counted and noted in the panel
    assert panels.clipped[0] == 0


def test_sd_band_is_the_pooled_engine_std(crafted):
    path, a, b = crafted
    table, panels = _table_and_panels(path)
    valid = table.set_index(["subject", "cycle"])["valid"]
    x = np.concatenate([a[[valid[("AB01", c)] for c in range(len(a))]],
                        b[[valid[("AB02", c)] for c in range(len(b))]]])
    assert panels.n_valid == len(x) == 35
    np.testing.assert_allclose(panels.mean, x.mean(axis=0).T, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(panels.sd, x.std(axis=0).T, rtol=1e-10, atol=1e-12)


def test_pooling_keeps_precision_where_sums_of_squares_lose_it():
    rng = np.random.default_rng(0)
    groups = [1e8 + rng.normal(0, 1e-3, (n, 2, P)) for n in (7, 30, 12)]
    mean, sd, n = pool_patterns([len(g) for g in groups], [g.mean(axis=0) for g in groups],
                                [g.std(axis=0) for g in groups])
    everything = np.concatenate(groups)
    assert n == 49
    np.testing.assert_allclose(sd, everything.std(axis=0), rtol=1e-4)  # numpy's own error is ~1e-5 here
    s, sq = everything.sum(axis=0), (everything ** 2).sum(axis=0)  # the old report's way
    old = np.sqrt(np.maximum(sq / n - (s / n) ** 2, 0))
    assert np.abs(old / everything.std(axis=0) - 1).max() > 1  # off by more than 100%


def test_report_writes_reasons_and_a_legend(crafted, tmp_path, capsys):
    path, _, _ = crafted
    out = tmp_path / "rep"
    assert main(["gait", "report", str(path), "-o", str(out), "-q"]) == 0
    invalid = pd.read_csv(out / "invalid.csv")
    assert list(invalid.columns) == ["subject", "task", "step", "cycle", "variable", "rules"]
    assert invalid["rules"].tolist() == ["angle_jump"]
    assert sorted(p.name for p in out.iterdir()) == ["invalid.csv", "outliers.csv", "summary.txt", "walk.angles.png",
                                                     "walk.moments.png"]  # a page per kind of variable
    assert "invalid     1 cycles; 1 cycle x variable" in (out / "summary.txt").read_text()


def test_report_keeps_the_old_directory_on_failure(crafted, tmp_path, monkeypatch):
    path, _, _ = crafted
    out = tmp_path / "rep"
    assert main(["gait", "report", str(path), "-o", str(out), "-q"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    from cadence.gait import plots

    def broken(self, panels, save_path):
        raise KeyboardInterrupt

    monkeypatch.setattr(plots.TaskSummaryFigure, "save", broken)
    assert main(["gait", "report", str(path), "-o", str(out), "-q"]) == 130
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # no temporary file left either


def test_a_failed_first_report_leaves_no_directory(crafted, tmp_path, monkeypatch):
    path, _, _ = crafted
    from cadence.gait import plots

    def broken(self, panels, save_path):
        raise KeyboardInterrupt

    monkeypatch.setattr(plots.TaskSummaryFigure, "save", broken)
    assert main(["gait", "report", str(path), "-o", str(tmp_path / "new" / "rep"), "-q"]) == 130
    assert not (tmp_path / "new" / "rep").exists()
