"""The E-GMD-shaped sample corpus: layout, CSV, audio and MIDI format, ground truth, determinism.

One corpus is rendered per module (about a second); mido and soundfile are the independent readers.
Rendering is the engine's (TinySoundFont) with pretty_midi's TimGM6mb.sf2 (the `cadence[sample]`
extra, part of the test extra: these tests never skip for want of it).
"""

from __future__ import annotations

import csv
import io
import re
import sys
import wave
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile

from cadence.cli import main
from cadence.sample import drums, soundfont
from cadence.sample.smf_writer import Track, encode_vlq, to_bytes, write_smf


HEADER = ("drummer,session,id,style,bpm,beat_type,time_signature,duration,split,"
          "midi_filename,audio_filename,kit_name")
NAME = re.compile(r"^(drummer\d+)/(session\d+|eval_session)/(\d+)_([a-z]+-[a-z0-9]+)_(\d+)_"
                  r"(beat|fill)_(\d+-\d+)_(\d+)\.(midi|wav)$")
TD17_ONLY = {22, 26, 58, 50, 47, 40, 55, 52, 59}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    calls = []
    root = tmp_path_factory.mktemp("egmd")
    sample = drums.generate(root, seed=0, jobs=2, progress=lambda d, t: calls.append((d, t)))
    with open(sample.csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    return sample, rows, calls


@pytest.fixture(scope="module")
def plan():
    return {p.id: p for p in drums.plan_corpus(4, seed=0)}


def _read_notes(path: Path):
    """(tick, seconds, pitch, velocity) of every note-on, with the full tempo map of track 0."""
    mf = mido.MidiFile(path)
    tempo_events = []
    tick = 0
    for msg in mf.tracks[0]:
        tick += msg.time
        if msg.type == "set_tempo":
            tempo_events.append((tick, msg.tempo))
    notes, tick = [], 0
    for msg in mf.tracks[1]:
        tick += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            seconds, prev_tick, prev_tempo = 0.0, 0, 500_000  # SMF default tempo
            for change_tick, tempo in tempo_events:
                if change_tick >= tick:
                    break
                seconds += (change_tick - prev_tick) * prev_tempo / (mf.ticks_per_beat * 1e6)
                prev_tick, prev_tempo = change_tick, tempo
            seconds += (tick - prev_tick) * prev_tempo / (mf.ticks_per_beat * 1e6)
            notes.append((tick, seconds, msg.note, msg.velocity))
    return mf, tempo_events, notes


# --- CSV and layout ---------------------------------------------------------------------------
def test_csv_header_and_counts(corpus):
    sample, rows, _ = corpus
    assert sample.csv_path.read_text().splitlines()[0] == HEADER
    assert tuple(rows[0]) == drums.CSV_COLUMNS
    assert (sample.n_performances, sample.n_pairs, len(rows)) == (4, 12, 12)
    assert sample.total_audio_s == pytest.approx(sum(float(r["duration"]) for r in rows), abs=1e-3)


def test_rows_point_at_files_named_like_egmd(corpus):
    sample, rows, _ = corpus
    sessions = set()
    for row in rows:
        for column, ext in (("midi_filename", "midi"), ("audio_filename", "wav")):
            m = NAME.match(row[column])
            assert m, row[column]
            drummer, session, number, style, bpm, beat_type, ts, kit, found_ext = m.groups()
            assert (sample.root / row[column]).is_file()
            assert found_ext == ext and drummer == row["drummer"]
            assert f"{drummer}/{session}" == row["session"]
            assert row["id"] == f"{row['session']}/{number}"
            assert (style, bpm, beat_type, ts) == (row["style"].replace("/", "-"), row["bpm"],
                                                  row["beat_type"], row["time_signature"])
        assert row["midi_filename"][:-5] == row["audio_filename"][:-4]
        assert 60 <= int(row["bpm"]) <= 180 and row["kit_name"].endswith("Kit")
        sessions.add(row["session"].split("/")[1])
    assert "eval_session" in sessions
    assert not list(sample.root.rglob("*.part")), "temporary files left behind"


def test_kits_distinct_within_a_performance(corpus):
    _, rows, _ = corpus
    by_id: dict[str, list[str]] = {}
    for row in rows:
        by_id.setdefault(row["id"], []).append(row["kit_name"])
    assert all(len(set(kits)) == 3 for kits in by_id.values())
    assert len({k for kits in by_id.values() for k in kits}) == 8  # cycles through all kits


def test_splits_per_performance(corpus):
    _, rows, _ = corpus
    split_of: dict[str, set[str]] = {}
    for row in rows:
        split_of.setdefault(row["id"], set()).add(row["split"])
    assert all(len(s) == 1 for s in split_of.values())
    assert {s.pop() for s in split_of.values()} == {"train", "validation", "test"}


@pytest.mark.parametrize("n", [3, 5, 12])
def test_every_split_present_from_three_performances(n):
    for seed in range(5):
        assert {p.split for p in drums.plan_corpus(n, seed=seed)} == {"train", "validation", "test"}


# --- audio ------------------------------------------------------------------------------------
def test_wav_format_and_duration(corpus):
    sample, rows, _ = corpus
    for row in rows:
        path = sample.root / row["audio_filename"]
        with wave.open(str(path), "rb") as w:
            assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 44100)
            n_frames = w.getnframes()
        info = soundfile.info(str(path))
        assert (info.samplerate, info.channels, info.subtype) == (44100, 1, "PCM_16")
        assert abs(float(row["duration"]) - n_frames / 44100) < 1e-3
        assert 8.0 <= float(row["duration"]) <= 20.0


