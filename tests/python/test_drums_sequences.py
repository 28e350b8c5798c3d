"""Sequence examples (python/cadence/drums/sequences.py): windows equal to an independent decode of
the source audio, features equal to librosa (mel) and to madmom's formulas (log-filtered), frame
targets equal to librosa's frame convention at the edges of windows and files, batches equal to
items, random offsets per epoch, views, PyTorch's DataLoader, and the PNG of `inspect`."""

import csv

import librosa
import numpy as np
import pytest
import soundfile as sf

from cadence import _core, drums
from cadence.cli import main as cli_main
from cadence.drums import LogFilteredSpec, MelSpec


@pytest.fixture(scope="module")
def stores(drum_corpus, tmp_path_factory):
    """The corpus at its own rate (windows comparable with the WAVs) and at 22.05 kHz, and clips."""
    out = {}
    for name, kw in (("native", {"layout": "index", "sample_rate_hz": 0}),
                     ("resampled", {"layout": "index"}),
                     ("clips", {"layout": "clips", "codec": "float16"})):
        path = tmp_path_factory.mktemp(name) / "out"
        drums.prepare(drum_corpus, path, show_progress=False, **kw)
        out[name] = path
    return out


def _wavs(corpus):
    with open(corpus / "e-gmd-v1.0.0.csv", newline="") as f:
        return {r["midi_filename"].rsplit(".", 1)[0]: corpus / r["audio_filename"] for r in csv.DictReader(f)}


def _rel_close(ours, ref, rtol=1e-4):
    """Within rtol of librosa's value, element by element (an absolute floor only for exact zeros
    and denormals of silent padding)."""
    ours, ref = np.asarray(ours, np.float64), np.asarray(ref, np.float64)
    np.testing.assert_allclose(ours, ref, rtol=rtol, atol=1e-30 + 1e-12 * np.abs(ref).max())


# ---- audio and targets ----------------------------------------------------------------------

def test_windows_equal_the_source_audio_and_cover_every_file(stores, drum_corpus):
    ds = drums.open(stores["native"], mode="sequences", length_s=2.0, hop_s=1.5)
    wavs = _wavs(drum_corpus)
    b = ds.read_batch(np.arange(len(ds)))
    seen = {}
    for j in range(len(ds)):
        pair = ds._files_meta["pair_id"][b["file"][j]]
        wav = sf.read(wavs[pair], dtype="float32")[0]
        start = int(b["start_sample"][j])
        expect = np.zeros(ds.n_samples, np.float32)
        part = wav[start:start + ds.n_samples]
        expect[:len(part)] = part
        np.testing.assert_array_equal(b["audio"][j], expect)
        seen.setdefault(pair, []).append(start)
        assert b["sample_rate_hz"][j] == 44100 and b["start_s"][j] == start / 44100
    # Every file, windows every 1.5 s, the last one reaching the end of the file.
    assert set(seen) == set(wavs)
    for pair, starts in seen.items():
        n = len(sf.read(wavs[pair])[0])
        assert starts == list(range(0, starts[-1] + 1, ds.window_hop_samples))
        assert starts[-1] + ds.n_samples >= n > starts[-1]


def _reference_rolls(ds, files, starts, widening=()):
    """Onset and velocity rolls from the record labels with numpy, onsets placed with librosa."""
    s = ds._s
    k = len(ds.class_names)
    roll = np.zeros((len(files), ds.n_frames, k), np.float32)
    vel = np.zeros((len(files), ds.n_frames, k), np.uint8)
    for j, (f, start) in enumerate(zip(files, starts)):
        recs = np.nonzero((s.source_of == f) & (s.onset_sample >= start) & (s.onset_sample < start + ds.n_samples))[0]
        frames = librosa.samples_to_frames(s.onset_sample[recs] - start, hop_length=ds.hop_samples)
        for r, t in zip(recs, frames):
            for c in np.nonzero(s.class_velocity[r])[0]:
                for d, w in enumerate(widening, 1):
                    for g in (t - d, t + d):
                        if 0 <= g < ds.n_frames:
                            roll[j, g, c] = max(roll[j, g, c], w)
                vel[j, t, c] = max(vel[j, t, c], s.class_velocity[r, c])
            roll[j, t, np.nonzero(s.class_velocity[r])[0]] = 1.0
    return roll, vel


