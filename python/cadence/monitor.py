"""``PerformanceMonitor``: the guide's real-time monitor, for both pipelines (``--monitor``).

A daemon thread samples every ``interval`` seconds (every :data:`EARLY_INTERVAL_S` during the
first :data:`EARLY_S`, so that a run under a second still has a timeline): this process's CPU %
(100 = one core busy, from /proc/self/stat, or psutil where there is no /proc), its resident
memory, system memory %
and available MB (the guide's columns), the bytes the engine's memory budgets hold reserved
(every job made by :func:`cadence.runtime.make_job` while the monitor runs), and the progress of
the current stage (what the progress bar shows: done, total, throughput per second).

The guide's methods are kept (``start_monitoring``, ``stop_monitoring``,
``record_processing_time``, ``get_current_stats``, ``plot_performance``); :meth:`timeline`
gives the samples as a dict for report.json and :meth:`plot_performance` draws CPU, memory
(RSS and budget reserved), throughput and stage progress in a 2 x 2 PNG, written atomically.
Sampling reads three small /proc files: its cost is measured in bench/monitor_overhead_bench.py.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

#: The first second is sampled more often: a run shorter than the interval otherwise has two
#: samples (start, end), no throughput and no progress to draw. 10 more samples cost ~0.5 ms.
EARLY_S = 1.0
EARLY_INTERVAL_S = 0.1

_active: list["PerformanceMonitor"] = []
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def watching() -> bool:
    """Whether a monitor runs (progress is then polled even when nothing is shown)."""
    return bool(_active)


def note_job(job) -> None:
    """Called by runtime.make_job: running monitors count the job's reserved bytes."""
    for m in _active:
        with m._jobs_lock:
            m._jobs.append(job)


def note_progress(desc: str, unit: str, done: int, total: int | None) -> None:
    """Called by runtime.Progress.update: the stage a running monitor shows."""
    for m in _active:
        m._stage = (desc, unit, int(done), None if total is None else int(total))


