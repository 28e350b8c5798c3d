"""The SMF parser against pretty_midi and mido: the sample corpus, 240 random files, a property.

pretty_midi reads tempo events from track 0 only (it warns otherwise); we honour every track's.
So the pretty_midi reference is given every track's tempo events moved into track 0, and mido's
merged playback (which honours all of them) checks the times independently of note pairing.
"""

from __future__ import annotations

import csv
import io
import re
import random
import threading
from fractions import Fraction

import mido
import numpy as np
import pretty_midi
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cadence import midi
from cadence.sample import drums
from cadence.sample.smf_writer import Track, encode_vlq, to_bytes


TOL_S = 1e-6


class _Track(Track):
    """smf_writer's Track plus sysex and arbitrary meta events, which the writer lacks."""

    def sysex(self, tick: int, payload: bytes, escape: bool = False) -> None:
        # The writer's running-status logic knows only channel messages: it would omit the F0 of
        # a sysex right after another. A meta event right behind each sysex resets it.
        self._add(tick, 0xF7 if escape else 0xF0, encode_vlq(len(payload)) + payload)
        self.meta(tick, 0x01, b"after sysex")

    def meta(self, tick: int, meta_type: int, payload: bytes) -> None:
        self._meta(tick, meta_type, payload)


# --- references -------------------------------------------------------------------------------

def _pretty_reference(data: bytes):
    """pretty_midi's notes (start, pitch, end, velocity) and tempo changes (times, us/beat)."""
    mid = mido.MidiFile(file=io.BytesIO(data))
    absolute = []
    for index, track in enumerate(mid.tracks):
        tick = 0
        for position, msg in enumerate(track):
            tick += msg.time
            absolute.append((tick, index, position, msg))
    # Tempo events of all tracks join track 0 in (tick, track, position) order, as we merge them.
    track0 = sorted((e for e in absolute if e[1] == 0 or e[3].type == "set_tempo"),
                    key=lambda e: e[:3])
    rebuilt = mido.MidiFile(type=mid.type, ticks_per_beat=mid.ticks_per_beat)
    for index in range(len(mid.tracks)):
        events = track0 if index == 0 else [e for e in absolute
                                             if e[1] == index and e[3].type != "set_tempo"]
        track, previous = mido.MidiTrack(), 0
        for tick, _, _, msg in events:
            track.append(msg.copy(time=tick - previous))
            previous = tick
        rebuilt.tracks.append(track)
    pm = pretty_midi.PrettyMIDI(mido_object=rebuilt)
    notes = np.array(sorted((n.start, n.pitch, n.end, n.velocity)  # as _order sorts ours
                            for inst in pm.instruments for n in inst.notes)).reshape(-1, 4)
    times, bpm = pm.get_tempo_changes()
    tempo = []  # pretty_midi may list several changes at one tick and repeats: normalise
    for t, us in zip(times, np.round(6e7 / bpm).astype(int)):
        if tempo and t == tempo[-1][0]:
            tempo[-1] = (t, us)
        else:
            tempo.append((t, us))
    tempo = [e for i, e in enumerate(tempo) if i == 0 or e[1] != tempo[i - 1][1]]
    # After the same-tick collapse a repeat can follow another repeat: collapse to a fixpoint.
    while any(tempo[i][1] == tempo[i - 1][1] for i in range(1, len(tempo))):
        tempo = [e for i, e in enumerate(tempo) if i == 0 or e[1] != tempo[i - 1][1]]
    return notes, np.array(tempo).reshape(-1, 2)


def _mido_times(data: bytes) -> tuple[dict[int, float], list[tuple[int, int, int]]]:
    """Seconds at every event tick from mido's merged playback; and its note-ons."""
    mid = mido.MidiFile(file=io.BytesIO(data))
    seconds, tick, t = {0: 0.0}, 0, 0.0
    note_ons = []
    for raw, timed in zip(mid.merged_track, mid):
        tick += raw.time
        t += timed.time
        seconds[tick] = t
        if raw.type == "note_on" and raw.velocity > 0:
            note_ons.append((tick, raw.note, raw.velocity))
    return seconds, note_ons


def _order(m: midi.MidiNotes) -> np.ndarray:
    return np.lexsort((m.velocity, m.offset_s, m.pitch, m.onset_s))


