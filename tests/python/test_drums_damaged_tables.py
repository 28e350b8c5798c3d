"""Shard tables rewritten by another tool with other columns, types or shapes, their journal
entries made to match (found by fuzz/prepared_fuzz.py): drums.open refuses them with a
StoredAudioError naming the file, `drums verify` lists the problem (exit 1), never a traceback."""

import hashlib
import json
import re
import shutil

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from cli_support import run

from cadence import drums


@pytest.fixture(scope="module")
def prepared(drum_corpus, tmp_path_factory):
    out = {}
    for layout in ("clips", "index"):
        out[layout] = tmp_path_factory.mktemp(layout) / "out"
        drums.prepare(drum_corpus, out[layout], layout=layout, clip_s=0.1, show_progress=False)
    return out


def _rewrite(src, tmp_path, name, change):
    """A copy of `src` whose table `name` is `change(table)`, resealed in the journal."""
    out = tmp_path / "out"
    shutil.copytree(src, out)
    path = next(out.glob(name))
    pq.write_table(change(pq.read_table(path)), path)
    data = path.read_bytes()
    lines = []
    for line in (out / "journal.jsonl").read_text().splitlines():
        entry = json.loads(line)
        if entry.get("type") == "commit" and path.name in entry["files"]:
            entry["files"][path.name].update(bytes=len(data), sha256=hashlib.sha256(data).hexdigest())
        lines.append(json.dumps(entry))
    (out / "journal.jsonl").write_text("\n".join(lines) + "\n")
    return out, path.name


def _set(table, name, column):
    return table.set_column(table.schema.get_field_index(name), name, column)


# Each raised KeyError, IndexError or an Arrow/numpy error from deep inside the reader before.
DAMAGE = {
    "clips: a record with fewer velocities than pitches": ("clips", "records-*.parquet", lambda t: _set(
        t, "velocities", pa.array([[] for _ in range(t.num_rows)], pa.list_(pa.uint8()))),
        "a record has not one velocity per pitch"),
    "clips: onset times as text": ("clips", "records-*.parquet", lambda t: _set(
        t, "onset_s", pc.cast(t.column("onset_s"), pa.string())), "column 'onset_s' holds string"),
    "clips: a negative audio offset": ("clips", "records-*.parquet", lambda t: _set(
        t, "audio_offset", pa.array([-64] * t.num_rows, pa.int64())), "column 'audio_offset' has negative values"),
    "index: the files table without source_id": ("index", "files-*.parquet", lambda t: t.drop_columns(["source_id"]),
                                                  "no column source_id"),
    "index: frame tables of another type": ("index", "files-*.parquet", lambda t: _set(
        t, "frame_offsets", pc.cast(t.column("frame_offsets"), pa.list_(pa.int64()))),
        "column 'frame_offsets' holds list<element: int64>"),
    "index: a column name used twice": ("index", "onsets-*.parquet", lambda t: t.append_column("pitches", t["pitches"]),
                                        "a column name is used twice"),
}


@pytest.mark.parametrize("what", list(DAMAGE))
def test_rewritten_tables_are_refused_by_file(prepared, tmp_path, capsys, what):
    layout, pattern, change, why = DAMAGE[what]
    out, name = _rewrite(prepared[layout], tmp_path, pattern, change)
    with pytest.raises(drums.StoredAudioError, match=re.escape(f"{name}: {why}, not what cadence drums prepare writes")):
        drums.open(out)
    code, text, err = run(capsys, "drums", "verify", out)
    assert code == 1 and why in text and name in text, (text, err)


def test_untouched_tables_still_open(prepared):
    for out in prepared.values():
        ds = drums.open(out)
        assert len(ds) > 0 and ds[0]["audio"].dtype.name == "float32"
