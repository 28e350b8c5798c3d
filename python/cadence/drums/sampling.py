"""Orders to read prepared records in, and the batch collate for PyTorch.

A full shuffle reads the store at random; on a corpus larger than RAM every window then costs a
disk seek. ``BlockShuffleSampler`` shuffles blocks of consecutive records (one file's onsets sit
together) and then records within a window of a few blocks, so reads stay local while the order
is still random at the scale of a batch (MosaicML streaming and FFCV do the same with shards and
pages). ``DrumDataset.iter_batches`` is the fastest epoch (storage order);
``DrumDataset.shard(rank, world_size)`` splits the records for distributed training.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from . import batch_pool
from .directory import Batch


class BlockShuffleSampler:
    """Indices of a dataset in block-shuffled order, a new order every epoch.

    Parameters
    ----------
    n_records
        ``len(dataset)``.
    block_records
        Consecutive records kept together (default 512: about 10-20 files of E-GMD).
    window_blocks
        Blocks whose records are shuffled together after the blocks are shuffled (default 8).
    seed
        Base seed; epoch ``e`` uses ``seed + e`` (call :meth:`set_epoch`, as with
        ``DistributedSampler``), so every run and every rank sees the same order.
    """

    def __init__(self, n_records: int, *, block_records: int = 512, window_blocks: int = 8, seed: int = 0):
        if block_records < 1 or window_blocks < 1:
            raise ValueError("block_records and window_blocks must be >= 1")
        self.n = int(n_records)
        self.block_records = block_records
        self.window_blocks = window_blocks
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def order(self) -> np.ndarray:
        """This epoch's permutation of ``range(n_records)``."""
        rng = np.random.default_rng(self.seed + self.epoch)
        starts = np.arange(0, self.n, self.block_records)
        rng.shuffle(starts)
        out = np.empty(self.n, np.int64)
        pos = 0
        for w in range(0, len(starts), self.window_blocks):
            idx = np.concatenate([np.arange(s, min(s + self.block_records, self.n)) for s in starts[w:w + self.window_blocks]])
            rng.shuffle(idx)
            out[pos:pos + len(idx)] = idx
            pos += len(idx)
        return out

    def __iter__(self) -> Iterator[int]:
        return iter(self.order().tolist())

    def __len__(self) -> int:
        return self.n


def in_order(read_batch, n: int, batch_size: int, drop_last: bool) -> Iterator:
    """``read_batch`` over positions 0..n-1, ``batch_size`` at a time, in order (the last short
    batch left out with ``drop_last``): the ``iter_batches`` of every reader."""
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        yield read_batch(np.arange(start, min(start + batch_size, n)))


def stream(ds, batch_size: int = 128):
    """An iterable over `ds` in storage order, batch by batch: the fastest epoch (each file's
    bytes read once, in order). With PyTorch installed it is a ``torch.utils.data.IterableDataset``
    whose DataLoader workers each take a contiguous part of the records::

        DataLoader(drums.stream(ds, 128), batch_size=None, num_workers=2, collate_fn=drums.collate)
    """
    try:
        from torch.utils.data import IterableDataset  # noqa: PLC0415 - optional
    except ImportError:
        IterableDataset = object  # noqa: N806

    class _Stream(IterableDataset):
        def __init__(self):
            self.ds, self.batch_size = ds, batch_size

        def __iter__(self):
            start, stop = 0, len(self.ds)
            info = _worker_info()
            if info is not None:  # a contiguous part per worker, in batch multiples
                batches = -(-stop // self.batch_size)
                per = -(-batches // info.num_workers)
                start = min(info.id * per * self.batch_size, stop)
                stop = min((info.id + 1) * per * self.batch_size, stop)
            for lo in range(start, stop, self.batch_size):
                yield self.ds.read_batch(np.arange(lo, min(lo + self.batch_size, stop)))

        def __len__(self):
            return -(-len(self.ds) // self.batch_size)

    return _Stream()


def _worker_info():
    import sys  # noqa: PLC0415

    tud = sys.modules.get("torch.utils.data")
    return None if tud is None else tud.get_worker_info()


def collate(batch):
    """``collate_fn`` for ``DataLoader(ds, batch_size=..., collate_fn=drums.collate)``: a batch
    from ``DrumDataset.__getitems__`` becomes a dict of torch tensors without per-item work
    (``audio`` (batch, n_samples) float32, ``classes`` / ``class_velocity`` (batch, n_classes)
    uint8, ``index``, ``onset_s``, ``onset_sample``, ``sample_rate_hz``, and ``pitches`` /
    ``velocities`` / ``hit_offsets`` for the MIDI hits), plus the string columns as lists.
    In a DataLoader worker the batch goes into one of the worker's reused shared-memory buffers
    (:mod:`.batch_pool`) and arrives as tensors over it. Anything else goes to torch's default
    collate."""
    import torch  # noqa: PLC0415 - torch is optional: only DataLoader users need it
    from torch.utils.data import default_collate  # noqa: PLC0415

    if isinstance(batch, dict) and "hit_offsets" in batch:  # a batch from DrumDataset.stream()
        batch = Batch(batch, {})
    if not isinstance(batch, Batch):
        return default_collate(batch)
    if torch.utils.data.get_worker_info() is None:  # in the training process: zero-copy views
        out = {k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in batch.arrays.items()}
    else:  # a worker: into one of its reused shared buffers (batch_pool), else a fresh segment
        shared = batch_pool.pack(batch.arrays, batch.strings)
        if shared is not None:
            return shared
        out = _one_storage(torch, batch.arrays)
    out.update(batch.strings)
    return out


def _one_storage(torch, arrays: dict) -> dict:
    """The batch's arrays as tensors over ONE storage, allocated in shared memory. A DataLoader
    worker hands each storage to the training process through a shared-memory segment: one
    segment a batch instead of ten, and written once (a private buffer would be copied into a
    segment when sent; allocating it shared from the start read 21 % more windows/s with 2
    workers, bench/RESULTS.md)."""
    offsets, total = {}, 0
    for k, a in arrays.items():
        offsets[k] = total
        total += -(-a.nbytes // 64) * 64
    try:
        buf = torch.empty(0, dtype=torch.uint8).set_(torch.UntypedStorage._new_shared(max(total, 1)))
    except (AttributeError, RuntimeError):  # a torch without it: shared when sent, after a copy
        buf = torch.empty(max(total, 1), dtype=torch.uint8)
    raw = buf.numpy()
    out = {}
    for k, a in arrays.items():
        a = np.ascontiguousarray(a)
        lo = offsets[k]
        raw[lo:lo + a.nbytes] = a.reshape(-1).view(np.uint8)
        out[k] = buf[lo:lo + a.nbytes].view(_TORCH_DTYPES[a.dtype.str](torch)).view(a.shape)
    return out


_TORCH_DTYPES = {"<f4": lambda t: t.float32, "<f8": lambda t: t.float64, "|u1": lambda t: t.uint8,
                 "<i8": lambda t: t.int64, "<i4": lambda t: t.int32, "<i2": lambda t: t.int16}


__all__ = ["BlockShuffleSampler", "collate", "stream"]
