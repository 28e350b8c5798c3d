"""`cadence sample drums --layout NAME`: each sample is laid out as its dataset is distributed.

The answers are read from the written files with a few lines of plain Python (and soundfile,
mido, ElementTree, yaml as independent readers), never from the generator's own plan: the tree
against each dataset's documented layout, annotations parsed in their native format and inside
the audio, audio rate/channels/container as the dataset's, the audio silent before an
instrument's first annotated onset and sounding right after it, determinism, and the default
(egmd) sample byte for byte as before the layouts existed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile
import yaml

from cadence.cli import main
from cadence.sample import drums, layouts

RATE = 44_100
LAYOUTS = [name for name in layouts.LAYOUTS if name != "egmd"]

# Every path each layout may write (relative to OUT), from the datasets' own layouts.
TREE = {
    "enst": r"ENST-drums-public/drummer_[123]/(annotation/[^/]+\.txt|audio/(hi-hat|kick|overhead_L"
            r"|overhead_R|snare|tom_1|tom_2|dry_mix|wet_mix|accompaniment)/[^/]+\.wav)",
    "mdb": r"MDB Drums/(annotations/class/MusicDelta_\w+_class\.txt|annotations/subclass/MusicDelta_"
           r"\w+_subclass\.txt|audio/full_mix/MusicDelta_\w+_MIX\.wav|audio/drum_only/MusicDelta_\w+"
           r"_Drum\.wav)",
    "slakh": r"slakh2100_flac_redux/(train|validation|test)/Track\d{5}/(metadata\.yaml|all_src\.mid|"
             r"mix\.flac|MIDI/S\d\d\.mid|stems/S\d\d\.flac)",
    "idmt": r"IDMT-SMT-DRUMS-V2/(annotation_xml/(RealDrum|TechnoDrum|WaveDrum)\d\d_\d\d#MIX\.xml|"
            r"audio/(RealDrum|TechnoDrum|WaveDrum)\d\d_\d\d#(MIX|KD|SD|HH|KD#train|SD#train|HH#train)"
            r"\.wav)",
    "rbma13": r"rbma_13/(audio/RBMA-13-Track-\d\d\.mp3|annotations/(drums_f|drums_l|drums_m|beats)/"
              r"RBMA-13-Track-\d\d\.txt)",
    "tmidt": r"TMIDT/(mp3/\d+_\w+_-_\w+\.mp3|annotations/(drums_f|drums_l|drums_m|beats)/\d+_\w+_-_"
             r"\w+\.txt|splits/3-fold_cv_acc_\d\.txt)",
    "gmd": r"groove/(info\.csv|drummer\d+/(session\d+|eval_session)/\d+_[a-z]+-[a-z0-9]+_\d+_(beat|"
           r"fill)_\d+-\d+\.(mid|wav))",
    "stemgmd": r"StemGMD/(info\.csv|drummer\d+/(session\d+|eval_session)/\d+_[a-z]+-[a-z0-9]+_\d+_"
               r"(beat|fill)_\d+-\d+(\.mid|/(brooklyn|east_bay|heavy|portland|retro_rock|socal|"
               r"bluebird|detroit_garage|motown_revisited|roots)/(kick|snare|hi_tom|mid_tom|low_tom|"
               r"hihat_closed|hihat_open|crash_left|ride)\.wav))",
    "pairs": r"[\w/]+\.(mid|midi|wav|flac)",
}
GMD_HEADER = ("drummer,session,id,style,bpm,beat_type,time_signature,midi_filename,"
              "audio_filename,duration,split")
# ADTOF's ENST_MIDI labels plus the three it leaves without a pitch.
ENST_LABELS = {"bd", "cs", "rs", "sd", "sd-", "lft", "chh", "lt", "ohh", "lmt", "mt", "cr", "c1",
               "cr1", "cr5", "rc", "rc1", "rc3", "ch", "ch1", "ch5", "spl", "spl2", "cb", "cr2",
               "c", "c4", "rc2", "rc4", "sticks", "mtr", "sweep", "ltr"}
MDB_CLASS = {"KD": "KD", "SD": "SD", "SDB": "SD", "SDD": "SD", "SDF": "SD", "SDG": "SD",
             "SDNS": "SD", "SST": "SD", "CHH": "HH", "OHH": "HH", "PHH": "HH", "HIT": "TT",
             "MHT": "TT", "HFT": "TT", "LFT": "TT", "RDC": "CY", "RDB": "CY", "CRC": "CY",
             "CHC": "CY", "SPC": "CY", "TMB": "OT"}
# The E-GMD sample of `cadence sample drums OUT` (seed 0, defaults), as it was before the
# layouts were added: sha256 over "relpath sha256(file)" lines. Change only on purpose.
EGMD_DIGEST = "ca1cefb7f9692b9d092bcaf8b76f976e672f97c3c06628219611dd419701a11b"


def _digest(root: Path) -> str:
    lines = [f"{p.relative_to(root).as_posix()} {hashlib.sha256(p.read_bytes()).hexdigest()}"
             for p in sorted(root.rglob("*")) if p.is_file()]
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    base = tmp_path_factory.mktemp("layouts")
    return {name: layouts.generate(name, base / name, seed=0) for name in LAYOUTS}


def _files(sample) -> list[str]:
    return sorted(p.relative_to(sample.root).as_posix() for p in sample.root.rglob("*") if p.is_file())


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines(keepends=True)


def _silent_then_sounding(audio: np.ndarray, onset_s: float) -> None:
    """Silence up to the first onset's sample, sound within 1 ms after it."""
    s = round(onset_s * RATE)
    mono = audio if audio.ndim == 1 else audio.mean(axis=1)
    assert not np.any(mono[:s]), f"sound before the first onset at {onset_s}"
    assert np.abs(mono[s:s + 44]).max() > 1e-4, f"no sound right after the onset at {onset_s}"


