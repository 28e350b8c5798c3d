"""Atomic outputs: a file appears under its final name only once it is whole.

Every output the CLI writes goes through here. The bytes are written to a temporary name in the
final file's own directory (a rename is atomic only within one file system), flushed to disk,
then renamed over the final name. If the writing raises, including ``KeyboardInterrupt``, the
temporary file is removed and whatever was under the final name before is left untouched.

Two shapes:

- :func:`atomic_path` for one file::

      with atomic_path(out) as tmp:
          pq.write_table(table, tmp)

- :func:`atomic_files` for outputs that belong together (a matrix and its metadata, a report's
  plots and tables): nothing is renamed until every one is written, then all are renamed at
  once. Files can be added while writing::

      with atomic_files() as group:
          np.save(group.path(out), matrix)
          meta.to_parquet(group.path(out.with_suffix(".meta.parquet")))
          group.discard(out.with_suffix(".drops.csv"))   # a stale sidecar of an earlier run

A file written over a long time (a shard streamed row group by row group) takes its temporary
name from :meth:`AtomicFiles.path` and is renamed by :meth:`AtomicFiles.commit` when it is closed;
a whole file written elsewhere (another process's shard) enters a group with
:meth:`AtomicFiles.adopt`. :func:`publish_dir` puts a whole directory in place once (the gait
cache's entries), :func:`replace_dir` swaps one, and :func:`replace_on` is the same rule on a
pyarrow file system that renames.

A process killed outright (SIGKILL, power loss) can leave a temporary file behind; its name
starts with ``.`` and contains :data:`TEMP_MARK`, so it is never mistaken for an output.
:func:`check_writable` makes sure an output directory can be written *before* a long run starts.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["TEMP_MARK", "OutputNotWritable", "AtomicFiles", "atomic_path", "atomic_files", "check_writable",
           "temp_name", "not_writable", "publish_dir", "replace_dir", "replace_on", "fsync_dir"]

#: Part of every temporary name (``.<final name>.cadence-tmp-<random>``).
TEMP_MARK = ".cadence-tmp-"


class OutputNotWritable(OSError):
    """An output file or directory that cannot be created; ``str()`` names it and says what to do."""

    def __str__(self) -> str:
        return str(self.strerror)


def temp_name(final: str | os.PathLike) -> Path:
    """A fresh temporary name beside ``final`` (same directory, hidden, unique)."""
    final = Path(final)
    return final.with_name(f".{final.name}{TEMP_MARK}{secrets.token_hex(4)}")


def check_writable(directory: str | os.PathLike, *, create: bool = True) -> Path:
    """Create ``directory`` (with ``create``) and prove that files can be created in it.

    Raises :class:`OutputNotWritable` naming the directory (read-only, permission denied, a file
    in the way, ...) so that a command can stop before its work rather than after it.
    """
    directory = Path(directory)
    try:
        if create:
            directory.mkdir(parents=True, exist_ok=True)
        probe = temp_name(directory / "probe")
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        os.unlink(probe)
    except OSError as e:
        raise not_writable(directory, e) from e
    return directory


def not_writable(path: str | os.PathLike, e: OSError) -> OutputNotWritable:
    """The error for an output at ``path`` that cannot be written, from the OSError that said so:
    it names ``path``, the reason, and what to do."""
    reason = e.strerror or str(e)
    if e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        hint = "choose an output location you can write to"
    elif e.errno in (errno.ENOTDIR, errno.EEXIST):
        hint = "a file is in the way of the directory; choose another output path"
    elif e.errno == errno.ENOSPC:
        hint = "free some space or choose another output location"
    else:
        hint = "check the path and try again"
    err = OutputNotWritable(e.errno or 0, f"cannot write to {path}: {reason}; {hint}")
    err.filename = str(path)
    return err


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(directory: Path) -> None:
    """Make a rename or a new file in ``directory`` durable (where the platform allows it)."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:  # pragma: no cover - not every platform opens directories
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some file systems refuse fsync on a directory
        pass
    finally:
        os.close(fd)


