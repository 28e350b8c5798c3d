"""One writer per output: a command that writes a file or a directory holds its lock for the run.

Two runs writing the same OUT interleave their files (a second ``drums prepare --resume`` once
truncated a shard the first had journalled). So every command that writes takes an exclusive
``flock`` on a lock file beside its output, ``.<name>.cadence-lock``, before it writes anything
and keeps it until it returns; a second writer gets :class:`OutputBusy` (exit status 2) at once
instead of waiting. Readers take no lock and are unaffected.

The kernel releases a ``flock`` when the process that holds it dies, however it dies: a run killed
with SIGKILL leaves at most the empty lock file, never a stale lock. On a normal end the file is
removed (under the lock, and a writer that opened the removed file checks that what it locked is
still the file at the path, so two writers never hold "the" lock at once). The descriptor is not
inherited by child processes (PEP 446), so a worker that outlives its driver does not hold it.

A URI output (s3://, gs://) has no lock here: its writer is the driver of a Ray run, and object
stores offer no lock (docs/ARCHITECTURE.md, "Outputs").
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from .atomic import not_writable
from .cluster import is_uri

__all__ = ["LOCK_MARK", "OutputBusy", "lock_path", "output_lock"]

#: Ends the lock file's name: ``.<name of the output>.cadence-lock``, beside the output.
LOCK_MARK = ".cadence-lock"


class OutputBusy(OSError):
    """Another process is writing this output; ``str()`` names it, the holder's pid and what to do."""

    def __str__(self) -> str:
        return str(self.strerror)


def lock_path(output: str | os.PathLike) -> Path:
    """The lock file of ``output`` (a file or a directory, present or not): beside it, so that it
    is no part of a directory's contents. The path is resolved: two spellings of one output (a
    relative path, a symlink) share one lock. (Where OUT is an existing directory in a place this
    process cannot write, e.g. a mount point's own directory, :func:`output_lock` uses
    ``OUT/.cadence-lock`` instead; every writer that can write OUT makes the same choice.)"""
    final = Path(output).resolve()
    if not final.name:  # the root directory: no beside
        return final / LOCK_MARK
    return final.with_name(f".{final.name}{LOCK_MARK}")


def _open(output: str | os.PathLike) -> tuple[Path, int]:
    """(the lock file, a descriptor of it): beside OUT, else inside an existing OUT directory
    whose parent refuses new files."""
    path = lock_path(output)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return path, os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        inside = Path(output).resolve() / LOCK_MARK
        if e.errno in (errno.EACCES, errno.EPERM, errno.EROFS) and inside.parent.is_dir():
            with suppress(OSError):
                return inside, os.open(inside, os.O_RDWR | os.O_CREAT, 0o644)
        raise not_writable(output, e) from e  # a place that cannot be written: OUT could not be either


def _holder(fd: int) -> str:
    """The pid the holder wrote into the lock file; it writes it just after locking, so a
    moment's wait covers a reader that came in between."""
    for _ in range(20):
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        if text:
            return text
        time.sleep(0.005)
    return "unknown"


@contextmanager
def output_lock(output: str | os.PathLike, *, kind: str = "directory") -> Iterator[Path | None]:
    """Hold the exclusive lock of ``output`` for the block; yields the lock file's path (None for
    a URI, which is not locked).

    Raises :class:`OutputBusy` at once when another process holds it, with the message
    ``OUT is being written by another cadence (pid N); wait or choose another <kind>``, and
    :class:`cadence.atomic.OutputNotWritable` when the lock file cannot be created (a read-only
    place: the output could not be written either).
    """
    if is_uri(output):  # no lock on an object store: see the module's docstring
        yield None
        return
    while True:
        path, fd = _open(output)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            pid = _holder(fd) if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN) else None
            os.close(fd)
            if pid is None:
                raise
            err = OutputBusy(errno.EBUSY, f"{output} is being written by another cadence (pid {pid}); "
                                          f"wait or choose another {kind}")
            err.filename = str(output)
            raise err from None
        try:
            here = os.stat(path)
            mine = os.fstat(fd)
            if (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino):
                break
        except FileNotFoundError:
            pass
        os.close(fd)  # the file was removed by a writer that just finished: lock the new one
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        yield path
    finally:
        with suppress(OSError):
            os.unlink(path)  # still locked: a writer that opened it sees it is gone and retries
        os.close(fd)
