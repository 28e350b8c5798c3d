"""The runtime seen from Python: jobs, memory budget, progress polling and Ctrl-C."""

import _thread
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from cadence import _core, _testing
from cadence.runtime import default_memory_limit_bytes, make_job, parse_bytes, run_job


@pytest.mark.parametrize(
    "text, value",
    [("4G", 4 << 30), ("512MiB", 512 << 20), ("1.5gb", int(1.5 * (1 << 30))), ("1024", 1024),
     (2048, 2048), ("0", 0), (None, 0), (" 8 k ", 8192)],
)
def test_parse_bytes(text, value):
    assert parse_bytes(text) == value


@pytest.mark.parametrize("bad", ["lots", "4X", "-1G", ""])
def test_parse_bytes_rejects_nonsense_with_an_example(bad):
    with pytest.raises(ValueError, match="4G"):
        parse_bytes(bad)


def test_default_memory_limit_is_half_of_ram():
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    assert default_memory_limit_bytes() == ram // 2
    assert make_job(memory_limit="auto").memory_limit_bytes == ram // 2


def test_job_counts_and_bounds_memory():
    job = _core.Job(jobs=4, memory_limit_bytes=3000)
    done, max_concurrent = run_job(
        lambda: _testing.synthetic_load(job, 30, 2.0, 1000), job, desc="t", done_counter="items",
        show_progress=False)
    assert done == 30
    assert max_concurrent <= 3
    assert job.peak_reserved_bytes == 3000
    assert job.reserved_bytes == 0
    assert dict(job.progress()) == {"total": 30, "items": 30}
    (name, seconds, calls), = job.stages()
    assert (name, calls) == ("work", 30)
    assert seconds >= 30 * 0.002 * 0.9


def test_progress_is_polled_while_workers_run_without_the_gil():
    """The main thread reads the counters while C++ works with the GIL released, and sees a value
    between none and all. The load (a million 2 ms items) outlasts any test; it is cancelled once
    a value has been seen, so no clock decides the outcome."""
    job = _core.Job(jobs=2)
    outcome: list = []

    def work():
        try:
            outcome.append(_testing.synthetic_load(job, 1_000_000, 2.0, 0))
        except _core.Cancelled:
            outcome.append("cancelled")

    worker = threading.Thread(target=work)
    worker.start()
    seen = 0
    while seen == 0 and worker.is_alive():  # Python runs here while the workers hold no GIL
        seen = dict(job.progress()).get("items", 0)
    job.cancel()
    worker.join()
    assert 0 < seen < 1_000_000
    assert outcome == ["cancelled"] or outcome[0][0] < 1_000_000


def _interrupt_once_working(job) -> threading.Thread:
    """Ctrl-C for the main thread once the job has done an item: mid-run, however slow the machine."""
    def watch():
        while dict(job.progress()).get("items", 0) == 0:
            time.sleep(0.001)
        _thread.interrupt_main()
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    return watcher


def test_ctrl_c_cancels_workers_and_raises_keyboard_interrupt():
    job = _core.Job(jobs=2, memory_limit_bytes=10)
    watcher = _interrupt_once_working(job)
    with pytest.raises(KeyboardInterrupt):
        run_job(lambda: _testing.synthetic_load(job, 100_000, 5.0, 10), job, desc="t",
                done_counter="items", show_progress=False)
    watcher.join()
    assert job.cancelled
    assert job.reserved_bytes == 0
    assert dict(job.progress())["items"] < 100_000


def test_engine_errors_reach_the_caller():
    with pytest.raises(ValueError, match="no-such-file"):
        run_job(lambda: _core.audio_probe("/no-such-file.wav"), _core.Job(), desc="t",
                show_progress=False)


def test_sigint_to_a_process_stops_it_cleanly(tmp_path):
    script = textwrap.dedent("""
        import sys, threading, time
        from cadence import _core, _testing
        from cadence.runtime import run_job
        job = _core.Job(jobs=2)
        def working():  # says so once an item is done: the SIGINT then lands mid-run
            while dict(job.progress()).get("items", 0) == 0:
                time.sleep(0.001)
            print("working", flush=True)
        threading.Thread(target=working, daemon=True).start()
        try:
            run_job(lambda: _testing.synthetic_load(job, 100000, 5.0, 0), job, desc="t",
                    done_counter="items", show_progress=False)
        except KeyboardInterrupt:
            print("stopped", dict(job.progress())["items"], job.reserved_bytes, flush=True)
            sys.exit(130)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "working"
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=10)
    assert proc.returncode == 130
    word, items, reserved = out.split()
    assert word == "stopped" and 0 < int(items) < 100000 and int(reserved) == 0
