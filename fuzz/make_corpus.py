"""Writes the committed seed corpora in fuzz/corpus/<target>/ (a few small files each).

Run from the repository root with the project's venv (needs soundfile, a test dependency):
``.venv/bin/python fuzz/make_corpus.py``. Deterministic: re-running gives the same bytes.
libFuzzer grows its corpus in a scratch copy (`make fuzz`); only these seeds are committed.
"""

from __future__ import annotations

import io
import json
import random
import shutil
from pathlib import Path

import numpy as np
import soundfile as sf

from cadence.sample import drums, smf_writer

ROOT = Path(__file__).resolve().parent / "corpus"


def _write(target: str, name: str, data: bytes) -> None:
    d = ROOT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data)


def smf() -> None:
    # Two real generated performances (format 1, running status, tempo maps, CC 4), cut short.
    for i, perf in enumerate(drums.plan_corpus(2, seed=7, min_duration_s=2.0, max_duration_s=3.0)):
        _write("smf_fuzz", f"performance{i}.mid", drums.midi_bytes(perf))
    # Format 0, one tempo change, a zero-length note, no running status.
    t = smf_writer.Track(name="t")
    t.set_tempo(0, 400_000)
    t.note_on(0, 9, 36, 100)
    t.note_off(0, 9, 36)
    t.set_tempo(240, 600_000)
    t.note_on(480, 9, 38, 90)
    t.note_off(500, 9, 38)
    t.control_change(480, 9, 4, 64)
    _write("smf_fuzz", "format0.mid", smf_writer.to_bytes([t], ppq=96, format=0))
    # SMPTE division (25 fps, 40 ticks per frame), a sysex and an unknown chunk.
    body = bytes([0x00, 0x99, 0x24, 0x40, 0x0A, 0x24, 0x00, 0x00, 0xF0, 0x02, 0x7E, 0xF7,
                  0x00, 0xFF, 0x2F, 0x00])
    header = b"MThd" + (6).to_bytes(4, "big") + bytes([0, 0, 0, 1, 0xE7, 40])
    _write("smf_fuzz", "smpte.mid",
           header + b"XTRA" + (2).to_bytes(4, "big") + b"hi" + b"MTrk" + len(body).to_bytes(4, "big") + body)


def audio() -> None:
    t = np.arange(64)
    mono = (0.5 * np.sin(t / 3)).astype("float32")
    stereo = np.stack([mono, -mono / 2], axis=1)
    for name, data, fmt, subtype in [
        ("pcm16_mono.wav", mono, "WAV", "PCM_16"),
        ("float_stereo.wav", stereo, "WAV", "FLOAT"),
        ("pcm24_stereo.wav", stereo, "WAV", "PCM_24"),
        ("ulaw.wav", mono, "WAV", "ULAW"),
        ("imaadpcm.wav", mono, "WAV", "IMA_ADPCM"),
        ("mono.flac", mono, "FLAC", "PCM_16"),
        ("stereo24.flac", stereo, "FLAC", "PCM_24"),
        ("pcm16.aiff", stereo, "AIFF", "PCM_16"),
        ("float.au", mono, "AU", "FLOAT"),
        ("stereo.w64", stereo, "W64", "PCM_16"),
    ]:
        b = io.BytesIO()
        sf.write(b, data, 8000, format=fmt, subtype=subtype)
        _write("audio_fuzz", name, b.getvalue())
    # Lossy containers (libvorbis, libopus, mpg123 under libsndfile): lengths from page granules
    # or frame headers, another kind of promise.
    long = (0.5 * np.sin(np.arange(2000) / 3)).astype("float32")
    for name, fmt, subtype, rate in [("vorbis.ogg", "OGG", "VORBIS", 8000),
                                     ("opus.ogg", "OGG", "OPUS", 48000),
                                     ("layer3.mp3", "MP3", "MPEG_LAYER_III", 8000)]:
        b = io.BytesIO()
        sf.write(b, long, rate, format=fmt, subtype=subtype)
        _write("audio_fuzz", name, b.getvalue())
    # Regression seed: a FLAC whose header claims 2^36 - 1 frames (tests/cpp/io/audio/decoder_test.cpp).
    b = io.BytesIO()
    sf.write(b, np.zeros(16, dtype="float32"), 8000, format="FLAC", subtype="PCM_16")
    d = bytearray(b.getvalue())
    info = int.from_bytes(d[18:26], "big")
    d[18:26] = ((info & ~((1 << 36) - 1)) | ((1 << 36) - 1)).to_bytes(8, "big")
    _write("audio_fuzz", "liar.flac", bytes(d))


def flac_frames() -> None:
    # Whole 16-bit mono FLAC streams behind the 6 control bytes (block size, first frame, skip,
    # count): the decoder skips the header and decodes from frame 0; one seed asks for a frame
    # number the stream does not start with, one for more samples than it holds.
    x = (0.4 * np.sin(np.arange(6000) / 7) * np.exp(-np.arange(6000) / 3000)).astype("float32")
    b = io.BytesIO()
    sf.write(b, x, 22050, format="FLAC", subtype="PCM_16")
    stream = b.getvalue()
    for name, control in [("whole.bin", bytes([0, 0, 0, 0, 0x70, 0x17])),
                          ("skip.bin", bytes([2, 0, 0x10, 0x02, 0x00, 0x04])),
                          ("wrong_frame.bin", bytes([2, 3, 0, 0, 0x80, 0x04])),
                          ("too_many.bin", bytes([3, 0, 0, 0, 0xFF, 0xFF]))]:
        _write("flac_frames_fuzz", name, control + stream)