def test_audio_starts_on_the_first_onset_and_sounds_at_every_onset(corpus, plan):
    sample, rows, _ = corpus
    for row in rows:
        audio, rate = soundfile.read(str(sample.root / row["audio_filename"]), dtype="float64")
        perf = plan[row["id"]]
        # Sample-exact scheduling: digital silence, then sound from the first onset's sample on.
        first = round(perf.hits[0].onset_s * rate)
        assert np.flatnonzero(audio)[0] == first, row
        for h in perf.hits:
            window = audio[round(h.onset_s * rate): round((h.onset_s + 0.03) * rate)]
            assert np.sqrt(np.mean(window**2)) > 1e-3, (row, h)  # above -60 dBFS
        # The file ends 0.5-1.0 s after its last note.
        assert 0.5 <= perf.duration_s - perf.hits[-1].onset_s <= 1.0


def test_audio_peaks_stay_below_full_scale(corpus):
    sample, rows, _ = corpus
    peaks = []
    for row in rows:
        audio, _ = soundfile.read(str(sample.root / row["audio_filename"]), dtype="int16")
        peaks.append(int(np.abs(audio.astype(np.int32)).max()))
    # RENDER_GAIN leaves every kit of the default corpus at <= 0.79 of full scale: loud, unclipped.
    assert all(0.25 * 32767 < p < 0.8 * 32767 for p in peaks), peaks


def test_render_wav_places_notes_on_their_samples():
    sf2 = drums.find_soundfont()
    for program, _ in drums.list_kits(sf2):
        events = [(4_000, soundfont.NOTE_ON, 36, 100), (4_000 + 2_205, soundfont.NOTE_OFF, 36, 0),
                  (9_000, soundfont.NOTE_ON, 38, 127), (20_000, soundfont.NOTE_ON, 36, 127)]
        data = soundfont.render_wav(sf2, program, events,
                                    n_samples=12_000, sample_rate_hz=44_100, gain=0.5)
        with wave.open(io.BytesIO(data), "rb") as w:
            assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 44_100)
            audio = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").astype(np.int32)
        assert audio.size == 12_000  # cut there: the note at sample 20000 is dropped
        assert np.flatnonzero(audio)[0] == 4_000, program
        before_snare = np.abs(audio[8_800:9_000]).max()
        assert np.abs(audio[9_000:9_200]).max() > 2 * before_snare + 100, program
    with pytest.raises(ValueError, match="no drum kit 99"):
        soundfont.render_wav(sf2, 99, [], n_samples=10, sample_rate_hz=44_100, gain=1)