def _cpu_seconds() -> float:
    try:
        with open("/proc/self/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS  # utime + stime
    except OSError:
        t = os.times()
        return t.user + t.system


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except OSError:
        import psutil  # no /proc (macOS): psutil

        return psutil.Process().memory_info().rss


def _system_memory() -> tuple[float, float]:
    """(used %, available MB) of the machine."""
    try:
        info = {}
        with open("/proc/meminfo", "rb") as f:
            for line in f:
                k, v = line.split(b":", 1)
                info[k] = int(v.split()[0]) * 1024
        total, avail = info[b"MemTotal"], info.get(b"MemAvailable", info[b"MemFree"])
    except OSError:
        import psutil

        vm = psutil.virtual_memory()
        total, avail = vm.total, vm.available
    return 100.0 * (total - avail) / total, avail / 2**20


class PerformanceMonitor:
    """Samples this process in a thread; see the module docstring.

    ``clock`` (seconds, monotonic) and ``cpu_seconds`` (this process's CPU time) are where the
    samples read time; a test passes its own to check the figures exactly, and samples with
    :meth:`sample` after ``start_monitoring(background=False)``.
    """

    def __init__(self, max_history: int = 100_000, *, clock: Callable[[], float] = time.monotonic,
                 cpu_seconds: Callable[[], float] = _cpu_seconds) -> None:
        self._clock, self._cpu_seconds = clock, cpu_seconds
        self._t0: float | None = None
        self.max_history = max_history
        self.monitoring = False
        self.monitor_thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.timestamps: deque = deque(maxlen=max_history)
        self.cpu_usage: deque = deque(maxlen=max_history)
        self.memory_usage: deque = deque(maxlen=max_history)
        self.memory_available: deque = deque(maxlen=max_history)
        self.rss_bytes: deque = deque(maxlen=max_history)
        self.reserved_bytes: deque = deque(maxlen=max_history)
        self.stage: deque = deque(maxlen=max_history)          # (desc, done, total) per sample
        self.stage_throughput: deque = deque(maxlen=max_history)  # items/s of the stage since the last sample
        self.processing_times: deque = deque(maxlen=max_history)
        self.throughput: deque = deque(maxlen=max_history)
        self._jobs: list = []  # engine jobs made while running (not weak-referenceable); dropped at stop
        self._jobs_lock = threading.Lock()
        self._stage: tuple | None = None
        self._peak_reserved = 0
        self.start_time = self.stop_time = None
        self.sampling_seconds = 0.0  # CPU seconds spent sampling (the monitor's own overhead)

    # ---- the guide's API -------------------------------------------------------------------------
    def start_monitoring(self, interval: float = 0.5, *, background: bool = True) -> None:
        """Sample now, then every :meth:`period` seconds in a daemon thread (with
        ``background=False`` no thread: the caller samples with :meth:`sample`)."""
        if self.monitoring:
            return
        self.monitoring = True
        self._stop.clear()
        self.interval = interval
        self.start_time = time.time()
        self._t0 = self._clock()
        self._last = (self._t0, self._cpu_seconds(), None)
        _active.append(self)
        self.sample()
        if not background:
            return
        self.monitor_thread = threading.Thread(target=self._monitor_loop, args=(interval,), daemon=True,
                                               name="cadence-monitor")
        self.monitor_thread.start()

    def stop_monitoring(self) -> None:
        if not self.monitoring:
            return
        self.monitoring = False
        self._stop.set()
        if self.monitor_thread is not None:
            self.monitor_thread.join()
        self.sample()  # the end state
        self.stop_time = time.time()
        if self in _active:
            _active.remove(self)
        self._jobs = []

    def __enter__(self):
        self.start_monitoring(getattr(self, "interval", 0.5))
        return self

    def __exit__(self, *exc) -> None:
        self.stop_monitoring()

    def period(self) -> float:
        """The wait before the next sample (shorter during the first :data:`EARLY_S`)."""
        interval = getattr(self, "interval", 0.5)
        early = self._t0 is not None and self._clock() - self._t0 < EARLY_S
        return min(interval, EARLY_INTERVAL_S) if early else interval

    def _monitor_loop(self, interval: float) -> None:
        while not self._stop.wait(self.period()):
            self.sample()

    def sample(self) -> None:
        """Take one sample now (the thread calls it every :meth:`period`)."""
        t0 = time.thread_time()
        now, cpu = self._clock(), self._cpu_seconds()
        last_t, last_cpu, last_stage = self._last
        dt = now - last_t
        self.timestamps.append(self.start_time + (now - self._t0))  # wall time, read on ``clock``
        self.cpu_usage.append(100.0 * (cpu - last_cpu) / dt if dt > 0 else 0.0)
        used, avail = _system_memory()
        self.memory_usage.append(used)
        self.memory_available.append(avail)
        self.rss_bytes.append(_rss_bytes())
        with self._jobs_lock:
            jobs = list(self._jobs)
        self.reserved_bytes.append(sum(int(j.reserved_bytes) for j in jobs))
        # the engine's own peak, so a run shorter than the interval still reports it
        self._peak_reserved = max([self._peak_reserved, *(int(j.peak_reserved_bytes) for j in jobs)])
        # Jobs are not weak-referenceable: forget those nobody else holds any more (their peak is
        # counted above), so a loop making one job per group does not grow this list.
        with self._jobs_lock:
            self._jobs = [j for j in self._jobs if sys.getrefcount(j) > 3]
        del jobs
        stage = self._stage
        self.stage.append(stage)
        rate = 0.0
        if stage is not None and last_stage is not None and stage[0] == last_stage[0] and dt > 0:
            rate = max(0, stage[2] - last_stage[2]) / dt
        if dt < 0.25 * self.period() and self.stage_throughput:
            rate = self.stage_throughput[-1]  # the final sample, just after the last: too short a span
        self.stage_throughput.append(rate)
        self._last = (now, cpu, stage)
        self.sampling_seconds += time.thread_time() - t0

    def record_processing_time(self, processing_time: float, items_processed: int) -> None:
        self.processing_times.append(processing_time)
        if processing_time > 0:
            self.throughput.append(items_processed / processing_time)

    def get_current_stats(self) -> dict:
        if not self.timestamps:
            return {}
        mean = lambda d: sum(d) / len(d) if d else 0  # noqa: E731
        return {"cpu_usage": self.cpu_usage[-1], "memory_usage": self.memory_usage[-1],
                "memory_available_mb": self.memory_available[-1], "rss_mb": self.rss_bytes[-1] / 2**20,
                "reserved_mb": self.reserved_bytes[-1] / 2**20,
                "avg_processing_time": mean(self.processing_times), "avg_throughput": mean(self.throughput)}

    # ---- outputs ---------------------------------------------------------------------------------
    def timeline(self) -> dict:
        """The samples, for report.json: seconds since start and one list per quantity."""
        t0 = self.timestamps[0] if self.timestamps else 0.0
        return {
            "interval_s": getattr(self, "interval", None),
            "samples": len(self.timestamps),
            "sampling_cpu_s": round(self.sampling_seconds, 6),
            "t_s": [round(t - t0, 3) for t in self.timestamps],
            "cpu_percent": [round(c, 1) for c in self.cpu_usage],
            "rss_bytes": list(self.rss_bytes),
            "reserved_bytes": list(self.reserved_bytes),
            "memory_percent": [round(m, 1) for m in self.memory_usage],
            "memory_available_mb": [round(m, 1) for m in self.memory_available],
            "stage": [None if s is None else s[0] for s in self.stage],
            "stage_done": [None if s is None else s[2] for s in self.stage],
            "stage_total": [None if s is None else s[3] for s in self.stage],
            "stage_unit": [None if s is None else s[1] for s in self.stage],
            "throughput_per_s": [round(r, 3) for r in self.stage_throughput],
            "peak_rss_bytes": max(self.rss_bytes, default=0),
            "peak_reserved_bytes": max(self._peak_reserved, max(self.reserved_bytes, default=0)),
        }

    def plot_performance(self, save_path: str | os.PathLike | None = None):
        """CPU %, memory (RSS, budget reserved), throughput and stage progress against time.
        Written atomically to ``save_path`` (PNG); the Figure is returned when there is none."""
        import matplotlib

        if save_path is not None:
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt

        tl = self.timeline()
        t = tl["t_s"]
        fig, ((a1, a2), (a3, a4)) = plt.subplots(2, 2, figsize=(11, 7))
        # A sample's CPU % (and throughput) is the mean over the span before it: steps, each
        # over its span (the first sample has none).
        if len(t) > 1:
            a1.plot(t, [*tl["cpu_percent"][1:], tl["cpu_percent"][-1]], "b-", lw=1, drawstyle="steps-post")
        a1.set(title="CPU (100 % = one core)", xlabel="time (s)", ylabel="CPU %")
        a1.set_ylim(0, max(100, *tl["cpu_percent"], 1) * 1.05)
        a2.plot(t, [b / 2**20 for b in tl["rss_bytes"]], "r-", lw=1, label="RSS")
        a2.plot(t, [b / 2**20 for b in tl["reserved_bytes"]], "k--", lw=1, label="budget reserved (sampled)")
        peak = tl["peak_reserved_bytes"] / 2**20
        if peak:  # the engine's own peak, which the command's summary prints: a short run's samples miss it
            a2.axhline(peak, color="k", linestyle=":", lw=1.2, label=f"budget peak {peak:,.1f} MiB (engine)")
        a2.set(title="Memory", xlabel="time (s)", ylabel="MiB")
        a2.legend(loc="upper left", fontsize=8)
        stages = [s for s in dict.fromkeys(tl["stage"]) if s]
        rates = []
        for name in stages:  # one line per stage: stages count different units
            idx = [i for i, s in enumerate(tl["stage"]) if s == name]
            unit = tl["stage_unit"][idx[0]] or "item"
            marker = "o" if len(t) < 30 else None  # few samples: each one seen
            ys = [tl["throughput_per_s"][i] for i in idx]
            rates += [y for y in ys if y > 0]
            # it was not running at the sample before it was first seen: 0 % done there
            start = idx[0] - 1 if idx[0] > 0 else idx[0]
            done = [tl["stage_done"][i] or 0 for i in idx]
            if any(y > 0 for y in ys):
                a3.plot([t[i] for i in idx], ys, lw=1.2, drawstyle="steps-pre", label=f"{name} ({unit}s/s)")
            elif done[-1]:  # all done between two samples: at least its work over that span
                end = idx[done.index(done[-1])]
                if t[end] > t[start]:
                    mean = done[-1] / (t[end] - t[start])
                    rates.append(mean)
                    a3.plot([t[start], t[end]], [mean, mean], lw=1.2, linestyle="--",
                            label=f"{name} ({unit}s/s, at least: done between two samples)")
            pct = [100.0 * d / tl["stage_total"][i] if tl["stage_total"][i] else 0.0 for d, i in zip(done, idx)]
            if start != idx[0]:
                pct, idx = [0.0, *pct], [start, *idx]
            a4.plot([t[i] for i in idx], pct, lw=1.5, marker=marker, ms=3, label=name)
        if rates and max(rates) > 100 * min(rates):
            a3.set_yscale("log")
        a3.set(title="Throughput per stage", xlabel="time (s)", ylabel="per second")
        a4.set(title="Stage progress", xlabel="time (s)", ylabel="% done")
        a4.set_ylim(0, 105)
        if stages:
            a3.legend(loc="upper left", fontsize=8)
            a4.legend(loc="lower right", fontsize=8)
        else:
            for a in (a3, a4):
                a.text(0.5, 0.5, "no stage reported progress", ha="center", va="center", transform=a.transAxes)
        end = max(t[-1] if t else 0.0, 1e-3)
        for a in (a1, a2, a3, a4):
            a.set_xlim(0, end)
        for a in (a1, a2, a3, a4):
            a.grid(True, alpha=0.3)
        fig.tight_layout()
        if save_path is None:
            return fig
        from .atomic import atomic_path

        with atomic_path(Path(save_path)) as tmp:
            fig.savefig(tmp, dpi=100, format="png", pil_kwargs={"compress_level": 1})  # zlib 6 costs more than drawing
        plt.close(fig)
        return Path(save_path)


def _import_pyplot() -> None:
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)  # a command writes files; no window
        import matplotlib.pyplot  # noqa: F401
    except ImportError:
        pass  # plot_performance raises it where it matters


