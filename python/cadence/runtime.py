"""Running engine jobs from Python: worker count, memory limit, progress bar and Ctrl-C.

Every long engine call follows the same pattern: the C++ work runs on a helper thread with the
GIL released, while the main thread polls the job's counters into a progress bar. Ctrl-C in the
main thread cancels the job; workers stop after their current item and the call raises
KeyboardInterrupt, so nothing is left half-written.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from typing import TypeVar

from tqdm import tqdm

from . import _core

T = TypeVar("T")

_UNITS = {"": 1, "b": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}


def parse_bytes(text: str | int | None) -> int:
    """Parse a memory size such as ``"4G"``, ``"512MiB"``, ``"1.5gb"`` or ``1024``.

    Units are binary (``K`` = 1024). ``0`` or ``None`` means unlimited.
    """
    if text is None:
        return 0
    if isinstance(text, int):
        if text < 0:
            raise ValueError(f"memory size must be >= 0, got {text}")
        return text
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kmgt]?)(i?b)?\s*", text.lower())
    if not m:
        raise ValueError(f"cannot read memory size {text!r}: use a number with K, M, G or T, e.g. 4G")
    exact = float(m.group(1)) * _UNITS[m.group(2)]
    # A fraction of a byte is a mistake, not a size: "0.5" would otherwise round to 0 = unlimited.
    if exact != int(exact):
        raise ValueError(f"memory size {text!r} is not a whole number of bytes; use e.g. 512M or 4G")
    return int(exact)


def default_memory_limit_bytes() -> int:
    """Half of physical RAM: a safe share that leaves room for the OS, Python and the page cache."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError):  # pragma: no cover - non-POSIX
        return 4 << 30


def make_job(jobs: int = 0, memory_limit: str | int | None = "auto") -> _core.Job:
    """A fresh engine job. ``memory_limit="auto"`` uses :func:`default_memory_limit_bytes`."""
    limit = default_memory_limit_bytes() if memory_limit == "auto" else parse_bytes(memory_limit)
    return _core.Job(jobs=jobs, memory_limit_bytes=limit)


def run_job(
    call: Callable[[], T],
    job: _core.Job,
    *,
    desc: str,
    unit: str = "file",
    done_counter: str = "files",
    show_progress: bool | None = None,
    postfix: Callable[[dict[str, int]], str] | None = None,
) -> T:
    """Run ``call`` (an engine call that uses ``job``) with a progress bar and clean Ctrl-C.

    Parameters
    ----------
    call
        A function that runs the engine work; it must release the GIL (engine bindings do).
    job
        The job ``call`` uses; its ``total`` and ``done_counter`` counters drive the bar.
    desc, unit
        Progress bar label and unit name.
    show_progress
        ``None`` shows the bar only when stderr is a terminal.
    postfix
        Formats the job's counters into text shown after the bar (e.g. records, audio hours).

    Raises
    ------
    KeyboardInterrupt
        After Ctrl-C, once the workers have stopped.
    """
    outcome: dict[str, object] = {}
    # An Event, not Thread.join: a join interrupted by Ctrl-C can mark a live thread as
    # finished in CPython 3.11, and we must never return while workers still run.
    finished = threading.Event()

    def target() -> None:
        try:
            outcome["result"] = call()
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            outcome["error"] = e
        finally:
            finished.set()

    worker = threading.Thread(target=target, name=f"cadence-{desc}", daemon=True)
    disable = None if show_progress is None else not show_progress
    with tqdm(desc=desc, unit=unit, disable=disable, dynamic_ncols=True, leave=False) as bar:
        worker.start()
        interrupted = False
        while True:
            # Ctrl-C may land anywhere in this loop, so the whole loop is guarded: after it we
            # keep waiting, since returning before the workers stop would leave them writing.
            try:
                while not finished.wait(0.1):
                    _update_bar(bar, job, done_counter, postfix)
                break
            except KeyboardInterrupt:
                job.cancel()
                interrupted = True
        _update_bar(bar, job, done_counter, postfix)
    if interrupted:
        raise KeyboardInterrupt
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["result"]  # type: ignore[return-value]


def _update_bar(bar: tqdm, job: _core.Job, done_counter: str, postfix=None) -> None:
    counters = dict(job.progress())
    if postfix is not None and not bar.disable:
        bar.set_postfix_str(postfix(counters), refresh=False)
    total = counters.get("total")
    if total is not None and bar.total != total:
        bar.total = total
    done = counters.get(done_counter, 0)
    if done != bar.n:
        bar.update(done - bar.n)
