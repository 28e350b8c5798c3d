"""The engine's annotation readers through the bindings (_core.read_annotation,
annotation_label_map) and PrepareRun's annotation inputs.

Expected values come from the annotation text written here and from ADTOF's published tables
(adtof/ressources/instrumentsMapping.py), copied below as literals: never from our parser.
mirdata has no loader for ENST-Drums, MDB-Drums, IDMT-SMT-Drums, RBMA13 or TMIDT (its loaders:
groove_midi and slakh among the drum sets), so there is no second parser to compare against.
"""

import math
import wave

import numpy as np
import pyarrow as pa
import pytest

from cadence import _core

# ADTOF ENST_MIDI, as published.
ADTOF_ENST_MIDI = {
    "bd": 35, "cs": 37, "rs": 38, "sd": 38, "sd-": 38, "lft": 41, "chh": 42, "lt": 45, "ohh": 46,
    "lmt": 47, "mt": 48, "cr": 49, "c1": 49, "cr1": 49, "cr5": 49, "rc": 51, "rc1": 51, "rc3": 51,
    "ch": 52, "ch1": 52, "ch5": 52, "spl": 55, "spl2": 55, "cb": 56, "cr2": 57, "c": 57, "c4": 57,
    "rc2": 59, "rc4": 59, "sticks": 75,
}
# ADTOF MDBS_MIDI (MDB-Drums subclass labels), as published.
ADTOF_MDBS_MIDI = {
    "KD": 35, "SD": 38, "SDB": 38, "SDD": 38, "SDF": 38, "SDG": 38, "SDNS": 38, "CHH": 42, "OHH": 46,
    "PHH": 44, "HIT": 50, "MHT": 48, "HFT": 43, "LFT": 41, "RDC": 51, "RDB": 53, "CRC": 49, "CHC": 52,
    "SPC": 55, "SST": 37, "TMB": 54,
}

ENST_TEXT = """0.000000 bd
0.371519 chh
0.743039 sd-
1.114558 sweep
1.486077 cr2
1.857596 rc4
2.229116 mtr
2.600635 sticks
"""


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _expected(text, table, sep=None):
    """(times, pitches, unmapped) read from annotation text by splitting its lines."""
    times, pitches, unmapped = [], [], {}
    for line in text.splitlines():
        if not line.strip():
            continue
        t, label = line.split(sep)[:2]
        label = label.strip()
        if label in table:
            times.append(float(t))
            pitches.append(table[label])
        else:
            unmapped[label] = unmapped.get(label, 0) + 1
    return times, pitches, unmapped


def test_label_maps_are_adtofs():
    assert _core.annotation_label_map("enst") == ADTOF_ENST_MIDI
    assert _core.annotation_label_map("mdb") == ADTOF_MDBS_MIDI
    assert _core.annotation_label_map("rbma13") == {str(i): 35 + i for i in range(47)}
    assert _core.annotation_label_map("tmidt") == {str(i): 35 + i for i in range(47)}
    assert _core.annotation_label_map("idmt") == {"KD": 35, "SD": 38, "HH": 42}
    assert _core.annotation_label_map("mdb_class") == {"KD": 35, "SD": 38, "HH": 42, "TT": 47, "CY": 49}
    assert _core.annotation_label_map("midi") == {}
    assert _core.annotation_formats() == ["midi", "enst", "mdb", "mdb_class", "rbma13", "tmidt", "idmt"]


def test_enst_hits_and_unmapped_labels(tmp_path):
    got = _core.read_annotation(_write(tmp_path, "001_hits.txt", ENST_TEXT), "enst")
    times, pitches, unmapped = _expected(ENST_TEXT, ADTOF_ENST_MIDI)
    assert got["time_s"].dtype == np.float64
    np.testing.assert_array_equal(got["time_s"], times)
    np.testing.assert_array_equal(got["pitch"], pitches)
    assert got["pitch"].tolist()[:3] == [35, 42, 38]  # bd is 35, sd- is a snare
    np.testing.assert_array_equal(got["velocity"], [_core.ANNOTATION_DEFAULT_VELOCITY] * len(times))
    assert got["unmapped_labels"] == unmapped == {"sweep": 1, "mtr": 1}


def test_mdb_subclass_and_class_files(tmp_path):
    sub = "0.058\tKD\n0.058\tCHH\n0.290\tSDB\n0.523\tOHH\n0.755\tRDB\n0.988\tTMB\n"
    got = _core.read_annotation(_write(tmp_path, "MusicDelta_Punk_subclass.txt", sub), "mdb")
    times, pitches, unmapped = _expected(sub, ADTOF_MDBS_MIDI, "\t")
    np.testing.assert_array_equal(got["time_s"], times)
    np.testing.assert_array_equal(got["pitch"], pitches)
    assert got["unmapped_labels"] == unmapped == {}
    cls = "0.058\tKD\r\n0.058\tHH\r\n0.290\tSD\r\n0.5\tTT\r\n0.7\tCY\r\n0.9\tOT\r\n"
    got = _core.read_annotation(_write(tmp_path, "MusicDelta_Punk_class.txt", cls), "mdb_class")
    assert got["pitch"].tolist() == [35, 42, 38, 47, 49]
    assert got["unmapped_labels"] == {"OT": 1}


@pytest.mark.parametrize("fmt", ["rbma13", "tmidt"])
def test_class_index_files(tmp_path, fmt):
    text = "0.25\t0\n0.5\t7\n0.75\t3\n1.0\t46\n1.25\t47\n"
    got = _core.read_annotation(_write(tmp_path, "track.txt", text), fmt)
    np.testing.assert_array_equal(got["time_s"], [0.25, 0.5, 0.75, 1.0])
    assert got["pitch"].tolist() == [35 + 0, 35 + 7, 35 + 3, 35 + 46]
    assert got["unmapped_labels"] == {"47": 1}