class MonitoredRun:
    """``--monitor``: a monitor around a command; when the command succeeds, its timeline (and
    ``extra``, e.g. cache counters) is merged under "monitor" into ``report`` (a JSON file, kept
    if it exists) and the panels drawn to ``png``, both written atomically."""

    def __init__(self, report: str | os.PathLike | None, png: str | os.PathLike | None = None,
                 interval: float = 0.5) -> None:
        self.report = None if report is None else Path(report)
        self.png = None if report is None else Path(png) if png else self.report.with_suffix(".png")
        self.monitor = PerformanceMonitor() if report is not None else None
        self.interval = interval
        self.extra: dict = {}

    def __enter__(self) -> "MonitoredRun":
        if self.monitor is not None:
            self.start = time.monotonic()
            self.monitor.start_monitoring(self.interval)
            # matplotlib's import (~0.3 s) overlaps the run instead of lengthening its end
            threading.Thread(target=_import_pyplot, daemon=True, name="cadence-monitor-import").start()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.monitor is None:
            return
        self.monitor.stop_monitoring()
        if exc_type is None:
            self.write()

    def write(self) -> None:
        import json

        from .atomic import atomic_path

        doc = {}
        if self.report.is_file():
            try:
                doc = json.loads(self.report.read_text())
            except ValueError:
                doc = {}
        timeline = self.monitor.timeline()
        doc["monitor"] = {"wall_s": round(time.monotonic() - self.start, 3), "png": self.png.name,
                          **self.extra, **timeline}
        with atomic_path(self.report) as tmp:
            tmp.write_text(json.dumps(doc, indent=1) + "\n")
        self.monitor.plot_performance(self.png)
