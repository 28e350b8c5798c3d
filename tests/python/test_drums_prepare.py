"""`cadence drums prepare` end to end: records checked against pretty_midi and soundfile."""

import csv
import json
import shutil

import numpy as np
import pretty_midi
import pyarrow.parquet as pq
import pytest
import soundfile as sf

from cadence import drums
from cadence.cli import main

GMD9 = {36: 0, 38: 1, 37: 1, 40: 1, 42: 2, 22: 2, 44: 2, 46: 3, 26: 3, 43: 4, 58: 4, 47: 5, 45: 5,
        50: 6, 48: 6, 49: 7, 52: 7, 55: 7, 57: 7, 51: 8, 53: 8, 59: 8}


def reference_onsets(midi_path, merge_s=0.010):
    """pretty_midi's notes, sorted, grouped within merge_s of each group's first hit."""
    notes = sorted((n.start, n.pitch, n.velocity) for i in pretty_midi.PrettyMIDI(str(midi_path)).instruments
                   for n in i.notes)
    groups = []
    for start, pitch, velocity in notes:
        if not groups or start - groups[-1][0] > merge_s:
            groups.append([start, [], []])
        groups[-1][1].append(pitch)
        groups[-1][2].append(velocity)
    return groups


@pytest.fixture(scope="module")
def prepared(drum_corpus, tmp_path_factory):
    out = {}
    for layout, extra in (("index", {}), ("clips", {"codec": "flac"})):
        path = tmp_path_factory.mktemp(layout) / "out"
        report = drums.prepare(drum_corpus, path, layout=layout, show_progress=False, **extra)
        out[layout] = (path, report)
    return out


