"""A full disk mid-run ends with a clear error and a resumable state: after freeing space,
--resume finishes with exactly the records of an uninterrupted run."""

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from drum_records import record_digests

from cadence.atomic import TEMP_MARK

CADENCE = Path(sys.executable).with_name("cadence")
OPTIONS = "--layout clips --clip 0.5 --codec float32 --shard-size 1 --jobs 2"


SCRIPT = textwrap.dedent("""
    set -u
    mount -t tmpfs -o size=1200k tmpfs "$DISK" || exit 77
    "$CADENCE" drums prepare "$ROOT" "$DISK/out" $OPTIONS > "$LOG/first.out" 2> "$LOG/first.err"
    echo $? > "$LOG/first.rc"
    ls -a "$DISK/out" > "$LOG/left.txt"
    mount -o remount,size=200m "$DISK"
    "$CADENCE" drums prepare "$ROOT" "$DISK/out" $OPTIONS --resume > "$LOG/second.out" 2> "$LOG/second.err"
    echo $? > "$LOG/second.rc"
    cp -r "$DISK/out" "$LOG/out"
""")


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare (util-linux) for a private tmpfs")
def test_disk_full_then_resume(drum_corpus, tmp_path):
    """As root, a private mount namespace; otherwise a user namespace (root inside it), so that
    the test runs without privileges wherever unprivileged user namespaces are allowed."""
    disk, log = tmp_path / "disk", tmp_path / "log"
    disk.mkdir()
    log.mkdir()
    env = {**os.environ, "DISK": str(disk), "LOG": str(log), "ROOT": str(drum_corpus),
           "CADENCE": str(CADENCE), "OPTIONS": OPTIONS}
    # A private mount namespace: the tmpfs disappears with the script, whatever happens.
    userns = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    proc = subprocess.run(["unshare", *userns, "--mount", "--propagation", "private", "bash", "-c", SCRIPT],
                          env=env, capture_output=True, text=True, timeout=600)
    if proc.returncode == 77 or (userns and not (log / "first.rc").exists()):
        if userns:  # the kernel refuses unprivileged user namespaces: say so, do not pass
            pytest.skip(f"no unprivileged user namespace for a private tmpfs here: {proc.stderr.strip()}")
        pytest.fail(f"could not mount a tmpfs: {proc.stderr}")
    first_rc = int((log / "first.rc").read_text())
    err = (log / "first.err").read_text()
    assert first_rc == 2, err
    assert "No space left on device" in err and "--resume" in err
    assert not [n for n in (log / "left.txt").read_text().split() if TEMP_MARK in n or n.endswith(".tmp")]
    assert int((log / "second.rc").read_text()) == 0, (log / "second.err").read_text()
    reference = tmp_path / "reference"
    subprocess.run([CADENCE, "drums", "prepare", str(drum_corpus), str(reference), *OPTIONS.split()],
                   check=True, capture_output=True)
    assert record_digests(log / "out") == record_digests(reference)
    report = json.loads((log / "out" / "report.json").read_text())
    assert report["inputs_this_run"] < 8  # the first run's committed shards were kept
