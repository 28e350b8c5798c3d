"""Kill `cadence drums prepare` at the worst moments, resume, and get exactly the records of an
uninterrupted run: same record ids, same audio bytes, no duplicates, no temporary files."""

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

CADENCE = Path(sys.executable).with_name("cadence")
OPTIONS = ["--layout", "clips", "--clip", "0.5", "--shard-size", "1", "--jobs", "2"]  # a shard per file


def records(out: Path) -> dict[str, str]:
    """record_id -> SHA-256 of its audio, over the committed shards."""
    got = {}
    for f in sorted(out.glob("records-*.parquet")):
        t = pq.read_table(f, columns=["record_id", "audio"])
        for rid, blob in zip(t.column("record_id").to_pylist(), t.column("audio").to_pylist()):
            assert rid not in got, f"duplicate {rid}"
            got[rid] = hashlib.sha256(blob).hexdigest()
    return got


def prepare(root, out, *extra, env=None):
    return subprocess.run([CADENCE, "drums", "prepare", str(root), str(out), *OPTIONS, *extra],
                          capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=300)


@pytest.fixture(scope="module")
def reference(drum_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "out"
    assert prepare(drum_corpus, out).returncode == 0
    return records(out)


@pytest.mark.parametrize("point", ["before_rename:1", "after_rename:2", "torn_journal:3", "after_commit:1"])
def test_sigkill_then_resume_gives_the_same_records(drum_corpus, reference, tmp_path, point):
    out = tmp_path / "out"
    killed = prepare(drum_corpus, out, env={"CADENCE_CRASH_AT": point})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    partial = records(out) if (out / "journal.jsonl").exists() else {}
    assert len(partial) < len(reference)
    resumed = prepare(drum_corpus, out, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert records(out) == reference
    assert not list(out.glob(".*.tmp")), "temporary files left behind"
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
    assert records(out) == reference


def test_ctrl_c_stops_cleanly_and_resumes(drum_corpus, reference, tmp_path):
    out = tmp_path / "out"
    proc = subprocess.Popen([CADENCE, "drums", "prepare", str(drum_corpus), str(out), *OPTIONS],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        journal = out / "journal.jsonl"
        if journal.exists() and journal.read_text().count('"commit"') >= 1:
            break
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:
        pytest.skip("the run finished before the interrupt landed")  # tiny corpus, fast machine
    assert proc.returncode == 130, err
    assert "--resume" in err
    assert not list(out.glob(".*.tmp"))
    assert prepare(drum_corpus, out, "--resume").returncode == 0
    assert records(out) == reference
