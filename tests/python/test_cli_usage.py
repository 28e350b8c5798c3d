"""A new user's slips at the command line (issue 22, points 3, 6 and 17): a Ray address with
nothing behind it, output piped into `head`, and paths of the wrong kind. Each ends at once with
one line that names the path or address and says what to do, or (a closed pipe) quietly."""

import importlib.util
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from cadence.cli import EXIT_BROKEN_PIPE, main
from cli_support import run

CADENCE = Path(sys.executable).with_name("cadence")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def prepared(drum_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("p") / "out"
    assert main(["drums", "prepare", str(drum_corpus), str(out), "-q"]) == 0
    return out


# ---- 3. --ray ADDRESS with nothing there -------------------------------------------------------
@pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="Ray is not installed (pip install 'cadence[ray]')")
def test_a_ray_address_with_nothing_there_fails_at_once(drum_corpus, tmp_path):
    address = f"127.0.0.1:{free_port()}"
    # The hang was ray.init waiting on nothing: the timeout catches one; "at once" is what the
    # messages show, the probe's own (no Ray log lines, nothing created), not a measured time.
    proc = subprocess.run([CADENCE, "drums", "prepare", drum_corpus, tmp_path / "o", "--ray", address],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1, proc.stderr  # no Ray log lines
    assert proc.stderr.startswith(f"cadence: error: no Ray cluster at {address} (")
    assert f"`ray start --head --port={address.rsplit(':', 1)[1]}`" in proc.stderr
    assert not (tmp_path / "o").exists()


def test_without_ray_the_install_hint_comes_first(capsys, drum_corpus, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails, as where it is not installed
    code, _, err = run(capsys, "drums", "prepare", drum_corpus, tmp_path / "o", "--ray", f"127.0.0.1:{free_port()}")
    assert code == 2 and "pip install 'cadence[ray]'" in err and "no Ray cluster" not in err


# ---- 6. a closed pipe is not an error -----------------------------------------------------------
def test_output_into_a_closed_pipe_stops_quietly(prepared):
    proc = subprocess.Popen([CADENCE, "drums", "inspect", prepared, "--json"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    proc.stdout.close()  # `| head` that has already gone: every write fails with EPIPE
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == EXIT_BROKEN_PIPE == 141 and err == b""


def test_a_broken_pipe_that_is_not_stdout_is_still_an_error(capsys, monkeypatch):
    from cadence import drums

    def broken(*a, **k):
        raise BrokenPipeError(32, "Broken pipe")

    monkeypatch.setattr(drums, "inspect", broken)
    code, _, err = run(capsys, "drums", "inspect", "anything")
    assert code == 2 and "Broken pipe" in err


# ---- 17. paths of the wrong kind ---------------------------------------------------------------
def test_a_file_as_dataset_root_says_it_is_a_file(capsys, drum_corpus, tmp_path):
    csv = drum_corpus / "e-gmd-v1.0.0.csv"
    code, _, err = run(capsys, "drums", "prepare", csv, tmp_path / "o")
    assert code == 2 and f"{csv} is a file, not a dataset root" in err and "not found" not in err
    assert f"give its directory as ROOT, or pass --csv {csv}" in err
    assert not (tmp_path / "o").exists()


def test_a_directory_given_to_gait_features_says_it_is_a_directory(capsys, tmp_path):
    code, _, err = run(capsys, "gait", "features", tmp_path, "-o", tmp_path / "f.parquet")
    assert code == 2 and f"{tmp_path} is a directory; give a phase-indexed gait file (.parquet or .csv" in err
    assert "no such file" not in err


def test_sample_drums_to_a_zip_name_without_zip_is_refused(capsys, tmp_path):
    code, _, err = run(capsys, "sample", "drums", tmp_path / "x.zip")
    assert code == 2 and "add --zip" in err and f"e.g. {tmp_path / 'x'}" in err
    assert not (tmp_path / "x.zip").exists() and list(tmp_path.iterdir()) == []