def test_idmt_xml(tmp_path):
    xml = """<?xml version="1.0" encoding="UTF-8"?>
<instrumentRecording>
  <globalParameter><audioFileName>RealDrum01_00#MIX.wav</audioFileName></globalParameter>
  <transcription>
    <event><pitch>0</pitch><onsetSec>0.029</onsetSec><offsetSec>0.1</offsetSec><instrument>HH</instrument></event>
    <event><pitch>0</pitch><onsetSec>0.522</onsetSec><offsetSec>0.6</offsetSec><instrument>KD</instrument></event>
    <event><pitch>0</pitch><onsetSec>1.045</onsetSec><offsetSec>1.1</offsetSec><instrument>SD</instrument></event>
  </transcription>
</instrumentRecording>
"""
    got = _core.read_annotation(_write(tmp_path, "RealDrum01_00#MIX.xml", xml), "idmt")
    np.testing.assert_array_equal(got["time_s"], [0.029, 0.522, 1.045])
    assert got["pitch"].tolist() == [42, 35, 38]
    assert got["unmapped_labels"] == {}


def test_malformed_lines_name_file_and_line(tmp_path):
    path = _write(tmp_path, "take.txt", "0.1 bd\n0.2 sd\n0.3\n")
    with pytest.raises(ValueError, match=r"take\.txt:3: expected 'time label'"):
        _core.read_annotation(path, "enst")
    path = _write(tmp_path, "a.xml", "<r>\n<event><onsetSec>x</onsetSec><instrument>KD</instrument></event></r>")
    with pytest.raises(ValueError, match=r"a\.xml:2: onsetSec 'x' is not a number"):
        _core.read_annotation(path, "idmt")
    with pytest.raises(ValueError, match="is not one of midi, enst"):
        _core.read_annotation(path, "ENST")
    with pytest.raises(ValueError, match="cannot open"):
        _core.read_annotation(str(tmp_path / "missing.txt"), "enst")


def _engine(**over):
    return dict(layout="clips", sample_rate_hz=0, merge_s=0.01, pad_before_s=0.0, clip_s=0.01, codec="float32",
                index_codec="flac", flac_level=0, csv_tolerance_s=1.0, midi_tolerance_s=1.0, map_name="raw",
                classes=[]) | over


def _run(inputs, **over):
    job = _core.Job(jobs=1, memory_limit_bytes=0)
    run = _core.PrepareRun(inputs, job, **_engine(**over))
    out = []
    while (r := run.next()) is not None:
        out.append(r)
    return out


def test_prepare_run_takes_annotation_inputs(tmp_path):
    rate = 8000
    wav = tmp_path / "take.wav"
    _write_wav(wav, np.full(rate * 3, 0.25, dtype=np.float32), rate)
    ann = _write(tmp_path, "take.txt", ENST_TEXT)
    (result,) = _run([([ann], "enst", [str(wav)], math.nan)])
    assert result.ok, result.message
    records = _records(result)
    times, pitches, unmapped = _expected(ENST_TEXT, ADTOF_ENST_MIDI)
    assert records["onset_s"] == times
    assert [p[0] for p in records["pitches"]] == pitches
    assert result.stats["unmapped_labels"] == unmapped
    bad = _write(tmp_path, "bad.txt", "0.1 bd\nbd 0.2\n")
    (rejected,) = _run([([bad], "enst", [str(wav)], math.nan)])
    assert rejected.reject == "bad_annotation"
    assert rejected.message == f"{bad}:2: time 'bd' is not a number of seconds"
    assert "bad_annotation" in _core.drums_reject_reasons()
    with pytest.raises(ValueError, match="is not one of"):
        _run([([ann], "nope", [str(wav)], math.nan)])
    with pytest.raises(ValueError, match="a PrepareRun input is"):
        _run([(ann, str(wav))])


def _write_wav(path, samples, rate):
    """16-bit mono PCM WAV (the standard library's writer)."""
    pcm = np.round(np.clip(samples, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def _records(result):
    return pa.record_batch(result.records).to_pydict()


def test_prepare_run_reads_annotation_members_of_a_zip(tmp_path):
    import zipfile

    rate = 8000
    wav = tmp_path / "take.wav"
    _write_wav(wav, np.full(rate * 3, 0.25, dtype=np.float32), rate)
    archive = tmp_path / "ENST.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("ENST-drums-public/drummer_1/annotation/take.txt", ENST_TEXT)
        z.writestr("ENST-drums-public/drummer_1/annotation/bad.txt", "0.1 bd\n0.2\n")
        z.write(wav, "ENST-drums-public/drummer_1/audio/wet_mix/take.wav")
    ann = "ENST-drums-public/drummer_1/annotation/"
    audio = "ENST-drums-public/drummer_1/audio/wet_mix/take.wav"
    ok, bad, missing = _run([([ann + "take.txt"], "enst", [audio], math.nan),
                             ([ann + "bad.txt"], "enst", [audio], math.nan),
                             ([ann + "none.txt"], "enst", [audio], math.nan)], archive=str(archive))
    assert ok.ok, ok.message
    times, pitches, unmapped = _expected(ENST_TEXT, ADTOF_ENST_MIDI)
    assert _records(ok)["onset_s"] == times
    assert ok.stats["unmapped_labels"] == unmapped
    assert (bad.reject, bad.message) == ("bad_annotation", f"{archive}:{ann}bad.txt:2: expected 'time label', found only '0.2'")
    assert missing.reject == "missing_annotation"
