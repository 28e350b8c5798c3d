"""One writer per output (python/cadence/lock.py): a second writer of the same OUT exits 2 at once
and touches nothing, the first finishes as if alone, and a writer killed with SIGKILL leaves no
stale lock. Real processes throughout: a flock is per open file, so only processes race for real.
Every wait is on an event (a file, a line on a pipe), never on a clock."""

import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from drum_records import record_digests

from cadence.lock import LOCK_MARK, OutputBusy, lock_path, output_lock
from cadence.sample import gait

CADENCE = Path(sys.executable).with_name("cadence")
OPTIONS = ["--layout", "clips", "--clip", "0.5", "--shard-size", "1", "--jobs", "2"]  # a shard per file
WAIT_S = 300  # a bound on waiting for an event, for a hung child: never part of what is checked

# `cadence` with store.fault_hook (docs/RELIABILITY.md, "Fault injection"): after its first commit
# the run writes argv[1] and holds until argv[2] exists, so the second writer comes mid-run.
PAUSED = """
import sys, time
from pathlib import Path
from cadence.drums import store
from cadence.cli import main
ready, go = Path(sys.argv[1]), Path(sys.argv[2])
def hook(at, journal=None, line=None):
    if at == "after_commit" and not ready.exists():
        ready.write_text("ready")
        end = time.monotonic() + 300
        while not go.exists():
            if time.monotonic() > end:
                raise SystemExit("never released")
            time.sleep(0.01)
store.fault_hook = hook
sys.exit(main(sys.argv[3:]))
"""

# Holds output_lock(argv[1]) until its stdin closes; says "held" on stdout once it has the lock.
HOLDER = """
import sys
from cadence.lock import output_lock
with output_lock(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.read()
"""


def _wait_for(path: Path, proc: subprocess.Popen) -> None:
    end = time.monotonic() + WAIT_S
    while not path.exists():
        assert proc.poll() is None, f"the first run ended first: {proc.communicate()}"
        assert time.monotonic() < end, "the first run never reached its first commit"
        time.sleep(0.01)


def _listing(directory: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in directory.iterdir()}


def _holder(path: Path) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "held\n"
    return proc


def _busy(path, pid: int, kind: str = "directory") -> str:
    return f"{path} is being written by another cadence (pid {pid}); wait or choose another {kind}"


