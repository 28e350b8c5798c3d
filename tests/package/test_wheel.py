"""The release packages as a user gets them (issue 18). Each wheel in dist/ is installed into a
fresh virtual environment for Python 3.11, 3.12 and 3.13 and runs the README's first flow while
the system's codec libraries and fluidsynth are hidden: a private mount namespace (`unshare -m`,
as root) with /dev/null bound over each. The sdist is built and installed the same way, with the
-dev headers hidden too. `make package-test` runs this after `make wheel sdist`; it needs root
and the three interpreters (packaging/python_for.sh says how to get one that is missing)."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist"
PYTHONS = ("3.11", "3.12", "3.13")
# Every shared library a system copy of which could stand in for a vendored one, and the programs
# the old sample renderer needed.
HIDDEN_LIBS = ("sndfile", "FLAC", "soxr", "zip", "deflate", "fftw3", "ogg", "vorbis*", "opus",
               "mpg123", "mp3lame", "fluidsynth")
HIDDEN_FILES = ("/usr/bin/fluidsynth",)
# For the sdist: the -dev headers and pkg-config files, so that only vendor/ can satisfy the build.
HIDDEN_HEADERS = ("sndfile.h", "sndfile.hh", "soxr.h", "zip.h", "zipconf.h", "libdeflate.h")
HIDDEN_HEADER_DIRS = ("FLAC", "FLAC++", "ogg", "vorbis", "opus")
ALLOWED_NEEDED = {"libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1", "libpthread.so.0",
                  "ld-linux-x86-64.so.2", "libdl.so.2", "librt.so.1"}


def hidden_paths(with_headers: bool = False) -> list[str]:
    files = [p for name in HIDDEN_LIBS for p in glob.glob(f"/usr/lib/*-linux-gnu/lib{name}.so*")]
    files += [p for p in HIDDEN_FILES if os.path.exists(p)]
    if with_headers:
        files += [p for h in HIDDEN_HEADERS for p in glob.glob(f"/usr/include/{h}")]
        files += glob.glob("/usr/lib/*-linux-gnu/pkgconfig/*.pc")
    return sorted({os.path.realpath(p) for p in files} | set(files))


def run_hidden(cmd: list[str], *, cwd: Path, env: dict, with_headers: bool = False,
               timeout: float = 900) -> subprocess.CompletedProcess:
    """Runs `cmd` in a private mount namespace where every path of hidden_paths() reads as empty."""
    dirs = [d for name in HIDDEN_HEADER_DIRS for d in glob.glob(f"/usr/include/{name}")] if with_headers else []
    script = ('set -e; for f in "${@:2:$1}"; do mount --bind /dev/null "$f"; done; shift $(($1 + 1)); '
              'empty=$(mktemp -d); for d in $HIDE_DIRS; do mount --bind "$empty" "$d"; done; exec "$@"')
    paths = hidden_paths(with_headers)
    env = {**env, "HIDE_DIRS": " ".join(dirs)}
    return subprocess.run(["unshare", "-m", "--propagation", "private", "bash", "-c", script, "hide",
                           str(len(paths)), *paths, *cmd],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def wheel_for(version: str) -> Path:
    pattern = "cadence-*-cp311-cp311-manylinux_*.whl" if version == "3.11" else "cadence-*-cp312-abi3-manylinux_*.whl"
    found = sorted(DIST.glob(pattern))
    assert len(found) == 1, f"expected one {pattern} in {DIST}, found {found}: run `make wheel`"
    return found[0]


def interpreter(version: str) -> str:
    done = subprocess.run([str(ROOT / "packaging/python_for.sh"), version], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr  # names how to install the missing interpreter
    return done.stdout.strip()


def make_venv(path: Path, version: str) -> dict:
    subprocess.run([interpreter(version), "-m", "venv", str(path)], check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYENV_VERSION")}
    env["PATH"] = f"{path / 'bin'}:{env['PATH']}"
    env["MPLBACKEND"] = "Agg"
    return env


def pip_install(env: dict, *args: str, cwd: Path) -> None:
    done = subprocess.run(["python", "-m", "pip", "install", "-q", "--disable-pip-version-check", *args],
                          env=env, cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def check(done: subprocess.CompletedProcess, what: str) -> str:
    assert done.returncode == 0, f"{what}: exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def sandbox_ok():
    """Fails (never skips) where the namespace cannot be made: the test's point is the hiding."""
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, text=True)
    assert probe.returncode == 0, f"`unshare -m` failed ({probe.stderr.strip()}): run the package tests as root"


