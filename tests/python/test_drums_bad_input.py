"""Every kind of bad input becomes a named reject with the file in its message; the good
inputs of the same run are still prepared."""

import csv
import shutil
import struct

import pytest

from cadence import drums


def wav_header(fmt_tag: int, n_bytes: int) -> bytes:
    fmt = struct.pack("<HHIIHH", fmt_tag, 1, 44100, 88200, 2, 16)
    return (b"RIFF" + struct.pack("<I", 36 + n_bytes) + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt
            + b"data" + struct.pack("<I", n_bytes))


@pytest.fixture
def broken(drum_corpus, tmp_path):
    """The sample corpus with one defect per row; returns (root, {pair_id: expected reason})."""
    root = tmp_path / "corpus"
    shutil.copytree(drum_corpus, root)
    csv_path = root / "e-gmd-v1.0.0.csv"
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    fields = list(rows[0])
    expect = {}

    def pid(row):
        return row["audio_filename"].removesuffix(".wav")

    r = rows[0]; (root / r["audio_filename"]).unlink(); expect[pid(r)] = "missing_audio"
    r = rows[1]; (root / r["midi_filename"]).unlink(); expect[pid(r)] = "missing_midi"
    r = rows[2]; p = root / r["audio_filename"]; p.write_bytes(p.read_bytes()[:20000]); expect[pid(r)] = "bad_audio"
    r = rows[3]; (root / r["midi_filename"]).write_bytes(b"MThd garbage that is not midi"); expect[pid(r)] = "bad_midi"
    r = rows[4]; p = root / r["midi_filename"]; p.write_bytes(p.read_bytes()[:60]); expect[pid(r)] = "bad_midi"
    r = rows[5]; r["duration"] = str(float(r["duration"]) + 5); expect[pid(r)] = "duration_mismatch"
    r = rows[6]; (root / r["audio_filename"]).write_bytes(wav_header(0x1234, 4000) + bytes(4000))
    expect[pid(r)] = "bad_audio"  # an unsupported sample format
    r = rows[7]
    # A MIDI with no notes: header + one empty track.
    (root / r["midi_filename"]).write_bytes(b"MThd" + struct.pack(">IHHH", 6, 0, 1, 480)
                                            + b"MTrk" + struct.pack(">I", 4) + b"\x00\xff\x2f\x00")
    expect[pid(r)] = "no_notes"
    extra = [dict(rows[0], audio_filename="../../etc/passwd.wav", id="x/y/1"),
             dict(rows[0], audio_filename="", id="x/y/2"),
             dict(rows[0], duration="long", audio_filename="drummer9/s/9_x.wav", id="x/y/3")]
    expect.update({"../../etc/passwd.wav": "path_outside_root", "e-gmd-v1.0.0.csv:11": "csv_missing_field",
                   "drummer9/s/9_x.wav": "csv_bad_value"})
    with open(csv_path, "w", newline="") as f:
        w = csv.DictWriter(f, fields)
        w.writeheader()
        w.writerows(rows + extra)
    return root, expect


def test_every_bad_input_is_rejected_with_its_reason(broken, drum_corpus, tmp_path):
    root, expect = broken
    out = tmp_path / "out"
    report = drums.prepare(root, out, show_progress=False)
    with open(out / "rejects.csv", newline="") as f:
        got = {r["pair_id"]: (r["reason"], r["message"]) for r in csv.DictReader(f)}
    assert {k: v[0] for k, v in got.items()} == expect
    for pair_id, (reason, message) in got.items():
        assert message, pair_id
        if reason in ("missing_audio", "bad_audio", "duration_mismatch"):
            assert pair_id.split("/")[-1] in message  # names the file
        if reason.startswith("csv") or reason == "path_outside_root":
            assert "e-gmd-v1.0.0.csv line" in message  # names the CSV line
    assert "truncated" in got[[k for k, v in expect.items() if v == "bad_audio"][0]][1]
    assert sum(report["rejected"].values()) == 11
    assert report["files_ok"] == 0 and report["records"] == 0


def test_good_inputs_survive_beside_bad_ones(drum_corpus, tmp_path):
    root = tmp_path / "corpus"
    shutil.copytree(drum_corpus, root)
    victim = sorted(root.rglob("*.midi"))[0]
    victim.write_bytes(b"\x00" * 10)
    report = drums.prepare(root, tmp_path / "out", show_progress=False)
    assert report["rejected"] == {"bad_midi": 1}
    assert report["files_ok"] == 7
    assert drums.verify(tmp_path / "out") == []


def test_without_a_csv_pairs_by_stem(drum_corpus, tmp_path):
    root = tmp_path / "corpus"
    shutil.copytree(drum_corpus, root)
    (root / "e-gmd-v1.0.0.csv").unlink()
    lonely = next(root.rglob("*.wav"))
    lonely.unlink()
    report = drums.prepare(root, tmp_path / "out", show_progress=False)
    assert report["files_ok"] == 7 and report["rejected"] == {"missing_audio": 1}
    with open(tmp_path / "out" / "rejects.csv", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert row["reason"] == "missing_audio" and lonely.stem in row["message"]
