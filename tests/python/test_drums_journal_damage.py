"""Journals that a crash, a partial copy or another tool left in OUT (found by fuzz/resume_fuzz.py):
`drums prepare --resume`, `verify` and `drums.open` answer with one error naming the journal and
its line, exit 2, never a traceback."""

import json
import shutil

import pytest

from cli_support import run

from cadence import drums
from cadence.drums.store import read_journal


@pytest.fixture(scope="module")
def prepared(drum_corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("journal") / "out"
    drums.prepare(drum_corpus, out, layout="clips", clip_s=0.1, shard_size=1, show_progress=False)
    return out


def _damaged(prepared, tmp_path, edit):
    out = tmp_path / "out"
    shutil.copytree(prepared, out)
    lines = (out / "journal.jsonl").read_bytes().split(b"\n")[:-1]
    (out / "journal.jsonl").write_bytes(b"\n".join(edit(lines)) + b"\n")
    return out


def _commit_with(lines, **changes):
    entry = json.loads(lines[1])
    entry.update(changes)
    return [lines[0], json.dumps(entry).encode(), *lines[2:]]


# Each was a traceback (AttributeError, KeyError, TypeError or RecursionError) before.
DAMAGE = {
    "a line that is JSON but not an object": lambda lines: [lines[0], b"null", *lines[1:]],
    "a commit without its files": lambda lines: _commit_with(lines, files=None),
    "a commit whose shard is a string": lambda lines: _commit_with(lines, shard="7"),
    "a file size that is not a count": lambda lines: _commit_with(
        lines, files={k: {**v, "bytes": "12"} for k, v in json.loads(lines[1])["files"].items()}),
    "a file name with a directory": lambda lines: _commit_with(
        lines, files={"../records-00000.parquet": {"rows": 1, "bytes": 1, "sha256": "0"}}),
    "rejects that are not records": lambda lines: _commit_with(lines, rejects=[["x"]]),
    "figures of the wrong kind": lambda lines: _commit_with(lines, stats={"unmapped": None}),
    "counters keyed by something else than numbers": lambda lines: _commit_with(
        lines, stats={"unmapped_by_pitch": {"snare": 1}}),
    "nesting deeper than the JSON parser goes": lambda lines: [lines[0], b"[" * 100_000 + b"]" * 100_000, *lines[1:]],
}


@pytest.mark.parametrize("what", list(DAMAGE))
def test_damaged_commit_lines_are_refused_by_line(prepared, tmp_path, capsys, what, drum_corpus):
    out = _damaged(prepared, tmp_path, DAMAGE[what])
    with pytest.raises(ValueError, match=r"journal\.jsonl line 2 is damaged"):
        read_journal(out / "journal.jsonl")
    code, _, err = run(capsys, "drums", "prepare", drum_corpus, out, "--resume", "-q")
    assert code == 2 and "journal.jsonl line 2 is damaged" in err and "prepare into a new directory" in err, err
    code, _, err = run(capsys, "drums", "verify", out)
    assert code == 2 and "line 2 is damaged" in err, err
    with pytest.raises(ValueError, match="line 2 is damaged"):
        drums.open(out)


def test_header_without_options_or_with_options_of_the_wrong_kind(prepared, tmp_path, capsys, drum_corpus):
    out = _damaged(prepared, tmp_path, lambda lines: [b'{"type": "header", "version": 2}', *lines[1:]])
    code, _, err = run(capsys, "drums", "prepare", drum_corpus, out, "--resume", "-q")
    assert code == 2 and "line 1 is damaged (a header without its options)" in err, err

    def wrong_mapping(lines):
        header = json.loads(lines[0])
        header["config"]["mapping"] = ["gmd9"]  # a list where a name belongs: unhashable
        return [json.dumps(header).encode(), *lines[1:]]

    out = _damaged(prepared, tmp_path / "2", wrong_mapping)
    code, _, err = run(capsys, "drums", "prepare", drum_corpus, out, "--resume", "-q")
    assert code == 2 and "line 1 is damaged (a header whose options mapping are not of their kind)" in err, err

    def missing_layout(lines):
        header = json.loads(lines[0])
        del header["config"]["layout"]
        return [json.dumps(header).encode(), *lines[1:]]

    out = _damaged(prepared, tmp_path / "3", missing_layout)
    code, _, err = run(capsys, "drums", "prepare", drum_corpus, out, "--resume", "-q")
    assert code == 2 and "the header's options are damaged (KeyError: 'layout')" in err, err


def test_a_whole_journal_still_resumes(prepared, tmp_path, capsys, drum_corpus):
    """The checks refuse nothing prepare writes: an untouched copy resumes and verifies."""
    out = _damaged(prepared, tmp_path, lambda lines: lines)
    header, commits = read_journal(out / "journal.jsonl")
    assert header["version"] == 2 and len(commits) >= 2
    assert run(capsys, "drums", "prepare", drum_corpus, out, "--resume", "-q")[0] == 0
    assert run(capsys, "drums", "verify", out)[0] == 0


def test_a_report_nested_deeper_than_json_parses_is_replaced(prepared, tmp_path, capsys, drum_corpus):
    """report.json is re-derived on --resume; one nested 100,000 deep raised RecursionError from
    mark_running (resume_fuzz, a 90-second `make fuzz` run)."""
    out = _damaged(prepared, tmp_path, lambda lines: lines)
    (out / "report.json").write_bytes(b"[" * 100_000 + b"]" * 100_000)
    code, _, err = run(capsys, "drums", "verify", out)
    assert code == 0, err
    assert run(capsys, "drums", "prepare", drum_corpus, out, "--resume", "-q")[0] == 0
    assert json.loads((out / "report.json").read_text())["interrupted"] is False


def test_a_commit_renumbered_away_from_its_files_is_damage(tmp_path, drum_corpus):
    """resume_fuzz (final tree): a commit line whose shard number no longer names its files passed
    --resume and left every reader a missing file; now the journal line is damaged, by name."""
    import json as json_mod

    from cadence import drums as drums_mod

    out = tmp_path / "out"
    drums_mod.prepare(drum_corpus, out, layout="clips", shard_size="1", show_progress=False, jobs=1)
    journal = out / "journal.jsonl"
    lines = journal.read_text().splitlines()
    entry = json_mod.loads(lines[1])
    entry["shard"] = 164893424082
    lines[1] = json_mod.dumps(entry)
    journal.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=r"journal.jsonl line 2 is damaged \(a commit whose files are not named for its shard 164893424082\)"):
        drums_mod.open(out)