def _midi_onsets(path: Path) -> list[tuple[float, int, int]]:
    """(seconds, channel, pitch) of every note-on, mido's own tempo handling."""
    out, t = [], 0.0
    for msg in mido.MidiFile(path):
        t += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            out.append((t, msg.channel, msg.note))
    return out


# --- the tree -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", LAYOUTS)
def test_tree_is_the_datasets_layout(samples, name):
    sample = samples[name]
    files = _files(sample)
    assert files == sorted(sample.files)  # nothing written that the result does not list
    assert len(files) >= 6
    bad = [f for f in files if not re.fullmatch(TREE[name], f)]
    assert not bad, f"{name}: paths outside the dataset's layout: {bad[:5]}"
    assert not any("truth" in f or f.endswith(".json") for f in files)  # no file the real set lacks
    if layouts.TOP_FOLDERS[name]:
        assert {f.split("/")[0] for f in files} == {layouts.TOP_FOLDERS[name]}


def test_enst_tree_and_takes(samples):
    root = samples["enst"].root / "ENST-drums-public"
    takes = sorted(p.relative_to(root) for p in root.glob("drummer_*/annotation/*.txt"))
    assert len({t.parent.parent for t in takes}) == 3
    names = [t.stem for t in takes]
    assert len(names) > len(set(names))  # take names repeat across drummers, as in ENST
    for take in takes:
        audio = root / take.parent.parent / "audio"
        mics = {p.parent.name for p in audio.glob(f"*/{take.stem}.wav")}
        expected = {"hi-hat", "kick", "overhead_L", "overhead_R", "snare", "tom_1", "tom_2",
                    "dry_mix", "wet_mix"}
        assert mics - {"accompaniment"} == expected
        assert ("accompaniment" in mics) == ("minus-one" in take.stem)


def test_mdb_folder_has_its_space_and_pairs(samples):
    root = samples["mdb"].root / "MDB Drums"
    takes = {p.name[:-len("_subclass.txt")] for p in (root / "annotations/subclass").iterdir()}
    assert len(takes) == 3
    for take in takes:
        for rel in (f"annotations/class/{take}_class.txt", f"audio/full_mix/{take}_MIX.wav",
                    f"audio/drum_only/{take}_Drum.wav"):
            assert (root / rel).is_file(), rel


