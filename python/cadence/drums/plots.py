"""The picture of one sequence example (``cadence drums inspect OUT --sequences --png``).

Kept apart from sequences.py, which serves the data: only this module needs matplotlib. The
spectrogram is drawn on its band grid (each band one row, as a model sees it) with the y axis
labelled in Hz at round frequencies (``band_hz``), a colour bar in the features' unit, and the
onsets as vertical lines: where several classes hit the same frame, the line is split into one
piece per class, each in its class's colour, so no hit hides another. The onset roll below is
drawn per class (the class names in the same colours) with its own colour bar (target weight).
"""

from __future__ import annotations

import numpy as np

#: Round frequencies the y axis may be labelled at (Hz).
_ROUND_HZ = tuple(m * 10 ** e for e in range(1, 5) for m in (1, 2, 5))


def hz_ticks(band_hz, min_gap_bands: float | None = None) -> tuple[np.ndarray, list[str]]:
    """Tick positions on the band axis (band ``i`` spans ``[i, i + 1)``, its centre frequency at
    ``i + 0.5``) and labels ("50", "200", "1k", "10k") for the round frequencies within the
    bands' range, placed by interpolating ``band_hz``, in increasing order; going down from the
    top, a tick closer than ``min_gap_bands`` (default: a sixteenth of the axis) to the one above
    it is left out."""
    hz = np.maximum.accumulate(np.asarray(band_hz, dtype=np.float64))  # np.interp needs it non-decreasing
    n = len(hz)
    if n == 0:
        return np.zeros(0), []
    gap = n / 16 if min_gap_bands is None else min_gap_bands
    positions, labels = [], []
    for f in reversed(_ROUND_HZ):  # from the top: mel bands crowd the low end, keep its wider steps
        if not hz[0] <= f <= hz[-1]:
            continue
        y = float(np.interp(f, hz, np.arange(n) + 0.5))
        if positions and positions[-1] - y < gap:
            continue
        positions.append(y)
        labels.append(f"{f // 1000:g}k" if f >= 1000 else f"{f:g}")
    return np.asarray(positions[::-1]), labels[::-1]


def feature_unit(spec) -> str:
    """The colour bar's label for a MelSpec or LogFilteredSpec."""
    if type(spec).__name__ == "MelSpec":
        return "power (dB)" if spec.log == "db" else "power"
    return f"log10({spec.mul:g} x magnitude + {spec.add:g})" if spec.log else "magnitude"


def onset_segments(roll: np.ndarray, seconds_per_frame: float, n_bands: int):
    """Vertical line pieces for the onsets of an onset roll (frames x classes; an onset is a 1):
    ``(segments, classes)``, one piece per hit; the hits of one frame share its line, each on an
    equal part of the height, lowest class at the bottom."""
    segments, classes = [], []
    for f in np.flatnonzero((roll >= 1.0).any(axis=1)):
        hit = np.flatnonzero(roll[f] >= 1.0)
        x = (f + 0.5) * seconds_per_frame
        edges = np.linspace(0, n_bands, len(hit) + 1)
        segments += [((x, edges[j]), (x, edges[j + 1])) for j in range(len(hit))]
        classes += hit.tolist()
    return segments, classes


def sequence_figure(spec_values: np.ndarray, roll: np.ndarray, *, band_hz, spec, class_names: list[str],
                    seconds_per_frame: float, title: str, xlabel: str):
    """The figure: spectrogram (frames x bands) with onset lines over it, onset roll (frames x
    classes) below; both with colour bars. Returns the matplotlib Figure (the caller saves and
    closes it)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.collections import LineCollection

    k, n_frames, n_bands = len(class_names), spec_values.shape[0], spec_values.shape[1]
    colours = plt.get_cmap("tab10" if k <= 10 else "tab20")
    colour = [colours(c % colours.N) for c in range(k)]
    fig, axes = plt.subplots(2, 2, figsize=(12, 7.5), height_ratios=(3, 1.5), width_ratios=(1, 0.018),
                             squeeze=False)
    (top, top_bar), (bottom, bottom_bar) = axes
    fig.subplots_adjust(left=0.08, right=0.92, bottom=0.09, top=0.94, hspace=0.08, wspace=0.02)
    bottom.sharex(top)
    t = np.arange(n_frames + 1) * seconds_per_frame
    mesh = top.pcolormesh(t, np.arange(n_bands + 1), spec_values.T, shading="flat", cmap="magma")
    fig.colorbar(mesh, cax=top_bar).set_label(feature_unit(spec), fontsize=9)
    segments, classes = onset_segments(roll, seconds_per_frame, n_bands)
    top.add_collection(LineCollection(segments, colors=[colour[c] for c in classes], linewidths=1.4, alpha=0.95))
    positions, labels = hz_ticks(band_hz)
    top.set_yticks(positions, labels)
    top.set_ylim(0, n_bands)
    kind = "mel" if type(spec).__name__ == "MelSpec" else "log-filtered"
    top.set_ylabel(f"frequency (Hz), {n_bands} {kind} bands", fontsize=9)
    top.tick_params(labelbottom=False, labelsize=9)
    top.set_title(title, fontsize=10)
    weights = bottom.pcolormesh(t, np.arange(k + 1), roll.T, shading="flat", cmap="Greys", vmin=0, vmax=1)
    fig.colorbar(weights, cax=bottom_bar).set_label("target weight", fontsize=9)
    bottom.set_yticks(np.arange(k) + 0.5, class_names, fontsize=9)
    for label, c in zip(bottom.get_yticklabels(), colour):
        label.set_color(c)  # the key to the onset lines' colours above
    bottom.tick_params(axis="x", labelsize=9)
    bottom.set_xlabel(xlabel, fontsize=9)
    return fig
