"""What `drums prepare` says about its output: rejects.csv is real CSV, report.json covers the
whole directory across resumed runs, records left out are counted, channels are reported."""

import csv
import json
import shutil

import numpy as np
import pytest

from cadence import drums
from test_drums_inputs import write_midi, write_wav


def test_rejects_csv_is_valid_utf8_csv(drum_corpus, tmp_path):
    root = tmp_path / "c"
    shutil.copytree(drum_corpus, root)
    with open(root / "e-gmd-v1.0.0.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    # A non-ASCII path, and a message with quotes in it ("MThd") and a comma.
    victim = root / rows[0]["midi_filename"]
    (victim.parent / "café, \"x\".midi").write_bytes(b"MThd garbage")
    rows[0]["midi_filename"] = str((victim.parent / "café, \"x\".midi").relative_to(root))
    with open(root / "e-gmd-v1.0.0.csv", "w", newline="") as f:
        w = csv.DictWriter(f, list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    drums.prepare(root, tmp_path / "out", show_progress=False)
    raw = (tmp_path / "out" / "rejects.csv").read_bytes()
    assert "café".encode() in raw and b"\\u00e9" not in raw
    with open(tmp_path / "out" / "rejects.csv", newline="", encoding="utf-8") as f:
        got = list(csv.DictReader(f))
    assert [r["reason"] for r in got] == ["bad_midi"]
    assert got[0]["pair_id"] == rows[0]["audio_filename"].removesuffix(".wav")
    assert "café, \"x\".midi: byte 12 (header)" in got[0]["message"]


def test_report_after_resume_covers_the_whole_directory(drum_corpus, tmp_path):
    out = tmp_path / "out"
    first = drums.prepare(drum_corpus, out, limit=3, shard_size="1", show_progress=False)
    full = drums.prepare(drum_corpus, tmp_path / "ref", show_progress=False)
    # Same options, a larger limit would be a different selection: resume a SIGKILL-like state
    # instead by dropping the last commit from the journal of a complete run.
    out2 = tmp_path / "out2"
    drums.prepare(drum_corpus, out2, shard_size="1", show_progress=False)
    lines = (out2 / "journal.jsonl").read_text().splitlines(keepends=True)
    (out2 / "journal.jsonl").write_text("".join(lines[:-3]))  # the last three shards uncommitted
    resumed = drums.prepare(drum_corpus, out2, shard_size="1", resume=True, show_progress=False)
    assert resumed["segments"][-1]["files_ok"] == 3
    for key in ("files_ok", "records", "notes", "audio_hours", "unmapped_hits", "rejected"):
        assert resumed[key] == pytest.approx(full[key]), key
    assert resumed["codecs"] == full["codecs"]
    assert len(resumed["segments"]) == 2 and resumed["segments"][0]["files_ok"] == 8
    on_disk = json.loads((out2 / "report.json").read_text())
    assert on_disk["records"] == full["records"]
    # A resume with nothing left to do keeps the figures and lists one more segment.
    again = drums.prepare(drum_corpus, out2, shard_size="1", resume=True, show_progress=False)
    assert again["records"] == full["records"] and again["files_ok"] == 8
    assert [s["files_ok"] for s in again["segments"]] == [8, 3, 0]
    assert json.loads((out2 / "report.json").read_text())["records"] == full["records"]
    assert first["files_ok"] == 3


def test_onsets_past_the_end_of_the_audio_are_left_out_and_counted(tmp_path):
    root = tmp_path / "r"
    root.mkdir()
    # Audio of 1 s; hits at 0.2 s, 0.6 s, then 1.2 s and 1.5 s (within --midi-tolerance 1 s).
    write_midi(root / "a.mid", [(0.2, 36), (0.6, 38), (1.2, 42), (1.5, 36)])
    write_wav(root / "a.wav", 1.0)
    for layout in ("clips", "index"):
        out = tmp_path / layout
        report = drums.prepare(root, out, layout=layout, show_progress=False)
        assert report["records"] == 2 and report["records_dropped"] == {"onset_past_audio": 2}, layout
        ds = drums.open(out)
        assert len(ds) == 2
        assert all(np.abs(ds[i]["audio"]).max() > 0.1 for i in range(len(ds)))
        assert "records left out onset_past_audio 2" in drums.prepare_format(report)


def test_every_onset_past_the_end_rejects_the_pair(tmp_path):
    root = tmp_path / "r"
    root.mkdir()
    write_midi(root / "a.mid", [(1.1, 36), (1.3, 38)])
    write_wav(root / "a.wav", 1.0)
    report = drums.prepare(root, tmp_path / "out", show_progress=False)
    assert report["rejected"] == {"midi_past_audio": 1} and report["records"] == 0


def test_channel_filter_keeps_the_chosen_channels_and_reports_per_file(tmp_path):
    root = tmp_path / "r"
    root.mkdir()
    # A band file: drums on channel 10 (index 9), bass on channel 1, piano on channel 2.
    write_midi(root / "band.mid", [(0.1, 36, 9), (0.1, 40, 0), (0.3, 38, 9), (0.5, 60, 1), (0.7, 42, 9)])
    write_wav(root / "band.wav", 1.0)
    write_midi(root / "keys.mid", [(0.1, 60, 1), (0.4, 62, 1)])
    write_wav(root / "keys.wav", 1.0)
    every = drums.prepare(root, tmp_path / "all", show_progress=False)
    assert every["notes"] == 7 and every["channels"] is None
    report = drums.prepare(root, tmp_path / "drums", channels=[10], show_progress=False)
    assert report["notes"] == 3 and report["records"] == 3
    assert report["channels"] == [10]
    assert report["notes_by_channel"] == {"1": 1, "10": 3, "2": 1}
    assert report["rejected"] == {"no_notes": 1}
    rejects = (tmp_path / "drums" / "rejects.csv").read_text()
    assert "no notes on channel(s) 10; its notes are on channel(s) 2: 2" in rejects
    manifest = json.loads((tmp_path / "drums" / "manifest.json").read_text())
    assert manifest["inputs"]["band"]["notes_by_channel"] == {"1": 1, "2": 1, "10": 3}
    pitches = sorted(p for x in drums.open(tmp_path / "drums").labels.column("pitches").to_pylist() for p in x)
    assert pitches == [36, 38, 42]