def test_slakh_metadata_names_stems_and_drums(samples):
    root = samples["slakh"].root / "slakh2100_flac_redux"
    ranges = {"train": range(1, 1501), "validation": range(1501, 1876), "test": range(1876, 2101)}
    tracks = sorted(root.glob("*/Track*"))
    assert {t.parent.name for t in tracks} == {"train", "validation", "test"}
    without_drums = []
    for track in tracks:
        assert int(track.name[5:]) in ranges[track.parent.name]
        meta = yaml.safe_load((track / "metadata.yaml").read_text())
        assert {"UUID", "audio_dir", "midi_dir", "normalized", "overall_gain", "stems"} <= set(meta)
        stems = meta["stems"]
        assert sorted(stems) == sorted(p.stem for p in (track / "stems").glob("*.flac"))
        assert sorted(stems) == sorted(p.stem for p in (track / "MIDI").glob("*.mid"))
        for key, stem in stems.items():
            assert {"audio_rendered", "inst_class", "is_drum", "midi_program_name", "plugin_name",
                    "program_num", "integrated_loudness", "midi_saved"} <= set(stem)
            notes = _midi_onsets(track / "MIDI" / f"{key}.mid")
            assert notes
            assert all((ch == 9) == stem["is_drum"] for _, ch, _ in notes)  # drums on channel 10
            if stem["is_drum"]:
                assert stem["inst_class"] == "Drums"
                assert {p for _, _, p in notes} <= set(range(35, 82))  # GM drum pitches
        drums_keys = [k for k, s in stems.items() if s["is_drum"]]
        if not drums_keys:
            without_drums.append(track.name)
        # the mix is the sum of the stems (16-bit rounding of each file aside)
        mix = soundfile.read(track / "mix.flac", dtype="int16")[0].astype(np.int64)
        total = sum(soundfile.read(track / "stems" / f"{k}.flac", dtype="int16")[0].astype(np.int64)
                    for k in stems)
        assert np.abs(mix - total).max() <= len(stems)
    assert len(without_drums) == 1  # one track without a drum stem


def test_idmt_xml_names_its_audio(samples):
    root = samples["idmt"].root / "IDMT-SMT-DRUMS-V2"
    for xml in (root / "annotation_xml").glob("*.xml"):
        doc = ET.parse(xml).getroot()
        assert doc.tag == "instrumentRecording"
        assert (root / "audio" / doc.find("globalParameter/audioFileName").text).is_file()
        training = [e.text for e in doc.findall("globalParameter/audioTrainingFileName")]
        assert sorted(t.split("#")[1] for t in training) == ["HH", "KD", "SD"]
        assert all((root / "audio" / t).is_file() for t in training)


def test_gmd_info_csv(samples):
    root = samples["gmd"].root / "groove"
    assert (root / "info.csv").read_text().splitlines()[0] == GMD_HEADER
    rows = list(csv.DictReader(io.StringIO((root / "info.csv").read_text())))
    assert len(rows) == 3
    assert sum(1 for r in rows if not r["audio_filename"]) == 1  # GMD has rows without audio
    for r in rows:
        assert (root / r["midi_filename"]).is_file()
        assert r["id"].startswith(r["session"] + "/") and r["session"].startswith(r["drummer"])
        assert r["split"] in {"train", "validation", "test"}
        if r["audio_filename"]:
            info = soundfile.info(root / r["audio_filename"])
            assert info.duration == pytest.approx(float(r["duration"]), abs=1e-5)
            assert max(t for t, _, _ in _midi_onsets(root / r["midi_filename"])) < info.duration


def test_stemgmd_nine_stems_per_kit(samples):
    root = samples["stemgmd"].root / "StemGMD"
    rows = list(csv.DictReader(io.StringIO((root / "info.csv").read_text())))
    assert rows and all((root / r["midi_filename"]).is_file() for r in rows)
    for r in rows:
        perf = root / r["midi_filename"][:-len(".mid")]
        kits = [k for k in perf.iterdir() if k.is_dir()]
        assert kits
        for kit in kits:
            stems = {p.stem: soundfile.info(p) for p in kit.glob("*.wav")}
            assert len(stems) == 9
            assert {(i.samplerate, i.channels, i.subtype) for i in stems.values()} == {(RATE, 2, "PCM_16")}
            kick, _ = soundfile.read(kit / "kick.wav")
            onsets = [t for t, _, p in _midi_onsets(root / r["midi_filename"]) if p in (35, 36)]
            _silent_then_sounding(kick, min(onsets))