def test_records_match_pretty_midi(drum_corpus, prepared):
    path, report = prepared["index"]
    ds = drums.open(path)
    with open(drum_corpus / "e-gmd-v1.0.0.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert report["files_ok"] == len(rows) == 8
    labels = ds.labels.to_pydict()
    total = 0
    for row in rows:
        pid = row["audio_filename"].removesuffix(".wav")
        ref = reference_onsets(drum_corpus / row["midi_filename"])
        mine = [i for i, p in enumerate(labels["pair_id"]) if p == pid]
        assert len(mine) == len(ref), pid
        for i, (start, pitches, velocities) in zip(mine, ref):
            assert abs(labels["onset_s"][i] - start) < 1e-6
            assert labels["onset_sample"][i] == round(start * 22050)
            assert sorted(labels["pitches"][i]) == sorted(pitches)
            assert sorted(labels["velocities"][i]) == sorted(velocities)
            hot = np.zeros(9, np.uint8)
            for p in pitches:
                if p in GMD9:
                    hot[GMD9[p]] = 1
            assert labels["classes"][i] == hot.tolist()
            assert labels["split"][i] == row["split"] and labels["kit"][i] == row["kit_name"]
        total += len(ref)
    assert len(ds) == report["records"] == total


def test_both_layouts_give_the_same_items(prepared):
    index, clips = drums.open(prepared["index"][0]), drums.open(prepared["clips"][0])
    assert len(index) == len(clips)
    for i in [0, 1, len(index) // 2, len(index) - 1]:
        a, b = index[i], clips[i]
        assert a["record_id"] == b["record_id"]
        assert a["audio"].dtype == np.float32 and a["audio"].shape == (round(0.2 * 22050),)
        np.testing.assert_array_equal(a["audio"], b["audio"])  # both FLAC 16-bit: bit-exact
        np.testing.assert_array_equal(a["classes"], b["classes"])


def test_windows_hold_the_resampled_audio(drum_corpus, prepared):
    ds = drums.open(prepared["index"][0])
    item = ds[3]
    x, rate = sf.read(drum_corpus / (item["pair_id"] + ".wav"), dtype="float32")
    assert rate == 44100
    start = item["onset_sample"] - round(0.02 * 22050)
    # Compare with a decimation of the source around the window: same content, small
    # resampling and 16-bit differences only.
    src = x[2 * max(start, 0): 2 * (start + 4410)][::2]
    got = item["audio"][-len(src):] if start < 0 else item["audio"][:len(src)]
    assert np.corrcoef(src, got)[0, 1] > 0.95
    assert item["audio"][:max(-start, 0)].tolist() == [0.0] * max(-start, 0)


def test_report_and_manifest(prepared):
    path, report = prepared["index"]
    assert report["audio_s_per_s"] > 0 and report["records_per_s"] > 0
    assert set(report["stages_s"]) >= {"midi", "decode", "resample", "encode"}
    assert report["codecs"]["flac"]["clips"] == 8
    assert 0 < report["compression_ratio"] < 0.5
    manifest = json.loads((path / "manifest.json").read_text())
    assert manifest["records"] == report["records"]
    assert all(v["status"] == "ok" for v in manifest["inputs"].values())
    shard = manifest["shards"][0]
    assert set(shard["files"]) == {"onsets-00000.parquet", "files-00000.parquet", "audio-00000.bin"}
    assert drums.verify(path) == []


def test_shards_are_plain_parquet(prepared):
    import pandas as pd

    path = prepared["clips"][0]
    df = pd.read_parquet(path / "records-00000.parquet")
    assert {"record_id", "onset_s", "classes", "codec", "audio_offset", "audio_bytes"} <= set(df.columns)
    assert pq.ParquetFile(path / "records-00000.parquet").metadata.row_group(0).column(0).compression == "ZSTD"


def test_same_bytes_for_one_two_and_eight_jobs(drum_corpus, tmp_path):
    digests = []
    for jobs in (1, 2, 8):
        out = tmp_path / f"j{jobs}"
        drums.prepare(drum_corpus, out, layout="clips", codec="auto", jobs=jobs, show_progress=False)
        digests.append({n: f["sha256"] for c in json.loads((out / "manifest.json").read_text())["shards"]
                        for n, f in c["files"].items()})
    assert digests[0] == digests[1] == digests[2]


def test_auto_codec_at_seed_settings_uses_flac(drum_corpus, tmp_path):
    report = drums.prepare(drum_corpus, tmp_path / "o", layout="clips", clip_s=5.0, limit=1, show_progress=False)
    assert set(report["codecs"]) <= {"flac", "float16"} and report["codecs"]
    ds = drums.open(tmp_path / "o")
    assert ds[0]["audio"].shape == (5 * 22050,)


def test_filters(drum_corpus, tmp_path):
    r = drums.prepare(drum_corpus, tmp_path / "a", split=["train"], show_progress=False)
    ds = drums.open(tmp_path / "a")
    assert set(ds.labels.column("split").to_pylist()) == {"train"} and r["files_ok"] >= 2
    half = drums.prepare(drum_corpus, tmp_path / "b", sample_fraction=0.5, seed=3, show_progress=False)
    again = drums.prepare(drum_corpus, tmp_path / "c", sample_fraction=0.5, seed=3, show_progress=False)
    assert half["files_ok"] == again["files_ok"]
    sources = drums.open(tmp_path / "b").labels.column("source_id").to_pylist()
    # Whole performances: every kit of a kept performance is kept.
    assert half["files_ok"] == 2 * len(set(sources))
    assert drums.prepare(drum_corpus, tmp_path / "d", limit=3, show_progress=False)["files_ok"] == 3


def test_cli_prepare_inspect_verify(drum_corpus, tmp_path, capsys):
    out = tmp_path / "cli"
    assert main(["drums", "prepare", str(drum_corpus), str(out), "--limit", "2", "--mapping", "magenta8"]) == 0
    assert "records" in capsys.readouterr().out
    assert main(["drums", "inspect", str(out)]) == 0
    text = capsys.readouterr().out
    assert "mapping magenta8" in text and "kick" in text
    assert main(["drums", "verify", str(out)]) == 0
    assert main(["drums", "prepare", str(drum_corpus), str(out)]) == 2  # exists, no --resume
    assert "--resume" in capsys.readouterr().err


def test_user_mapping_file(drum_corpus, tmp_path):
    m = tmp_path / "two.json"
    m.write_text(json.dumps({"low": [36, 43, 45], "high": [42, 46, 49, 51]}))
    drums.prepare(drum_corpus, tmp_path / "o", mapping=str(m), limit=1, show_progress=False)
    ds = drums.open(tmp_path / "o")
    assert ds.class_names == ["low", "high"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"a": [36], "b": [36]}))
    with pytest.raises(ValueError, match="pitch 36 is in both"):
        drums.prepare(drum_corpus, tmp_path / "p", mapping=str(bad), show_progress=False)


