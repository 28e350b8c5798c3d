"""MIDI/audio alignment per file and per kit: rendered pairs with injected offsets (0, +/-5,
+/-20, +/-80 ms) over several kits are estimated within 1 ms; --max-offset-ms rejects,
--align moves the onsets; report.json, the manifest and `drums inspect` show the offsets."""

import csv
import json
import shutil

import numpy as np
import pretty_midi
import pytest
import soundfile as sf

from cadence import drums
from cadence.cli import main

OFFSETS_MS = (0, 5, -5, 20, -20, 80, -80)


def _shifted(src, dst, offset_ms):
    """A copy of the corpus whose audio comes `offset_ms` later than its MIDI (earlier if < 0):
    silence put in front, or the start cut off, at the file's own rate."""
    shutil.copytree(src, dst)
    for wav in dst.rglob("*.wav"):
        x, sr = sf.read(wav, dtype="int16")
        n = round(abs(offset_ms) * sr / 1000)
        y = np.concatenate([np.zeros(n, x.dtype), x]) if offset_ms > 0 else x[n:]
        sf.write(wav, y, sr, subtype="PCM_16")
    return dst


def _first_sound_ms(corpus, row):
    """An independent look at a render's own latency: the first sample above -80 dBFS minus the
    first MIDI onset (a threshold crossing, so it lags a sharp onset by a fraction of a ms)."""
    x, sr = sf.read(corpus / row["audio_filename"])
    first_midi = min(n.start for i in pretty_midi.PrettyMIDI(str(corpus / row["midi_filename"])).instruments
                     for n in i.notes)
    return (np.argmax(np.abs(x) > 1e-4) / sr - first_midi) * 1e3


@pytest.fixture(scope="module")
def estimates(drum_corpus, tmp_path_factory):
    """offset -> {pair_id: estimated ms}, from prepare's manifest."""
    out = {}
    for d in OFFSETS_MS:
        base = tmp_path_factory.mktemp(f"shift{d}")
        root = _shifted(drum_corpus, base / "corpus", d) if d else drum_corpus
        drums.prepare(root, base / "out", jobs=2, show_progress=False)
        manifest = json.loads((base / "out" / "manifest.json").read_text())
        out[d] = {p: v["align_offset_ms"] for p, v in manifest["inputs"].items()}
    return out


def test_render_latency_is_nil_and_its_estimate_within_1_ms(drum_corpus, estimates):
    with open(drum_corpus / "e-gmd-v1.0.0.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    kits = {r["kit_name"] for r in rows}
    assert len(kits) >= 3  # several kits, each its own timbres
    for row in rows:
        pid = row["audio_filename"].removesuffix(".wav")
        # The renderer starts each note on its own sample: the audio is not late at all, and the
        # estimate is within 1 ms of that (measured: -0.7 to -0.2 ms).
        assert abs(_first_sound_ms(drum_corpus, row)) < 0.05
        assert abs(estimates[0][pid]) < 1.0
        assert abs(estimates[0][pid] - _first_sound_ms(drum_corpus, row)) < 1.0


@pytest.mark.parametrize("offset_ms", [d for d in OFFSETS_MS if d])
def test_injected_offset_within_one_ms(estimates, offset_ms):
    base, shifted = estimates[0], estimates[offset_ms]
    assert set(base) == set(shifted) and len(base) == 8
    for pid, ms in shifted.items():
        assert abs(ms - (base[pid] + offset_ms)) < 1.0, (pid, ms, base[pid])


def test_report_per_kit_and_inspect(drum_corpus, tmp_path, capsys):
    out = tmp_path / "out"
    report = drums.prepare(_shifted(drum_corpus, tmp_path / "c", 20), out, show_progress=False)
    a = report["alignment"]
    assert a["files"] == 8 and a["max_offset_ms"] is None and "beyond_max" not in a
    assert 19.0 < a["median_ms"] < 21.0  # the 20 ms injected; the renders themselves are not late
    assert sum(k["files"] for k in a["per_kit"].values()) == 8 and len(a["per_kit"]) >= 3
    assert report["stages_s"]["align"] > 0
    assert drums.inspect(out)["alignment"] == a
    assert main(["drums", "inspect", str(out)]) == 0
    text = capsys.readouterr().out
    assert "alignment" in text and "per kit" in text


def test_max_offset_rejects_and_align_moves_onsets(drum_corpus, tmp_path):
    late = _shifted(drum_corpus, tmp_path / "late", 80)
    r = drums.prepare(late, tmp_path / "strict", max_offset_ms=50, show_progress=False)
    assert r["rejected"] == {"misaligned": 8} and r["files_ok"] == 0
    assert len(r["alignment"]["beyond_max"]) == 8
    with open(tmp_path / "strict" / "rejects.csv") as f:
        assert "from its MIDI, beyond --max-offset-ms" in f.read()
    r = drums.prepare(late, tmp_path / "loose", max_offset_ms=100, show_progress=False)
    assert r["files_ok"] == 8 and r["alignment"]["beyond_max"] == []

    plain = drums.prepare(late, tmp_path / "plain", show_progress=False)
    fixed = drums.prepare(late, tmp_path / "fixed", align=True, show_progress=False)
    assert fixed["alignment"]["onsets_corrected"] and plain["records"] == fixed["records"]
    a = drums.open(tmp_path / "plain").labels.to_pydict()
    b = drums.open(tmp_path / "fixed").labels.to_pydict()
    offsets = json.loads((tmp_path / "fixed" / "manifest.json").read_text())["inputs"]
    for pid, before, after in zip(a["pair_id"], a["onset_s"], b["onset_s"]):
        assert after == pytest.approx(before + offsets[pid]["align_offset_ms"] / 1e3, abs=2e-6)


def test_options_are_journalled(drum_corpus, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["drums", "prepare", str(drum_corpus), str(out), "--max-offset-ms", "30", "--align", "-q"]) == 0
    opts = drums.journal_options(out, drum_corpus)
    assert opts["max_offset_ms"] == 30 and opts["align"] is True
    assert main(["drums", "prepare", str(drum_corpus), str(out), "--resume", "-q"]) == 0
    assert main(["drums", "prepare", str(drum_corpus), str(out), "--resume", "--max-offset-ms", "5", "-q"]) == 2
    assert "--max-offset-ms was 30" in capsys.readouterr().err
    assert main(["drums", "prepare", str(drum_corpus), str(tmp_path / "bad"), "--max-offset-ms", "-1", "-q"]) == 2
