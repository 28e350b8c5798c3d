"""Running engine jobs from Python: worker count, memory limit, progress bar and Ctrl-C.

Every long engine call follows the same pattern: the C++ work runs on a helper thread with the
GIL released, while the main thread polls the job's counters into a progress bar. Ctrl-C in the
main thread cancels the job; workers stop after their current item and the call raises
KeyboardInterrupt, so nothing is left half-written.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from collections.abc import Callable
from typing import TypeVar

from tqdm import tqdm

from . import _core, monitor

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
    job = _core.Job(jobs=jobs, memory_limit_bytes=limit)
    monitor.note_job(job)  # --monitor: its reserved bytes are sampled
    return job


#: Seconds between progress lines when stderr is not a terminal (a log file, a pipe, CI).
PROGRESS_LINE_INTERVAL_S = 5.0


class Progress:
    """Progress of a long command, shown the way its stderr can take it.

    ``show=None`` (the default of every command): a tqdm bar on a terminal; otherwise one line
    every :data:`PROGRESS_LINE_INTERVAL_S` seconds (``prepare: 120/702 files (17%), 35 s, ...``)
    so that a log or CI job sees the run moving; ``show=False`` (``--quiet``): nothing;
    ``show=True``: a bar even off a terminal.
    """

    def __init__(self, desc: str, unit: str = "file", show: bool | None = None, stream=None):
        self.desc, self.unit = desc, unit
        self.stream = stream if stream is not None else sys.stderr
        tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.mode = "none" if show is False else "bar" if (show or tty) else "lines"
        self.bar = tqdm(desc=desc, unit=unit, dynamic_ncols=True, leave=False, file=self.stream) \
            if self.mode == "bar" else None
        self.start = time.monotonic()
        self.last_line = self.start
        self.done, self.total, self.postfix = 0, None, ""

    @property
    def disabled(self) -> bool:
        return self.mode == "none"

    def update(self, done: int, total: int | None = None, postfix: str = "") -> None:
        self.done, self.postfix = done, postfix
        if total is not None:
            self.total = total
        monitor.note_progress(self.desc, self.unit, done, self.total)
        if self.bar is not None:
            if total is not None and self.bar.total != total:
                self.bar.total = total
            if postfix:
                self.bar.set_postfix_str(postfix, refresh=False)
            if done != self.bar.n:
                self.bar.update(done - self.bar.n)
        elif self.mode == "lines":
            now = time.monotonic()
            if now - self.last_line >= PROGRESS_LINE_INTERVAL_S:
                self.last_line = now
                self._line(now)

    def _line(self, now: float) -> None:
        of = f"/{self.total:,}" if self.total else ""
        pct = f" ({100 * self.done / self.total:.0f}%)" if self.total else ""
        extra = f", {self.postfix}" if self.postfix else ""
        print(f"{self.desc}: {self.done:,}{of} {self.unit}s{pct}, {now - self.start:.0f} s{extra}",
              file=self.stream, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.mode == "lines" and time.monotonic() - self.start >= PROGRESS_LINE_INTERVAL_S:
            self._line(time.monotonic())  # a long run ends with its final count

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


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
        ``None``: a bar on a terminal, else a progress line every few seconds (:class:`Progress`);
        ``False``: nothing.
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
    with Progress(desc, unit, show_progress) as bar:
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


def _update_bar(bar: Progress, job: _core.Job, done_counter: str, postfix=None) -> None:
    if bar.disabled and not monitor.watching():  # --quiet --monitor still samples the stage
        return
    counters = dict(job.progress())
    text = postfix(counters) if postfix is not None else ""
    bar.update(counters.get(done_counter, 0), counters.get("total"), text)