def test_pairs_each_midi_has_its_audio(samples):
    root = samples["pairs"].root
    midis = sorted(p for p in root.rglob("*") if p.suffix in (".mid", ".midi"))
    assert len(midis) == 3
    suffixes = set()
    for midi in midis:
        audio = [p for p in midi.parent.glob(midi.stem + ".*") if p.suffix in (".wav", ".flac")]
        assert len(audio) == 1
        suffixes |= {midi.suffix, audio[0].suffix}
        info = soundfile.info(audio[0])
        assert (info.samplerate, info.channels) == (RATE, 1)
        assert max(t for t, _, _ in _midi_onsets(midi)) < info.duration
    assert suffixes == {".mid", ".midi", ".wav", ".flac"}


# --- annotations in their native format, inside the audio -------------------------------------
def test_enst_annotations(samples):
    root = samples["enst"].root / "ENST-drums-public"
    labels = set()
    for ann in root.glob("drummer_*/annotation/*.txt"):
        lines = _lines(ann)
        assert lines and all(re.fullmatch(r"\d+\.\d{6} [a-z0-9-]+\n", line) for line in lines)
        times = [float(line.split(" ")[0]) for line in lines]
        assert times == sorted(times)
        labels |= {line.split(" ")[1].strip() for line in lines}
        for wav in ann.parent.parent.glob(f"audio/*/{ann.stem}.wav"):
            info = soundfile.info(wav)
            stereo = wav.parent.name in ("dry_mix", "wet_mix", "accompaniment")
            assert (info.samplerate, info.channels, info.subtype) == (RATE, 2 if stereo else 1, "PCM_16")
            assert 0 < times[0] and times[-1] < info.duration
        kick = [float(l.split(" ")[0]) for l in lines if l.split(" ")[1].strip() == "bd"]
        if kick:  # the kick microphone hears the kick drum exactly from its first annotation
            audio, _ = soundfile.read(ann.parent.parent / "audio/kick" / f"{ann.stem}.wav")
            _silent_then_sounding(audio, kick[0])
        audio, _ = soundfile.read(ann.parent.parent / "audio/dry_mix" / f"{ann.stem}.wav")
        _silent_then_sounding(audio, times[0])
    assert labels <= ENST_LABELS
    assert {"sweep", "mtr", "ltr"} & labels  # labels without a GM pitch, as in ENST
    assert {"sd-", "cr1", "rc3"} <= labels  # ENST's spellings, instance digits included


def test_mdb_annotations(samples):
    root = samples["mdb"].root / "MDB Drums"
    coarse_grid = 0
    for sub in (root / "annotations/subclass").glob("*.txt"):
        take = sub.name[:-len("_subclass.txt")]
        sub_lines = _lines(sub)
        cls_lines = _lines(root / "annotations/class" / f"{take}_class.txt")
        pattern = r"\d+\.\d{6} \t [A-Z]+ \n"  # byte for byte as the originals
        assert all(re.fullmatch(pattern, line) for line in sub_lines + cls_lines)
        sub_parsed = [(float(t), lab.strip()) for t, lab in (l.split("\t") for l in sub_lines)]
        cls_parsed = [(float(t), lab.strip()) for t, lab in (l.split("\t") for l in cls_lines)]
        assert [t for t, _ in sub_parsed] == [t for t, _ in cls_parsed]
        assert [MDB_CLASS[s] for _, s in sub_parsed] == [c for _, c in cls_parsed]
        coarse_grid += all(round(t * 100) == pytest.approx(t * 100, abs=1e-6) for t, _ in sub_parsed)
        for wav in (root / f"audio/full_mix/{take}_MIX.wav", root / f"audio/drum_only/{take}_Drum.wav"):
            info = soundfile.info(wav)
            assert (info.samplerate, info.channels, info.subtype) == (RATE, 2, "PCM_16")
            assert sub_parsed[-1][0] < info.duration
        drums_only, _ = soundfile.read(root / f"audio/drum_only/{take}_Drum.wav")
        _silent_then_sounding(drums_only, sub_parsed[0][0])
    assert coarse_grid == 2  # two takes on MDB's 10 ms grid, one at full precision