def test_hiding_works(sandbox_ok, tmp_path):
    """The control: inside the namespace the system's libsndfile and fluidsynth are unusable, and
    outside they are there (make's apt step installs them for the dev build)."""
    libs = [p for p in hidden_paths() if "libsndfile.so" in p]
    assert libs, "no system libsndfile to hide: the control would prove nothing"
    probe = ("import ctypes, shutil, sys\n"
             "try:\n    ctypes.CDLL('libsndfile.so.1'); print('loaded')\n"
             "except OSError:\n    print('missing')\n"
             "print(shutil.which('fluidsynth') or 'no-fluidsynth')\n")
    env = dict(os.environ)
    outside = check(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env), "outside")
    inside = check(run_hidden([sys.executable, "-c", probe], cwd=tmp_path, env=env), "inside")
    assert outside.split()[0] == "loaded"
    assert inside.split() == ["missing", "no-fluidsynth"]


def test_wheels_are_manylinux_self_contained_and_small():
    wheels = sorted(DIST.glob("cadence-*.whl"))
    assert len(wheels) == 2, wheels
    assert {wheel_for("3.11"), wheel_for("3.12")} == set(wheels)
    for wheel in wheels:
        assert wheel.stat().st_size <= 20 * 2**20, f"{wheel.name}: {wheel.stat().st_size / 2**20:.1f} MB"
        names = zipfile.ZipFile(wheel).namelist()
        assert not [n for n in names if "_testing" in n], "test helpers shipped"
        assert not [n for n in names if n.endswith(".so") and "libarrow" in n]
        assert any(n.endswith("licenses/vendor/licenses/libsndfile-LGPL-2.1.txt") for n in names), names
        cores = [n for n in names if n.startswith("cadence/_core") and n.endswith(".so")]
        assert len(cores) == 1, cores
        if "abi3" in wheel.name:
            assert cores[0] == "cadence/_core.abi3.so"
        with zipfile.ZipFile(wheel) as z:
            data = z.read(cores[0])
        so = Path(os.environ.get("TMPDIR", "/tmp")) / f"cadence-check-{os.getpid()}.so"
        so.write_bytes(data)
        try:
            needed = subprocess.run(["readelf", "-d", str(so)], capture_output=True, text=True, check=True).stdout
        finally:
            so.unlink()
        libs = {line.split("[")[1].split("]")[0] for line in needed.splitlines() if "(NEEDED)" in line}
        assert libs <= ALLOWED_NEEDED, f"{wheel.name} needs {libs - ALLOWED_NEEDED} beyond the manylinux policy"
        show = subprocess.run([str(ROOT / ".venv/bin/auditwheel"), "show", str(wheel)], capture_output=True, text=True)
        assert show.returncode == 0, show.stderr
        assert "manylinux_2_" in show.stdout and "system-provided shared libraries" in show.stdout, show.stdout


@pytest.mark.parametrize("version", PYTHONS)
def test_first_flow_from_the_wheel(sandbox_ok, tmp_path, version):
    env = make_venv(tmp_path / "venv", version)
    pip_install(env, f"{wheel_for(version)}[sample]", cwd=tmp_path)

    def cli(*args: str) -> str:
        return check(run_hidden(list(args), cwd=tmp_path, env=env), " ".join(args))

    version_text = cli("cadence", "--version")
    assert "native_libs: vendored" in version_text and "libsndfile-1.2.0" in version_text, version_text
    info = json.loads(cli("python", "-c", "import cadence, json, importlib.util; print(json.dumps("
                          "[cadence.__file__, importlib.util.find_spec('cadence._testing') is None]))"))
    assert info[0].startswith(str(tmp_path / "venv")), info
    assert info[1], "cadence._testing is importable from the wheel"

    cli("cadence", "sample", "drums", "drums", "--force", "-q")
    cli("cadence", "sample", "drums", "drums.zip", "--zip", "-q")
    cli("cadence", "sample", "gait", "gait.parquet")
    cli("cadence", "drums", "prepare", "drums", "index", "-q")
    cli("cadence", "drums", "prepare", "drums.zip", "index-zip", "-q")
    cli("cadence", "drums", "prepare", "drums", "clips", "--layout", "clips", "--clip", "5.0", "-q")
    cli("cadence", "drums", "verify", "clips")
    read = json.loads(cli("python", "-c", "import json; from cadence import drums\n"
                          "ds = drums.open('index'); x = ds[len(ds) // 2]\n"
                          "print(json.dumps([len(ds), list(x['audio'].shape), float(abs(x['audio']).max())]))"))
    assert read[0] > 0 and read[1][-1] > 0 and 0 < read[2] <= 1.0, read
    cli("cadence", "gait", "features", "gait.parquet", "-o", "features.parquet")
    cli("cadence", "gait", "report", "gait.parquet", "-o", "report")

    # Values, not only exit codes: the zip gives the directory's records (read back here by the
    # dev build: the format is one), features have rows, the report drew figures.
    from cadence import drums
    a, b = drums.open(tmp_path / "index"), drums.open(tmp_path / "index-zip")
    assert len(a) == len(b) == read[0]
    xa, xb = a.read_batch(range(len(a))), b.read_batch(range(len(b)))
    assert (xa["audio"] == xb["audio"]).all() and (xa["classes"] == xb["classes"]).all()
    assert pq.read_table(tmp_path / "features.parquet").num_rows > 0
    assert list((tmp_path / "report").rglob("*.png")) or list((tmp_path / "report").rglob("*.html"))


