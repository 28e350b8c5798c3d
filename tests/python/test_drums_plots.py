"""The picture of a sequence example (python/cadence/drums/plots.py; issue 22, point 16): the band
axis labelled in Hz, a colour bar for the features and one for the targets, and hits of several
classes on one frame drawn one piece per class. Properties of the figure, not pixels."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.collections import LineCollection

from cadence.drums import LogFilteredSpec, MelSpec
from cadence.drums.plots import hz_ticks, onset_segments, sequence_figure

CLASSES = ["kick", "snare", "closed_hh", "open_hh", "low_tom", "mid_tom", "high_tom", "crash", "ride"]


def _hz(label: str) -> float:
    return float(label[:-1]) * 1000 if label.endswith("k") else float(label)


@pytest.mark.parametrize("spec", [MelSpec(), LogFilteredSpec()], ids=["mel", "log_filtered"])
def test_band_ticks_are_in_hz_where_the_bands_are(spec):
    band_hz = np.asarray(spec.engine(22050, 221).band_hz)
    positions, labels = hz_ticks(band_hz)
    assert len(labels) >= 5 and (np.diff(positions) >= len(band_hz) / 16).all()
    assert {"1k", "10k"} <= set(labels)
    centres = np.arange(len(band_hz)) + 0.5
    for y, label in zip(positions, labels):  # the band at the tick has that centre frequency
        assert np.interp(y, centres, band_hz) == pytest.approx(_hz(label), rel=1e-6)


def test_coinciding_hits_are_one_piece_per_class():
    roll = np.zeros((40, 9), np.float32)
    roll[10, [0, 7]] = 1.0   # kick and crash on one frame
    roll[20, 1] = 1.0
    roll[[19, 21], 1] = 0.5  # widened targets are not onsets
    segments, classes = onset_segments(roll, 0.01, 128)
    assert classes == [0, 7, 1]
    np.testing.assert_allclose(segments, [((0.105, 0), (0.105, 64)), ((0.105, 64), (0.105, 128)),
                                          ((0.205, 0), (0.205, 128))])  # one frame's line split in two


def test_the_figure_has_hz_ticks_colour_bars_and_a_piece_per_hit():
    """Before: the y axis counted bands, no colour bar, and coinciding hits drew one line over
    another (only the last class's colour was seen)."""
    spec = MelSpec()
    band_hz = np.asarray(spec.engine(22050, 221).band_hz)
    rng = np.random.default_rng(0)
    values = rng.uniform(-80, 0, (400, 128)).astype(np.float32)
    roll = np.zeros((400, 9), np.float32)
    roll[100, [0, 7]] = roll[250, 2] = 1.0
    fig = sequence_figure(values, roll, band_hz=band_hz, spec=spec, class_names=CLASSES,
                          seconds_per_frame=221 / 22050, title="t", xlabel="seconds")
    try:
        top, top_bar, bottom, bottom_bar = fig.axes
        assert top_bar.get_ylabel() == "power (dB)" and bottom_bar.get_ylabel() == "target weight"
        assert "Hz" in top.get_ylabel()
        labels = [t.get_text() for t in top.get_yticklabels()]
        assert labels[-2:] == ["5k", "10k"] and all(_hz(t) > 0 for t in labels)
        (lines,) = [c for c in top.collections if isinstance(c, LineCollection)]
        colours = [tuple(c) for c in lines.get_colors()]
        assert len(lines.get_segments()) == 3 and colours[0] != colours[1]  # kick and crash both seen
        key = {t.get_text(): tuple(t.get_color()) for t in bottom.get_yticklabels()}
        assert colours[0][:3] == key["kick"][:3] and colours[1][:3] == key["crash"][:3]
    finally:
        plt.close(fig)
