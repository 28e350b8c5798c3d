"""The gait figures as a reader sees them (issue 22, point 16): the report's pages (grouped by kind
of variable, readable at 100 % zoom, outliers inside the axis, a cycle with NaN drawn where it is
finite) and plot_phase_patterns' title against validate_cycles. Properties of the figures, not
pixels."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from matplotlib.text import Text

from cadence.gait import LocomotionData
from cadence.gait.plots import PHASE_PCT, TaskSummaryFigure
from cadence.gait.report import PANELS_PER_PAGE, report_pages, task_panels
from cadence.runtime import make_job
from cadence.sample import gait

P = 150
NAMES = ["hip_flexion_angle_ipsi_rad", "knee_flexion_angle_ipsi_rad", "hip_flexion_moment_ipsi_Nm_kg",
         "trunk_sagittal_angle_rad"]


@pytest.fixture(scope="module")
def walk(tmp_path_factory):
    """The default sample's level walking (40 variables, 4 subjects, its injected faults)."""
    path = tmp_path_factory.mktemp("gait") / "walk.parquet"
    gait.generate(path, tasks=["level_walking"])
    loco = LocomotionData(path, verbose=False)
    table = loco.cycle_features(fail_flags=True, show_progress=False)
    return loco, table, task_panels(loco, table, "level_walking", loco.features, 40, make_job(1, 0))


@pytest.fixture()
def crafted(tmp_path):
    """One subject, 20 cycles; cycle 4 holds NaN in the knee angle at points 50-59, cycle 9 NaN in
    the trunk angle (a variable the phase-pattern test does not plot)."""
    rng = np.random.default_rng(3)
    phase = np.linspace(0, 100, P)
    base = np.stack([0.4 * np.sin(2 * np.pi * phase / 100), 0.6 * np.sin(np.pi * phase / 100),
                     np.cos(2 * np.pi * phase / 100), 0.1 + 0.02 * np.sin(4 * np.pi * phase / 100)], axis=1)
    x = base[None] + rng.normal(0, 0.02, (20, P, 4))
    x[4, 50:60, 1] = np.nan
    x[9, 30, 3] = np.nan
    d = {"subject": ["AB01"] * (20 * P), "task": ["walk"] * (20 * P), "step": np.repeat(np.arange(20), P),
         "phase_ipsi": np.tile(phase, 20)}
    d.update({name: x[:, :, i].reshape(-1) for i, name in enumerate(NAMES)})
    path = tmp_path / "crafted.parquet"
    pq.write_table(pa.table(d), path)  # NaN kept as NaN (from pandas it would become null)
    return path


def _texts(fig):
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def test_report_pages_group_variables_by_kind(walk):
    """Before: one page of all 40 variables."""
    loco, _, _ = walk
    pages = report_pages(loco.features)
    assert [key for key, _, _ in pages] == ["angles", "velocities", "moments", "powers", "grf"]
    assert sorted(n for _, _, names in pages for n in names) == sorted(loco.features)
    assert all(len(names) <= PANELS_PER_PAGE for _, _, names in pages)
    assert all("moment" in n for n in dict((k, v) for k, _, v in pages)["moments"])
    many = [f"joint{i}_flexion_angle_rad" for i in range(40)]  # a larger group: equal pages
    assert [(k, len(v)) for k, _, v in report_pages(many)] == [("angles-1", 14), ("angles-2", 13), ("angles-3", 13)]


def test_a_report_page_is_readable_at_100_percent(walk, tmp_path):
    """Before: 1700 x 1950 px with 40 panels and 6-8 pt text."""
    loco, _, panels = walk
    for key, heading, names in report_pages(loco.features):
        figure = TaskSummaryFigure(names, heading)
        try:
            figure.save(panels.subset(names), tmp_path / f"{key}.png")
            width, height = figure.fig.get_size_inches() * 100  # saved at 100 dpi
            assert width <= 1700 and height <= 1450
            assert len([ax for ax in figure.fig.axes if ax.get_visible()]) == len(names) <= 16
            sizes = {t.get_text(): t.get_fontsize() for t in _texts(figure.fig)}
            assert min(sizes.values()) >= 9, {t: s for t, s in sizes.items() if s < 9}
            assert heading in figure.title.get_text()
        finally:
            figure.close()


