"""Atomic outputs (python/cadence/atomic.py): whole or untouched, never partial."""

from __future__ import annotations

import sys

import pytest

from cadence.atomic import TEMP_MARK, OutputNotWritable, atomic_files, atomic_path, check_writable
from read_only import run_read_only


def _leftovers(directory):
    return sorted(p.name for p in directory.iterdir() if TEMP_MARK in p.name)


def test_atomic_path_renames_on_success(tmp_path):
    out = tmp_path / "out.txt"
    out.write_text("old")
    with atomic_path(out) as tmp:
        assert tmp.parent == tmp_path and tmp != out
        tmp.write_text("new")
        assert out.read_text() == "old"  # not visible before the block ends
    assert out.read_text() == "new"
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("error", [KeyboardInterrupt, OSError, ValueError])
def test_atomic_path_leaves_old_output_untouched_on_failure(tmp_path, error):
    out = tmp_path / "out.txt"
    out.write_text("old")
    with pytest.raises(error):
        with atomic_path(out) as tmp:
            tmp.write_text("partial")
            raise error()
    assert out.read_text() == "old"
    assert _leftovers(tmp_path) == []


def test_group_renames_every_file_together_or_none(tmp_path):
    a, b, stale = tmp_path / "a.npy", tmp_path / "a.meta.parquet", tmp_path / "a.drops.csv"
    for p in (a, b, stale):
        p.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_files() as group:
            group.path(a).write_text("new")
            group.discard(stale)
            raise KeyboardInterrupt
    assert [p.read_text() for p in (a, b, stale)] == ["old"] * 3
    with atomic_files() as group:
        group.path(a).write_text("new a")
        group.path(b).write_text("new b")
        group.discard(stale)
    assert a.read_text() == "new a" and b.read_text() == "new b"
    assert not stale.exists()  # a sidecar of the earlier run does not lie beside the new output
    assert _leftovers(tmp_path) == []


def test_group_refuses_an_output_registered_but_never_written(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    with pytest.raises(RuntimeError, match="never written"):
        with atomic_files() as group:
            group.path(a).write_text("x")
            group.path(b)
    assert not a.exists() and _leftovers(tmp_path) == []


def test_check_writable_names_a_read_only_directory(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    code = ("import sys\nfrom cadence.atomic import check_writable, OutputNotWritable\n"
            "for d in sys.argv[1:]:\n"
            "    try:\n        check_writable(d)\n    except OutputNotWritable as e:\n        print(e)\n")
    proc = run_read_only([sys.executable, "-c", code, str(ro), str(ro / "sub")], ro,
                         capture_output=True, text=True, check=True)
    lines = proc.stdout.splitlines()
    assert len(lines) == 2, proc.stdout + proc.stderr
    assert lines[0].startswith(f"cannot write to {ro}: ") and lines[0].endswith("choose an output location you can write to")
    assert lines[1].startswith(f"cannot write to {ro / 'sub'}: ")
    assert list(ro.iterdir()) == []


def test_check_writable_names_a_file_in_the_way(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(OutputNotWritable, match="a file is in the way"):
        check_writable(tmp_path / "f" / "sub")
    assert check_writable(tmp_path / "new" / "dir").is_dir()
