"""Batches from DataLoader worker processes to the training process through reused shared memory.

PyTorch sends a tensor from a worker by moving its storage into a fresh shared-memory segment,
passing the segment's descriptor through a socket, and mapping it in the training process: for a
2.26 MB batch that is ~1.7 ms of page allocation and faults on every batch, as long as reading
the batch itself (bench/RESULTS.md). Here each worker keeps a few *arenas*: anonymous
shared-memory files (``memfd_create``: no name in /dev/shm, so nothing can be left behind there,
and no /dev/shm size limit), each created once and reused for batch after batch. A batch is
copied into a free arena and sent as a few numbers (worker pid, arena, layout); the training
process maps each arena once (``/proc/PID/fd/N`` of the worker) and builds tensors over it
without a copy. When the last tensor of a batch is released (a finaliser on the buffer they
share), the arena's state byte goes back to free and the worker writes its next batch there.

Safety: an arena is reused only after every tensor viewing it is gone, so a training loop that
keeps batches (a list of them, or tensors sent elsewhere) stays correct: the worker makes more
arenas (up to ``MAX_ARENAS``) and then falls back to PyTorch's own path. Arenas die with their
worker (persistent or not, killed or interrupted) and with the training process's mappings,
never outliving both. ``CADENCE_SHARED_BATCHES=0`` turns the pool off (PyTorch's path).
"""

from __future__ import annotations

import mmap
import os
import secrets
import threading
import weakref

import numpy as np

HEADER_BYTES = 64  # byte 0: the arena's state; the data starts 64-byte aligned after it
FREE, SENT = 0, 1
MAX_ARENAS = 16  # per worker: in flight (prefetch_factor) plus batches the training loop holds
_GRAIN_BYTES = 1 << 16  # arena sizes round up to this, so batches of one size fill one arena kind
_NAME = "cadence-batch"