def test_idmt_annotations(samples):
    root = samples["idmt"].root / "IDMT-SMT-DRUMS-V2"
    for xml in (root / "annotation_xml").glob("*.xml"):
        events = ET.parse(xml).getroot().findall("transcription/event")
        assert events
        onsets = {"KD": [], "SD": [], "HH": []}
        for e in events:
            assert [c.tag for c in e] == ["pitch", "onsetSec", "offsetSec", "instrument"]
            assert float(e.find("offsetSec").text) > float(e.find("onsetSec").text)
            onsets[e.find("instrument").text].append(float(e.find("onsetSec").text))
        take = xml.name[:-len("#MIX.xml")]
        mix = soundfile.info(root / "audio" / f"{take}#MIX.wav")
        assert (mix.samplerate, mix.channels) == (RATE, 1)
        for inst, times in onsets.items():
            assert times and max(times) < mix.duration
            audio, _ = soundfile.read(root / "audio" / f"{take}#{inst}.wav")
            _silent_then_sounding(audio, min(times))  # each stem holds only its instrument


@pytest.mark.parametrize("name,top,audio_dir", [("rbma13", "rbma_13", "audio"), ("tmidt", "TMIDT", "mp3")])
def test_class_index_annotations(samples, name, top, audio_dir):
    root = samples[name].root / top
    n_classes = {"drums_f": 47, "drums_l": 18, "drums_m": 8}
    mp3s = sorted((root / audio_dir).glob("*.mp3"))
    assert mp3s
    for mp3 in mp3s:
        parsed = {}
        for folder, n in n_classes.items():
            lines = _lines(root / "annotations" / folder / f"{mp3.stem}.txt")
            assert all(re.fullmatch(r"\d+\.\d{6}\t\d+\n", line) for line in lines)
            parsed[folder] = [(float(t), int(c)) for t, c in (l.split("\t") for l in lines)]
            assert all(0 <= c < n for _, c in parsed[folder])
        times = [t for t, _ in parsed["drums_f"]]
        assert times == [t for t, _ in parsed["drums_l"]] == [t for t, _ in parsed["drums_m"]]
        info = soundfile.info(mp3)
        assert (info.format, info.samplerate, info.channels) == ("MP3", RATE, 2)
        assert 0 < times[0] and times[-1] < info.duration - 0.1
        # drums_f index i is GM pitch 35 + i: the kick (35/36) is drums_m class 0 wherever it is
        assert all((m == 0) == (f in (0, 1)) for (_, f), (_, m) in zip(parsed["drums_f"], parsed["drums_m"]))
    if name == "tmidt":
        solo = [p for p in mp3s if not p.stem.endswith("_accomp")]
        assert sorted(p.stem + "_accomp" for p in solo) == sorted(p.stem for p in mp3s if p not in solo)
        folds = sorted((root / "splits").glob("3-fold_cv_acc_*.txt"))
        listed = [line for f in folds for line in f.read_text().split()]
        assert sorted(listed) == sorted(p.stem for p in mp3s)


def test_slakh_audio_format_and_drum_alignment(samples):
    root = samples["slakh"].root / "slakh2100_flac_redux"
    for track in root.glob("*/Track*"):
        meta = yaml.safe_load((track / "metadata.yaml").read_text())
        for flac in [track / "mix.flac", *(track / "stems").glob("*.flac")]:
            info = soundfile.info(flac)
            assert (info.format, info.samplerate, info.channels, info.subtype) == ("FLAC", RATE, 1, "PCM_16")
        for key, stem in meta["stems"].items():
            onsets = _midi_onsets(track / "MIDI" / f"{key}.mid")
            assert max(t for t, _, _ in onsets) < soundfile.info(track / "mix.flac").duration
            if stem["is_drum"]:
                audio, _ = soundfile.read(track / "stems" / f"{key}.flac")
                _silent_then_sounding(audio, min(t for t, _, _ in onsets))


# --- determinism, the default layout, the CLI --------------------------------------------------
def test_same_seed_same_bytes_other_seed_other_notes(samples, tmp_path):
    for name in LAYOUTS:
        again = layouts.generate(name, tmp_path / name, seed=0)
        assert again.files == samples[name].files
        assert _digest(again.root) == _digest(samples[name].root), name
    other = layouts.generate("enst", tmp_path / "enst-seed1", seed=1)
    first = "ENST-drums-public/drummer_1/annotation/110_minus-one_musette_brushes.txt"
    assert (other.root / first).read_text() != (samples["enst"].root / first).read_text()


