"""Finding and selecting pairs: suffixes in any case, stray CSV files, bad CSV values, empty
selections that say why, files that were not paired."""

import csv
import shutil

import mido
import numpy as np
import pytest
import soundfile as sf

from cadence import drums
from cadence.drums import datasets
from cadence.drums.corpus import Corpus
from cadence.drums.datasets import egmd
from cadence.drums.prepare import NothingSelected


def write_midi(path, notes, channel=9):
    """notes: (onset_s, pitch) at 120 bpm, 480 PPQ; `channel` 0-based (9 = GM drums)."""
    mid = mido.MidiFile(ticks_per_beat=480)
    track = mido.MidiTrack()
    mid.tracks.append(track)
    events = []
    for onset_s, pitch, *ch in notes:
        c = ch[0] if ch else channel
        tick = round(onset_s * 960)
        events += [(tick, mido.Message("note_on", note=pitch, velocity=100, channel=c)),
                   (tick + 48, mido.Message("note_off", note=pitch, velocity=0, channel=c))]
    last = 0
    for tick, msg in sorted(events, key=lambda e: e[0]):
        track.append(msg.copy(time=tick - last))
        last = tick
    mid.save(path)


def write_wav(path, seconds, rate=44100, fmt="WAV"):
    t = np.arange(round(seconds * rate)) / rate
    sf.write(path, (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), rate, format=fmt, subtype="PCM_16")


def test_upper_case_audio_suffix_is_paired(tmp_path):
    root = tmp_path / "r"
    root.mkdir()
    write_midi(root / "a.MID", [(0.1, 36)])
    write_wav(root / "a.WAV", 1.0)
    write_midi(root / "b.mid", [(0.1, 38)])
    write_wav(root / "b.Flac", 1.0, fmt="FLAC")
    listing = datasets.list_pairs(Corpus(root), "pairs")
    pairs, rejects = listing.pairs, listing.rejects
    assert [(p.pair_id, p.audio_paths[0].rsplit("/", 1)[-1]) for p in pairs] == [("a", "a.WAV"), ("b", "b.Flac")]
    assert rejects == []


def test_find_csv_passes_over_csv_files_it_cannot_read(drum_corpus, tmp_path):
    root = tmp_path / "c"
    shutil.copytree(drum_corpus, root)
    (root / "aaa-notes.csv").write_bytes("drummer;caf\xe9\n".encode("latin-1") + b"\xff\xfe\n")
    (root / "0-dir.csv").mkdir()
    (root / "rejects.csv").write_text("pair_id,reason,message\n")
    assert egmd.find_csv(Corpus(root)) == "e-gmd-v1.0.0.csv"


@pytest.mark.parametrize("bpm", ["inf", "nan", "-inf", "1e400"])
def test_bpm_that_is_not_a_finite_number_is_a_reject(drum_corpus, tmp_path, bpm):
    root = tmp_path / "c"
    shutil.copytree(drum_corpus, root)
    path = root / "e-gmd-v1.0.0.csv"
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    rows[0]["bpm"] = bpm
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    listing = datasets.list_pairs(Corpus(root), "egmd", csv=path)
    pairs, rejects = listing.pairs, listing.rejects
    assert len(pairs) == len(rows) - 1
    assert [r.reason for r in rejects] == ["csv_bad_value"] and "line 2" in rejects[0].message


def test_no_midi_files_is_an_error_that_says_what_was_found(tmp_path):
    root = tmp_path / "r"
    root.mkdir()
    write_wav(root / "lonely.wav", 0.5)
    (root / "notes.txt").write_text("hello")
    with pytest.raises(NothingSelected, match=r"0 MIDI file\(s\).*1 audio file"):
        drums.prepare(root, tmp_path / "out", show_progress=False)
    assert not (tmp_path / "out").exists()  # nothing created


def test_a_kit_filter_that_matches_nothing_lists_the_kits(drum_corpus, tmp_path):
    with pytest.raises(NothingSelected, match=r"--kits No Such Kit kept 0 of 8 \(present: "):
        drums.prepare(drum_corpus, tmp_path / "out", kits=["No Such Kit"], show_progress=False)
    assert not (tmp_path / "out").exists()


def test_files_that_were_not_paired_are_listed_in_the_report(tmp_path):
    root = tmp_path / "r"
    (root / "s").mkdir(parents=True)
    write_midi(root / "s" / "a.mid", [(0.1, 36), (0.5, 38)])
    write_wav(root / "s" / "a.wav", 1.0)
    write_wav(root / "s" / "b.wav", 1.0)  # no MIDI
    (root / "README.txt").write_text("about")
    report = drums.prepare(root, tmp_path / "out", show_progress=False)
    assert report["files_ok"] == 1
    assert report["unpaired_files"] == ["README.txt", "s/b.wav"]
    assert "not paired     2 files: README.txt, s/b.wav" in drums.prepare_format(report)


@pytest.mark.parametrize("option, value, match", [
    ("limit", -1, "--limit"), ("sample_rate_hz", -5, "--sample-rate"), ("clip_s", 0.0, "--clip"),
    ("clip_s", -0.2, "--clip"), ("memory_limit", "lots", "--memory-limit"), ("memory_limit", "0.5", "--memory-limit"),
    ("shard_size", "0", "--shard-size"), ("merge_ms", float("nan"), "--merge-ms"), ("channels", [0], "--channels"),
    ("flac_level", 9, "--flac-level"), ("jobs", -2, "--jobs"), ("pad_before_s", -1.0, "--pad-before"),
])
def test_bad_options_fail_before_anything_is_written(drum_corpus, tmp_path, option, value, match):
    out = tmp_path / "out"
    with pytest.raises(ValueError, match=match):
        drums.prepare(drum_corpus, out, show_progress=False, **{option: value})
    assert not out.exists()


def test_files_the_csv_does_not_list_are_reported(drum_corpus, tmp_path):
    root = tmp_path / "c"
    shutil.copytree(drum_corpus, root)
    (root / "LICENSE").write_text("CC BY 4.0")
    extra = next(root.rglob("*.wav")).with_name("stray.wav")
    write_wav(extra, 0.5)
    report = drums.prepare(root, tmp_path / "out", show_progress=False)
    assert report["unpaired_files"] == ["LICENSE", str(extra.relative_to(root))]