@pytest.fixture(scope="module")
def reference(drum_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "out"
    subprocess.run([CADENCE, "drums", "prepare", str(drum_corpus), str(out), *OPTIONS], check=True,
                   capture_output=True)
    return record_digests(out)


def test_second_prepare_resume_exits_2_and_the_first_finishes_whole(drum_corpus, reference, tmp_path):
    out, ready, go = tmp_path / "out", tmp_path / "ready", tmp_path / "go"
    first = subprocess.Popen([sys.executable, "-c", PAUSED, str(ready), str(go), "drums", "prepare",
                              str(drum_corpus), str(out), *OPTIONS], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(ready, first)
        before = _listing(out)
        second = subprocess.run([CADENCE, "drums", "prepare", str(drum_corpus), str(out), *OPTIONS, "--resume"],
                                capture_output=True, text=True, timeout=WAIT_S)
        assert second.returncode == 2, second.stderr
        assert second.stderr == f"cadence: error: {_busy(out, first.pid)}\n"
        assert "space" not in second.stderr.lower()
        assert _listing(out) == before, "the refused writer changed OUT"
    finally:
        go.write_text("go")
        _, err = first.communicate(timeout=WAIT_S)
    assert first.returncode == 0, err
    assert record_digests(out) == reference
    verify = subprocess.run([CADENCE, "drums", "verify", str(out)], capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout
    assert not lock_path(out).exists()
    # The lock went with the first run: a third writer is let in (and finds nothing left to do).
    third = subprocess.run([CADENCE, "drums", "prepare", str(drum_corpus), str(out), *OPTIONS, "--resume"],
                           capture_output=True, text=True, timeout=WAIT_S)
    assert third.returncode == 0, third.stderr
    assert record_digests(out) == reference


def test_a_holder_killed_with_sigkill_leaves_no_stale_lock(tmp_path):
    out = tmp_path / "out"
    holder = _holder(out)
    with pytest.raises(OutputBusy) as busy:
        with output_lock(out):
            pass
    assert str(busy.value) == _busy(out, holder.pid)
    holder.send_signal(signal.SIGKILL)
    holder.communicate(timeout=WAIT_S)
    assert holder.returncode == -signal.SIGKILL
    assert lock_path(out).exists()  # the file stays; its lock went with the process
    with output_lock(out) as path:
        assert path == lock_path(out)
        assert path.read_text() == f"{os.getpid()}\n"
    assert not lock_path(out).exists()


def test_two_spellings_of_one_output_share_the_lock(tmp_path, monkeypatch):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    monkeypatch.chdir(tmp_path)
    assert lock_path("link/out") == lock_path(tmp_path / "real" / "out") == tmp_path / "real" / ".out.cadence-lock"
    with output_lock(Path("real/out")):
        with pytest.raises(OutputBusy):
            with output_lock(tmp_path / "link" / "out"):
                pass


@pytest.fixture(scope="module")
def gait_files(tmp_path_factory):
    top = tmp_path_factory.mktemp("gait")
    phase = gait.generate(top / "g.parquet", subjects=2, strides_per_task=4, n_features=20, seed=3).path
    subprocess.run([CADENCE, "sample", "gait", str(top / "t.parquet"), "--time-indexed", "--subjects", "1"],
                   check=True, capture_output=True)
    return phase, top / "t.parquet"


# Every command that writes: (its arguments with {out} for the output, the output's name, its kind).
WRITERS = {
    "gait features": (["gait", "features", "{phase}", "-o", "{out}"], "f.parquet", "file"),
    "gait phase": (["gait", "phase", "{time}", "{out}"], "p.parquet", "file"),
    "gait report": (["gait", "report", "{phase}", "-o", "{out}"], "report", "directory"),
    "gait compare": (["gait", "compare", "{phase}", "--tasks", "level_walking", "incline_walking", "-o", "{out}"],
                     "compare", "directory"),
    "gait validate --csv": (["gait", "validate", "{phase}", "--csv", "{out}"], "failures.csv", "file"),
    "sample gait": (["sample", "gait", "{out}", "--subjects", "1"], "s.parquet", "file"),
    "sample drums": (["sample", "drums", "{out}", "--performances", "1", "--kits", "1"], "corpus", "directory"),
    "drums prepare": (["drums", "prepare", "{phase}", "{out}"], "prepared", "directory"),
}


@pytest.mark.parametrize("command", list(WRITERS))
def test_every_writer_refuses_an_output_being_written(command, gait_files, tmp_path):
    args, name, kind = WRITERS[command]
    out = tmp_path / name
    phase, time_indexed = gait_files
    argv = [a.format(out=out, phase=phase, time=time_indexed) for a in args]
    holder = _holder(out)
    try:
        proc = subprocess.run([CADENCE, *argv], capture_output=True, text=True, timeout=WAIT_S)
    finally:
        holder.communicate(timeout=WAIT_S)  # closes its stdin: it lets go
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == f"cadence: error: {_busy(out, holder.pid, kind)}"
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [], "the refused writer left something"


def test_a_directory_in_a_place_that_cannot_be_written_is_locked_inside(tmp_path):
    """OUT an existing, writable directory whose parent refuses new files (a mount point's): the
    lock goes inside OUT, and is gone after the run."""
    ro = tmp_path / "ro"
    out = ro / "out"
    out.mkdir(parents=True)
    code = "import sys\nfrom cadence.lock import output_lock\nwith output_lock(sys.argv[1]) as p:\n    print(p)\n"
    cmd = [sys.executable, "-c", code, str(out)]
    if os.geteuid() == 0:  # permissions do not stop root: a read-only bind mount, OUT bound writable again
        r, o = shlex.quote(str(ro)), shlex.quote(str(out))
        script = (f"mount --bind {r} {r} && mount -o remount,bind,ro {r} && mount --bind {o} {o} && "
                  f"mount -o remount,bind,rw {o} && exec "
                  + " ".join(shlex.quote(c) for c in cmd))
        proc = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                              capture_output=True, text=True, timeout=WAIT_S)
    else:
        ro.chmod(0o555)
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=WAIT_S)
        finally:
            ro.chmod(0o755)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"{out.resolve() / LOCK_MARK}\n"
    assert sorted(p.name for p in ro.iterdir()) == ["out"] and not list(out.iterdir())