def test_damaged_output_is_reported_and_repaired(drum_corpus, tmp_path):
    out = tmp_path / "o"
    drums.prepare(drum_corpus, out, layout="clips", shard_size="1", show_progress=False)  # a shard per file
    before = drums.open(out).labels.column("record_id").to_pylist()
    victims = sorted(out.glob("records-*.parquet"))
    victims[1].unlink()
    with open(victims[3], "r+b") as f:
        f.truncate(100)
    problems = drums.verify(out)
    assert any(victims[1].name in p and "missing" in p for p in problems)
    assert any(victims[3].name in p and "truncated" in p for p in problems)
    report = drums.prepare(drum_corpus, out, layout="clips", shard_size="1", resume=True, show_progress=False)
    assert report["segments"][-1]["files_ok"] == 2  # this run redid the two damaged shards
    assert report["files_ok"] == 8 and report["records"] == len(before)  # the report covers the directory
    assert sum("dropped" in x for x in report["recovered"]) == 2
    assert drums.verify(out) == []
    after = drums.open(out).labels.column("record_id").to_pylist()
    assert sorted(after) == sorted(before) and len(set(after)) == len(after)


def test_dataset_plugs_into_a_torch_style_loader(prepared):
    import pickle  # only to prove the dataset object can be sent to DataLoader workers

    ds = drums.open(prepared["index"][0])
    clone = pickle.loads(pickle.dumps(ds))
    np.testing.assert_array_equal(clone[5]["audio"], ds[5]["audio"])
    batch = np.stack([ds[i]["audio"] for i in range(4)])
    assert batch.shape == (4, 4410)
    with pytest.raises(IndexError):
        ds[len(ds)]
    assert sum(t.num_rows for t in ds.iter_shards()) == len(ds)


def test_interrupted_resume_of_a_copied_corpus(drum_corpus, tmp_path):
    """A reject, then a resume that must not redo or lose anything."""
    root = tmp_path / "corpus"
    shutil.copytree(drum_corpus, root)
    wav = sorted(root.rglob("*.wav"))[0]
    wav.write_bytes(wav.read_bytes()[:5000])  # truncated
    r = drums.prepare(root, tmp_path / "o", show_progress=False)
    assert r["rejected"] == {"bad_audio": 1} and r["files_ok"] == 7
    r2 = drums.prepare(root, tmp_path / "o", resume=True, show_progress=False)
    assert r2["inputs_this_run"] == 0 and r2["segments"][-1]["files_ok"] == 0
    rejects = (tmp_path / "o" / "rejects.csv").read_text()
    assert "truncated" in rejects and wav.stem in rejects


def test_memory_limit_bounds_the_bytes_in_flight(drum_corpus, tmp_path):
    """With a limit a few files' worth (not half of RAM, where the check could not fail): the
    budget made workers wait, and the peak stayed within the limit plus one file's working set
    (an item larger than what is left may run alone: MemoryBudget::reserve)."""
    import soundfile as sf

    sizes = [sf.info(p).frames for p in drum_corpus.rglob("*.wav")]
    need = [f * 4 + (f // 2 + 1) * 4 for f in sizes]  # decoded float32 at 44.1 kHz + resampled to 22.05 kHz
    one_file = max(need)
    # One file's worth: no two files fit together (the precondition below), so with 4 workers
    # starting together some must wait, whatever the timing of the writer's releases.
    limit = one_file
    small = sorted(need)[:2]
    assert sum(small) > limit, "fixture: two files should not fit in one file's budget"
    report = drums.prepare(drum_corpus, tmp_path / "o", jobs=4, memory_limit=limit, show_progress=False)
    assert report["memory_limit_bytes"] == limit
    assert report["memory_waits"] > 0
    assert one_file <= report["peak_reserved_bytes"] <= limit + one_file
