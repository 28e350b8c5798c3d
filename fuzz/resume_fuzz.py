"""atheris target: what `cadence drums prepare ROOT OUT --resume` reads back from OUT.

A crash, a partial copy or another tool may leave OUT's journal.jsonl, report.json and
manifest.json in any state. Each input edits a prepared directory's copies of them (structured
edits of the JSON lines: hostile values at any place, keys removed, lines dropped, repeated or
reordered, torn tails; or raw bytes; a file removed or a directory in its place) and runs the
resume in-process. It must exit 0 or 2 with one error line, never a traceback; and when the
header line was left alone, a resume that exits 0 leaves a directory `drums verify` finds whole.
Run by `make fuzz`; alone: ``.venv/bin/python fuzz/resume_fuzz.py -max_total_time=60 DIR``.
"""

import json
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fuzz_support  # noqa: E402

fuzz_support.use_fuzz_engine()
import atheris  # noqa: E402

from cadence.drums import store  # noqa: E402,F401  (loaded for instrumentation)

_WORK = fuzz_support.scratch("resume_fuzz")
_ROOT = _WORK / "corpus"
_PRISTINE = _WORK / "pristine"
_OUT = _WORK / "out"

# Three short performances, one shard each (the smallest shard size): recovery has shards to keep
# and to drop, and a resume that redoes an input stays quick.
fuzz_support.sample_drums(_ROOT, performances=3, kits=1, seed=3, min_duration_s=2.0, max_duration_s=2.5, jobs=1)
_code, _err = fuzz_support.run_cli("drums", "prepare", _ROOT, _PRISTINE, "--layout", "clips", "--shard-size", "1",
                                   "--jobs", "1", "-q")
assert _code == 0, _err
_FILES = ("journal.jsonl", "report.json", "manifest.json")
_ORIGINAL = {name: (_PRISTINE / name).read_bytes() for name in _FILES}
fuzz_support.instrument_cadence(atheris)


def _edit_journal(data: bytes, fdp: atheris.FuzzedDataProvider) -> tuple[bytes, bool]:
    """(new journal bytes, whether the header line may have changed)."""
    lines = data.split(b"\n")[:-1]
    kind = fdp.ConsumeIntInRange(0, 9)
    if kind == 0 or not lines:
        return fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 4096)), True
    if kind == 1:  # cut anywhere: a torn tail, or a copy that stopped early
        return data[:fdp.ConsumeIntInRange(0, len(data))], True
    if kind == 2 and len(lines) > 1:  # a line dropped or repeated
        i = fdp.ConsumeIntInRange(1, len(lines) - 1)
        lines[i:i + 1] = [] if fdp.ConsumeBool() else [lines[i], lines[i]]
        return b"\n".join(lines) + b"\n", False
    if kind == 3 and len(lines) > 2:  # commits out of order
        i, j = fdp.ConsumeIntInRange(1, len(lines) - 1), fdp.ConsumeIntInRange(1, len(lines) - 1)
        lines[i], lines[j] = lines[j], lines[i]
        return b"\n".join(lines) + b"\n", False
    if kind == 4:  # raw bytes where a line was (not UTF-8, not JSON, NUL; nesting, huge numbers)
        i = fdp.ConsumeIntInRange(0, len(lines) - 1)
        raw = fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 200)) if fdp.ConsumeBool() else fuzz_support.hostile_text(fdp)
        lines[i] = raw.replace(b"\n", b"")
        return b"\n".join(lines) + b"\n", i == 0
    i = fdp.ConsumeIntInRange(0, len(lines) - 1)
    if kind == 5:  # a whole line of another JSON type
        lines[i] = json.dumps(fuzz_support.hostile_json(fdp)).encode()
    else:
        lines[i] = json.dumps(fuzz_support.edit_json(_loads(lines[i]), fdp)).encode()
    return b"\n".join(lines) + b"\n", i == 0


def _edit_json_file(data: bytes, fdp: atheris.FuzzedDataProvider) -> bytes | None:
    kind = fdp.ConsumeIntInRange(0, 5)
    if kind == 0:
        return fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 2048)) if fdp.ConsumeBool() else fuzz_support.hostile_text(fdp)
    if kind == 1:
        return data[:fdp.ConsumeIntInRange(0, len(data))]
    if kind == 2:
        return None  # removed
    if kind == 3:
        return json.dumps(fuzz_support.hostile_json(fdp)).encode()
    return json.dumps(fuzz_support.edit_json(_loads(data), fdp)).encode()


def _loads(data: bytes):
    try:
        return json.loads(data)
    except (ValueError, RecursionError):  # an earlier edit of this input left no JSON here
        return None


def test_one_input(data: bytes) -> None:
    fdp = atheris.FuzzedDataProvider(data)
    fuzz_support.copy_tree(_PRISTINE, _OUT)
    header_changed = False
    for _ in range(fdp.ConsumeIntInRange(1, 3)):
        name = _FILES[fdp.ConsumeIntInRange(0, 4) // 2]  # the journal twice as often
        path = _OUT / name
        if path.is_dir() or not path.exists():
            continue
        current = path.read_bytes()
        if name == "journal.jsonl":
            new, changed = _edit_journal(current, fdp)
            header_changed |= changed
        else:
            if fdp.ConsumeIntInRange(0, 15) == 0:  # a directory in the file's place
                path.unlink()
                path.mkdir()
                (path / "x").write_bytes(b"{}")
                continue
            new = _edit_json_file(current, fdp)
        if new is None:
            path.unlink()
        else:
            path.write_bytes(new)
    code, err = fuzz_support.run_cli("drums", "prepare", _ROOT, _OUT, "--resume", "--jobs", "1", "-q")
    assert code in (0, 2), (code, err)
    if code == 0 and not header_changed:
        vcode, verr = fuzz_support.run_cli("drums", "verify", _OUT)
        assert vcode == 0, f"resume exited 0 but verify found problems:\n{verr}"


if __name__ == "__main__":
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()
