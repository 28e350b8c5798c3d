"""Training on several prepared datasets at once: each example drawn from a dataset picked by
probability, as ADTOF trains on its own set, RBMA13, ENST-Drums and MDB-Drums together.

``drums.mix({"enst": drums.open("out/enst"), "mdb": drums.open("out/mdb")})`` is a map-style
dataset over one epoch of *draws*. Draw ``i`` picks a dataset with the mix's probabilities
(ADTOF's ``_mixingGen``: one pick per example), then takes the next position of that dataset's
own stream: its records in block-shuffled order (:class:`~.sampling.BlockShuffleSampler`), a new
order each time the stream runs through the dataset (ADTOF restarts an exhausted generator).
Everything follows from ``(seed, epoch)`` and, after :meth:`Mix.shard`, the rank: a DataLoader
worker computes the same draws as the training process without being sent them.

Reading a batch costs what one read of one directory costs: the datasets are joined end to end
(:func:`.dataset.join`, :meth:`SequenceDataset.join`: their label arrays and audio sources
numbered part after part, nothing copied on disk), so a batch is one ``read_batch`` of the joined
dataset, one engine call whatever datasets its draws come from, its arrays already in draw order.
The items are those the underlying datasets give (the tests compare them), with ``index`` (and
``file``) numbered in their own dataset. Each dataset's draws within a batch are consecutive
positions of its block-shuffled stream, so reads stay local.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from .dataset import DrumDataset, join
from .directory import Batch
from .sampling import BlockShuffleSampler, in_order
from .sequences import SequenceDataset

#: ADTOF's ``regulateSamplingProbability`` (its hyperparameters.py): default pick probability
#: p(d) proportional to len(d) ** 0.7, which favours small datasets less than equal weights do
#: and more than plain concatenation (XLM's p(L) ~ |L|^alpha).
DEFAULT_ALPHA = 0.7


class Mix:
    """Draws across several opened prepared directories; made by :func:`mix`.

    Items and batches are what the underlying datasets give (records: :class:`DrumDataset`'s;
    sequences: :class:`SequenceDataset`'s), with ``index`` the position in the dataset the item
    came from, plus ``dataset`` (its name in the mix, a string) and ``dataset_index`` (its number
    in :attr:`names`, int32). :attr:`probabilities` gives each dataset's pick probability.
    """

    def __init__(self, datasets: Mapping, probabilities: np.ndarray, length: int, *, seed: int,
                 block_records: int, window_blocks: int, rank: int = 0, world_size: int = 1):
        self.datasets = dict(datasets)
        self.names = list(self.datasets)
        self._p = np.asarray(probabilities, np.float64)
        self.probabilities = dict(zip(self.names, self._p.tolist()))
        self.length = int(length)
        self.seed, self.epoch = int(seed), 0
        self.block_records, self.window_blocks = int(block_records), int(window_blocks)
        self.rank, self.world_size = int(rank), int(world_size)
        first = self.datasets[self.names[0]]
        self.mode = "sequences" if isinstance(first, SequenceDataset) else "records"
        self.class_names = list(first.class_names)
        self.sample_rate_hz = first.sample_rate_hz
        self.n_samples = first.n_samples
        self._draws: tuple | None = None  # (epoch, dataset of each draw, its position there)
        # Every dataset joined end to end: a batch is one read of the joined dataset, whatever
        # datasets its draws come from (no per-dataset calls, no copy to put them in order).
        parts = list(self.datasets.values())
        if self.mode == "records":
            self._joined, self._item_base = join(parts)
            self._file_base = None
        else:
            self._joined, self._item_base, self._file_base = SequenceDataset.join(parts)

    # ---- size, epochs, views ----------------------------------------------------------------
    def __len__(self) -> int:
        return self.length

    def set_epoch(self, epoch: int) -> None:
        """The epoch whose draws to give (as ``DistributedSampler.set_epoch``); also passed to
        each sequences dataset (random window offsets). With a DataLoader, keep
        ``persistent_workers=False`` so that each epoch's workers see it."""
        if int(epoch) < 0:
            raise ValueError(f"epoch must be >= 0, got {epoch}")
        self.epoch = int(epoch)
        for ds in [*self.datasets.values(), self._joined]:
            if isinstance(ds, SequenceDataset):
                ds.set_epoch(epoch)

    def draws(self) -> tuple[np.ndarray, np.ndarray]:
        """This epoch's draws, in order: the dataset of each (its number in :attr:`names`) and
        the position in that dataset."""
        if self._draws is None or self._draws[0] != self.epoch:
            self._draws = (self.epoch, *self._compute_draws())
        return self._draws[1], self._draws[2]

    def _compute_draws(self) -> tuple[np.ndarray, np.ndarray]:
        key = [self.seed, self.epoch, self.rank, self.world_size]
        which = np.random.default_rng(key).choice(len(self.names), size=self.length, p=self._p)
        which = which.astype(np.int32)
        position = np.zeros(self.length, np.int64)
        for k, name in enumerate(self.names):
            sel = np.flatnonzero(which == k)
            if not len(sel):
                continue
            n = len(self.datasets[name])
            passes = []  # the dataset's stream: one block-shuffled order per pass through it
            for j in range(-(-len(sel) // n)):
                state = np.random.SeedSequence([*key, k, j]).generate_state(1)[0]
                passes.append(BlockShuffleSampler(n, block_records=self.block_records,
                                                  window_blocks=self.window_blocks, seed=int(state)).order())
            position[sel] = np.concatenate(passes)[:len(sel)]
        return which, position

    def shard(self, rank: int, world_size: int, *, drop_last: bool = False) -> Mix:
        """This rank's mix for distributed training: each dataset sharded (records: a contiguous
        run of each dataset, ``drop_last`` as :meth:`DrumDataset.shard`; sequences: every
        world_size-th file), the same probabilities, and ``ceil(len(self) / world_size)`` draws on
        every rank (all ranks take the same number of steps). Ranks draw with their own streams."""
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must be in [0, {world_size}), got {rank}")
        parts = {}
        for name, ds in self.datasets.items():
            parts[name] = ds.shard(rank, world_size, drop_last=drop_last) if isinstance(ds, DrumDataset) \
                else ds.shard(rank, world_size)
            if self.probabilities[name] > 0 and not len(parts[name]):
                raise ValueError(f"drums.mix: {name!r} has no {'records' if self.mode == 'records' else 'files'} "
                                 f"for rank {rank} of {world_size} ({len(ds)} in all); give it weight 0 or use "
                                 f"fewer ranks")
        out = Mix(parts, self._p, -(-self.length // world_size), seed=self.seed, block_records=self.block_records,
                  window_blocks=self.window_blocks, rank=rank, world_size=world_size)
        out.epoch = self.epoch
        return out

    # ---- reading ----------------------------------------------------------------------------
    def _locate(self, indices) -> tuple[np.ndarray, np.ndarray]:
        pos = np.asarray(indices, np.int64).reshape(-1)
        n = self.length
        if pos.size and (pos.min() < -n or pos.max() >= n):
            bad = pos[(pos < -n) | (pos >= n)][0]
            raise IndexError(f"draw {bad} out of range for a mix of {n} draws")
        which, position = self.draws()
        pos = pos % n if n else pos
        return which[pos], position[pos]

    def _own(self, arrays: dict, which: np.ndarray, position: np.ndarray) -> None:
        """A joined read's numbers made the item's own dataset's: ``index`` (and ``file``)."""
        arrays["index"] = position
        if "file" in arrays:
            arrays["file"] = arrays["file"] - self._file_base[which]
        arrays["dataset_index"] = which

    def read_batch(self, indices) -> dict[str, np.ndarray]:
        """Draws `indices` of this epoch, collated as the underlying ``read_batch`` gives them
        (records: ``audio``, ``classes``, ..., ragged ``pitches`` / ``velocities`` with
        ``hit_offsets``; sequences: ``audio``, ``onset_roll``, ...), ``index`` (and, sequences,
        ``file``) numbered in the item's own dataset, plus ``dataset_index`` (int32, the dataset's
        number in :attr:`names`)."""
        which, position = self._locate(indices)
        out = self._joined.read_batch(self._item_base[which] + position)
        self._own(out, which, position)
        return out

    def __getitems__(self, indices) -> Batch:
        """What PyTorch's fetcher calls for a batch: a :class:`Batch` (records) or
        ``SequenceBatch`` (sequences) whose strings include ``dataset``."""
        which, position = self._locate(indices)
        batch = self._joined.__getitems__(self._item_base[which] + position)
        self._own(batch.arrays, which, position)
        batch.strings["dataset"] = [self.names[k] for k in which.tolist()]
        return batch

    def __getitem__(self, i: int) -> dict:
        if not isinstance(i, (int, np.integer)):
            raise TypeError(f"draws are indexed by int, not {type(i).__name__}; use read_batch for many")
        which, position = self._locate([i])
        k, p = int(which[0]), int(position[0])
        item = dict(self._joined[int(self._item_base[k]) + p])
        item["index"] = np.int64(p)
        if "file" in item:
            item["file"] = item["file"] - self._file_base[k]
        item.update(dataset=self.names[k], dataset_index=np.int32(k))
        return item

    def __iter__(self) -> Iterator[dict]:
        for start in range(0, len(self), 256):
            yield from self.__getitems__(np.arange(start, min(start + 256, len(self))))

    def iter_batches(self, batch_size: int = 256, *, drop_last: bool = False) -> Iterator[dict]:
        """This epoch's draws in order, ``batch_size`` at a time, as :meth:`read_batch` gives them."""
        return in_order(self.read_batch, len(self), batch_size, drop_last)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_draws"] = None  # a DataLoader worker computes them again (the same, from the seed)
        return state

    def __repr__(self) -> str:
        parts = ", ".join(f"{n}: {len(d)} ({p:.3f})" for n, d, p in zip(self.names, self.datasets.values(), self._p))
        shard = f", rank {self.rank} of {self.world_size}" if self.world_size > 1 else ""
        return f"Mix({self.mode}, {self.length} draws per epoch from {{{parts}}}, seed={self.seed}{shard})"


def mix(datasets: Mapping[str, DrumDataset | SequenceDataset],
        weights: Mapping[str, float] | Sequence[float] | None = None, *, alpha: float = DEFAULT_ALPHA, length: int | None = None, seed: int = 0, block_records: int = 512,
        window_blocks: int = 8) -> Mix:
    """Draw training examples across several prepared directories, a dataset picked per example
    by probability (ADTOF's mixing).

    Parameters
    ----------
    datasets
        ``{name: dataset}``: opened directories (or views: ``filter``, ``shard``), all in one mode
        (:class:`DrumDataset`, records, or :class:`SequenceDataset`, sequences) with the same
        classes (the same ``--mapping``), sample rate and window (records: ``clip_s`` and
        ``pad_before_s``; sequences: length, frame grid, features and target widening). The names
        are what items carry as ``dataset``.
    weights
        ``{name: weight}`` (every name) or one weight per dataset in order; normalised to the pick
        probabilities. Default: ``len(dataset) ** alpha``.
    alpha
        Exponent of the default weights: 0.7 is ADTOF's (``regulateSamplingProbability``), 1 picks
        in proportion to size (as one shuffled concatenation would), 0 picks each dataset equally.
    length
        Draws per epoch. Default: the items of the datasets with a weight above 0 together (ADTOF
        sizes its epoch by the training tracks of all its sets), so an epoch reads as many
        examples as one pass over them would, in the mix's proportions: small datasets repeat,
        large ones are partly seen.
    seed
        The draws of epoch ``e`` follow from ``(seed, e)``: call :meth:`Mix.set_epoch` per epoch.
    block_records, window_blocks
        The block shuffle of each dataset's stream (:class:`BlockShuffleSampler`).

    Raises
    ------
    ValueError
        No datasets, datasets that cannot share a batch (naming the one that differs from the
        first, and how), weights that are negative, all zero or not one per dataset, or a dataset
        with a weight but no items.
    """
    if not isinstance(datasets, Mapping) or not datasets:
        raise ValueError("drums.mix takes {name: dataset, ...} with at least one dataset")
    names = list(datasets)
    for name, ds in datasets.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"drums.mix: dataset names must be non-empty strings, not {name!r}")
        if not isinstance(ds, (DrumDataset, SequenceDataset)):
            raise TypeError(f"drums.mix: {name!r} is a {type(ds).__name__}, not a dataset from drums.open(...)")
    _check_compatible(datasets)
    sizes = np.array([len(datasets[n]) for n in names], np.float64)
    if weights is None:
        if not np.isfinite(alpha) or alpha < 0:
            raise ValueError(f"drums.mix: alpha must be >= 0, got {alpha}")
        w = np.where(sizes > 0, sizes ** float(alpha), 0.0)
    elif isinstance(weights, Mapping):
        unknown = [repr(n) for n in weights if n not in datasets]
        missing = [repr(n) for n in names if n not in weights]
        if unknown or missing:
            what = "; ".join(filter(None, [unknown and f"weights for {', '.join(unknown)}, not in the mix",
                                            missing and f"no weight for {', '.join(missing)}"]))
            raise ValueError(f"drums.mix: {what} (the mix holds {', '.join(map(repr, names))}; a weight of 0 "
                             f"leaves one out)")
        w = np.array([float(weights[n]) for n in names])
    else:
        w = np.asarray(list(weights), np.float64).reshape(-1)
        if len(w) != len(names):
            raise ValueError(f"drums.mix: {len(w)} weights for {len(names)} datasets ({', '.join(names)})")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or not w.sum() > 0:
        raise ValueError(f"drums.mix: weights must be finite, >= 0 and not all 0, got {dict(zip(names, w.tolist()))}")
    empty = [n for n, s, x in zip(names, sizes, w) if x > 0 and s == 0]
    if empty:
        raise ValueError(f"drums.mix: {', '.join(map(repr, empty))} has no items but a weight above 0; "
                         f"give it weight 0 or leave it out")
    if length is None:
        length = int(sizes[w > 0].sum())
    if int(length) < 0:
        raise ValueError(f"drums.mix: length must be >= 0, got {length}")
    if int(seed) < 0:
        raise ValueError(f"drums.mix: seed must be >= 0, got {seed}")
    if block_records < 1 or window_blocks < 1:
        raise ValueError("drums.mix: block_records and window_blocks must be >= 1")
    return Mix(datasets, w / w.sum(), int(length), seed=seed, block_records=block_records, window_blocks=window_blocks)


def _check_compatible(datasets: Mapping) -> None:
    """Every dataset can share a batch with the first, else a ValueError naming the one that
    differs, what differs and what to do."""
    (name0, ref), *rest = datasets.items()
    records = isinstance(ref, DrumDataset)

    def mode(ds) -> str:
        return "records (DrumDataset)" if isinstance(ds, DrumDataset) else "sequences (SequenceDataset)"

    def same(name, what: str, mine, theirs, fix: str) -> None:
        if mine != theirs:
            raise ValueError(f"drums.mix: {name!r} has {what} {mine}, {name0!r} has {theirs}: {fix}")

    for name, ds in rest:
        same(name, "mode", mode(ds), mode(ref), "open every directory with the same drums.open(..., mode=...)")
        same(name, "classes", _classes(ds), _classes(ref),
             "prepare them with the same --mapping (the classes and their pitches must match)")
        same(name, "sample rate", f"{ds.sample_rate_hz} Hz", f"{ref.sample_rate_hz} Hz",
             "open them with the same sample_rate_hz=, or prepare them with the same --sample-rate")
        if records:
            same(name, "layout", ds.layout, ref.layout, "prepare them with the same --layout")
            same(name, "stored rate", f"{ds.stored_rate_hz} Hz", f"{ref.stored_rate_hz} Hz",
                 "prepare them with the same --sample-rate (a batch is read in one pass at one rate)")
            same(name, "window", f"{ds.clip_s} s from {ds.pad_before_s} s before the onset",
                 f"{ref.clip_s} s from {ref.pad_before_s} s before the onset",
                 "open them with the same clip_s= and pad_before_s=")
        else:
            same(name, "windows", _grid(ds), _grid(ref),
                 "open them with the same length_s, fps/hop_samples, features and target_widening")


def _classes(ds) -> list:
    return [(str(c), sorted(int(p) for p in pitches)) for c, pitches in ds.config["classes"]]


def _grid(ds: SequenceDataset) -> str:
    return (f"{ds.n_samples} samples, hop {ds.hop_samples}, features {ds.features}, "
            f"target_widening {ds.target_widening}")


__all__ = ["DEFAULT_ALPHA", "Mix", "mix"]
