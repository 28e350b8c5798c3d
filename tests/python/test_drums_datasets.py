"""Every dataset layout through `drums prepare` (issue 19): each annotated onset becomes a record
at its time (to the sample, at the source rate) with its GM pitch, nothing extra, simultaneous
hits merged by the merge rule, the audio of each record the chosen recording's (stereo averaged,
stems summed), the Slakh drum stems those metadata.yaml marks; and the bad inputs.

The expected onsets are read from the annotation files with a few lines of plain Python (text
split, ElementTree, pretty_midi for MIDI), never through the engine's readers; the label -> GM
pitch tables are the engine's (checked against ADTOF's published tables in
test_drums_annotation.py).
"""

from __future__ import annotations

import csv
import posixpath
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pretty_midi
import pyarrow.parquet as pq
import pytest
import soundfile
import yaml

from cadence import _core, drums
from cadence.drums import datasets
from cadence.drums.corpus import Corpus
from cadence.drums.prepare import NothingSelected
from cadence.sample import layouts

MERGE_S = 0.010
PAD_S, CLIP_S = 0.02, 0.2
LAYOUTS = [n for n in layouts.LAYOUTS if n != "egmd"]
ROOT_OF = {n: layouts.TOP_FOLDERS[n] for n in LAYOUTS}


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    base = tmp_path_factory.mktemp("layouts")
    out = {}
    for name in LAYOUTS:
        layouts.generate(name, base / name)
        out[name] = base / name / ROOT_OF[name] if ROOT_OF[name] else base / name
    return out


def _prepared(root, out, **kw):
    """Clips at the source rate as float32, every pitch its own class: records can be compared
    with the annotations and the audio exactly."""
    drums.prepare(root, out, layout="clips", sample_rate_hz=0, codec="float32", mapping="raw",
                  merge_ms=MERGE_S * 1e3, pad_before_s=PAD_S, clip_s=CLIP_S, show_progress=False, jobs=2, **kw)
    return pq.read_table(sorted(Path(out).glob("records-*.parquet"))[0]).to_pydict(), drums.open(out)


def _text_hits(path: Path, fmt: str) -> list[tuple[float, int]]:
    table = _core.annotation_label_map(fmt)
    hits = []
    for line in path.read_text().splitlines():
        fields = line.split()
        if fields and fields[1] in table:
            hits.append((float(fields[0]), table[fields[1]]))
    return hits


def _xml_hits(path: Path) -> list[tuple[float, int]]:
    table = _core.annotation_label_map("idmt")
    return [(float(e.findtext("onsetSec")), table[e.findtext("instrument")])
            for e in ET.parse(path).getroot().iter("event") if e.findtext("instrument") in table]


def _midi_hits(*paths: Path) -> list[tuple[float, int]]:
    return [(n.start, n.pitch) for p in paths for i in pretty_midi.PrettyMIDI(str(p)).instruments for n in i.notes]


def _merged(hits: list[tuple[float, int]]) -> list[tuple[float, list[int]]]:
    """The merge rule, written out: sorted by (time, pitch); a hit within MERGE_S of its group's
    first hit joins the group."""
    groups: list[tuple[float, list[int]]] = []
    for t, p in sorted(hits):
        if groups and t - groups[-1][0] <= MERGE_S:
            groups[-1][1].append(p)
        else:
            groups.append((t, [p]))
    return groups


def _sample(t_s: float, rate: int) -> int:
    """A time's sample: rounded half away from zero (Python's round() rounds half to even)."""
    return int(np.floor(t_s * rate + 0.5))


def _mono(*paths: Path) -> tuple[np.ndarray, int]:
    total, rate = None, 0
    for p in paths:
        data, rate = soundfile.read(p, dtype="float32", always_2d=True)
        mono = data.mean(axis=1)
        total = mono if total is None else total[: len(mono)] + mono[: len(total)]
    return total, rate


