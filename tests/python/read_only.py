"""Run a command with one directory read-only, for tests of output errors.

As root, permissions do not stop writes, so the directory is bind-mounted read-only in a private
mount namespace (``unshare --mount``) for the command alone; otherwise its write permission is
removed while the command runs. Either way the command sees the directory's contents and cannot
create, replace or delete anything in it.
"""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import subprocess
from pathlib import Path

import pytest


def available() -> bool:
    return os.geteuid() != 0 or shutil.which("unshare") is not None


def run_read_only(cmd: list[str], directory: Path, **kwargs) -> subprocess.CompletedProcess:
    """``subprocess.run(cmd, **kwargs)`` with ``directory`` read-only for the command."""
    if not available():  # pragma: no cover - root without util-linux
        pytest.skip("needs unshare (util-linux) to make a directory read-only as root")
    directory = Path(directory)
    if os.geteuid() == 0:
        d = shlex.quote(str(directory))
        script = (f"mount --bind {d} {d} && mount -o remount,bind,ro {d} && exec "
                  + " ".join(shlex.quote(str(c)) for c in cmd))
        return subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script], **kwargs)
    mode = directory.stat().st_mode
    directory.chmod(mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        return subprocess.run(cmd, **kwargs)
    finally:
        directory.chmod(mode)
