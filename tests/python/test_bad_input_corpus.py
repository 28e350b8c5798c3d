"""The bad-input corpus: 27 kinds of broken input across both pipelines. Each must give a named
reject reason (drums) or a clear error / drop-log entry (gait): no crash, no hang, and every good
input beside them is still processed."""

import csv
import math
import struct
import warnings

import numpy as np
import pandas as pd
import pytest

from cadence import drums
from cadence.gait import LocomotionData
from cadence.sample import drums as drum_sample
from cadence.sample import gait as gait_sample
from cadence.sample.smf_writer import Track, to_bytes


def smf(ppq=480, tempo=500_000, notes=((0, 36), (480, 38)), fmt=1, end_tick=None) -> bytes:
    meta = Track("meta")
    meta.set_tempo(0, tempo)
    drums_track = Track("drums", end_tick=end_tick or 0)
    for tick, pitch in notes:
        drums_track.note_on(tick, 9, pitch, 100)
        drums_track.note_off(tick + 10, 9, pitch)
    return to_bytes([meta, drums_track], ppq=ppq, format=fmt)


def with_header(data: bytes, *, ppq=None, tempo_zero=False, fmt=None) -> bytes:
    """Patch fields our writer refuses to produce (it validates them)."""
    b = bytearray(data)
    if ppq is not None:
        b[12:14] = struct.pack(">H", ppq)
    if fmt is not None:
        b[8:10] = struct.pack(">H", fmt)
    if tempo_zero:
        i = b.index(b"\xff\x51\x03")
        b[i + 3:i + 6] = b"\x00\x00\x00"
    return bytes(b)


def wav(samples: np.ndarray, rate=44100, fmt_tag=1, bits=16) -> bytes:
    data = (np.clip(samples, -1, 1) * 32767).astype("<i2").tobytes() if bits == 16 else samples.astype("<f8").tobytes()
    block = bits // 8
    fmt = struct.pack("<HHIIHH", fmt_tag, 1, rate, rate * block, block, bits)
    return b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt + \
        b"data" + struct.pack("<I", len(data)) + data


DRUM_KINDS = {  # kind -> (midi bytes or None, audio bytes or None, expected reason)
    "zero_length_wav": ("good", b"", "bad_audio"),
    "garbage_wav": ("good", b"RIFF" + bytes(range(200)), "bad_audio"),
    "truncated_wav": ("good", "truncated", "bad_audio"),
    "unsupported_sample_format": ("good", wav(np.zeros(4000), fmt_tag=0x1234), "bad_audio"),
    "zero_length_midi": (b"", "good", "bad_midi"),
    "garbage_midi": (bytes(range(256)) * 3, "good", "bad_midi"),
    "truncated_midi": ("truncated", "good", "bad_midi"),
    "absurd_tempo_zero": (with_header(smf(), tempo_zero=True), "good", "bad_midi"),
    "absurd_ppq_zero": (with_header(smf(), ppq=0), "good", "bad_midi"),
    "format_2_midi": (with_header(smf(), fmt=2), "good", "bad_midi"),
    "absurd_delta_time": (smf(notes=((0, 36), (2**27, 38))), "good", "midi_past_audio"),
    "no_notes": (smf(notes=()), "good", "no_notes"),
    "audio_missing": ("good", None, "missing_audio"),
    "float64_stereo_48k_is_fine": ("good", "float64", None),
}


def test_drum_bad_inputs(tmp_path):
    import soundfile as sf

    root = tmp_path / "corpus"
    root.mkdir()
    good_midi = smf()
    good_audio = wav(np.sin(np.arange(44100 * 2) / 20) * 0.3)
    for kind, (midi, audio, _) in DRUM_KINDS.items():
        midi = {"good": good_midi, "truncated": good_midi[:30]}.get(midi, midi) if isinstance(midi, str) else midi
        (root / f"{kind}.mid").write_bytes(midi)
        if audio == "float64":
            sf.write(root / f"{kind}.wav", np.random.default_rng(0).standard_normal((96000, 2)) * 0.1, 48000,
                     subtype="DOUBLE")
        elif audio is not None:
            audio = {"good": good_audio, "truncated": good_audio[:5000]}.get(audio, audio) if isinstance(audio, str) else audio
            (root / f"{kind}.wav").write_bytes(audio)
    for k in range(3):  # good pairs beside the bad ones
        (root / f"good_{k}.mid").write_bytes(good_midi)
        (root / f"good_{k}.wav").write_bytes(good_audio)
    report = drums.prepare(root, tmp_path / "out", show_progress=False)
    with open(tmp_path / "out" / "rejects.csv", newline="") as f:
        got = {r["pair_id"]: r for r in csv.DictReader(f)}
    for kind, (_, _, reason) in DRUM_KINDS.items():
        if reason is None:
            assert kind not in got
        else:
            assert got[kind]["reason"] == reason, (kind, got.get(kind))
            assert kind in got[kind]["message"]  # names the file
    assert report["files_ok"] == 3 + 1
    assert drums.verify(tmp_path / "out") == []