@pytest.mark.parametrize("widening", [(), (0.5,), (0.6, 0.3)])
def test_rolls_equal_a_reference_from_the_labels(stores, widening):
    ds = drums.open(stores["resampled"], mode="sequences", length_s=1.0, hop_s=0.37, target_widening=widening)
    b = ds.read_batch(np.arange(len(ds)))
    roll, vel = _reference_rolls(ds, b["file"], b["start_sample"], widening)
    assert b["onset_roll"].shape == (len(ds), ds.n_frames, len(ds.class_names))
    np.testing.assert_array_equal(b["onset_roll"], roll)
    np.testing.assert_array_equal(b["velocity_roll"], vel)
    assert b["onset_roll"].max() == 1.0 and (b["onset_roll"] == 1.0).sum() > 20
    # Hops shorter than windows: every onset of the directory lies in some window.
    s = ds._s
    inside = ((s.source_of[:, None] == b["file"][None, :]) & (s.onset_sample[:, None] >= b["start_sample"][None, :])
              & (s.onset_sample[:, None] < b["start_sample"][None, :] + ds.n_samples))
    assert inside.any(axis=1).all()


def test_the_default_grid_at_22_05_khz_is_221_samples(stores):
    """docs/drums.md and the module's docstring give these numbers: 22,050 / 100 = 220.5 rounds
    away from zero to 221 (99.77 frames/s), and 4 s are 400 frames; hop_samples=220 gives 401."""
    ds = drums.open(stores["resampled"], mode="sequences", length_s=4.0)
    assert (ds.sample_rate_hz, ds.hop_samples, ds.n_frames) == (22050, 221, 400)
    assert round(ds.frame_rate_hz, 2) == 99.77
    assert drums.open(stores["resampled"], mode="sequences", length_s=4.0, hop_samples=220).n_frames == 401


