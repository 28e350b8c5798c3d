"""Sequence examples for sequence-level transcription models: windows of a few seconds over every
file of an index-layout directory, with frame-level targets from the onset index and, optionally,
spectrogram features computed in the engine.

``drums.open(path, mode="sequences", length_s=4.0, fps=100)[i]`` is one window: its audio, an
onset roll and a velocity roll (frames x classes), and, with ``features=``, a log-mel (librosa's
conventions) or log-filtered (madmom's) spectrogram on the same frame grid. A batch
(``read_batch`` / ``__getitems__``) is read, decoded and turned into features on the job's
threads with the GIL released, so a DataLoader worker does no per-item Python work.

Frame grid (docs/drums.md, "Sequences"): ``hop_samples = round(sample_rate / fps)`` (22.05 kHz at
100 fps: 220.5 rounds to 221 samples, 99.77 frames/s), ``n_frames = 1 + n_samples // hop_samples`` (librosa's
count with center padding); an onset ``d`` samples after the window's first sample is on frame
``d // hop_samples`` (librosa.samples_to_frames), and spectrogram frame t is centred on sample
``t * hop_samples`` of the window.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .. import _core
from .directory import INHERITED_JOBS, OPEN_DATASETS, Batch, Directory, JoinedDirectories, in_dataloader_worker
from .inputs import view_mask
from .store import DATASET_COLUMN, dataset_of

SEQUENCE_ARRAYS = ("audio", "onset_roll", "velocity_roll", "index", "file", "start_sample", "start_s",
                   "sample_rate_hz")
SEQUENCE_STRINGS = ("pair_id", "kit", "split")
_FILE_COLUMNS = ("pair_id", "kit", "split", "drummer")


@dataclass(frozen=True)
class MelSpec:
    """librosa.feature.melspectrogram (then librosa.power_to_db when ``log="db"``), frames on the
    dataset's grid (``hop_length`` = the dataset's ``hop_samples``). Defaults are librosa's."""

    n_fft: int = 2048
    win_length: int | None = None
    n_mels: int = 128
    fmin: float = 0.0
    fmax: float | None = None
    htk: bool = False
    norm: str | float | None = "slaney"
    power: float = 2.0
    center: bool = True
    log: str | None = "db"
    amin: float = 1e-10
    ref: float = 1.0
    top_db: float | None = 80.0

    def engine(self, sample_rate_hz: int, hop: int):
        if self.norm in ("slaney", None):
            norm, p = ("slaney" if self.norm else "none"), 1.0
        elif isinstance(self.norm, (int, float)) and not isinstance(self.norm, bool) and self.norm > 0:
            norm, p = "p", float(self.norm)
        else:
            raise ValueError(f"MelSpec.norm must be 'slaney', None or a positive number, not {self.norm!r}")
        if self.log not in (None, "db"):
            raise ValueError(f"MelSpec.log must be 'db' or None, not {self.log!r}")
        return _core.Spectrogram.mel(sample_rate_hz, self.n_fft, hop, self.win_length or 0, self.center,
                                     float(self.power), self.n_mels, float(self.fmin), float(self.fmax or 0.0),
                                     self.htk, norm, p, self.log or "none", float(self.amin), float(self.ref),
                                     float(self.top_db or 0.0))