CSV_KINDS = {"csv_missing_field": "csv_missing_field", "csv_path_outside_root": "path_outside_root",
             "csv_bad_number": "csv_bad_value", "csv_duration_mismatch": "duration_mismatch"}


def test_csv_bad_rows(tmp_path):
    root = tmp_path / "egmd"
    drum_sample.generate(root, performances=2, kits=1, seed=5, min_duration_s=2, max_duration_s=3)
    path = root / drum_sample.CSV_NAME
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    good = rows[0]
    bad = [dict(good, id="a", audio_filename="", split="train"),
           dict(good, id="b", audio_filename="../outside.wav"),
           dict(good, id="c", bpm="fast", audio_filename="x/c.wav"),
           dict(rows[1], duration=str(float(rows[1]["duration"]) + 30))]
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, list(good))
        w.writeheader()
        w.writerows([good] + bad)
    report = drums.prepare(root, tmp_path / "out", show_progress=False)
    assert sorted(report["rejected"].items()) == sorted({v: 1 for v in CSV_KINDS.values()}.items())
    assert report["files_ok"] == 1


@pytest.fixture(scope="module")
def gait_df(tmp_path_factory):
    path = tmp_path_factory.mktemp("g") / "clean.parquet"
    gait_sample.generate(path, subjects=2, strides_per_task=4, n_features=20, faults=False)
    return pd.read_parquet(path)


@pytest.mark.parametrize("kind, make, error", [
    ("missing_columns", lambda d: d.drop(columns=["subject"]), "Missing required columns"),
    ("time_indexed", lambda d: d.drop(columns=["phase_ipsi"]).assign(time_s=0.0), "time-indexed"),
    ("empty_table", lambda d: d.iloc[:0], "empty"),
])
def test_gait_unusable_files_raise_clear_errors(gait_df, tmp_path, kind, make, error):
    path = tmp_path / f"{kind}.parquet"
    make(gait_df).to_parquet(path)
    with pytest.raises(ValueError, match=error):
        LocomotionData(path)


@pytest.mark.parametrize("content", [b"", b"PAR1 garbage, not a parquet file PAR1"])
def test_gait_garbage_or_empty_file(tmp_path, content):
    path = tmp_path / "bad.parquet"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="bad.parquet"):
        LocomotionData(path)


def test_gait_wrong_dtype_feature(gait_df, tmp_path):
    d = gait_df.copy()
    d["knee_flexion_angle_ipsi_rad"] = "n/a"  # a text column where a number should be
    d.to_parquet(tmp_path / "s.parquet")
    ld = LocomotionData(tmp_path / "s.parquet")
    with pytest.raises(ValueError, match="s.parquet.*knee_flexion_angle_ipsi_rad.*not numeric"):
        ld.get_cycles(ld.subjects[0], ld.tasks[0], ["knee_flexion_angle_ipsi_rad"])
    assert "knee_flexion_angle_ipsi_rad" not in ld.features


def test_gait_nan_and_inf_fail_validation_only_where_they_are(gait_df, tmp_path):
    d = gait_df.copy()
    s, t = d["subject"].iloc[0], d["task"].iloc[0]
    rows = d.index[(d["subject"] == s) & (d["task"] == t)]
    d.loc[rows[150 + 7], "knee_flexion_angle_ipsi_rad"] = math.inf    # cycle 1
    d.loc[rows[450 + 3], "hip_flexion_moment_ipsi_Nm_kg"] = math.nan  # cycle 3
    d.to_parquet(tmp_path / "n.parquet")  # pandas writes the NaN as a null
    with pytest.warns(UserWarning, match="null values; they are read as NaN"):
        valid = LocomotionData(tmp_path / "n.parquet").validate_cycles(s, t)
    assert not valid[1] and not valid[3]
    assert valid[[i for i in range(len(valid)) if i not in (1, 3)]].all()


@pytest.mark.parametrize("kind, make, reason", [
    ("not_a_multiple_of_150", lambda d: d.drop(index=range(10, 13)), "group_rows_not_multiple_of_150"),
    ("duplicated_rows", lambda d: pd.concat([d.iloc[:150], d]), "duplicate_step"),
])
def test_gait_groups_that_are_not_whole_cycles_are_logged(gait_df, tmp_path, kind, make, reason):
    path = tmp_path / f"{kind}.parquet"
    make(gait_df).to_parquet(path)
    ld = LocomotionData(path)
    log = ld.drop_log
    s, t = gait_df["subject"].iloc[0], gait_df["task"].iloc[0]
    assert len(log) >= 1 and (log["subject"] == s).any()
    assert (log["reason"] == reason).any()  # every case names its reason (was under an always-true `if`)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        data, names = ld.get_cycles(s, t)
    if reason == "group_rows_not_multiple_of_150":
        assert data is None and names == [] and "not divisible by 150" in str(w[0].message)
    other = ld.get_cycles(ld.subjects[-1], ld.tasks[-1])[0]  # the rest of the file is intact
    assert other is not None and other.shape[1] == 150