def _remove(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


class AtomicFiles:
    """Files written under temporary names and renamed to their final names together.

    :meth:`path` gives the temporary name to write for a final name; :meth:`commit` renames every
    file that was written (after flushing each to disk) and removes the finals passed to
    :meth:`discard`; :meth:`abort` removes the temporary files. Used as a context manager it
    commits when the block ends normally and aborts when it raises.

    A final name registered with :meth:`path` but never written is an error at commit (the
    writer forgot an output) unless it was also passed to :meth:`discard`.
    """

    def __init__(self) -> None:
        self._temps: dict[Path, Path] = {}
        self._discard: set[Path] = set()
        self._done = False

    def path(self, final: str | os.PathLike) -> Path:
        """The temporary name to write for ``final`` (the same one if asked twice)."""
        final = Path(final)
        if self._done:
            raise RuntimeError("this group of outputs is already committed or aborted")
        if final not in self._temps:
            self._temps[final] = temp_name(final)
        return self._temps[final]

    def adopt(self, final: str | os.PathLike, written: str | os.PathLike) -> None:
        """Take ``written``, a whole file on ``final``'s file system (another process's output),
        as ``final``'s content: renamed at commit like a file written at :meth:`path`, removed
        by :meth:`abort`."""
        final = Path(final)
        if self._done:
            raise RuntimeError("this group of outputs is already committed or aborted")
        self._temps[final] = Path(written)

    def discard(self, final: str | os.PathLike) -> None:
        """Remove ``final`` at commit unless it is written in this group (a stale output of an
        earlier run, e.g. a drop log that this run has no entries for)."""
        self._discard.add(Path(final))

    @property
    def finals(self) -> list[Path]:
        return list(self._temps)

    def commit(self) -> list[Path]:
        """Rename every written file to its final name; returns the final names written."""
        if self._done:
            raise RuntimeError("this group of outputs is already committed or aborted")
        written = [f for f, t in self._temps.items() if t.exists()]
        missing = [f for f in self._temps if f not in written and f not in self._discard]
        if missing:
            self.abort()
            raise RuntimeError(f"outputs registered but never written: {[str(m) for m in missing]}")
        for final in written:
            _fsync_file(self._temps[final])
        for final in written:
            os.replace(self._temps[final], final)
        for final in self._discard - set(written):
            _remove(final)
        for directory in {f.parent for f in written} | {f.parent for f in self._discard}:
            fsync_dir(directory)
        self._done = True
        return written

    def abort(self) -> None:
        """Remove every temporary file; the final names keep what they held before."""
        for temp in self._temps.values():
            _remove(temp)
        self._done = True

    def __enter__(self) -> "AtomicFiles":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._done:
            return
        if exc_type is None:
            self.commit()
        else:
            self.abort()


@contextmanager
def atomic_files() -> Iterator[AtomicFiles]:
    """A group of outputs renamed together when the block ends normally (see :class:`AtomicFiles`)."""
    group = AtomicFiles()
    with group:
        yield group


@contextmanager
def atomic_path(final: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; rename it to ``final`` when the block ends
    normally, remove it when the block raises (``final`` is then untouched)."""
    with atomic_files() as group:
        yield group.path(final)


def publish_dir(new: str | os.PathLike, final: str | os.PathLike) -> bool:
    """Rename the whole directory ``new`` (written beside ``final``, its files flushed) to
    ``final`` unless ``final`` exists; False then (another writer was first) and ``new`` is left
    for the caller to remove. Callers that race hold a lock around the check and the rename."""
    new, final = Path(new), Path(final)
    if final.exists():
        return False
    os.rename(new, final)  # not os.replace: a directory that appeared meanwhile is never replaced
    fsync_dir(final.parent)
    return True


def replace_on(fs, path: str, write: Callable[[str], None]) -> None:
    """The rule of this module on a pyarrow file system that renames (not an object store, where
    one PUT is atomic already): ``write(tmp)`` fills a temporary name beside ``path``, which is
    then moved over ``path``; the temporary is deleted when writing or moving fails."""
    folder, _, name = path.rpartition("/")
    tmp = f"{folder}/.{name}{TEMP_MARK}{secrets.token_hex(4)}"
    try:
        write(tmp)
        fs.move(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            fs.delete_file(tmp)
        raise


def replace_dir(new: str | os.PathLike, final: str | os.PathLike) -> None:
    """Put the whole directory ``new`` (written beside ``final``, e.g. at :func:`temp_name`) in
    place of ``final``: absent, or an old directory, which is moved aside first and removed once
    the new one is in place. A reader sees the old directory or the new one, never a mix."""
    new, final = Path(new), Path(final)
    if final.exists():
        old = temp_name(final)
        os.replace(final, old)
        os.replace(new, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(new, final)
    fsync_dir(final.parent)
