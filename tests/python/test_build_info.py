"""cadence.build_info() and `cadence --version`: what the engine was built with (issue 18)."""

import re
import subprocess
import sys

import cadence
from cadence import _core


def test_build_info_names_each_library_with_its_version():
    info = cadence.build_info()
    assert info["cadence"] == cadence.__version__
    assert info["native_libs"] == "system"  # the dev build; wheels say "vendored" (tests/package)
    assert re.fullmatch(r"libsndfile-1\.\d+\.\d+", info["libsndfile"])
    assert re.fullmatch(r"libsoxr-0\.1\.\d+", info["libsoxr"])
    for name in ("libFLAC", "libzip", "libdeflate"):
        assert re.fullmatch(r"\d+\.\d+(\.\d+)?", info[name]), (name, info[name])
    assert info["gait_lanes"].split()[0] in ("4", "8")
    assert list(info)[1:] == [k for k, _ in _core.build_info()]  # the engine's order, unchanged


def test_version_prints_build_info_on_stdout():
    done = subprocess.run([sys.executable, "-c", "import sys; from cadence.cli import main; sys.exit(main())", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stderr == ""
    lines = done.stdout.splitlines()
    assert lines[0] == f"cadence {cadence.__version__}"
    assert "  native_libs: system" in lines and any(line.startswith("  libsndfile: libsndfile-1.") for line in lines)