def check_against_references(data: bytes, name: str = "<bytes>") -> midi.MidiNotes:
    ours = midi.parse(data, name)
    notes, tempo = _pretty_reference(data)
    # We keep zero-length notes (a drum hit written on/off on one tick); pretty_midi drops them.
    zero = ours.offset_tick == ours.onset_tick
    n_zero = int(zero.sum())
    warned = sum(int(m.group(1)) for w in ours.warnings
                 if (m := re.search(r"(\d+) zero-length notes .* kept", w)))
    assert warned == n_zero, ours.warnings
    assert len(ours) - n_zero == len(notes), ours.warnings
    i = np.array([k for k in _order(ours) if not zero[k]], dtype=np.int64)
    np.testing.assert_array_equal(ours.pitch[i], notes[:, 1])
    np.testing.assert_array_equal(ours.velocity[i], notes[:, 3])
    np.testing.assert_allclose(ours.onset_s[i], notes[:, 0], rtol=0, atol=TOL_S)
    np.testing.assert_allclose(ours.offset_s[i], notes[:, 2], rtol=0, atol=TOL_S)
    np.testing.assert_array_equal(ours.tempo_us_per_beat, tempo[:, 1])
    np.testing.assert_allclose(ours.tempo_s, tempo[:, 0], rtol=0, atol=TOL_S)

    seconds, note_ons = _mido_times(data)
    at = np.vectorize(seconds.__getitem__, otypes=[float])
    if len(ours):
        np.testing.assert_allclose(ours.onset_s, at(ours.onset_tick), rtol=0, atol=TOL_S)
        np.testing.assert_allclose(ours.offset_s, at(ours.offset_tick), rtol=0, atol=TOL_S)
    np.testing.assert_allclose(ours.tempo_s, at(ours.tempo_tick), rtol=0, atol=TOL_S)
    if ours.control_tick.size:
        np.testing.assert_allclose(ours.control_s, at(ours.control_tick), rtol=0, atol=TOL_S)
    assert ours.end_tick == max(seconds)
    assert abs(ours.end_s - seconds[ours.end_tick]) <= TOL_S
    ons = sorted(note_ons)
    for note in zip(ours.onset_tick.tolist(), ours.pitch.tolist(), ours.velocity.tolist()):
        assert note in ons  # every note of ours is a note-on mido saw
    return ours


# --- the sample corpus ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """A generated E-GMD-shaped corpus and its plan."""
    root = tmp_path_factory.mktemp("egmd")
    plan = drums.plan_corpus(6, seed=3)
    drums.generate(root, performances=6, kits=1, seed=3)
    with open(root / drums.CSV_NAME, newline="") as f:
        files = {row["midi_filename"]: row["id"] for row in csv.DictReader(f)}
    by_id = {perf.id: perf for perf in plan}
    return [(root / name, by_id[perf_id]) for name, perf_id in sorted(files.items())]


def test_corpus_matches_references_and_ground_truth(corpus):
    assert len(corpus) == 6
    for path, perf in corpus:
        ours = midi.read(path)
        assert ours.name == str(path)
        check_against_references(path.read_bytes(), str(path))
        assert (ours.format, ours.n_tracks, ours.ppq, ours.warnings) == (1, 2, drums.PPQ, ())
        hits = sorted(perf.hits, key=lambda h: (h.onset_tick, h.pitch))
        np.testing.assert_array_equal(ours.onset_tick, [h.onset_tick for h in hits])
        np.testing.assert_array_equal(ours.offset_tick, [h.off_tick for h in hits])
        np.testing.assert_array_equal(ours.pitch, [h.pitch for h in hits])
        np.testing.assert_array_equal(ours.velocity, [h.velocity for h in hits])
        np.testing.assert_allclose(ours.onset_s, [h.onset_s for h in hits], rtol=0, atol=1e-12)
        assert (ours.channel == drums.DRUM_CHANNEL).all() and (ours.track == 1).all()
        tempo_map = [tm for i, tm in enumerate(perf.tempo_map)
                     if i == 0 or tm[1] != perf.tempo_map[i - 1][1]]
        assert list(zip(ours.tempo_tick.tolist(), ours.tempo_us_per_beat.tolist())) == tempo_map
        assert list(zip(ours.control_tick.tolist(), ours.control_value.tolist())) == list(
            perf.pedal_cc)
        assert (ours.control_number == 4).all()
        last_event = max([perf.end_tick] + [h.off_tick for h in hits] +
                         [tick for tick, _ in perf.pedal_cc])
        assert ours.end_tick == last_event