def test_default_layout_is_the_egmd_sample_unchanged(tmp_path):
    assert main(["sample", "drums", str(tmp_path / "cli"), "-q"]) == 0
    assert main(["sample", "drums", "--layout", "egmd", str(tmp_path / "named"), "-q"]) == 0
    drums.generate(tmp_path / "api")
    assert _digest(tmp_path / "cli") == _digest(tmp_path / "named") == _digest(tmp_path / "api")
    assert _digest(tmp_path / "cli") == EGMD_DIGEST


def test_cli_layout_writes_under_the_top_folder(tmp_path, capsys):
    out = tmp_path / "mdb"
    assert main(["sample", "drums", "--layout", "mdb", str(out)]) == 0
    assert "in the mdb layout" in capsys.readouterr().out
    assert (out / "MDB Drums" / "annotations" / "subclass").is_dir()
    assert not list(tmp_path.glob(".*cadence-tmp*"))  # the temporary directory is gone
    assert main(["sample", "drums", "--layout", "mdb", str(out)]) == 2  # not empty: --force
    assert main(["sample", "drums", "--layout", "enst", str(out), "--force"]) == 2  # not an ENST sample
    assert main(["sample", "drums", "--layout", "mdb", str(out), "--force", "--seed", "3"]) == 0
    with pytest.raises(SystemExit) as e:
        main(["sample", "drums", "--layout", "nope", str(tmp_path / "x")])
    assert e.value.code == 2


def test_cli_layout_zip_has_the_datasets_top_folder(tmp_path):
    import zipfile

    assert main(["sample", "drums", "--layout", "idmt", str(tmp_path / "idmt.zip"), "--zip", "-q"]) == 0
    with zipfile.ZipFile(tmp_path / "idmt.zip") as z:
        names = [n for n in z.namelist() if not n.endswith("/")]
    assert names and all(n.startswith("IDMT-SMT-DRUMS-V2/") for n in names)
    assert not list(tmp_path.glob(".*"))  # no temporary directory left beside it


# --- the engine's annotation readers on the samples ----------------------------------------------
@pytest.mark.parametrize("name,pattern,fmt,sep", [
    ("enst", "ENST-drums-public/*/annotation/*.txt", "enst", " "),
    ("mdb", "MDB Drums/annotations/subclass/*.txt", "mdb", "\t"),
    ("mdb", "MDB Drums/annotations/class/*.txt", "mdb_class", "\t"),
    ("rbma13", "rbma_13/annotations/drums_f/*.txt", "rbma13", "\t"),
    ("tmidt", "TMIDT/annotations/drums_f/*.txt", "tmidt", "\t"),
    ("idmt", "IDMT-SMT-DRUMS-V2/annotation_xml/*.xml", "idmt", None),
])
def test_engine_reads_every_sample_annotation(samples, name, pattern, fmt, sep):
    """_core.read_annotation (the readers `drums prepare` uses) on the samples: one hit per
    annotated onset whose label has a pitch, at its time; the others counted by label."""
    from cadence import _core

    table = _core.annotation_label_map(fmt)
    paths = sorted(samples[name].root.glob(pattern))
    assert paths
    for path in paths:
        if sep is None:
            events = ET.parse(path).getroot().findall("transcription/event")
            parsed = [(float(e.find("onsetSec").text), e.find("instrument").text) for e in events]
        else:
            parsed = [(float(t), label.strip()) for t, label in
                      (line.split(sep, 1) for line in path.read_text().splitlines())]
        mapped = [(t, table[label]) for t, label in parsed if label in table]
        unmapped: dict[str, int] = {}
        for _, label in parsed:
            if label not in table:
                unmapped[label] = unmapped.get(label, 0) + 1
        got = _core.read_annotation(str(path), fmt)
        assert dict(got["unmapped_labels"]) == unmapped
        order = np.lexsort((np.asarray(got["pitch"]), np.asarray(got["time_s"])))
        want = sorted(mapped)
        assert [int(got["pitch"][i]) for i in order] == [p for _, p in want], path.name
        assert np.asarray(got["time_s"])[order] == pytest.approx([t for t, _ in want], abs=1e-9)
