"""Kill `cadence drums prepare` at the worst moments, resume, and get exactly the records of an
uninterrupted run: same record ids, same audio bytes, no duplicates, no temporary files."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from drum_records import record_digests

from cadence.atomic import TEMP_MARK

CADENCE = Path(sys.executable).with_name("cadence")
OPTIONS = ["--layout", "clips", "--clip", "0.5", "--shard-size", "1", "--jobs", "2"]  # a shard per file


# The CLI with store.fault_hook set (the documented test seam, docs/RELIABILITY.md): the hook
# gets argv[1] = "<point>:<n>" and acts the n-th time the commit reaches <point>: "kill" points
# SIGKILL the process; "torn" writes half of the commit line first; "pause" signals readiness
# through a file and holds the commit until the test has sent its Ctrl-C, so that it lands
# mid-run every time, however busy the machine.
WITH_FAULT = """
import os, signal, sys, time
from pathlib import Path
from cadence.drums import store
from cadence.cli import main
action, point, nth = sys.argv[1].split(":")
seen = {}
def hook(at, journal=None, line=None):
    seen[at] = seen.get(at, 0) + 1
    if at != point or seen[at] != int(nth):
        return
    if action == "pause":  # until the test has sent its signal (argv[2] + ".sent"), however long
        Path(sys.argv[2]).write_text("ready")
        sent, end = Path(sys.argv[2] + ".sent"), time.monotonic() + 300
        while not sent.exists() and time.monotonic() < end:
            time.sleep(0.005)
        return
    if action == "torn":
        with open(journal, "a") as f:  # half a line reaches the disk, then death
            f.write(line[: len(line) // 2])
    os.kill(os.getpid(), signal.SIGKILL)
store.fault_hook = hook
sys.exit(main(sys.argv[3:]))
"""


def temporaries(out: Path) -> list[str]:
    """Temporary names in OUT (atomic's, and the .tmp of earlier versions)."""
    return [p.name for p in out.iterdir() if TEMP_MARK in p.name or p.name.endswith(".tmp")]


def prepare(root, out, *extra, fault=None, ready=None):
    args = ["drums", "prepare", str(root), str(out), *OPTIONS, *extra]
    cmd = [sys.executable, "-c", WITH_FAULT, fault, str(ready), *args] if fault else [CADENCE, *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def reference(drum_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "out"
    assert prepare(drum_corpus, out).returncode == 0
    return record_digests(out)


@pytest.mark.parametrize("point", ["kill:before_rename:1", "kill:after_rename:2", "torn:before_journal:3",
                                   "kill:after_commit:1"])
def test_sigkill_then_resume_gives_the_same_records(drum_corpus, reference, tmp_path, point):
    out = tmp_path / "out"
    killed = prepare(drum_corpus, out, fault=point)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    partial = record_digests(out) if (out / "journal.jsonl").exists() else {}
    assert len(partial) < len(reference)
    resumed = prepare(drum_corpus, out, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert record_digests(out) == reference
    assert not temporaries(out), "temporary files left behind"
    verify = subprocess.run([CADENCE, "drums", "verify", str(out)], capture_output=True, text=True)
    assert verify.returncode == 0, verify.stdout


def test_sigkill_at_a_random_moment(drum_corpus, reference, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen([CADENCE, "drums", "prepare", str(drum_corpus), str(out), *OPTIONS],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait for the first commit, then kill mid-run
        journal = out / "journal.jsonl"
        if journal.exists() and journal.read_text().count('"commit"') >= 2:
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert prepare(drum_corpus, out, "--resume").returncode == 0
    assert record_digests(out) == reference


def test_ctrl_c_stops_cleanly_and_resumes(drum_corpus, reference, tmp_path):
    """Ctrl-C while the first shard is being committed (held there by the test seam, so the
    interrupt always lands mid-run): exit 130, the committed shard kept, a resume completes."""
    out, ready = tmp_path / "out", tmp_path / "ready"
    args = ["drums", "prepare", str(drum_corpus), str(out), *OPTIONS]
    proc = subprocess.Popen([sys.executable, "-c", WITH_FAULT, "pause:after_commit:1", str(ready), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.005)
    assert ready.exists(), "the run never reached its first commit"
    proc.send_signal(signal.SIGINT)
    Path(f"{ready}.sent").write_text("sent")  # the held commit may go on: the signal is there first
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert f"cadence drums prepare {drum_corpus} {out} --resume" in err
    partial = record_digests(out)
    assert 0 < len(partial) < len(reference)
    assert not temporaries(out)
    assert prepare(drum_corpus, out, "--resume").returncode == 0
    assert record_digests(out) == reference