def test_outliers_are_inside_the_axis(walk):
    """Before: the y axis came from the valid cycles' fences alone, and most outlier strides were
    cut at the axis ("2 beyond axis" on almost every panel)."""
    loco, table, panels = walk
    rows = table[table["valid"] & table["is_outlier"]]
    assert len(rows) >= 3
    for i, name in enumerate(loco.features):
        lo, hi = panels.ylim[i]
        assert lo <= rows[f"{name}__min"].min() and rows[f"{name}__max"].max() <= hi, name
    valid = table[table["valid"]]
    inside = [(valid[f"{n}__min"] >= panels.ylim[i][0]).all() and (valid[f"{n}__max"] <= panels.ylim[i][1]).all()
              for i, n in enumerate(loco.features)]
    assert all(inside)  # every valid stride of the sample is seen; only invalid spikes are cut


def test_a_spike_is_cut_and_its_value_given(walk, tmp_path):
    """The sample's knee angle jump to -3.39 rad (an invalid cycle) does not set the axis; the
    panel says how far it goes."""
    loco, _, panels = walk
    i = loco.features.index("knee_flexion_angle_ipsi_rad")
    lo, hi = panels.ylim[i]
    assert -0.5 < lo < 0 and panels.clipped[i] == 1 and panels.beyond[i][0] < -3.3
    assert sum(panels.clipped) == 1  # the only cycle beyond an axis in the 40 panels
    figure = TaskSummaryFigure(panels.names)
    try:
        figure.save(panels, tmp_path / "p.png")
        assert figure.notes[i].get_text().startswith("1 beyond axis (to -3.39)")
    finally:
        figure.close()


def test_a_cycle_with_nan_is_drawn_where_it_is_finite(crafted, tmp_path):
    """Before: the curve of a cycle holding one NaN was dropped whole (one path with NaN)."""
    loco = LocomotionData(crafted, verbose=False)
    table = loco.cycle_features(NAMES, fail_flags=True, show_progress=False)
    panels = task_panels(loco, table, "walk", NAMES, 40, make_job(1, 0))
    assert [len(panels.invalid[n]) for n in NAMES] == [0, 1, 0, 1]
    figure = TaskSummaryFigure(NAMES)
    try:
        figure.save(panels, tmp_path / "walk.png")
        segments = figure.invalid[1].get_segments()
        assert figure.invalid[1].get_color()[0][:3].tolist() == [1.0, 0.0, 0.0]  # red, over the mean
        assert figure.invalid[1].get_zorder() > figure.mean[1].get_zorder()
        assert sum(len(s) for s in segments) == P - 10 and all(np.isfinite(s).all() for s in segments)
        assert [len(s) for s in segments] == [50, 90]
        (gap,) = figure.nan[1].get_segments()  # the NaN stretch, marked along the bottom
        assert gap[0][0] < PHASE_PCT[50] and PHASE_PCT[59] < gap[1][0] < PHASE_PCT[60]
        assert "1 failed here, 1 with NaN" in figure.notes[1].get_text()
    finally:
        figure.close()


def test_phase_patterns_title_says_which_features_were_judged(crafted):
    """Before: "Valid: 19/20" while validate_cycles says 18/20 (the trunk angle, not plotted,
    holds a NaN in another cycle)."""
    loco = LocomotionData(crafted, verbose=False)
    fig = loco.plot_phase_patterns("AB01", "walk", NAMES[:3])
    try:
        title = fig._suptitle.get_text()
        assert "Valid: 19/20 cycles in the 3 plotted features" in title  # cycle 4: knee angle NaN
        assert int(loco.validate_cycles("AB01", "walk").sum()) == 18
        assert "validate_cycles over all 4 features: 18/20 valid" in title
        assert "failing in features not plotted: trunk_sagittal_angle_rad" in title
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)
    fig = loco.plot_phase_patterns("AB01", "walk", NAMES)  # all features: LocoHub's title as it was
    try:
        assert fig._suptitle.get_text() == "AB01 - walk (Valid: 18/20 cycles)"
    finally:
        plt.close(fig)
