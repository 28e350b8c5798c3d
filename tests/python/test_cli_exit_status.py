"""One exit-status convention for every command (0 done, 1 problems found, 2 bad usage or
input, 130 interrupted), messages that name the path and say what to do, never a traceback for
a user's mistake; and the command-line behaviours around it (--resume from the journal, empty
selections, options checked before anything is written, progress off a terminal, --quiet)."""

import json
import sys
from pathlib import Path

import pytest

from cadence import runtime
from cadence.cli import main
from read_only import run_read_only
from cli_support import run

CADENCE = Path(sys.executable).with_name("cadence")


@pytest.fixture(scope="module")
def prepared(drum_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("p") / "out"
    assert main(["drums", "prepare", str(drum_corpus), str(out), "--layout", "clips", "--clip", "0.5",
                 "--shard-size", "1", "-q"]) == 0
    return out


@pytest.mark.parametrize("command", ["verify", "inspect"])
def test_verify_and_inspect_of_a_missing_directory(capsys, tmp_path, command):
    code, _, err = run(capsys, "drums", command, tmp_path / "nowhere")
    assert code == 2 and f"{tmp_path / 'nowhere'}: no such directory" in err


@pytest.mark.parametrize("command", ["verify", "inspect"])
def test_verify_and_inspect_of_the_raw_corpus(capsys, drum_corpus, command):
    code, _, err = run(capsys, "drums", command, drum_corpus)
    assert code == 2 and "a drum corpus (E-GMD)" in err and f"cadence drums prepare {drum_corpus} OUT" in err


def test_inspect_of_a_damaged_directory_names_the_shard(capsys, prepared, tmp_path):
    import shutil

    out = tmp_path / "copy"
    shutil.copytree(prepared, out)
    victim = sorted(out.glob("records-*.parquet"))[2]
    data = bytearray(victim.read_bytes())
    data[-60:] = b"\xff" * 60  # same size, footer destroyed: pyarrow says ArrowInvalid
    victim.write_bytes(bytes(data))
    code, _, err = run(capsys, "drums", "inspect", out)
    assert code == 2 and f"{out} is damaged" in err and "--resume" in err
    victim.write_bytes(bytes(data[:100]))
    code, _, err = run(capsys, "drums", "inspect", out)
    assert code == 2 and f"{victim.name} is truncated" in err


def test_verify_json(capsys, prepared, tmp_path):
    code, out, _ = run(capsys, "drums", "verify", prepared, "--json")
    got = json.loads(out)
    assert code == 0 and {k: got[k] for k in ("path", "ok", "problems")} == {"path": str(prepared), "ok": True,
                                                                              "problems": []}
    assert got["counts"]["inputs"] == 8 and got["counts"]["records"] > 0
    import shutil

    damaged = tmp_path / "d"
    shutil.copytree(prepared, damaged)
    sorted(damaged.glob("records-*.parquet"))[0].unlink()
    code, out, _ = run(capsys, "drums", "verify", damaged, "--json")
    got = json.loads(out)
    assert code == 1 and got["ok"] is False and "records-00000.parquet is missing" in got["problems"][0]


def test_resume_takes_the_options_from_the_journal(capsys, drum_corpus, prepared, tmp_path):
    import shutil

    out = tmp_path / "o"
    shutil.copytree(prepared, out)
    journal = out / "journal.jsonl"
    lines = journal.read_text().splitlines(keepends=True)
    journal.write_text("".join(lines[:-4]))  # four shards not committed: as after a crash
    code, _, err = run(capsys, "drums", "prepare", drum_corpus, out, "--resume", "-q")
    assert code == 0, err
    assert json.loads((out / "report.json").read_text())["segments"][-1]["files_ok"] == 4
    assert sorted(p.name for p in out.glob("records-*")) == sorted(p.name for p in prepared.glob("records-*"))
    code, _, err = run(capsys, "drums", "prepare", drum_corpus, out, "--resume", "--clip", "1.0", "--layout", "clips")
    assert code == 2 and "--clip was 0.5, now 1.0" in err and "--layout" not in err


def test_interrupt_hint_is_the_exact_command(capsys, drum_corpus, tmp_path, monkeypatch):
    from cadence import drums

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(drums, "prepare", interrupted)
    code, _, err = run(capsys, "drums", "prepare", drum_corpus, tmp_path / "o", "--clip", "0.5")
    assert code == 130 and f"cadence drums prepare {drum_corpus} {tmp_path / 'o'} --resume\n" in err


def test_nothing_selected_is_an_error(capsys, drum_corpus, tmp_path):
    code, _, err = run(capsys, "drums", "prepare", drum_corpus, tmp_path / "o", "--kits", "No Such Kit")
    assert code == 2 and "nothing to prepare" in err and "--kits No Such Kit kept 0 of 8" in err
    assert not (tmp_path / "o").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run(capsys, "drums", "prepare", empty, tmp_path / "o")
    assert code == 2 and "0 MIDI file(s)" in err


@pytest.mark.parametrize("option", [["--limit", "-1"], ["--sample-rate", "-5"], ["--clip", "0"],
                                    ["--clip", "-1"], ["--memory-limit", "lots"], ["--memory-limit", "0.5"],
                                    ["--channels", "17"]])
def test_bad_numbers_fail_before_out_is_created(capsys, drum_corpus, tmp_path, option):
    out = tmp_path / "o"
    code, _, err = run(capsys, "drums", "prepare", drum_corpus, out, *option)
    assert code == 2 and option[0] in err
    assert not out.exists()
    # The corrected command then runs without --resume.
    assert run(capsys, "drums", "prepare", drum_corpus, out, "--limit", "1", "-q")[0] == 0


def test_prepare_into_a_read_only_place_names_the_path(drum_corpus, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    proc = run_read_only([CADENCE, "drums", "prepare", drum_corpus, ro / "out"], ro, capture_output=True, text=True)
    assert proc.returncode == 2, proc.stderr
    assert f"{ro / 'out'}: Read-only file system" in proc.stderr or f"{ro / 'out'}: Permission denied" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize("kind", ["drums", "gait"])
def test_sample_into_a_read_only_directory(tmp_path, kind):
    ro = tmp_path / "ro"
    ro.mkdir()
    target = ro / ("corpus" if kind == "drums" else "g.parquet")
    proc = run_read_only([CADENCE, "sample", kind, target, "-q"], ro, capture_output=True, text=True)
    assert proc.returncode == 2 and f"cannot write to {ro}" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_sample_summary_of_the_wrong_directory(capsys, tmp_path, prepared):
    (tmp_path / "notes.csv").write_text("a,b\n1,2\n")
    code, _, err = run(capsys, "sample", "summary", tmp_path)
    assert code == 2 and "no E-GMD CSV" in err and "notes.csv" in err
    code, _, err = run(capsys, "sample", "summary", prepared)
    assert code == 2 and "is a prepared directory" in err and "cadence drums inspect" in err


def test_sample_gait_to_a_directory_or_an_existing_file(capsys, tmp_path):
    code, _, err = run(capsys, "sample", "gait", f"{tmp_path}/")
    assert code == 2 and "is a directory" in err
    out = tmp_path / "g.parquet"
    out.write_bytes(b"precious")
    code, _, err = run(capsys, "sample", "gait", out, "--subjects", "1", "--strides-per-task", "2")
    assert code == 2 and "--force" in err and out.read_bytes() == b"precious"
    code, _, _ = run(capsys, "sample", "gait", out, "--subjects", "1", "--strides-per-task", "2", "--force", "-q")
    assert code == 0 and out.read_bytes()[:4] == b"PAR1"


def test_sample_gait_interrupted_keeps_the_old_file(capsys, tmp_path, monkeypatch):
    from cadence.sample import gait

    out = tmp_path / "g.parquet"
    assert run(capsys, "sample", "gait", out, "--subjects", "1", "--strides-per-task", "2", "-q")[0] == 0
    before = out.read_bytes()

    def progress_then_stop(done, total):
        raise KeyboardInterrupt

    real = gait.generate
    monkeypatch.setattr(gait, "generate", lambda *a, **k: real(*a, **{**k, "progress": progress_then_stop}))
    code, _, _ = run(capsys, "sample", "gait", out, "--subjects", "2", "--force", "-q")
    assert code == 130 and out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["g.parquet"]


def test_sample_drums_interrupted_leaves_nothing_and_force_works(capsys, tmp_path, monkeypatch):
    from cadence.sample import drums

    out = tmp_path / "corpus"
    real = drums.generate
    calls = []

    def stop_after_first(done, total):
        calls.append(done)
        raise KeyboardInterrupt

    monkeypatch.setattr(drums, "generate", lambda *a, **k: real(*a, **{**k, "progress": stop_after_first}))
    args = ["sample", "drums", out, "--performances", "1", "--kits", "1", "--min-duration", "2",
            "--max-duration", "2", "-q"]
    code, _, _ = run(capsys, *args)
    assert code == 130 and calls and not out.exists()
    assert list(tmp_path.iterdir()) == []  # no half-rendered corpus anywhere
    monkeypatch.setattr(drums, "generate", real)
    assert run(capsys, *args)[0] == 0 and (out / drums.CSV_NAME).exists()
    # An interrupted --force leaves the previous corpus as it was.
    monkeypatch.setattr(drums, "generate", lambda *a, **k: real(*a, **{**k, "progress": stop_after_first}))
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    assert run(capsys, *args, "--force")[0] == 130
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    monkeypatch.setattr(drums, "generate", real)
    assert run(capsys, *args, "--force")[0] == 0


def test_progress_lines_when_stderr_is_not_a_terminal(capsys, drum_corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(runtime, "PROGRESS_LINE_INTERVAL_S", 0.0)
    code, _, err = run(capsys, "drums", "prepare", drum_corpus, tmp_path / "a", "--layout", "clips")
    assert code == 0
    lines = [x for x in err.splitlines() if x.startswith("prepare: ")]
    assert lines and lines[-1].startswith("prepare: 8/8 files (100%)"), err
    code, _, err = run(capsys, "drums", "prepare", drum_corpus, tmp_path / "b", "--layout", "clips", "--quiet")
    assert code == 0 and err == ""


def test_os_errors_name_their_path_once_and_say_what_to_do():
    import errno

    from cadence.cli import error_message

    assert error_message(OSError(errno.EROFS, "Read-only file system", "/data/out")) == \
        "/data/out: Read-only file system; choose an output location you can write to"
    assert error_message(FileExistsError(errno.EEXIST, "File exists", "/data/out")) == \
        "/data/out: File exists; something is in the way at that path; choose another one"
    own = FileNotFoundError(2, "/data/root: dataset root not found (...)", "/data/root")
    assert error_message(own) == "/data/root: dataset root not found (...)"
    assert error_message(ValueError("--clip -1.0: must be a number of seconds in (0, 600]")).startswith("--clip")