class _Arena:
    """One reusable buffer of a worker: its memfd, mapping and state byte."""

    def __init__(self, number: int, nbytes: int):
        self.number = number
        self.size = HEADER_BYTES + -(-nbytes // _GRAIN_BYTES) * _GRAIN_BYTES
        self.fd = os.memfd_create(f"{_NAME}-{_worker_pool().token}-{number}", os.MFD_CLOEXEC)
        os.ftruncate(self.fd, self.size)
        self.mm = mmap.mmap(self.fd, self.size)
        self.state = np.frombuffer(self.mm, np.uint8, HEADER_BYTES)
        self.data = np.frombuffer(self.mm, np.uint8, self.size - HEADER_BYTES, HEADER_BYTES)
        self.sent = self.here = False  # sent to the training process; tensors over it alive here

    def close(self) -> None:
        del self.state, self.data
        self.mm.close()
        os.close(self.fd)


class _WorkerPool:
    """The arenas of one worker process (made on its first batch)."""

    def __init__(self):
        self.pid = os.getpid()
        self.token = secrets.token_hex(8)  # names the pool: a reused pid cannot be mistaken for it
        self.arenas: list[_Arena] = []
        self.usable = os.environ.get("CADENCE_SHARED_BATCHES", "1") != "0" and _proc_fd_readable()

    def take(self, nbytes: int) -> _Arena | None:
        """A free arena of at least `nbytes` (made if none), or None when the pool is full."""
        small = None
        for a in self.arenas:
            if a.state[0] == FREE and not a.here:
                if a.size - HEADER_BYTES >= nbytes:
                    return a
                small = small or a
        if small is not None:  # a bigger batch than before: replace a free arena that is too small
            self.arenas.remove(small)
            small.close()
        elif len(self.arenas) >= MAX_ARENAS:
            return None
        numbers = {a.number for a in self.arenas}
        arena = _Arena(next(k for k in range(len(self.arenas) + 1) if k not in numbers), nbytes)
        self.arenas.append(arena)
        return arena


_POOL: _WorkerPool | None = None


def _worker_pool() -> _WorkerPool:
    global _POOL
    if _POOL is None or _POOL.pid != os.getpid():  # a pool inherited through fork is not ours
        _POOL = _WorkerPool()
    return _POOL


def _proc_fd_readable() -> bool:
    """Whether this process's descriptors can be opened through /proc (how the training process
    maps an arena); without /proc the pool stays off."""
    try:
        probe = os.memfd_create(_NAME + "-probe", os.MFD_CLOEXEC)
    except (AttributeError, OSError):
        return False
    try:
        os.close(os.open(f"/proc/{os.getpid()}/fd/{probe}", os.O_RDWR))
        return True
    except OSError:
        return False
    finally:
        os.close(probe)


class SharedBatch(dict):
    """A batch written into an arena, as a worker's collate returns it: a dict of tensors over
    the arena (so a wrapping collate_fn can still read it); pickling it sends only the arena's
    address and layout, and unpickling it in the training process gives the dict of tensors
    there, over the same memory."""

    def __init__(self, tensors: dict, address: tuple, fields: list, strings: dict, arena: _Arena):
        super().__init__(tensors)
        self.address, self.fields, self.strings, self._arena = address, fields, strings, arena

    def __reduce__(self):
        self._arena.sent = True  # from now on the training process hands the arena back
        return _receive, (self.address, self.fields, self.strings)


def pack(arrays: dict, strings: dict) -> SharedBatch | None:
    """In a DataLoader worker: copy a collated batch (numpy arrays) into a free arena. None when
    the pool is off or full (the caller then sends the batch PyTorch's way)."""
    import torch  # noqa: PLC0415 - only DataLoader workers get here

    pool = _worker_pool()
    if not pool.usable:
        return None
    fields, total = [], 0
    for k, a in arrays.items():
        fields.append((k, total, a.nbytes, a.dtype.str, a.shape))
        total += -(-a.nbytes // 64) * 64
    arena = pool.take(max(total, 1))
    if arena is None:
        return None
    for (k, lo, _, _, _), a in zip(fields, arrays.values()):
        a = np.ascontiguousarray(a)
        arena.data[lo:lo + a.nbytes] = a.reshape(-1).view(np.uint8)
    arena.state[0] = SENT
    arena.sent, arena.here = False, True
    tensors = _tensors(torch, arena.mm, arena.size, fields, _worker_release, arena)
    return SharedBatch({**tensors, **strings}, (pool.pid, pool.token, arena.number, arena.fd, arena.size), fields, strings, arena)


def _worker_release(arena: _Arena) -> None:
    """The worker's own tensors over an arena are gone: free it unless it was sent (then the
    training process frees it when its tensors are gone)."""
    if _POOL is None or arena not in _POOL.arenas or _POOL.pid != os.getpid():
        return
    arena.here = False
    if not arena.sent:
        arena.state[0] = FREE


def _tensors(torch, mm: mmap.mmap, size: int, fields: list, release, *args) -> dict:
    """Tensors over an arena's data, sharing one fresh buffer object: when the last of them (or
    of any view of them) goes, ``release(*args)`` runs."""
    raw = np.frombuffer(mm, np.uint8, size - HEADER_BYTES, HEADER_BYTES)
    weakref.finalize(raw.base, release, *args).atexit = False  # numpy's memoryview: every view keeps it
    whole = torch.from_numpy(raw)
    out = {}
    for k, lo, n, dtype, shape in fields:
        out[k] = whole[lo:lo + n].view(_TORCH_DTYPES[dtype](torch)).view(shape)
    return out


# ---- the training process ---------------------------------------------------------------------

class _Mapping:
    """An arena of a worker, mapped in the training process (once, reused batch after batch)."""

    def __init__(self, pid: int, token: str, fd: int, size: int):
        path = f"/proc/{pid}/fd/{fd}"
        if token not in _link(path):
            raise RuntimeError(f"cadence: the DataLoader worker (pid {pid}) that sent this batch has exited; "
                               f"its batch buffer is gone")
        try:
            handle = os.open(path, os.O_RDWR)
        except OSError as e:
            raise RuntimeError(f"cadence: cannot map the DataLoader worker's batch buffer {path} ({e}); set "
                               f"CADENCE_SHARED_BATCHES=0 to send batches through PyTorch's shared memory") from None
        try:
            self.mm = mmap.mmap(handle, size)
        finally:
            os.close(handle)
        self.state = np.frombuffer(self.mm, np.uint8, HEADER_BYTES)
        self.fd, self.size = fd, size
        self.link = (path, token)
        self.pid = os.getpid()  # a process forked from this one inherits the mapping, not the batches


_MAPPED: dict[tuple, _Mapping] = {}  # (pid, token, arena number) -> mapping
_LOCK = threading.Lock()  # the pin-memory thread unpickles batches too


def _link(path: str) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return ""


def _alive(m: _Mapping) -> bool:
    path, token = m.link
    return token in _link(path)


def _receive(address: tuple, fields: list, strings: dict) -> dict:
    import torch  # noqa: PLC0415 - only DataLoader users get here

    pid, token, number, fd, size = address
    key = (pid, token, number)
    m = _MAPPED.get(key)
    if m is None or (m.fd, m.size) != (fd, size):
        _forget_exited()
        m = _Mapping(pid, token, fd, size)
        with _LOCK:
            _MAPPED[key] = m
    out = _tensors(torch, m.mm, size, fields, _release, m, key)
    out.update(strings)
    return out


def _release(m: _Mapping, key: tuple) -> None:
    if m.pid != os.getpid():
        return
    m.state[0] = FREE
    _forget_exited()


def _forget_exited() -> None:
    """Drop the mappings of workers that have exited (their memory goes with the last mapping).
    Run when a batch is received or released: a few readlinks, one per worker."""
    with _LOCK:
        pools = {}
        for k, v in _MAPPED.items():
            pools.setdefault(k[:2], v)
        gone = {p for p, v in pools.items() if not _alive(v)}
        for k in [k for k in _MAPPED if k[:2] in gone]:
            del _MAPPED[k]


def mapped_arenas() -> int:
    """Arenas mapped in this process (for tests: they go when their worker and batches do)."""
    return len(_MAPPED)


_TORCH_DTYPES = {"<f4": lambda t: t.float32, "<f8": lambda t: t.float64, "|u1": lambda t: t.uint8,
                 "<i8": lambda t: t.int64, "<i4": lambda t: t.int32, "<i2": lambda t: t.int16,
                 "|b1": lambda t: t.bool}