def _expected(name: str, root: Path, pair_id: str) -> tuple[list, list[Path]]:
    """(merged onsets, the recordings) of one pair, read from the files the layout documents."""
    if name == "enst":
        drummer, take = pair_id.split("/")
        return (_merged(_text_hits(root / drummer / "annotation" / f"{take}.txt", "enst")),
                [root / drummer / "audio" / "wet_mix" / f"{take}.wav"])
    if name == "mdb":
        return (_merged(_text_hits(root / "annotations" / "subclass" / f"{pair_id}_subclass.txt", "mdb")),
                [root / "audio" / "full_mix" / f"{pair_id}_MIX.wav"])
    if name == "idmt":
        return (_merged(_xml_hits(root / "annotation_xml" / f"{pair_id}#MIX.xml")),
                [root / "audio" / f"{pair_id}#MIX.wav"])
    if name == "rbma13":
        return (_merged(_text_hits(root / "annotations" / "drums_f" / f"{pair_id}.txt", "rbma13")),
                [root / "audio" / f"{pair_id}.mp3"])
    if name == "tmidt":
        return (_merged(_text_hits(root / "annotations" / "drums_f" / f"{pair_id}_accomp.txt", "tmidt")),
                [root / "mp3" / f"{pair_id}_accomp.mp3"])
    if name == "slakh":
        meta = yaml.safe_load((root / pair_id / "metadata.yaml").read_text())
        stems = sorted(s for s, m in meta["stems"].items() if m["is_drum"])
        return (_merged(_midi_hits(*(root / pair_id / "MIDI" / f"{s}.mid" for s in stems))),
                [root / pair_id / "mix.flac"])
    if name == "stemgmd":
        performance, kit = pair_id.rsplit("/", 1)
        return (_merged(_midi_hits(root / f"{performance}.mid")), sorted((root / performance / kit).glob("*.wav")))
    if name == "gmd":
        with open(root / "info.csv", newline="") as f:
            row = next(r for r in csv.DictReader(f) if r["audio_filename"].startswith(pair_id))
        return _merged(_midi_hits(root / row["midi_filename"])), [root / row["audio_filename"]]
    midi = next(p for p in root.rglob("*") if p.suffix in (".mid", ".midi") and
                p.relative_to(root).with_suffix("").as_posix() == pair_id)
    audio = next(p for p in midi.parent.iterdir() if p.stem == midi.stem and p.suffix in (".wav", ".flac"))
    return _merged(_midi_hits(midi)), [audio]


