"""A full disk mid-run ends with a clear error and a resumable state: after freeing space,
--resume finishes with exactly the records of an uninterrupted run.

The disk is a small tmpfs in a private mount namespace (as root, or in a user namespace) where
the kernel allows one; elsewhere a write shim (LD_PRELOAD, compiled here) makes writes under the
output directory fail with ENOSPC past a budget, as a full disk does. The test never skips: with
neither a namespace nor a C compiler it fails and says why.
"""

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


DISK_BYTES = 1200 * 1024  # room for a few shards of the corpus, not for all of them

# $FILL fills the disk ($DISK a 1200k tmpfs, or the shim's budget), $FREE frees it.
SCRIPT = textwrap.dedent("""
    set -u
    eval "$FILL" || exit 77
    env $FIRST_ENV "$CADENCE" drums prepare "$ROOT" "$DISK/out" $OPTIONS > "$LOG/first.out" 2> "$LOG/first.err"
    echo $? > "$LOG/first.rc"
    ls -a "$DISK/out" > "$LOG/left.txt"
    eval "$FREE"
    "$CADENCE" drums prepare "$ROOT" "$DISK/out" $OPTIONS --resume > "$LOG/second.out" 2> "$LOG/second.err"
    echo $? > "$LOG/second.rc"
    cp -r "$DISK/out" "$LOG/out"
""")

# write(2) and its kin fail with ENOSPC once DISK_FULL_BYTES bytes have gone to files whose path
# starts with DISK_FULL_DIR (counted over the process, as a disk fills; unlinking frees nothing).
SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static const char *dir;
static size_t dir_len;
static long long budget, used;

__attribute__((constructor)) static void init(void) {
    dir = getenv("DISK_FULL_DIR");
    const char *b = getenv("DISK_FULL_BYTES");
    if (dir && b) { dir_len = strlen(dir); budget = atoll(b); } else { dir = NULL; }
}

static int full(int fd, size_t count) {
    char link[64], path[4096];
    if (!dir || count == 0) return 0;
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n < 0) return 0;
    path[n] = 0;
    if (strncmp(path, dir, dir_len) != 0) return 0;
    if (__atomic_add_fetch(&used, (long long)count, __ATOMIC_SEQ_CST) <= budget) return 0;
    errno = ENOSPC;
    return 1;
}

static size_t total(const struct iovec *iov, int n) {
    size_t t = 0;
    for (int i = 0; i < n; i++) t += iov[i].iov_len;
    return t;
}