def test_arrays_are_typed_read_only_and_owned(corpus):
    m = midi.read(corpus[0][0])
    assert m.onset_s.dtype == np.float64 and m.onset_tick.dtype == np.int64
    assert m.pitch.dtype == np.uint8 and m.track.dtype == np.uint16
    assert m.tempo_us_per_beat.dtype == np.uint32 and m.control_value.dtype == np.uint8
    assert len(m) == m.onset_s.size > 0
    assert not m.onset_s.flags.writeable
    with pytest.raises(ValueError):
        m.pitch[0] = 1
    with pytest.raises(AttributeError):
        m.ppq = 1  # frozen


def test_threads_read_the_same_notes(corpus):
    paths = [p for p, _ in corpus] * 20
    expected = {p: midi.read(p).onset_s for p, _ in corpus}
    failures = []

    def work(chunk):
        for p in chunk:
            if not np.array_equal(midi.read(p).onset_s, expected[p]):
                failures.append(p)

    threads = [threading.Thread(target=work, args=(paths[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures


# --- random files -----------------------------------------------------------------------------

def random_smf(rng: random.Random) -> bytes:
    """Format 0 or 1, any PPQ, tempo changes in any track (same-tick duplicates included),
    overlapping same-pitch notes, zero-length notes, true and velocity-0 note-offs, stray
    note-offs, control changes, sysex and meta events, running status on or off."""
    fmt = rng.choice([0, 1])
    ppq = rng.randint(24, 9600)
    n_tracks = 1 if fmt == 0 else rng.randint(2, 4)
    end_tick = rng.randint(4, 60) * ppq  # pretty_midi refuses files past 1e7 ticks
    tracks = [_Track(f"t{i}" if rng.random() < 0.5 else None,
                     end_tick=end_tick + rng.randrange(3 * ppq)) for i in range(n_tracks)]
    tracks[0].time_signature(0, 4, 4)  # pretty_midi warns about them outside track 0
    for _ in range(rng.randint(0, 10)):
        tick = 0 if rng.random() < 0.2 else rng.randrange(end_tick)
        us = rng.choice([rng.randint(150_000, 1_500_000), rng.randint(1, 5000), 0xFF_FFFF])
        t = rng.choice(tracks)
        t.set_tempo(tick, us)
        if rng.random() < 0.2:
            rng.choice(tracks).set_tempo(tick, rng.randint(150_000, 1_500_000))
    for t in tracks:
        keys = [(rng.choice([9, 0, rng.randrange(16)]), rng.randint(35, 40)) for _ in range(4)]
        for _ in range(rng.randint(0, 80)):
            channel, pitch = rng.choice(keys)
            on = rng.randrange(end_tick)
            off = min(on + rng.choice([0, 1, rng.randrange(2 * ppq)]), end_tick)
            t.note_on(on, channel, pitch, rng.randint(1, 127))
            t.note_off(off, channel, pitch, rng.randint(0, 127), as_note_on=rng.random() < 0.5)
            if rng.random() < 0.05:
                t.note_off(rng.randrange(end_tick), channel, pitch)  # maybe with nothing to close
            if rng.random() < 0.2:
                t.control_change(rng.randrange(end_tick), channel, 4, rng.randint(0, 127))
            if rng.random() < 0.05:
                t.sysex(rng.randrange(end_tick), bytes(rng.randrange(128) for _ in range(5)) +
                        b"\xf7", escape=rng.random() < 0.3)
            if rng.random() < 0.05:
                # Known types only: mido 1.3.3 drops the delta time of an unknown meta event
                # (see test_unknown_meta_event_keeps_its_delta_time).
                t.meta(rng.randrange(end_tick), rng.choice([0x01, 0x06, 0x7F]), b"meta")
        for channel, pitch in keys:  # nothing may sound at the end: pretty_midi drops such notes
            t.note_off(end_tick, channel, pitch)
    return to_bytes(tracks, ppq=ppq, format=fmt, running_status=rng.random() < 0.7)


@pytest.mark.parametrize("seed", range(240))
def test_random_files_match_pretty_midi_and_mido(seed):
    check_against_references(random_smf(random.Random(seed)), f"random{seed}.mid")


def test_unknown_meta_event_keeps_its_delta_time():
    # mido 1.3.3 builds UnknownMetaMessage(type, data) without time=delta, so every later event
    # of the track moves earlier by that delta in mido and in pretty_midi. We keep it.
    def file(meta_type: int) -> bytes:
        t = _Track()
        t.note_on(0, 9, 36, 100)
        t.meta(100, meta_type, b"x")
        t.note_off(200, 9, 36)
        return to_bytes([t], ppq=100, format=0)

    known, unknown = midi.parse(file(0x01)), midi.parse(file(0x60))
    assert unknown.offset_tick.tolist() == known.offset_tick.tolist() == [200]
    assert unknown.offset_s.tolist() == known.offset_s.tolist() == [1.0]


# --- a property: exact tick -> seconds --------------------------------------------------------

_events = st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 2)), min_size=1, max_size=30)
_tempos = st.lists(st.tuples(st.integers(0, 4000), st.integers(0, 2),
                             st.integers(1, 0xFF_FFFF)), max_size=12)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ppq=st.integers(1, 0x7FFF), tempos=_tempos, onsets=_events)