@dataclass(frozen=True)
class LogFilteredSpec:
    """madmom's LogarithmicFilteredSpectrogram: magnitude STFT (symmetric Hann, ``frame_size``),
    a logarithmic triangular filterbank (``bands_per_octave`` from ``fmin`` to ``fmax``, centres
    snapped to unique bins, each filter normalised) and ``log10(mul * S + add)``. Defaults are
    madmom's; ADTOF uses 12 bands per octave, 20 Hz - 20 kHz at 100 frames/s."""

    frame_size: int = 2048
    bands_per_octave: int = 12
    fmin: float = 30.0
    fmax: float = 17000.0
    fref: float = 440.0
    norm_filters: bool = True
    unique_filters: bool = True
    log: bool = True
    mul: float = 1.0
    add: float = 1.0
    center: bool = True

    def engine(self, sample_rate_hz: int, hop: int):
        # fmax above Nyquist is kept, as madmom keeps it: its centres snap to the last bin.
        return _core.Spectrogram.log_filtered(sample_rate_hz, self.frame_size, hop, self.center,
                                              self.bands_per_octave, float(self.fmin), float(self.fmax),
                                              float(self.fref),
                                              self.norm_filters, self.unique_filters, "log10" if self.log else "none",
                                              float(self.mul), float(self.add))


_FEATURES = {"mel": MelSpec, "log_filtered": LogFilteredSpec}


class SequenceBatch(Batch):
    """A collated batch of sequence examples (``.arrays``) that also reads as a list of items."""

    def __len__(self) -> int:
        return len(self.arrays["index"])

    def __getitem__(self, j):
        if self._items is None:
            self._items = [{**{k: v[i] for k, v in self.arrays.items()}, **{k: v[i] for k, v in self.strings.items()}}
                           for i in range(len(self))]
        return self._items[j]