#define REAL(name) static __typeof__(name) *real; if (!real) real = (__typeof__(name) *)dlsym(RTLD_NEXT, #name)
ssize_t write(int fd, const void *buf, size_t count) {
    REAL(write); return full(fd, count) ? -1 : real(fd, buf, count);
}
ssize_t pwrite(int fd, const void *buf, size_t count, off_t off) {
    REAL(pwrite); return full(fd, count) ? -1 : real(fd, buf, count, off);
}
ssize_t pwrite64(int fd, const void *buf, size_t count, off_t off) {
    REAL(pwrite64); return full(fd, count) ? -1 : real(fd, buf, count, off);
}
ssize_t writev(int fd, const struct iovec *iov, int n) {
    REAL(writev); return full(fd, total(iov, n)) ? -1 : real(fd, iov, n);
}
ssize_t pwritev(int fd, const struct iovec *iov, int n, off_t off) {
    REAL(pwritev); return full(fd, total(iov, n)) ? -1 : real(fd, iov, n, off);
}
"""


def _shim(tmp_path: Path) -> Path:
    """The write shim, compiled for this machine; a missing compiler fails the test, naming it."""
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.fail("no private tmpfs here (no mount namespace) and no C compiler (cc, gcc, clang or $CC) for "
                    "the ENOSPC write shim: install one, or run the test as root")
    src, lib = tmp_path / "disk_full_shim.c", tmp_path / "disk_full_shim.so"
    src.write_text(SHIM)
    subprocess.run([cc, "-shared", "-fPIC", "-O1", "-o", str(lib), str(src), "-ldl"], check=True,
                   capture_output=True, text=True)
    return lib


def _fill_with_tmpfs(env: dict) -> subprocess.CompletedProcess | None:
    """SCRIPT with a private tmpfs as the disk; None where the kernel refuses the namespace."""
    if shutil.which("unshare") is None:
        return None
    userns = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    env = env | {"FILL": f'mount -t tmpfs -o size={DISK_BYTES // 1024}k tmpfs "$DISK"',
                 "FREE": 'mount -o remount,size=200m "$DISK"', "FIRST_ENV": ""}
    # A private mount namespace: the tmpfs disappears with the script, whatever happens.
    proc = subprocess.run(["unshare", *userns, "--mount", "--propagation", "private", "bash", "-c", SCRIPT],
                          env=env, capture_output=True, text=True, timeout=600)
    if proc.returncode == 77 or not (Path(env["LOG"]) / "first.rc").exists():
        if userns:  # the kernel refuses unprivileged user namespaces
            return None
        pytest.fail(f"could not mount a tmpfs as root: {proc.stderr}")
    return proc


def _fill_with_shim(env: dict, tmp_path: Path) -> subprocess.CompletedProcess:
    """SCRIPT with the write shim as the full disk (the first run only)."""
    disk = Path(env["DISK"]).resolve()
    first = f"LD_PRELOAD={_shim(tmp_path)} DISK_FULL_DIR={disk}/ DISK_FULL_BYTES={DISK_BYTES}"
    return subprocess.run(["bash", "-c", SCRIPT], env=env | {"FILL": "true", "FREE": "true", "FIRST_ENV": first},
                          capture_output=True, text=True, timeout=600)


def test_the_write_shim_fills_only_its_directory(tmp_path):
    """The fallback disk is full only for its directory, past its budget, with ENOSPC."""
    disk, other = tmp_path / "disk", tmp_path / "other"
    disk.mkdir()
    other.mkdir()
    code = ("import errno, sys\n"
            "open(sys.argv[1] + '/a', 'wb', buffering=0).write(b'x' * 1000)\n"
            "open(sys.argv[2] + '/b', 'wb', buffering=0).write(b'x' * 100000)\n"
            "try:\n"
            "    open(sys.argv[1] + '/c', 'wb', buffering=0).write(b'x' * 1000)\n"
            "except OSError as e:\n"
            "    sys.exit(0 if e.errno == errno.ENOSPC else 3)\n"
            "sys.exit(4)\n")
    env = {**os.environ, "LD_PRELOAD": str(_shim(tmp_path)), "DISK_FULL_DIR": f"{disk.resolve()}/",
           "DISK_FULL_BYTES": "1500"}
    proc = subprocess.run([sys.executable, "-c", code, str(disk), str(other)], env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert (disk / "a").stat().st_size == 1000 and (other / "b").stat().st_size == 100000


@pytest.mark.parametrize("disk", ["tmpfs", "shim"])
def test_disk_full_then_resume(drum_corpus, tmp_path, disk):
    """tmpfs: a private mount namespace as root, else a user namespace (root inside it); where
    the kernel refuses both, the shim stands in (and says so in the test's output). shim: the
    fallback itself, so that it is known to work wherever the tmpfs does."""
    log = tmp_path / "log"
    (tmp_path / "disk").mkdir()
    log.mkdir()
    env = {**os.environ, "DISK": str(tmp_path / "disk"), "LOG": str(log), "ROOT": str(drum_corpus),
           "CADENCE": str(CADENCE), "OPTIONS": OPTIONS}
    proc = _fill_with_tmpfs(env) if disk == "tmpfs" else None
    if proc is None:
        if disk == "tmpfs":
            print("no mount namespace for a private tmpfs here: the disk is the ENOSPC write shim")
        proc = _fill_with_shim(env, tmp_path)
    assert (log / "first.rc").exists(), proc.stderr
    first_rc = int((log / "first.rc").read_text())
    err = (log / "first.err").read_text()
    assert first_rc == 2, err
    assert "No space left on device" in err and "--resume" in err
    assert "choose another location" not in err  # the advice once: prepare's own, no generic hint after it
    assert not [n for n in (log / "left.txt").read_text().split() if TEMP_MARK in n or n.endswith(".tmp")]
    assert int((log / "second.rc").read_text()) == 0, (log / "second.err").read_text()
    reference = tmp_path / "reference"
    subprocess.run([CADENCE, "drums", "prepare", str(drum_corpus), str(reference), *OPTIONS.split()],
                   check=True, capture_output=True)
    assert record_digests(log / "out") == record_digests(reference)
    report = json.loads((log / "out" / "report.json").read_text())
    assert report["inputs_this_run"] < 8  # the first run's committed shards were kept