def test_onsets_equal_an_exact_reference(ppq, tempos, onsets):
    tracks = [Track() for _ in range(3)]
    for tick, track, us in tempos:
        tracks[track].set_tempo(tick, us)
    for pitch, (tick, track) in enumerate(onsets, start=30):  # one pitch each: no pairing games
        tracks[track].note_on(tick, 9, pitch, 100)
        tracks[track].note_off(tick + 1, 9, pitch)
    ours = midi.parse(to_bytes(tracks, ppq=ppq, format=1))

    # Reference: tempo events in (tick, track, insertion) order, the last at a tick wins.
    order = sorted(range(len(tempos)), key=lambda i: (tempos[i][0], tempos[i][1], i))
    changes = {0: 500_000}
    for i in order:
        changes[tempos[i][0]] = tempos[i][2]
    points = sorted(changes.items())

    def seconds(tick: int) -> float:
        us_ticks, (start, us) = Fraction(0), points[0]
        for change, next_us in points[1:]:
            if change > tick:
                break
            us_ticks += (change - start) * us
            start, us = change, next_us
        return float((us_ticks + (tick - start) * us) / Fraction(ppq * 10**6))

    expected = sorted(seconds(tick) for tick, _ in onsets)
    assert sorted(ours.onset_s.tolist()) == expected  # correctly rounded, hence exactly equal


# --- bad input --------------------------------------------------------------------------------

def _file(division=b"\x01\xe0", track=b"\x00\xff\x2f\x00", fmt=1, length=None):
    """One-track SMF; ``length`` overrides the MTrk chunk's declared length."""
    size = len(track) if length is None else length
    return (b"MThd\x00\x00\x00\x06" + fmt.to_bytes(2, "big") + b"\x00\x01" + division +
            b"MTrk" + size.to_bytes(4, "big") + track)


_VALID = to_bytes([Track("x"), Track("y")], ppq=96)
BAD = {
    "garbage.mid": (b"\x00garbage that is not midi" * 3, "does not start with"),
    "empty.mid": (b"", "does not start with"),
    "truncated.mid": (_VALID[: len(_VALID) // 2], "truncated?"),
    "ppq0.mid": (_file(division=b"\x00\x00"), "0 ticks per quarter note"),
    "tempo0.mid": (_file(track=b"\x00\xff\x51\x03\x00\x00\x00\x00\xff\x2f\x00"), "tempo of 0"),
    "format2.mid": (_file(fmt=2), "format 2"),
    "past_eof.mid": (_file(length=400), "runs past the end of the file"),
    "long_vlq.mid": (_file(track=b"\xff\xff\xff\xff\x7f\xff\x2f\x00"), "longer than 4 bytes"),
    "status_in_data.mid": (_file(track=b"\x00\x90\x3c\x90\x00\xff\x2f\x00"), "data byte"),
    "smpte_bad.mid": (_file(division=b"\xe9\x28"), "frame-rate code 23"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_malformed_files_raise_midi_error_naming_file_and_offset(tmp_path, name):
    data, reason = BAD[name]
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(midi.MidiError) as err:
        midi.read(path)
    message = str(err.value)
    assert message.startswith(f"{path}: byte ") and reason in message
    assert isinstance(err.value, ValueError)


def test_missing_file_is_a_midi_error(tmp_path):
    with pytest.raises(midi.MidiError, match="nowhere.mid: cannot open"):
        midi.read(tmp_path / "nowhere.mid")


def test_smpte_and_warnings_reach_python():
    t = Track()
    t.note_on(0, 0, 60, 90)  # never switched off
    data = to_bytes([t], ppq=96, format=0)
    data = data[:12] + b"\xe7\x28" + data[14:]  # -25 fps, 40 ticks a frame: 1 ms a tick
    m = midi.parse(data)
    assert (m.ppq, m.smpte_fps, m.ticks_per_frame) == (0, 25.0, 40)
    assert m.warnings == ("track 0: 1 notes still sounding at the end of the track (tick 0) "
                          "were closed there",)
    assert m.offset_s.tolist() == [0.0]