def random_seeds(target: str, sizes: list[int], seed: int) -> None:
    # The structure-aware targets decode any bytes (FuzzedDataProvider); random seeds of a few
    # sizes get them past the first branches at once.
    rng = random.Random(seed)
    for i, n in enumerate(sizes):
        _write(target, f"random{i}", bytes(rng.randrange(256) for _ in range(n)))


def mapping() -> None:
    gmd9 = {"kick": [36], "snare": [38, 37, 40], "closed_hh": [42, 22, 44], "open_hh": [46, 26],
            "low_tom": [43, 58], "mid_tom": [47, 45], "high_tom": [50, 48],
            "crash": [49, 52, 55, 57], "ride": [51, 53, 59]}
    _write("mapping_fuzz", "gmd9.json", json.dumps(gmd9, indent=1).encode())
    _write("mapping_fuzz", "two.json", b'{"low": [36, 43, 45], "high": [42, 46, 49, 51]}')
    _write("mapping_fuzz", "overlap.json", b'{"a": [36], "b": [36]}')
    _write("mapping_fuzz", "bad_pitch.json", b'{"a": [128, -1, 3.5, true]}')
    _write("mapping_fuzz", "not_object.json", b'[["kick", [36]]]')


def ranges() -> None:
    _write("ranges_fuzz", "level_walking.yaml", b"""tasks:
  level_walking:
    phases:
      0:
        knee_flexion_angle_ipsi_rad: {min: -0.1, max: 0.3}
        hip_flexion_angle_ipsi_rad: {min: 0.2}
      50.5:
        knee_flexion_angle_ipsi_rad: {max: 1.2}
  incline_walking:
    phases:
      100: {ankle_dorsiflexion_angle_ipsi_rad: {min: -0.5, max: 0.5}}
""")
    _write("ranges_fuzz", "anchors.yaml", b"""b: &b {min: 0, max: 1}
tasks:
  run: {phases: {10: {a: *b, c: *b}, 20: {a: {min: .nan, max: .inf}}}}
""")
    _write("ranges_fuzz", "bad.yaml", b"tasks:\n  t:\n    phases:\n      120: {a: {min: 2, max: 1}}\n")


def annotation() -> None:
    # First byte: the format (annotation_fuzz.cpp's order: enst, mdb, mdb_class, rbma13, tmidt,
    # idmt), then the file as the datasets write it, with an unmapped label and a CRLF or two.
    _write("annotation_fuzz", "enst.txt", b"\x00" + b"0.000000 bd\n0.371519 chh\n0.743039 sd-\n1.114558 sweep\n1.48 cr2\n")
    _write("annotation_fuzz", "mdb.txt", b"\x01" + b"0.058\tKD\r\n0.058 \t CHH\r\n0.290\tSDB\r\n\n0.5\tXX\n")
    _write("annotation_fuzz", "mdb_class.txt", b"\x02" + b"0.058\tKD\n0.3\tOT\n0.4\tTT\t0.5\n")
    _write("annotation_fuzz", "rbma13.txt", b"\x03" + b"0.5\t0\n0.75\t7.0\n1.0\t47\n1.25\t46\t100\n")
    _write("annotation_fuzz", "idmt.xml", b"\x05" + b"""<?xml version="1.0" encoding="UTF-8"?>
<instrumentRecording><globalParameter><audioFileName>RealDrum01_00#MIX.wav</audioFileName></globalParameter>
<transcription>
<event><pitch>0</pitch><onsetSec>0.029</onsetSec><offsetSec>0.1</offsetSec><instrument>HH</instrument></event>
<!-- c --><event a="x>y"><onsetSec>-1e-5</onsetSec><instrument>K&#68;</instrument></event>
<event><onsetSec>1.5</onsetSec><instrument>TT</instrument></event>
</transcription></instrumentRecording>
""")


def main() -> None:
    shutil.rmtree(ROOT, ignore_errors=True)
    smf()
    audio()
    flac_frames()
    random_seeds("class_map_fuzz", [8, 40, 200], seed=1)
    random_seeds("arrow_fuzz", [16, 64, 256, 1024], seed=2)
    # The atheris targets of our own files build their inputs from the bytes (fuzz_support.py).
    for k, target in enumerate(("resume_fuzz", "prepared_fuzz", "gait_cache_fuzz", "gait_input_fuzz")):
        random_seeds(target, [16, 64, 256, 512], seed=10 + k)
    mapping()
    ranges()
    annotation()
    total = sum(p.stat().st_size for p in ROOT.rglob("*") if p.is_file())
    print(f"wrote {sum(1 for p in ROOT.rglob('*') if p.is_file())} seeds, {total} bytes, in {ROOT}")


if __name__ == "__main__":
    main()
