"""``drums prepare --slakh-kit-map adtof`` (issue 19, point 4): each Slakh drum stem's notes go
through ADTOF's table for its kit (metadata.yaml ``plugin_name``) before the class map; off by
default (the notes as the GM pitches they are); a kit the table lacks keeps its notes, counted
in report.json. The expected pitches are computed here from the MIDI files read with
pretty_midi and the table written out below from ADTOF's published values, never through the
engine.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import pretty_midi
import pyarrow.parquet as pq
import pytest
import yaml

from cadence import _core, drums
from cadence.drums import kit_maps
from cadence.sample import layouts

# ADTOF, adtof/ressources/instrumentsMapping.py, SLAKH2100_MIDI["funk_kit.nkm"] (commit
# 8426c9ae449484283d03eb91d30db4ce38e158ee): key -> GM pitch, or the pitches of a pattern key.
FUNK_KIT = {
    **{k: 39 for k in range(24, 36)}, 36: 36, 37: 37, 38: 38, 39: 38, 40: 40, 41: 41, 42: 42, 43: 43, 44: 44,
    45: 45, 46: 46, 47: 47, 48: 48, 49: 49, 50: 50, 51: 51, 52: 50, 53: 50, 54: 53, 55: 55, 56: 56, 57: 57,
    58: 55, 59: 59, 60: (36, 42), 61: (36, 44), 62: (36, 46), 63: 36, 64: (36, 42), 65: (36, 41), 66: (36, 44),
    67: (36, 42), 68: (36, 42, 47), 69: (36, 42, 43), 70: (36, 42), 71: (36, 42),
}
# Three more of ADTOF's entries, one per other kind of source (NI's mapping PDFs, Abbey Road).
OTHER_KITS = {("street_knowledge_kit.nkm", 41): (82,), ("garage_kit_lite.nkm", 35): (31,),
              ("ar_modern_sparkle_kit_full.nkm", 70): (44,), ("ar_modern_white_kit_full.nkm", 31): (52,)}


def _funk(pitch: int) -> tuple[int, ...]:
    """What a funk_kit key sounds as; a key the table lacks stays as it is (ADTOF's readLabels)."""
    mapped = FUNK_KIT.get(pitch, pitch)
    return mapped if isinstance(mapped, tuple) else (mapped,)


@pytest.fixture(scope="module")
def slakh(tmp_path_factory):
    """The Slakh sample (every drum stem is funk_kit.nkm), with one drum stem's MIDI replaced by
    keys the sample's grooves do not play: pattern keys, a clap key, and keys the table lacks."""
    base = tmp_path_factory.mktemp("slakh")
    layouts.generate("slakh", base)
    root = base / layouts.TOP_FOLDERS["slakh"]
    pm = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    kit = pretty_midi.Instrument(program=0, is_drum=True)
    for i, key in enumerate((60, 68, 24, 54, 52, 100, 36, 62, 39, 20)):
        kit.notes.append(pretty_midi.Note(velocity=90, pitch=key, start=0.5 + 0.5 * i, end=0.6 + 0.5 * i))
    pm.instruments.append(kit)
    pm.write(str(root / "train/Track00001/MIDI/S01.mid"))
    return root


def _onsets(out: Path) -> dict:
    return pq.read_table(sorted(out.glob("onsets-*.parquet"))[0]).to_pydict()


def _pitches_by_pair(t: dict) -> dict[str, Counter]:
    by: dict[str, Counter] = {}
    for pid, pitches in zip(t["pair_id"], t["pitches"]):
        by.setdefault(pid, Counter()).update(pitches)
    return by


def _drum_stem_pitches(root: Path, pid: str, remap) -> Counter:
    meta = yaml.safe_load((root / pid / "metadata.yaml").read_text())
    want: Counter = Counter()
    for stem, m in sorted(meta["stems"].items()):
        if m["is_drum"]:
            for inst in pretty_midi.PrettyMIDI(str(root / pid / "MIDI" / f"{stem}.mid")).instruments:
                for note in inst.notes:
                    want.update(remap(note.pitch, m["plugin_name"]))
    return want


def test_the_table_is_adtofs():
    tables = kit_maps.tables("adtof")
    assert len(tables) == 8
    assert tables["funk_kit.nkm"] == {k: _funk(k) for k in FUNK_KIT}
    for (kit, key), pitches in OTHER_KITS.items():
        assert tables[kit][key] == pitches


def test_kit_map_gives_the_kits_gm_pitches(slakh, tmp_path):
    drums.prepare(slakh, tmp_path / "on", mapping="raw", slakh_kit_map="adtof", show_progress=False, jobs=2)
    got = _pitches_by_pair(_onsets(tmp_path / "on"))
    assert set(got) == {"train/Track00001", "validation/Track01501", "test/Track01876"}
    for pid, pitches in got.items():
        assert pitches == _drum_stem_pitches(slakh, pid, lambda p, plugin: _funk(p)), pid
    # The keys played only there: each pattern key a hit per pitch, at the note's time.
    t = _onsets(tmp_path / "on")
    first = {round(s, 3): sorted(p) for pid, s, p in zip(t["pair_id"], t["onset_s"], t["pitches"])
             if pid == "train/Track00001"}
    assert first[0.5] == [36, 42] and first[1.0] == [36, 42, 47] and first[1.5] == [39]
    assert first[2.0] == [53] and first[2.5] == [50] and first[3.0] == [100] and first[5.0] == [20]
    report = json.loads((tmp_path / "on" / "report.json").read_text())
    assert report["slakh_kit_map"] == {"scheme": "adtof", "unknown_plugins": {}}
    manifest = json.loads((tmp_path / "on" / "manifest.json").read_text())
    assert manifest["config"]["slakh_kit_map"]["scheme"] == "adtof"
    assert manifest["config"]["slakh_kit_map"]["kits"]["funk_kit.nkm"]["60"] == [36, 42]
    assert drums.journal_options(tmp_path / "on", slakh)["slakh_kit_map"] == "adtof"


def test_off_by_default_the_notes_are_gm(slakh, tmp_path):
    drums.prepare(slakh, tmp_path / "off", mapping="raw", show_progress=False, jobs=2)
    got = _pitches_by_pair(_onsets(tmp_path / "off"))
    for pid, pitches in got.items():
        assert pitches == _drum_stem_pitches(slakh, pid, lambda p, plugin: (p,)), pid
    assert 54 in got["train/Track00001"] and 53 in got["validation/Track01501"]  # what the map changes
    config = json.loads((tmp_path / "off" / "manifest.json").read_text())["config"]
    assert "slakh_kit_map" not in config and drums.journal_options(tmp_path / "off", slakh)["slakh_kit_map"] is None
    assert "slakh_kit_map" not in json.loads((tmp_path / "off" / "report.json").read_text())


def test_a_kit_the_table_lacks_keeps_gm_and_is_counted(slakh, tmp_path):
    root = tmp_path / "slakh2100_flac_redux"
    shutil.copytree(slakh, root)
    meta_path = root / "validation/Track01501/metadata.yaml"
    meta = yaml.safe_load(meta_path.read_text())
    for m in meta["stems"].values():
        if m["is_drum"]:
            m["plugin_name"] = "mystery_kit.nkm"
    meta_path.write_text(yaml.safe_dump(meta))
    drums.prepare(root, tmp_path / "out", mapping="raw", slakh_kit_map="adtof", show_progress=False, jobs=2)
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["slakh_kit_map"]["unknown_plugins"] == {"mystery_kit.nkm": 1}
    got = _pitches_by_pair(_onsets(tmp_path / "out"))
    assert got["validation/Track01501"] == _drum_stem_pitches(root, "validation/Track01501", lambda p, plugin: (p,))
    assert got["test/Track01876"] == _drum_stem_pitches(root, "test/Track01876", lambda p, plugin: _funk(p))


def test_only_for_slakh_and_known_schemes(tmp_path):
    layouts.generate("enst", tmp_path / "enst")
    enst = tmp_path / "enst" / layouts.TOP_FOLDERS["enst"]
    with pytest.raises(ValueError, match="--slakh-kit-map is for Slakh2100"):
        drums.prepare(enst, tmp_path / "out", slakh_kit_map="adtof", show_progress=False)
    with pytest.raises(ValueError, match="choose adtof"):
        drums.prepare(enst, tmp_path / "out", slakh_kit_map="mine", show_progress=False)
    assert not (tmp_path / "out").exists()


def test_engine_checks_the_kit_maps():
    """A kit map per annotation path, each [] or 128 non-empty lists of pitches 0..127."""
    engine = dict(layout="clips", sample_rate_hz=0, merge_s=0.01, pad_before_s=0.0, clip_s=0.01, codec="float32",
                  index_codec="flac", flac_level=0, csv_tolerance_s=1.0, midi_tolerance_s=1.0, map_name="raw",
                  classes=[])
    job = _core.Job(jobs=1, memory_limit_bytes=0)
    bad = {"one entry per annotation path": [], "128 entries": [[[36]] * 5],
           "entry 3 lists no pitch": [[[36]] * 3 + [[]] + [[36]] * 124],
           "pitch 128 is not in 0..127": [[[128]] * 128]}
    for message, maps in bad.items():
        with pytest.raises(ValueError, match=message):
            _core.PrepareRun([(["a.mid"], "midi", ["a.wav"], float("nan"), maps)], job, **engine)
    assert len(_core.PrepareRun([(["a.mid"], "midi", ["a.wav"], float("nan"), [[]])], job, **engine)) == 1


def test_kit_maps_travel_with_the_pair(slakh):
    """A Ray task rebuilds its pairs from JSON (ray_executor.py): the kit maps come with them."""
    from cadence.drums import datasets
    from cadence.drums.corpus import Corpus, PairInput

    pairs, unknown = kit_maps.apply(datasets.list_pairs(Corpus(slakh), "slakh").pairs, "adtof")
    assert unknown == {} and all(len(p.kit_maps) == len(p.annotation_paths) for p in pairs)
    for p in pairs:
        back = PairInput.from_json(json.loads(json.dumps(p.to_json())))
        assert back.engine_input(str)[4] == p.engine_input(str)[4]  # [3] is NaN (no CSV duration)
        assert back.engine_input(str)[4][0][54] == (53,) and back.engine_input(str)[4][0][60] == (36, 42)
    plain = datasets.list_pairs(Corpus(slakh), "slakh").pairs[0]
    assert "kit_maps" not in plain.to_json() and len(plain.engine_input(str)) < 5
