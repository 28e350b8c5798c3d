"""The shard writer holds nothing of a pair once the pair is written (issue 23, point 8): the
memory of `drums prepare` is its fixed overhead plus --memory-limit, whatever --shard-size.

Before, a clip table's ``codec`` column kept its dictionary zero-copy through take(), and the
engine exports a pair's result as one Arrow struct with one release: every pair's audio stayed
in memory until its shard closed (peak RSS grew by one whole shard)."""

import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from cadence import _core, drums
from cadence.drums import store
from cadence.sample import drums as sample

CADENCE = Path(sys.executable).with_name("cadence")


def test_no_engine_result_is_alive_when_the_shard_closes(drum_corpus, tmp_path, monkeypatch):
    """One shard for the whole corpus: when its first file is closed every pair has been added,
    and none of the engine's exports may still be alive (each pair's would be, buffered)."""
    alive = []
    monkeypatch.setattr(store, "fault_hook", lambda point, **_: alive.append(_core.arrow_live_exports())
                        if point == "before_rename" else None)
    report = drums.prepare(drum_corpus, tmp_path / "out", layout="clips", clip_s=1.0, shard_size="1G", jobs=2,
                           show_progress=False)
    assert report["files_ok"] == 8 and len(alive) == 2  # one shard: audio-00000.bin, records-00000.parquet
    assert alive == [0, 0]


def test_owned_copy_shares_no_buffer():
    dictionary = pa.array(["flac", "pcm16"])
    table = pa.table({"codec": pa.DictionaryArray.from_arrays(pa.array([1, 0, 1], pa.int32()), dictionary),
                      "n": pa.array([3, 4, 5], pa.int64()),
                      "pitches": pa.array([[36], [38, 42], []], pa.list_(pa.uint8()))})
    copy = store.owned_copy(table)
    assert copy.equals(table) and copy.schema == table.schema

    def addresses(t: pa.Table) -> set[int]:
        def of(a: pa.Array) -> set[int]:
            own = {b.address for b in a.buffers() if b is not None and b.size}
            return own | (of(a.dictionary) if pa.types.is_dictionary(a.type) else set())
        return {x for c in t.columns for chunk in c.chunks for x in of(chunk)}

    assert not addresses(copy) & addresses(table)


def _peak_rss_bytes(args: list[str]) -> int:
    """Peak RSS of `cadence ARGS` run as the only child of a fresh Python (RUSAGE_CHILDREN)."""
    code = ("import resource, subprocess, sys\n"
            "subprocess.run(sys.argv[1:], check=True, capture_output=True)\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    out = subprocess.run([sys.executable, "-c", code, str(CADENCE), *args], capture_output=True, text=True,
                         check=True)
    return int(out.stdout) * 1024  # ru_maxrss is in KiB on Linux


@pytest.mark.skipif(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss == 0, reason="no ru_maxrss here")
def test_peak_rss_does_not_grow_with_the_shard_size(tmp_path):
    """5 s clips of ~3 min of audio: ~90 MB of output. One shard of it all against shards of
    4 MB: the peaks differ by far less than the big shard (before: by about all of it)."""
    root = tmp_path / "corpus"
    sample.generate(root, performances=3, kits=2, seed=23, min_duration_s=25, max_duration_s=35)
    options = ["--layout", "clips", "--clip", "5", "--jobs", "2", "--memory-limit", "32M", "-q"]
    small = _peak_rss_bytes(["drums", "prepare", str(root), str(tmp_path / "small"), *options, "--shard-size", "4M"])
    whole = _peak_rss_bytes(["drums", "prepare", str(root), str(tmp_path / "whole"), *options, "--shard-size", "1G"])
    shard_bytes = (tmp_path / "whole" / store.shard_file("audio", 0, "bin")).stat().st_size
    assert not (tmp_path / "whole" / store.shard_file("audio", 1, "bin")).exists()  # one shard held it all
    assert shard_bytes > 64 << 20
    assert abs(whole - small) < shard_bytes // 4, (small, whole, shard_bytes)
    # The same records either way (shards are cut elsewhere, the tables read back equal).
    a, b = drums.open(tmp_path / "small"), drums.open(tmp_path / "whole")
    assert a.labels.equals(b.labels)
    rows = np.arange(0, len(a), 97)
    assert all(np.array_equal(x, y) for x, y in zip(a.read_batch(rows)["audio"], b.read_batch(rows)["audio"]))


def test_a_full_disk_leaves_no_temporary_file(tmp_path, monkeypatch):
    """Aborting a shard whose disk is full: closing a writer fails again (its buffered row group
    and footer cannot be written), and that must not stop the shard's other writers from removing
    their temporary files (the index layout has two: onsets, and files + audio)."""
    out = tmp_path / "out"
    s = store.Store.open(out, {"layout": "index"}, resume=False)
    onsets = pa.table({"pair_id": ["a", "a"], "onset_s": [0.5, 1.0]})
    audio = pa.table({"pair_id": ["a"], "audio": pa.array([b"\1" * 1000], pa.large_binary())})
    writers = s.writer(0, {"onsets": onsets.schema, "audio": audio.schema})
    writers["onsets"].add(onsets)
    writers["audio"].add(audio)
    assert len([p for p in out.iterdir() if p.name.startswith(".")]) == 3  # onsets, files, audio

    def full(self, data):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(store._HashingFile, "write", full)
    for w in writers.values():  # as drums/consumer.py does when a shard fails
        w.abort()
    assert sorted(p.name for p in out.iterdir()) == [store.JOURNAL]