@pytest.mark.parametrize("name", LAYOUTS)
def test_each_annotated_onset_is_one_record_with_its_audio(name, samples, tmp_path):
    root = samples[name]
    records, ds = _prepared(root, tmp_path / "out")
    assert datasets.detect(Corpus(root)) == name
    by_pair: dict[str, list[int]] = {}
    for i, pid in enumerate(records["pair_id"]):
        by_pair.setdefault(pid, []).append(i)
    assert by_pair, name
    mp3 = name in ("rbma13", "tmidt")
    for pid, rows in by_pair.items():
        onsets, recordings = _expected(name, root, pid)
        audio, rate = _mono(*recordings)
        # Onsets at or past the audio's end hold no audio: left out (and counted) by prepare.
        onsets = [(t, p) for t, p in onsets if _sample(t, rate) < len(audio)]
        got = [(records["onset_s"][i], records["pitches"][i]) for i in rows]
        assert len(got) == len(onsets), (name, pid)
        for (t_got, p_got), (t_want, p_want) in zip(got, onsets):
            assert abs(t_got - t_want) < 1e-6 and sorted(p_got) == sorted(p_want), (name, pid, t_want)
        # To the sample: the engine's time (equal to the file's above) at the rate, rounded.
        assert [records["onset_sample"][i] for i in rows] == [_sample(records["onset_s"][i], rate) for i in rows]
        assert set(records["dataset"][i] for i in rows) == {name}
        for i in rows[:: max(1, len(rows) // 6)]:  # a few windows per pair, against the recording
            start = records["onset_sample"][i] - _sample(PAD_S, rate)
            want = np.zeros(_sample(CLIP_S, rate), np.float32)
            lo, hi = max(start, 0), min(start + len(want), len(audio))
            want[lo - start: hi - start] = audio[lo:hi]
            np.testing.assert_allclose(ds[i]["audio"], want, atol=2e-3 if mp3 else 1e-6, err_msg=f"{name} {pid}")


def test_slakh_drum_stems_come_from_metadata(samples, tmp_path):
    """--audio drums: the stems metadata.yaml marks is_drum, summed; a track without one is
    listed as unpaired, not an error."""
    root = samples["slakh"]
    records, ds = _prepared(root, tmp_path / "out", audio="drums")
    report = __import__("json").loads((tmp_path / "out" / "report.json").read_text())
    assert report["rejected"] == {}
    assert any(f.startswith("train/Track00002/") for f in report["unpaired_files"])
    pid = records["pair_id"][0]
    meta = yaml.safe_load((root / pid / "metadata.yaml").read_text())
    stems = [root / pid / "stems" / f"{s}.flac" for s, m in sorted(meta["stems"].items()) if m["is_drum"]]
    assert stems and len(stems) < len(meta["stems"])
    audio, rate = _mono(*stems)
    i = records["pair_id"].index(pid)
    start = records["onset_sample"][i] - round(PAD_S * rate)
    np.testing.assert_allclose(ds[i]["audio"][-start:] if start < 0 else ds[i]["audio"],
                               audio[max(start, 0): max(start, 0) + len(ds[i]["audio"]) + min(start, 0)],
                               atol=1e-6)


def test_enst_unmapped_labels_are_counted_per_dataset(samples, tmp_path):
    root = samples["enst"]
    drums.prepare(root, tmp_path / "out", show_progress=False, jobs=2)
    report = __import__("json").loads((tmp_path / "out" / "report.json").read_text())
    want: dict[str, int] = {}
    table = _core.annotation_label_map("enst")
    for f in root.glob("drummer_*/annotation/*.txt"):
        for line in f.read_text().splitlines():
            label = line.split()[1]
            if label not in table:
                want[label] = want.get(label, 0) + 1
    assert want and report["unmapped_labels"] == {"enst": dict(sorted(want.items()))}
    assert drums.open(tmp_path / "out").filter(dataset="enst") is not None
    with pytest.raises(ValueError, match="present: enst"):
        drums.open(tmp_path / "out").filter(dataset="mdb")


def test_a_malformed_annotation_line_rejects_the_pair_with_file_and_line(samples, tmp_path):
    root = tmp_path / "MDB Drums"
    shutil.copytree(samples["mdb"], root)
    bad = root / "annotations" / "subclass" / "MusicDelta_Reggae_subclass.txt"
    lines = bad.read_text().splitlines(keepends=True)
    lines.insert(3, "0.5x0000 \t KD \n")
    bad.write_text("".join(lines))
    drums.prepare(root, tmp_path / "out", show_progress=False, jobs=2)
    with open(tmp_path / "out" / "rejects.csv", newline="") as f:
        rejects = list(csv.DictReader(f))
    assert [r["pair_id"] for r in rejects] == ["MusicDelta_Reggae"]
    assert rejects[0]["reason"] == "bad_annotation" and f"{bad.name}:4" in rejects[0]["message"]
    assert sorted(set(pq.read_table(tmp_path / "out" / "files-00000.parquet").column("pair_id").to_pylist())) == [
        "MusicDelta_80sRock", "MusicDelta_SwingJazz"]


def test_annotations_past_the_end_of_the_audio_reject_the_pair(samples, tmp_path):
    root = tmp_path / "ENST-drums-public"
    shutil.copytree(samples["enst"], root)
    take = root / "drummer_2" / "annotation" / "001_hits_snare-drum_sticks_x6.txt"
    take.write_text(take.read_text() + "30.000000 sd\n")  # 27 s past a 3 s take
    drums.prepare(root, tmp_path / "out", show_progress=False, jobs=2)
    with open(tmp_path / "out" / "rejects.csv", newline="") as f:
        rejects = {r["pair_id"]: r["reason"] for r in csv.DictReader(f)}
    assert rejects == {"drummer_2/001_hits_snare-drum_sticks_x6": "midi_past_audio"}


def test_two_datasets_under_one_root_need_dataset(samples, tmp_path):
    root = tmp_path / "both"
    shutil.copytree(samples["mdb"], root)
    shutil.copytree(samples["idmt"], root, dirs_exist_ok=True)
    with pytest.raises(ValueError, match=r"several datasets \(mdb, idmt\).*--dataset mdb"):
        drums.prepare(root, tmp_path / "out", show_progress=False)
    assert not (tmp_path / "out").exists()
    report = drums.prepare(root, tmp_path / "out", dataset="idmt", show_progress=False, jobs=2)
    assert report["files_ok"] == 3


def test_nothing_recognised_says_what_was_looked_for(tmp_path):
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "notes.txt").write_text("hello")
    with pytest.raises(NothingSelected, match=r"holds no drum dataset \(looked for egmd: .*enst: drummer_N"):
        drums.prepare(tmp_path / "r", tmp_path / "out", show_progress=False)


def test_audio_choice_is_checked_and_recorded(samples, tmp_path):
    with pytest.raises(ValueError, match="mdb's recordings are full_mix, drum_only"):
        drums.prepare(samples["mdb"], tmp_path / "x", audio="wet_mix", show_progress=False)
    drums.prepare(samples["mdb"], tmp_path / "out", audio="drum_only", show_progress=False, jobs=2)
    manifest = __import__("json").loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["config"]["dataset"] == "mdb" and manifest["config"]["choices"] == {"audio": "drum_only"}
    assert manifest["config"]["mapping"] == "adtof5"  # --mapping auto for an ADT dataset
    files = pq.read_table(tmp_path / "out" / "files-00000.parquet")
    assert set(files.column("dataset").to_pylist()) == {"mdb"}


def test_layouts_from_a_zip_give_the_directory_records(samples, tmp_path):
    from cadence.drums.archive import write_zip

    write_zip(samples["enst"], tmp_path / "enst.zip", top="ENST-drums-public")
    a = drums.prepare(samples["enst"], tmp_path / "a", show_progress=False, jobs=2)
    b = drums.prepare(tmp_path / "enst.zip", tmp_path / "b", show_progress=False, jobs=2)
    assert a["records"] == b["records"] > 0
    for f in ("onsets-00000.parquet", "audio-00000.bin"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes()
    assert posixpath.basename(str(tmp_path / "enst.zip")) == "enst.zip"


def test_the_parent_of_a_dataset_folder_names_the_folder(samples, tmp_path):
    parent = tmp_path / "downloads"
    shutil.copytree(samples["mdb"], parent / "MDB Drums")
    with pytest.raises(NothingSelected, match="holds one folder, MDB Drums, which is MDB-Drums: give '.*MDB Drums' as ROOT"):
        drums.prepare(parent, tmp_path / "out", show_progress=False)


def test_a_flac_beside_an_mp3_is_read_first(samples, tmp_path):
    """RBMA13/TMIDT with a libsndfile without MP3 (the wheels'): the converted FLAC beside each MP3
    is the recording; the MP3 is then listed as unpaired."""
    root = tmp_path / "rbma_13"
    shutil.copytree(samples["rbma13"], root)
    for mp3 in (root / "audio").glob("*.mp3"):
        data, rate = soundfile.read(mp3, dtype="float32")
        soundfile.write(mp3.with_suffix(".flac"), data, rate, subtype="PCM_16")
    listing = datasets.list_pairs(Corpus(root))
    assert [p.audio_paths for p in listing.pairs] == [(f"audio/{p.pair_id}.flac",) for p in listing.pairs]
    report = drums.prepare(root, tmp_path / "out", show_progress=False, jobs=2)
    assert report["files_ok"] == len(listing.pairs) and report["rejected"] == {}
    assert sorted(f for f in report["unpaired_files"] if f.endswith(".mp3")) == sorted(
        f"audio/{p.pair_id}.mp3" for p in listing.pairs)


def test_metadata_is_read_at_its_size_and_refused_past_the_limit(tmp_path, monkeypatch):
    """Corpus.read allocates what the file holds (a read of the limit allocated 1 GiB for every
    CSV, which resume_fuzz's memory limit caught), and refuses a file past the limit by name."""
    import pyarrow as pa

    from cadence.drums import corpus as corpus_mod

    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "info.csv").write_text("a,b\n1,2\n")
    c = Corpus(tmp_path / "r")
    pool = pa.default_memory_pool()
    before = pool.max_memory()
    assert c.read("info.csv") == b"a,b\n1,2\n"
    assert pool.max_memory() - before < 1 << 20
    monkeypatch.setattr(corpus_mod, "METADATA_MAX_BYTES", 4)
    with pytest.raises(ValueError, match="info.csv: larger than 4 bytes"):
        c.read("info.csv", corpus_mod.METADATA_MAX_BYTES)