class SequenceDataset:
    """Windows of ``length_s`` over every file of an index-layout directory, with frame targets.

    Parameters
    ----------
    path
        A directory written by ``cadence drums prepare`` (index layout: each file stored whole).
    length_s
        Window length, seconds (``n_samples`` = round(length_s * rate)).
    hop_s
        Distance between consecutive windows of a file (default: ``length_s``, no overlap). A file
        gives ``1 + ceil(max(file - window, 0) / hop)`` windows; the last may run past the end
        (zeros there).
    fps, hop_samples
        Frame rate of the targets and features: ``hop_samples`` (if given) or round(rate / fps).
    features
        None, ``"mel"`` / ``"log_filtered"`` (the defaults of :class:`MelSpec` /
        :class:`LogFilteredSpec`) or an instance of either.
    target_widening
        Weights of the frames 1, 2, ... away from an onset in ``onset_roll`` (ADTOF-style target
        widening, e.g. ``(0.5,)``); empty: 0/1 targets.
    offsets
        ``"fixed"``: windows at multiples of ``hop_s``. ``"random"``: each window starts at a random
        sample in [0, file - window] (the same number of windows per file), drawn from
        (``seed``, epoch, item): call :meth:`set_epoch` before each epoch (with a DataLoader, keep
        ``persistent_workers=False`` so the workers get the new epoch).
    jobs
        Threads that read a batch (0 = all cores; 1 inside a DataLoader worker process).

    Items hold ``audio`` (n_samples,) float32, ``onset_roll`` (n_frames, n_classes) float32,
    ``velocity_roll`` (n_frames, n_classes) uint8 (the loudest MIDI velocity), ``features``
    (n_frames, n_bands) float32 when asked, ``index``, ``file`` (the file's number), ``start_sample``,
    ``start_s``, ``sample_rate_hz``, ``pair_id``, ``kit`` and ``split``. ``class_names`` names the
    columns of the rolls, ``band_hz`` the feature bands.
    """

    def __init__(self, path: str | os.PathLike, *, length_s: float = 4.0, hop_s: float | None = None,
                 fps: float = 100.0, hop_samples: int | None = None, features=None,
                 target_widening: Sequence[float] = (), offsets: str = "fixed", seed: int = 0, jobs: int = 0,
                 _shared: Directory | None = None, _files: np.ndarray | None = None):
        self._s = _shared or Directory(Path(path))
        s = self._s
        self.path = s.root
        if s.layout != "index":
            raise ValueError(f"{self.path} holds per-onset clips (layout {s.layout!r}); sequences are cut from whole "
                             f"files: prepare it with --layout index")
        if not length_s > 0:
            raise ValueError(f"length_s must be > 0 (got {length_s})")
        if hop_s is not None and not hop_s > 0:
            raise ValueError(f"hop_s must be > 0 (got {hop_s})")
        if offsets not in ("fixed", "random"):
            raise ValueError(f"offsets must be 'fixed' or 'random', not {offsets!r}")
        widening = np.asarray(target_widening, np.float32).reshape(-1)
        if widening.size and not (np.all(widening > 0) and np.all(widening <= 1)):
            raise ValueError(f"target_widening weights must be in (0, 1], got {list(target_widening)}")
        self.class_names = s.class_names
        self.config = s.config
        self.length_s, self.hop_s, self.fps = float(length_s), None if hop_s is None else float(hop_s), float(fps)
        self.target_widening = tuple(float(w) for w in widening)
        self.offsets, self.seed, self.epoch, self.jobs = offsets, int(seed), 0, jobs
        self._files_meta = _file_table(s)
        rates = np.unique(self._files_meta["sample_rate_hz"])
        if len(rates) > 1:
            raise ValueError(f"{self.path} holds files at several rates ({rates.tolist()} Hz: prepared with "
                             f"--sample-rate 0); sequences need one rate: prepare with --sample-rate")
        self.sample_rate_hz = int(rates[0]) if len(rates) else s.nominal_rate_hz
        rate = self.sample_rate_hz
        self.n_samples = _round_samples(self.length_s, rate)
        if hop_samples is None:
            if not fps > 0:
                raise ValueError(f"fps must be > 0 (got {fps})")
            hop_samples = _round_samples(1.0 / self.fps, rate)
        if int(hop_samples) < 1:
            raise ValueError(f"hop_samples must be >= 1 (fps {fps} is too high for {rate} Hz)")
        self.hop_samples = int(hop_samples)
        self.frame_rate_hz = rate / self.hop_samples
        self.n_frames = 1 + self.n_samples // self.hop_samples
        self.window_hop_samples = self.n_samples if self.hop_s is None else max(1, _round_samples(self.hop_s, rate))
        if isinstance(features, str):
            if features not in _FEATURES:
                raise ValueError(f"features must be one of {sorted(_FEATURES)} or a MelSpec/LogFilteredSpec, "
                                 f"not {features!r}")
            features = _FEATURES[features]()
        if features is not None and not isinstance(features, (MelSpec, LogFilteredSpec)):
            raise TypeError(f"features must be 'mel', 'log_filtered', a MelSpec or a LogFilteredSpec, not "
                            f"{type(features).__name__}")
        self.features = features
        self._spec = None
        self.band_hz = None
        if features is not None:
            self._spec = features.engine(rate, self.hop_samples)
            if self._spec.n_frames(self.n_samples) != self.n_frames:
                raise ValueError(f"features {features} give {self._spec.n_frames(self.n_samples)} frames for a "
                                 f"window whose targets have {self.n_frames}; use center=True")
            self.band_hz = np.asarray(self._spec.band_hz)
        # Records sorted by (file, onset sample): a window's onsets are one binary search away.
        order = np.lexsort((s.onset_sample, s.source_of))
        self._onset_sample = np.ascontiguousarray(s.onset_sample[order])
        self._class_velocity = np.ascontiguousarray(s.class_velocity[order])
        self._classes = (self._class_velocity > 0).view(np.uint8)  # a hit's MIDI velocity is >= 1
        n_files = len(self._files_meta["n_samples"])
        self._file_begin = np.searchsorted(s.source_of[order], np.arange(n_files + 1)).astype(np.int64)
        # Items: (file, window number) for the files of this view.
        self._files = np.arange(n_files, dtype=np.int64) if _files is None else np.asarray(_files, np.int64)
        length = self._files_meta["n_samples"][self._files]
        counts = 1 + -(-np.maximum(length - self.n_samples, 0) // self.window_hop_samples)
        self._item_file = np.repeat(self._files, counts)
        self._item_k = np.arange(len(self._item_file), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
        self._job = None
        self._job_key = None
        OPEN_DATASETS.add(self)

    # ---- size, epochs, views ----------------------------------------------------------------
    def __len__(self) -> int:
        return len(self._item_file)

    def set_epoch(self, epoch: int) -> None:
        """Random offsets: the epoch whose windows to draw (fixed offsets ignore it)."""
        self.epoch = int(epoch)

    def starts(self, indices) -> np.ndarray:
        """First sample of each item's window (may be past the end of a short file's audio: zeros)."""
        pos = np.asarray(indices, np.int64).reshape(-1)
        files = self._item_file[pos]
        if self.offsets == "fixed":
            return self._item_k[pos] * self.window_hop_samples
        room = np.maximum(self._files_meta["n_samples"][files] - self.n_samples, 0)
        return np.array([np.random.default_rng((self.seed, self.epoch, int(i))).integers(0, r + 1)
                         for i, r in zip(pos % max(len(self), 1), room)], np.int64)

    def _view(self, files: np.ndarray) -> SequenceDataset:
        view = SequenceDataset.__new__(SequenceDataset)
        view.__dict__.update(self.__dict__)
        view._files = np.asarray(files, np.int64)
        length = self._files_meta["n_samples"][view._files]
        counts = 1 + -(-np.maximum(length - self.n_samples, 0) // self.window_hop_samples)
        view._item_file = np.repeat(view._files, counts)
        view._item_k = np.arange(len(view._item_file), dtype=np.int64) - np.repeat(np.cumsum(counts) - counts, counts)
        view._job = view._job_key = None
        OPEN_DATASETS.add(view)
        return view

    def filter(self, *, split: str | Sequence[str] | None = None, kits: Sequence[str | int] | None = None,
               drummers: Sequence[str] | None = None, pair_ids: Sequence[str] | None = None,
               dataset: str | Sequence[str] | None = None) -> SequenceDataset:
        """A view of the files whose split / kit (name or number) / drummer / pair / dataset is
        among those given; a value no file has raises ValueError listing those present (as
        :meth:`DrumDataset.filter`)."""
        names = ("split", "kit", "drummer", "pair_id")
        columns = {c: list(self._files_meta[c][self._files]) for c in names}
        columns[DATASET_COLUMN] = [dataset_of(self._s.config)] * len(self._files)
        keep = view_mask(columns, split=split, kits=kits, drummers=drummers, pair_ids=pair_ids, dataset=dataset)
        return self._view(self._files[keep])

    @classmethod
    def join(cls, parts: Sequence[SequenceDataset]) -> tuple[SequenceDataset, np.ndarray, np.ndarray]:
        """One dataset over the files of several opened directories (or views), part after part,
        read in one engine call per batch (drums.mix): its item ``items[k] + i`` is item ``i`` of
        ``parts[k]``, its file ``files[k] + f`` file ``f`` of that part's directory. Windows,
        features and offsets are ``parts[0]``'s (the parts must agree: drums.mix checks); each
        window starts where its part puts it (random offsets: the part's seed and epoch). Returns
        (dataset, items, files), the offsets int64, one per part."""
        shared = list({id(p._s): p._s for p in parts}.values())  # a directory twice (two views) joined once
        joined = JoinedDirectories.join(shared)
        file_base = np.array([joined.file_base[[id(s) for s in shared].index(id(p._s))] for p in parts], np.int64)
        first = parts[0]
        out = _JoinedSequences(first.path, length_s=first.length_s, hop_s=first.hop_s, fps=first.fps,
                               hop_samples=first.hop_samples, features=first.features,
                               target_widening=first.target_widening, offsets=first.offsets, seed=first.seed,
                               jobs=first.jobs, _shared=joined,
                               _files=np.concatenate([p._files + b for p, b in zip(parts, file_base)]))
        out.epoch = first.epoch
        items = np.concatenate([[0], np.cumsum([len(p) for p in parts])[:-1]]).astype(np.int64)
        out._parts, out._part_items = list(parts), items
        return out, items, file_base

    def shard(self, rank: int, world_size: int) -> SequenceDataset:
        """This rank's files (every world_size-th, starting at rank) for distributed training."""
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must be in [0, {world_size}), got {rank}")
        return self._view(self._files[rank::world_size])

    # ---- reading ----------------------------------------------------------------------------
    def _engine_job(self):
        key = (os.getpid(), self.jobs)
        if self._job is None or self._job_key != key:
            if self._job is not None and self._job_key[0] != key[0]:
                INHERITED_JOBS.append(self._job)  # inherited through fork: never join its threads
            jobs = 1 if self.jobs == 0 and in_dataloader_worker() else self.jobs
            self._job = _core.Job(jobs, 0)
            self._job_key = key
        return self._job

    def read_batch(self, indices) -> dict[str, np.ndarray]:
        """Items `indices`, collated: ``audio`` (batch, n_samples), ``onset_roll`` and
        ``velocity_roll`` (batch, n_frames, n_classes), ``features`` (batch, n_frames, n_bands)
        when asked, and ``index``, ``file``, ``start_sample``, ``start_s``, ``sample_rate_hz``
        (batch,)."""
        pos = np.asarray(indices, np.int64).reshape(-1)
        n = len(self)
        if pos.size and (pos.min() < -n or pos.max() >= n):
            bad = pos[(pos < -n) | (pos >= n)][0]
            raise IndexError(f"sequence {bad} out of range for {n} sequences")
        pos = pos % n if n else pos
        files = self._item_file[pos]
        starts = self.starts(pos)
        s = self._s
        job = self._engine_job()
        try:  # one pass per window on the job's threads: decode, features, targets
            audio, features, onset_roll, velocity_roll = _core.drums_read_sequences(
                s.store(), self._spec, self._onset_sample, self._classes, self._class_velocity, self._file_begin,
                files, starts, self.n_samples, self.hop_samples, np.asarray(self.target_widening, np.float32), job)
        except _core.StoredAudioError as e:
            raise s.error(e) from None
        out = {"audio": audio, "onset_roll": onset_roll, "velocity_roll": velocity_roll}
        if features is not None:
            out["features"] = features
        out.update(index=pos, file=files, start_sample=starts, start_s=starts / self.sample_rate_hz,
                   sample_rate_hz=np.full(len(pos), self.sample_rate_hz, np.int32))
        return out

    def __getitems__(self, indices) -> SequenceBatch:
        """What PyTorch's fetcher calls for a batch: one read_batch, viewed as a list of items."""
        arrays = self.read_batch(indices)
        meta = self._files_meta
        strings = {k: meta[k][arrays["file"]].tolist() for k in SEQUENCE_STRINGS}
        return SequenceBatch(arrays, strings)

    def __getitem__(self, i: int) -> dict:
        if not isinstance(i, (int, np.integer)):
            raise TypeError(f"sequences are indexed by int, not {type(i).__name__}; use read_batch for many")
        return self.__getitems__([int(i)])[0]

    def __iter__(self):
        for start in range(0, len(self), 64):
            yield from self.__getitems__(np.arange(start, min(start + 64, len(self))))

    def save_png(self, i: int, path: str | os.PathLike) -> Path:
        """Draw sequence `i` to a PNG (atomically, drums.plots.sequence_figure): its features (or,
        without features, a log-mel of its audio), y axis in Hz, with a colour bar; onsets as
        lines over it, coinciding hits one piece per class; the onset roll below, per class."""
        n = len(self)
        if not -n <= i < n:
            raise ValueError(f"sequence {i} out of range: {self.path} has {n} sequences of {self.length_s} s")
        view = self
        if self._spec is None:
            view = self._view(self._files)
            view.features, view._spec = MelSpec(), MelSpec().engine(self.sample_rate_hz, self.hop_samples)
            view.band_hz = np.asarray(view._spec.band_hz)
        b = view.read_batch([i])
        from ..atomic import atomic_path  # noqa: PLC0415
        from .plots import sequence_figure  # noqa: PLC0415 - only pictures need matplotlib

        spec, roll = b["features"][0], b["onset_roll"][0]
        meta = self.__getitems__([i]).strings
        fig = sequence_figure(
            spec, roll, band_hz=view.band_hz, spec=view.features, class_names=list(self.class_names),
            seconds_per_frame=self.hop_samples / self.sample_rate_hz,
            title=f"{meta['pair_id'][0]} ({meta['kit'][0]}, {meta['split'][0]}): sequence {i % n}, "
                  f"{int(roll.max(axis=1).astype(bool).sum())} onset frames",
            xlabel=f"seconds from {b['start_s'][0]:.2f} s of the file ({self.frame_rate_hz:.2f} frames/s)")
        import matplotlib.pyplot as plt  # noqa: PLC0415 - set to Agg by sequence_figure

        path = Path(path)
        try:
            with atomic_path(path) as tmp:
                fig.savefig(tmp, format="png", dpi=110)
        finally:
            plt.close(fig)
        return path

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_job"] = state["_job_key"] = None  # each process makes its own threads
        state["_spec"] = None  # rebuilt from `features` (an engine object does not pickle)
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        if self.features is not None:
            self._spec = self.features.engine(self.sample_rate_hz, self.hop_samples)
        OPEN_DATASETS.add(self)

    def __repr__(self) -> str:
        what = "" if self.features is None else f", features={type(self.features).__name__}"
        return (f"SequenceDataset({str(self.path)!r}, sequences={len(self)}, files={len(self._files)}, "
                f"{self.length_s} s at {self.sample_rate_hz} Hz, {self.n_frames} frames of {self.hop_samples} samples"
                f"{what})")


class _JoinedSequences(SequenceDataset):
    """:meth:`SequenceDataset.join`'s result: windows start where their own part puts them."""

    def starts(self, indices) -> np.ndarray:
        if all(p.offsets == "fixed" for p in self._parts):
            return super().starts(indices)
        pos = np.asarray(indices, np.int64).reshape(-1) % max(len(self), 1)
        part = np.searchsorted(self._part_items, pos, side="right") - 1
        out = np.empty(len(pos), np.int64)
        for k in np.unique(part).tolist():
            sel = part == k
            out[sel] = self._parts[k].starts(pos[sel] - self._part_items[k])
        return out


def _round_samples(seconds: float, rate: int) -> int:
    """Seconds to samples with the engine's one rounding rule (halves away from zero)."""
    return int(_core.drums_onset_window(0, 0.0, float(seconds), int(rate))[1])


def _file_table(s: Directory) -> dict[str, np.ndarray]:
    """Per stored file, in the AudioStore's source order (files-*.parquet, shard after shard):
    length, rate and the names to filter on."""
    columns = [*_FILE_COLUMNS, "sample_rate_hz", "n_samples"]
    tables = [pq.read_table(f, columns=columns) for f in s.file_tables]
    if not tables:
        return {"n_samples": np.zeros(0, np.int64), "sample_rate_hz": np.zeros(0, np.int32),
                **{k: np.zeros(0, object) for k in _FILE_COLUMNS}}
    files = pa.concat_tables(tables)
    out = {k: np.asarray(files.column(k).to_pylist(), object) for k in _FILE_COLUMNS}
    out["n_samples"] = np.asarray(files.column("n_samples").to_numpy(), np.int64)
    out["sample_rate_hz"] = np.asarray(pc.fill_null(files.column("sample_rate_hz"), 0).to_numpy(), np.int32)
    return out


__all__ = ["LogFilteredSpec", "MelSpec", "SequenceBatch", "SequenceDataset"]