def test_frame_alignment_follows_librosa_at_window_edges():
    """Onsets on the first sample, the last sample of a frame, the last sample of the window and the
    first sample after it (not in the window), against librosa.time_to_frames."""
    sr, hop, n = 22050, 221, 22050
    onsets = np.array([1000, 1000 + 220, 1000 + 221, 1000 + n - 1, 1000 + n], np.int64)
    classes = np.eye(5, 2, dtype=np.uint8)[[0, 1, 0, 1, 0]] * 100
    roll, vel = _core.drums_sequence_targets(onsets, (classes > 0).astype(np.uint8), classes,
                                             np.array([0, 5], np.int64), np.array([0], np.int64),
                                             np.array([1000], np.int64), n, hop, np.zeros(0, np.float32))
    n_frames = 1 + n // hop
    assert roll.shape == (1, n_frames, 2)
    # librosa's own convention, on times that are exact in binary (multiples of the hop's seconds).
    expect = librosa.samples_to_frames(onsets[:4] - 1000, hop_length=hop)
    assert expect.tolist() == [0, 0, 1, (n - 1) // hop]
    times = (onsets[:3] - 1000) / sr
    assert librosa.time_to_frames(times, sr=sr, hop_length=hop).tolist() == [0, 0, 1]
    got = [(t, c) for t, c in zip(*np.nonzero(roll[0]))]
    assert got == [(0, 0), (0, 1), (1, 0), ((n - 1) // hop, 1)]  # the onset at 1000 + n is the next window's
    assert vel[0, 0, 0] == 100


def test_windows_past_the_end_of_a_file_are_zero_padded_without_targets(stores):
    ds = drums.open(stores["resampled"], mode="sequences", length_s=30.0)  # longer than every file
    b = ds.read_batch(np.arange(len(ds)))
    assert len(ds) == len(ds._files) and (b["start_sample"] == 0).all()
    lengths = ds._files_meta["n_samples"][b["file"]]
    for j, n in enumerate(lengths):
        assert not b["audio"][j, n:].any() and b["audio"][j, :n].any()
        last_frame = (n - 1) // ds.hop_samples
        assert not b["onset_roll"][j, last_frame + 1:].any()


# ---- features -------------------------------------------------------------------------------

@pytest.mark.parametrize("spec", [
    MelSpec(log=None),
    MelSpec(),
    MelSpec(n_fft=1024, n_mels=64, fmin=30.0, fmax=8000.0, htk=True, norm=None, log=None),
    MelSpec(n_fft=2048, win_length=1024, n_mels=40, power=1.0, norm=2.0, log=None),
    MelSpec(n_mels=96, top_db=None, ref=10.0),
])
def test_mel_equals_librosa(stores, spec):
    ds = drums.open(stores["resampled"], mode="sequences", length_s=1.5, features=spec)
    b = ds.read_batch(np.arange(min(len(ds), 6)))
    assert b["features"].shape == (len(b["index"]), ds.n_frames, spec.n_mels)
    for j in range(len(b["index"])):
        y = b["audio"][j]
        norm = spec.norm if spec.norm != 2.0 else 2.0
        ref = librosa.feature.melspectrogram(y=y, sr=ds.sample_rate_hz, n_fft=spec.n_fft, hop_length=ds.hop_samples,
                                             win_length=spec.win_length, n_mels=spec.n_mels, fmin=spec.fmin,
                                             fmax=spec.fmax, htk=spec.htk, norm=norm, power=spec.power)
        ours = b["features"][j].T
        assert ref.dtype == np.float32
        if spec.log == "db":
            ref = librosa.power_to_db(ref, ref=spec.ref, amin=spec.amin, top_db=spec.top_db)
            # Relative on the power scale (dB near 0 has no useful relative error): 1e-4 relative
            # power is 4.3e-4 dB.
            np.testing.assert_allclose(ours, ref, rtol=0, atol=4.3e-4)
            ours, ref = 10 ** (ours.astype(np.float64) / 10), 10 ** (ref.astype(np.float64) / 10)
        _rel_close(ours, ref)
    basis = librosa.filters.mel(sr=ds.sample_rate_hz, n_fft=spec.n_fft, n_mels=spec.n_mels, fmin=spec.fmin,
                                fmax=spec.fmax, htk=spec.htk, norm=spec.norm)
    np.testing.assert_allclose(ds._spec.filterbank(), basis, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(ds.band_hz, librosa.mel_frequencies(spec.n_mels + 2, fmin=spec.fmin,
                                                                   fmax=spec.fmax or ds.sample_rate_hz / 2,
                                                                   htk=spec.htk)[1:-1])


def _madmom_log_filtered(y, sr, frame_size, hop, bpo, fmin, fmax, fref=440.0, log=True):
    """madmom's LogarithmicFilteredSpectrogram, from its documented algorithm (log_frequencies,
    frequencies2bins(unique), TriangularFilter(norm=True), np.hanning, |rfft| without Nyquist),
    frames centred on t * hop as the dataset's grid."""
    num_bins = frame_size // 2
    bin_f = np.fft.fftfreq(num_bins * 2, 1.0 / sr)[:num_bins]
    left, right = np.floor(np.log2(fmin / fref) * bpo), np.ceil(np.log2(fmax / fref) * bpo)
    freqs = fref * 2.0 ** (np.arange(left, right) / bpo)
    freqs = freqs[np.searchsorted(freqs, fmin):]
    freqs = freqs[:np.searchsorted(freqs, fmax, "right")]
    idx = np.clip(bin_f.searchsorted(freqs), 1, num_bins - 1)
    idx -= (freqs - bin_f[idx - 1]) < (bin_f[idx] - freqs)
    bins = np.unique(idx)
    fb = np.zeros((num_bins, len(bins) - 2), np.float32)
    for b in range(len(bins) - 2):
        start, center, stop = bins[b:b + 3]
        if stop - start < 2:
            center, stop = start, start + 1
        data = np.zeros(stop - start)
        data[:center - start] = np.linspace(0, 1, center - start, endpoint=False)
        data[center - start:] = np.linspace(1, 0, stop - center, endpoint=False)
        fb[start:stop, b] = data / data.sum()
    padded = np.pad(y.astype(np.float64), frame_size // 2)
    frames = np.stack([padded[t * hop:t * hop + frame_size] for t in range(1 + len(y) // hop)])
    spec = np.abs(np.fft.rfft(frames * np.hanning(frame_size), axis=1))[:, :num_bins]
    out = spec @ fb.astype(np.float64)
    return (np.log10(out + 1) if log else out), bin_f[bins[1:-1]]


@pytest.mark.parametrize("spec", [LogFilteredSpec(), LogFilteredSpec(log=False),
                                  LogFilteredSpec(frame_size=1024, bands_per_octave=6, fmin=20.0, fmax=20000.0)])
def test_log_filtered_equals_madmoms_formulas(stores, spec):
    ds = drums.open(stores["resampled"], mode="sequences", length_s=1.0, features=spec)
    b = ds.read_batch(np.arange(min(len(ds), 4)))
    fmax = spec.fmax  # above Nyquist (17 kHz at 22.05 kHz): centres snap to the last bin, as madmom's do
    for j in range(len(b["index"])):
        ref, centres = _madmom_log_filtered(b["audio"][j], ds.sample_rate_hz, spec.frame_size, ds.hop_samples,
                                            spec.bands_per_octave, spec.fmin, fmax, log=spec.log)
        _rel_close(b["features"][j], ref)
    np.testing.assert_allclose(ds.band_hz, centres)


def test_features_are_the_same_bits_on_one_and_two_threads(stores):
    one = drums.open(stores["resampled"], mode="sequences", length_s=1.0, features="mel", jobs=1)
    two = drums.open(stores["resampled"], mode="sequences", length_s=1.0, features="mel", jobs=2)
    idx = np.arange(len(one))[::-1]
    a, b = one.read_batch(idx), two.read_batch(idx)
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])


# ---- items, offsets, views, loaders ---------------------------------------------------------

def test_items_equal_batches_and_carry_names(stores):
    ds = drums.open(stores["resampled"], mode="sequences", length_s=1.0, features="log_filtered")
    idx = [3, 0, len(ds) - 1]
    batch = ds.__getitems__(idx)
    for j, i in enumerate(idx):
        item = ds[i]
        for k, v in batch.arrays.items():
            np.testing.assert_array_equal(item[k], v[j])
        assert item["pair_id"] == ds._files_meta["pair_id"][item["file"]]
        assert item["split"] in ("train", "validation", "test") and item["kit"]
    assert ds.class_names == drums.open(stores["resampled"]).class_names
    assert len(list(ds)) == len(ds)


def test_random_offsets_are_seeded_per_epoch_and_inside_the_file(stores):
    ds = drums.open(stores["resampled"], mode="sequences", length_s=1.0, offsets="random", seed=5)
    fixed = drums.open(stores["resampled"], mode="sequences", length_s=1.0)
    assert len(ds) == len(fixed)
    idx = np.arange(len(ds))
    e0 = ds.starts(idx)
    assert np.array_equal(e0, drums.open(stores["resampled"], mode="sequences", length_s=1.0, offsets="random",
                                         seed=5).starts(idx))
    ds.set_epoch(1)
    e1 = ds.starts(idx)
    assert not np.array_equal(e0, e1)
    room = ds._files_meta["n_samples"][ds._item_file] - ds.n_samples
    assert ((e1 >= 0) & (e1 <= np.maximum(room, 0))).all()
    # A batch reads the windows the starts say, and targets follow them.
    b = ds.read_batch(idx[:5])
    assert np.array_equal(b["start_sample"], e1[:5])
    roll, _ = _reference_rolls(ds, b["file"], b["start_sample"])
    np.testing.assert_array_equal(b["onset_roll"], roll)


def test_filter_and_shard_are_views_of_files(stores):
    ds = drums.open(stores["resampled"], mode="sequences", length_s=1.0)
    splits = set(ds._files_meta["split"])
    parts = [ds.filter(split=s) for s in sorted(splits)]
    assert sum(len(p) for p in parts) == len(ds)
    for s, p in zip(sorted(splits), parts):
        b = p.read_batch(np.arange(len(p)))
        assert set(p._files_meta["split"][b["file"]]) == {s}
    shards = [ds.shard(r, 3) for r in range(3)]
    assert sorted(np.concatenate([s._files for s in shards]).tolist()) == list(range(len(ds._files)))
    with pytest.raises(ValueError, match="rank"):
        ds.shard(3, 3)


@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_dataloader_collates_and_workers_see_the_epoch(stores, context):
    import torch  # pinned in the test extra: a missing torch is a broken environment
    ds = drums.open(stores["resampled"], mode="sequences", length_s=1.0, features="mel", offsets="random")
    ds.set_epoch(3)
    n = min(8, len(ds))
    plain = next(iter(torch.utils.data.DataLoader(ds, batch_size=n)))
    fast = next(iter(torch.utils.data.DataLoader(ds, batch_size=n, collate_fn=drums.collate, num_workers=2,
                                                 multiprocessing_context=context)))
    direct = ds.read_batch(np.arange(n))
    for k in ("audio", "onset_roll", "velocity_roll", "features", "start_sample", "file"):
        assert torch.equal(plain[k], fast[k]), k
        np.testing.assert_array_equal(fast[k].numpy(), direct[k])
    assert fast["pair_id"] == plain["pair_id"]


def test_bad_options_and_layouts_are_refused(stores):
    with pytest.raises(ValueError, match="layout index"):
        drums.open(stores["clips"], mode="sequences")
    for kw, msg in (({"length_s": 0}, "length_s"), ({"hop_s": -1}, "hop_s"), ({"offsets": "shuffled"}, "offsets"),
                    ({"target_widening": (1.5,)}, "target_widening"), ({"features": "cqt"}, "features"),
                    ({"features": MelSpec(norm="l2")}, "norm"), ({"fps": 1e9}, "hop_samples")):
        with pytest.raises(ValueError, match=msg):
            drums.open(stores["resampled"], mode="sequences", **kw)
    with pytest.raises(ValueError, match="mode"):
        drums.open(stores["resampled"], mode="frames")
    ds = drums.open(stores["resampled"], mode="sequences")
    with pytest.raises(IndexError, match="out of range"):
        ds.read_batch([len(ds)])


def test_inspect_draws_one_sequence_to_png(stores, tmp_path, capsys):
    png = tmp_path / "seq.png"
    assert cli_main(["drums", "inspect", str(stores["resampled"]), "--sequences", "--index", "1",
                     "--length-s", "2", "--png", str(png)]) == 0
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    assert "sequences of 2.0 s" in capsys.readouterr().out
    assert cli_main(["drums", "inspect", str(stores["resampled"]), "--sequences", "--index", "100000",
                     "--png", str(tmp_path / "no.png")]) == 2
    assert not (tmp_path / "no.png").exists()
    assert "out of range" in capsys.readouterr().err


def test_inspect_png_has_hz_ticks_and_colour_bars(stores, tmp_path, monkeypatch):
    """Issue 22, point 16. Before: band numbers on the y axis and no colour bar (the figure's
    properties: tests/python/test_drums_plots.py)."""
    from cadence.drums import plots

    drawn, real = [], plots.sequence_figure
    monkeypatch.setattr(plots, "sequence_figure", lambda *a, **kw: drawn.append(real(*a, **kw)) or drawn[-1])
    assert cli_main(["drums", "inspect", str(stores["resampled"]), "--sequences", "--features", "log_filtered",
                     "--png", str(tmp_path / "seq.png")]) == 0
    top, top_bar, _, bottom_bar = drawn[0].axes  # closed once saved, still readable
    assert top.get_ylabel().startswith("frequency (Hz)") and "10k" in [t.get_text() for t in top.get_yticklabels()]
    assert top_bar.get_ylabel().startswith("log10(") and bottom_bar.get_ylabel() == "target weight"