def test_render_turns_a_loud_render_down_instead_of_clipping():
    sf2 = drums.find_soundfont()
    events = [(0, soundfont.NOTE_ON, pitch, 127) for pitch in (36, 38, 49, 57, 42, 51, 45, 48)]
    data = soundfont.render_wav(sf2, 16, events, n_samples=4_410,
                                sample_rate_hz=44_100, gain=20.0)
    audio = np.frombuffer(data[44:], dtype="<i2").astype(np.int32)
    assert np.abs(audio).max() == round(soundfont.HEADROOM * 32767)


# --- MIDI -------------------------------------------------------------------------------------
def test_midi_structure(corpus):
    sample, rows, _ = corpus
    multi_tempo = 0
    for row in rows:
        mf, tempo_events, _ = _read_notes(sample.root / row["midi_filename"])
        assert (mf.type, len(mf.tracks), mf.ticks_per_beat) == (1, 2, 480)
        assert not [m for m in mf.tracks[0] if not m.is_meta]
        msgs = [m for m in mf.tracks[1] if not m.is_meta]
        assert {m.channel for m in msgs} == {9}
        assert not [m for m in msgs if m.type == "note_off"]
        ons = [m for m in msgs if m.type == "note_on"]
        assert sum(m.velocity == 0 for m in ons) == sum(m.velocity > 0 for m in ons)
        assert any(m.type == "control_change" and m.control == 4 for m in msgs)
        assert tempo_events[0][0] == 0
        multi_tempo += len({t for t, _ in tempo_events}) > 1
    assert multi_tempo >= 3  # at least one performance, rendered with 3 kits


def test_midi_onsets_match_ground_truth(corpus, plan):
    sample, rows, _ = corpus
    for row in rows:
        _, _, notes = _read_notes(sample.root / row["midi_filename"])
        truth = plan[row["id"]].hits
        assert [(t, p, v) for t, _, p, v in notes] == [(h.onset_tick, h.pitch, h.velocity)
                                                        for h in truth]
        np.testing.assert_allclose([s for _, s, _, _ in notes], [h.onset_s for h in truth],
                                   atol=1e-9)


def test_performances_have_merge_cases_and_td17_pitches():
    plans = drums.plan_corpus(4, seed=0)
    by_tick: dict[tuple[str, int], set[int]] = {}
    for perf in plans:
        for h in perf.hits:
            by_tick.setdefault((perf.id, h.onset_tick), set()).add(h.pitch)
    # Kick and crash on exactly the same tick.
    assert any(36 in pitches and pitches & {49, 55, 57, 52} for pitches in by_tick.values())
    for perf in drums.plan_corpus(4, seed=0):
        onsets = np.array(sorted({h.onset_s for h in perf.hits}))
        gaps_ms = np.diff(onsets) * 1e3
        if np.any((gaps_ms >= 2) & (gaps_ms <= 8)):
            break
    else:
        pytest.fail("no near-simultaneous (2-8 ms) onsets in the default corpus")
    assert {h.pitch for p in plans for h in p.hits} & TD17_ONLY


@pytest.mark.parametrize("seed", range(6))
def test_tempo_changes_mid_file(seed):
    plans = drums.plan_corpus(2, seed=seed)
    assert any(len(p.tempo_map) > 1 and p.tempo_map[1][0] > 0 for p in plans)


def test_stored_midi_uses_running_status():
    for perf in drums.plan_corpus(4, seed=0):
        stored = drums.midi_bytes(perf)
        plain = to_bytes(drums._tracks(perf), ppq=480, format=1, running_status=False)
        # Every repeated 0x99 (note-on, and note-off as velocity 0) lost its status byte.
        assert stored.count(b"\x99") < plain.count(b"\x99") / 2
        assert len(plain) - len(stored) > len(perf.hits)


def test_rendered_events_map_td17_pitches_to_gm():
    for perf in drums.plan_corpus(4, seed=0):
        stored, rendered = drums._events(perf), drums._events(perf, drums.GM_RENDER_PITCH)
        stored_ons = [(t, a) for t, kind, a, _ in stored if kind == soundfont.NOTE_ON]
        rendered_ons = [(t, a) for t, kind, a, _ in rendered if kind == soundfont.NOTE_ON]
        assert {a for _, a in stored_ons} & TD17_ONLY
        assert not {a for _, a in rendered_ons} & TD17_ONLY
        assert sorted({(t, drums.GM_RENDER_PITCH.get(a, a)) for t, a in stored_ons}) == rendered_ons
        assert [e for e in stored if e[1] == soundfont.CONTROL] == \
            [e for e in rendered if e[1] == soundfont.CONTROL]  # the hi-hat pedal, unchanged
        assert rendered == sorted(rendered)