def test_wheel_matches_the_dev_build(sandbox_ok, tmp_path):
    """The vendored libraries are the versions Debian ships: the wheel's records carry the same
    windows as the dev build's (same sample, same command)."""
    env = make_venv(tmp_path / "venv", "3.11")
    pip_install(env, f"{wheel_for('3.11')}[sample]", cwd=tmp_path)
    dev = dict(os.environ, PATH=f"{ROOT / '.venv/bin'}:{os.environ['PATH']}")
    check(subprocess.run(["cadence", "sample", "drums", "drums", "--force", "-q"], cwd=tmp_path, env=dev,
                         capture_output=True, text=True), "sample")
    check(subprocess.run(["cadence", "drums", "prepare", "drums", "dev", "-q", "--layout", "clips",
                          "--codec", "pcm16"], cwd=tmp_path, env=dev, capture_output=True, text=True), "dev prepare")
    check(run_hidden(["cadence", "drums", "prepare", "drums", "wheel", "-q", "--layout", "clips",
                      "--codec", "pcm16"], cwd=tmp_path, env=env), "wheel prepare")
    dev_t = pq.read_table(sorted((tmp_path / "dev").rglob("*.parquet"))).sort_by("record_id")
    wheel_t = pq.read_table(sorted((tmp_path / "wheel").rglob("*.parquet"))).sort_by("record_id")
    assert dev_t.num_rows > 0 and dev_t.equals(wheel_t)


def test_unsupported_interpreter_is_refused_by_pip(tmp_path):
    env = make_venv(tmp_path / "venv", "3.10")
    for package in (wheel_for("3.11"), wheel_for("3.12")):
        done = subprocess.run(["python", "-m", "pip", "install", "--no-deps", str(package)], env=env,
                              capture_output=True, text=True)
        assert done.returncode != 0 and "not a supported wheel" in done.stderr, done.stderr
    shown = subprocess.run(["python", "-m", "pip", "show", "cadence"], env=env, capture_output=True, text=True)
    assert shown.returncode != 0  # nothing half-installed


def test_damaged_install_names_the_library_and_the_fix(tmp_path):
    env = make_venv(tmp_path / "venv", "3.12")
    pip_install(env, str(wheel_for("3.12")), cwd=tmp_path)
    site = Path(check(subprocess.run(["python", "-c", "import cadence, os; print(os.path.dirname(cadence.__file__))"],
                                     env=env, capture_output=True, text=True), "import"))
    core = Path(str(site).strip()) / "_core.abi3.so"
    # An emptied file (a failed copy, a full disk) and a deleted one. (A file cut mid-way can
    # make the loader itself fault, before any Python runs: nothing can catch that.)
    for damage, named in ((lambda: core.write_bytes(b""), "_core.abi3.so"), (core.unlink, "files: none")):
        damage()
        done = subprocess.run(["python", "-c", "import cadence"], env=env, capture_output=True, text=True)
        assert done.returncode == 1, done
        last = done.stderr.strip().splitlines()[-1]
        assert last.startswith("ImportError: cadence's native engine") and named in last, done.stderr
        assert "pip install --force-reinstall" in last
        assert done.stderr.count("Error:") == 1, done.stderr


def test_sdist_builds_without_system_libraries(sandbox_ok, tmp_path):
    sdists = sorted(DIST.glob("cadence-*.tar.gz"))
    assert len(sdists) == 1, f"{sdists}: run `make sdist`"
    env = make_venv(tmp_path / "venv", "3.12")
    # The build happens inside the namespace: -dev headers, .pc files and .so files all hidden.
    check(run_hidden(["python", "-m", "pip", "install", "-q", "--disable-pip-version-check", f"{sdists[0]}[sample]"],
                     cwd=tmp_path, env=env, with_headers=True, timeout=1800), "pip install sdist")
    version_text = check(run_hidden(["cadence", "--version"], cwd=tmp_path, env=env), "--version")
    assert "native_libs: vendored" in version_text
    for cmd in (["cadence", "sample", "drums", "drums", "-q"],
                ["cadence", "drums", "prepare", "drums", "clips", "--layout", "clips", "-q"],
                ["cadence", "drums", "verify", "clips"]):
        check(run_hidden(cmd, cwd=tmp_path, env=env), " ".join(cmd))
