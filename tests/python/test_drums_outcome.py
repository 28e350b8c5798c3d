"""What `drums prepare`, `inspect`, `verify` and `drums.open` say a run did (issue 22): a run
that prepared nothing is an error, an unfinished directory says so everywhere, and the reports
read as sentences (no Python reprs, "1 job", "nothing to do")."""

import json
import shutil
import warnings

import pytest

from cadence import drums
from cadence.drums import store
from cli_support import run

INCOMPLETE = "run the same `cadence drums prepare` command with --resume"


@pytest.fixture(scope="module")
def finished(drum_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("done") / "out"
    drums.prepare(drum_corpus, out, show_progress=False)
    return out


def stopped(drum_corpus, out, error: type[BaseException]):
    """`out` prepared until the second shard's commit, where `error` is raised: KeyboardInterrupt
    is Ctrl-C (prepare writes its report), anything else stands for a process killed outright
    (no report of its own: only the mark the run left when it started)."""
    seen = []

    def hook(point, **_):
        if point == "after_commit":
            seen.append(point)
            if len(seen) == 2:
                raise error

    store.fault_hook = hook
    try:
        with pytest.raises(error):
            drums.prepare(drum_corpus, out, shard_size=1, show_progress=False)
    finally:
        store.fault_hook = None
    return out


# ---- 1. every input rejected -------------------------------------------------------------------
def test_every_input_rejected_is_an_error_naming_the_reason(capsys, drum_corpus, tmp_path):
    root = tmp_path / "csv-only"
    root.mkdir()
    shutil.copy(drum_corpus / "e-gmd-v1.0.0.csv", root)  # the CSV without its files
    code, out, err = run(capsys, "drums", "prepare", root, tmp_path / "o")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("cadence: error: nothing prepared: all 8 inputs rejected")
    assert "most as missing_midi (8, e.g. " in err and "MIDI file not found" in err
    assert "check that ROOT is the corpus directory" in err and f"{tmp_path / 'o' / 'rejects.csv'}" in err
    assert "cadence.drums.open" not in err


def test_some_inputs_rejected_is_still_a_success(capsys, drum_corpus, tmp_path):
    root = tmp_path / "c"
    shutil.copytree(drum_corpus, root)
    next(root.rglob("*.midi")).unlink()
    code, out, err = run(capsys, "drums", "prepare", root, tmp_path / "o")
    assert code == 0 and "  rejected       1 (missing_midi 1; listed in rejects.csv)\n" in out
    assert "read back with cadence.drums.open" in err


# ---- 2. an unfinished directory says so --------------------------------------------------------
@pytest.mark.parametrize("error", [KeyboardInterrupt, RuntimeError])
def test_an_interrupted_directory_says_it_is_incomplete(capsys, drum_corpus, tmp_path, error):
    out = stopped(drum_corpus, tmp_path / "o", error)
    report = json.loads((out / "report.json").read_text())
    assert report["interrupted"] is True and report["inputs_planned"] == 8
    note = f"incomplete: 2 of 8 inputs; {INCOMPLETE}"

    code, text, _ = run(capsys, "drums", "inspect", out)
    assert code == 0 and f"\n  {note}\n" in text
    code, text, _ = run(capsys, "drums", "inspect", out, "--json")
    assert json.loads(text)["incomplete"] == {"inputs_done": 2, "inputs_planned": 8, "message": note}
    code, text, _ = run(capsys, "drums", "verify", out)
    assert code == 1 and f"PROBLEM {note}\n" in text and "OK" not in text
    assert drums.verify(out) == [note]

    with pytest.warns(drums.IncompleteDatasetWarning) as caught:
        ds = drums.open(out)
        ds.filter(split=sorted(set(ds.labels.column("split").to_pylist()))).shard(0, 2)  # views: no repeat
    assert [str(w.message) for w in caught] == [f"{out}: {note}"]
    assert issubclass(drums.IncompleteDatasetWarning, UserWarning)
    with pytest.warns(drums.IncompleteDatasetWarning):
        drums.open(out, mode="sequences")

    code, _, _ = run(capsys, "drums", "prepare", drum_corpus, out, "--resume", "-q")
    assert code == 0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        drums.open(out)
    code, text, _ = run(capsys, "drums", "verify", out)
    assert code == 0 and "OK" in text


def test_fewer_inputs_in_the_journal_than_planned_is_incomplete(capsys, finished, tmp_path):
    """A finished report, but a later --resume dropped a damaged shard and did not finish."""
    out = tmp_path / "o"
    shutil.copytree(finished, out)
    journal = out / "journal.jsonl"
    lines = journal.read_text().splitlines(keepends=True)
    journal.write_text("".join(lines[:-1]))  # the last commit dropped
    assert json.loads((out / "report.json").read_text())["interrupted"] is False
    code, text, _ = run(capsys, "drums", "verify", out, "--no-decode")
    assert code == 1 and "PROBLEM incomplete: " in text and " of 8 inputs; " in text


def test_a_finished_directory_is_not_incomplete(finished):
    assert store.progress(finished) is None and drums.inspect(finished)["incomplete"] is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        drums.open(finished)


# ---- 15. reports read as sentences -------------------------------------------------------------
def test_reports_have_no_python_reprs_and_right_plurals(capsys, drum_corpus, finished, tmp_path):
    out = tmp_path / "o"
    code, text, _ = run(capsys, "drums", "prepare", drum_corpus, out, "--jobs", "1", "-q")
    assert code == 0 and "on 1 job\n" in text and "8 files -> " in text
    assert "{" not in text and "'" not in text
    report = json.loads((out / "report.json").read_text())
    shown = drums.prepare_format(report | {"unmapped_by_pitch": {"39": 6, "44": 1}, "unmapped_hits": 7,
                                           "rejected": {"bad_audio": 2, "missing_midi": 1}})
    assert "  unmapped hits  7 (pitch 39: 6, pitch 44: 1)\n" in shown
    assert "  rejected       3 (bad_audio 2, missing_midi 1; listed in rejects.csv)\n" in shown

    code, text, _ = run(capsys, "drums", "inspect", finished)
    assert code == 0 and "{" not in text and "'" not in text
    splits = drums.inspect(finished)["splits"]
    assert f"  splits    {', '.join(f'{k} {v:,}' for k, v in splits.items())} (records)\n" in text

    code, text, _ = run(capsys, "drums", "verify", finished)
    n = drums.inspect(finished)
    assert code == 0 and text.startswith(f"{finished}: OK: {n['records']:,} records from 8 inputs (0 rejected) in ")
    assert "checksums and decoding checked" in text


def test_a_resume_with_nothing_left_says_nothing_to_do(capsys, drum_corpus, finished, tmp_path):
    out = tmp_path / "o"
    shutil.copytree(finished, out)
    code, text, _ = run(capsys, "drums", "prepare", drum_corpus, out, "--resume", "-q")
    assert code == 0 and "  this run       nothing to do: every input is already prepared or rejected\n" in text
    assert "realtime" not in text and "this run       0 files" not in text
    assert text.startswith("8 files -> ") and "over 2 runs" in text