def test_grooves_fill_their_bars():
    for _, grooves in drums._STYLES.values():
        for (num, den), steps_per_beat, voices in grooves:
            assert {len(p) for p in voices.values()} == {num * 4 * steps_per_beat // den}


# --- determinism ------------------------------------------------------------------------------
@pytest.mark.parametrize("jobs", [1, 2])
def test_same_seed_same_bytes_whatever_jobs(corpus, tmp_path, jobs):
    sample, _, _ = corpus  # rendered with jobs=2
    again = drums.generate(tmp_path, seed=0, jobs=jobs)
    files = sorted(p.relative_to(sample.root) for p in sample.root.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(again.root) for p in again.root.rglob("*") if p.is_file())
    for rel in files:
        assert (sample.root / rel).read_bytes() == (again.root / rel).read_bytes(), rel


def test_different_seed_different_midi():
    a = [drums.midi_bytes(p) for p in drums.plan_corpus(4, seed=0)]
    b = [drums.midi_bytes(p) for p in drums.plan_corpus(4, seed=1)]
    assert a == [drums.midi_bytes(p) for p in drums.plan_corpus(4, seed=0)]
    assert all(x != y for x, y in zip(a, b))


def test_progress_reports_every_render(corpus):
    _, _, calls = corpus
    assert calls == [(i, 12) for i in range(1, 13)]


# --- failures ---------------------------------------------------------------------------------
def test_interrupted_generate_leaves_no_half_file(tmp_path, monkeypatch):
    real_render, count = drums._render, []

    def flaky(*args):
        count.append(1)
        if len(count) == 3:
            raise KeyboardInterrupt  # as if the user pressed Ctrl-C mid-run
        return real_render(*args)

    monkeypatch.setattr(drums, "_render", flaky)
    with pytest.raises(KeyboardInterrupt):
        drums.generate(tmp_path, performances=2, kits=2, jobs=1, max_duration_s=8.0)
    assert not (tmp_path / "e-gmd-v1.0.0.csv").exists()
    assert not list(tmp_path.rglob("*.part"))
    wavs = list(tmp_path.rglob("*.wav"))
    assert 2 <= len(wavs) <= 3  # the render already running when the third failed may finish
    for path in wavs:
        with wave.open(str(path), "rb") as w:
            assert path.stat().st_size == 44 + 2 * w.getnframes()


def test_errors_say_what_to_install(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="soundfont not found"):
        drums.find_soundfont(tmp_path / "missing.sf2")
    monkeypatch.setattr(soundfont, "SOUNDFONT_DIR", tmp_path)
    monkeypatch.setitem(sys.modules, "pretty_midi", None)  # `import pretty_midi` fails
    with pytest.raises(FileNotFoundError, match=re.escape("pip install 'cadence[sample]'")):
        drums.find_soundfont()
    with pytest.raises(FileNotFoundError, match=re.escape("pip install 'cadence[sample]'")):
        drums.generate(tmp_path)
    assert not list(tmp_path.iterdir())
    with pytest.raises(ValueError, match="min_duration_s"):
        drums.plan_corpus(2, min_duration_s=10.0, max_duration_s=5.0)


def test_cli_without_the_soundfont_says_what_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(soundfont, "SOUNDFONT_DIR", tmp_path / "none")
    monkeypatch.setitem(sys.modules, "pretty_midi", None)  # as if the [sample] extra were missing
    assert main(["sample", "drums", str(tmp_path / "out"), "-q"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert "pip install 'cadence[sample]'" in err and "soundfont" in err
    assert not list(tmp_path.iterdir())  # nothing left behind


def test_default_soundfont_is_pretty_midis():
    import pretty_midi
    shipped = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
    assert drums.find_soundfont() == shipped
    assert [name for _, name in drums.list_kits(shipped)] == [
        "Standard Kit", "Room Kit", "Power Kit", "Electronic Kit", "TR 808 Kit", "Jazz Kit",
        "Brush Kit", "Orchestra Kit"]
    assert drums.find_soundfont(shipped) == shipped  # an explicit path comes first


def test_too_many_kits(tmp_path):
    n_kits = len(drums.list_kits(drums.find_soundfont()))
    with pytest.raises(ValueError, match=f"1..{n_kits}"):
        drums.generate(tmp_path, kits=n_kits + 1)


# --- SMF writer -------------------------------------------------------------------------------
@pytest.mark.parametrize("value, encoded", [
    (0, "00"), (0x40, "40"), (0x7F, "7f"), (0x80, "8100"), (0x2000, "c000"), (0x3FFF, "ff7f"),
    (0x4000, "818000"), (0x1FFFFF, "ffff7f"), (0x200000, "81808000"), (0x0FFFFFFF, "ffffff7f")])
def test_vlq_matches_the_smf_spec_table(value, encoded):
    assert encode_vlq(value).hex() == encoded


@pytest.mark.parametrize("smf_format", [0, 1])
@pytest.mark.parametrize("running_status", [True, False])
def test_smf_writer_round_trips_through_mido(tmp_path, smf_format, running_status):
    meta = Track("tempo map")
    meta.time_signature(0, 7, 8)
    meta.set_tempo(0, 1)  # absurd tempi: 1 us and the 24-bit maximum per quarter
    meta.set_tempo(1000, 0xFFFFFF)
    notes = meta if smf_format == 0 else Track("notes")
    notes.program_change(0, 9, 25)
    notes.note_on(0, 9, 36, 100)
    notes.note_on(0, 9, 42, 64)
    notes.control_change(5, 9, 4, 127)
    notes.note_off(90, 9, 36)
    notes.note_off(90, 9, 42, 30, as_note_on=False)
    notes.note_on(200_000, 3, 60, 1)
    notes.end_tick = 300_000
    tracks = [meta] if smf_format == 0 else [meta, notes]
    path = tmp_path / "x.mid"
    write_smf(path, tracks, ppq=96, format=smf_format, running_status=running_status)
    mf = mido.MidiFile(path)
    assert (mf.type, mf.ticks_per_beat, len(mf.tracks)) == (smf_format, 96, len(tracks))
    M, Meta = mido.Message, mido.MetaMessage
    tempo_track = [(0, Meta("track_name", name="tempo map")),
                   (0, Meta("time_signature", numerator=7, denominator=8)),
                   (0, Meta("set_tempo", tempo=1))]
    note_track = [(0, M("program_change", channel=9, program=25)),
                  (0, M("note_on", channel=9, note=36, velocity=100)),
                  (0, M("note_on", channel=9, note=42, velocity=64)),
                  (5, M("control_change", channel=9, control=4, value=127)),
                  (90, M("note_on", channel=9, note=36, velocity=0)),
                  (90, M("note_off", channel=9, note=42, velocity=30))]
    late_tempo = [(1000, Meta("set_tempo", tempo=0xFFFFFF))]
    last_note = [(200_000, M("note_on", channel=3, note=60, velocity=1))]
    end = [(300_000, Meta("end_of_track"))]
    if smf_format == 0:
        expected = [tempo_track + note_track + late_tempo + last_note + end]
    else:
        expected = [tempo_track + late_tempo + [(1000, Meta("end_of_track"))],
                    [(0, Meta("track_name", name="notes"))] + note_track + last_note + end]
    for track, want in zip(mf.tracks, expected):
        ticks = np.cumsum([m.time for m in track]).tolist()
        assert list(zip(ticks, [m.copy(time=0) for m in track])) == want
    # Running status drops one repeated 0x99 status byte (the second note-on at tick 0); the CC
    # and meta events in between force the others to be written.
    other = to_bytes(tracks, ppq=96, format=smf_format, running_status=not running_status)
    assert len(other) - path.stat().st_size == (1 if running_status else -1)


def test_smf_writer_rejects_bad_input():
    with pytest.raises(ValueError, match="format 0 holds exactly one track"):
        to_bytes([Track(), Track()], format=0)
    with pytest.raises(ValueError, match="velocity"):
        Track().note_on(0, 9, 36, 128)
    with pytest.raises(ValueError, match="power of two"):
        Track().time_signature(0, 4, 3)
