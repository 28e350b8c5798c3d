"""A deterministic, E-GMD-shaped drum corpus: TD-17-style MIDI performances rendered through the
drum kits of a GM soundfont with the engine's TinySoundFont (the soundfont: ``pip install
'cadence[sample]'``).

The real E-GMD is ~132 GB; tests and demos need something with the same layout, CSV, MIDI habits
(format 1, 480 PPQN, note-off as velocity-0 note-on, hi-hat pedal CC 4, tempo maps) and audio
format (44.1 kHz 16-bit mono WAV) that builds in seconds. Everything is derived from ``seed``;
the output bytes do not depend on ``jobs``.
"""

from __future__ import annotations

import csv
import io
import os
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from ..drums.datasets.egmd import COLUMNS as EGMD_COLUMNS, CSV_NAME as EGMD_CSV_NAME
from .smf_writer import Track, to_bytes, write_bytes_atomic
from .soundfont import (CONTROL, NOTE_OFF, NOTE_ON, find_soundfont, list_kits,
                        render_wav)

__all__ = ["CSV_COLUMNS", "CSV_NAME", "DrumHit", "DrumsSample", "Performance", "find_soundfont",
           "generate", "list_kits", "midi_bytes", "plan_corpus", "render_performance",
           "tick_to_seconds"]

CSV_NAME = EGMD_CSV_NAME
CSV_COLUMNS = EGMD_COLUMNS  # E-GMD's header, defined once in cadence.drums.datasets.egmd
PPQ = 480
SAMPLE_RATE_HZ = 44_100
DRUM_CHANNEL = 9  # MIDI channel 10
# TD-17-only pitches have no sound in a GM kit; render them through their GM relatives.
GM_RENDER_PITCH = {22: 42, 26: 46, 58: 43, 50: 48, 47: 45, 40: 38, 55: 49, 52: 57, 59: 51,
                   64: 43, 70: 54, 75: 37}
# Synth output (1.0 = float full scale) -> int16 full scale. TinySoundFont's TimGM6mb kits peak
# at up to 1.58 (Power Kit, kick + crash), so 0.5 keeps seeds 0-9 x all 8 kits at <= 0.79 of
# full scale (-2 dBFS); a louder render (another soundfont) is turned down, never clipped.
RENDER_GAIN = 0.5

# Per style: bpm range and grooves (time signature, grid steps per quarter, voice patterns).
# Pattern characters: X accent, x normal, g ghost, o open hi-hat, b ride bell, r rim shot.
_STYLES: dict[str, tuple[tuple[int, int], list]] = {
    "rock": ((90, 150), [
        ((4, 4), 4, {"hat": "X.x.X.x.X.x.X.x.", "kick": "x.......x.x.....",
                     "snare": "....X.......X..."}),
        ((4, 4), 4, {"ride": "X.x.b.x.X.x.b.x.", "kick": "x..x..x.x.......",
                     "snare": "....X.......r...", "pedal": "....x.......x..."})]),
    "funk": ((80, 120), [
        ((4, 4), 4, {"hat": "XxxxXxxoXxxxXxxx", "kick": "x.x.......x..x..",
                     "snare": "....X..g.g..X..g"}),
        ((4, 4), 4, {"hat": "X.x.X.x.X.x.X.xo", "kick": "x..x..x...x.....",
                     "snare": "..g.X.g..g.gX.g."})]),
    "jazz": ((100, 180), [
        ((4, 4), 3, {"ride": "X..X.xX..X.x", "pedal": "...x.....x..", "kick": "g..g..g..g..",
                     "snare": "....g....x.g"}),
        ((3, 4), 3, {"ride": "X..X.xX..", "pedal": "...x..x..", "kick": "g........",
                     "xstick": ".....g..x"})]),
    "latin": ((80, 130), [
        ((4, 4), 4, {"xstick": "x..x..x...x..x..", "kick": "x..xx..xx..xx..x",
                     "hat": "x.x.x.x.x.x.x.x."}),
        ((6, 8), 4, {"ride": "b.x.bxb.x.b.", "kick": "x.....x.....", "xstick": "....x.....x.",
                     "pedal": "..x.....x..."})]),
    "hiphop": ((60, 100), [
        ((4, 4), 4, {"hat": "x.x.x.x.x.x.x.x.", "kick": "X.....x.x.X.....",
                     "snare": "....X.......X..."}),
        ((4, 4), 4, {"hat": "xxx.xxx.xxx.xxxo", "kick": "X..X......X..x..",
                     "snare": "....X.......X...", "clap": "....x.......x..."})]),
}
_VELOCITY = {"X": 110, "x": 84, "o": 88, "b": 90, "r": 100, "g": 30}
_FILL_TOMS = (38, 48, 45, 43)
_TOM_RIM = {48: 50, 45: 47, 43: 58}


@dataclass(frozen=True)
class DrumHit:
    """One note of a performance, as stored in its MIDI (TD-17 pitch)."""

    onset_tick: int
    onset_s: float  # exact time of onset_tick under the tempo map
    pitch: int
    velocity: int
    off_tick: int


@dataclass(frozen=True)
class Performance:
    """One planned performance: the ground truth of every render made from it."""

    id: str  # e.g. "drummer1/session1/1"
    number: int
    style: str  # e.g. "funk/groove1"
    bpm: int  # initial tempo, as in the file name
    beat_type: str  # "beat" or "fill"
    time_signature: tuple[int, int]
    split: str
    duration_s: float  # audio length of every render (whole samples at 44.1 kHz)
    tempo_map: tuple[tuple[int, int], ...]  # (tick, tempo_us_per_beat), first at tick 0
    hits: tuple[DrumHit, ...]
    pedal_cc: tuple[tuple[int, int], ...]  # (tick, CC 4 value)
    end_tick: int

    @property
    def drummer(self) -> str:
        return self.id.split("/")[0]

    @property
    def session(self) -> str:
        return self.id.rsplit("/", 1)[0]

    def stem(self, kit_number: int) -> str:
        """File name without extension: ``{n}_{style}_{bpm}_{beat_type}_{ts}_{kit}``."""
        num, den = self.time_signature
        return (f"{self.number}_{self.style.replace('/', '-')}_{self.bpm}_{self.beat_type}"
                f"_{num}-{den}_{kit_number}")


@dataclass(frozen=True)
class DrumsSample:
    """What :func:`generate` wrote."""

    root: Path
    csv_path: Path
    n_performances: int
    n_pairs: int
    total_audio_s: float


def tick_to_seconds(tick: int, tempo_map, ppq: int = PPQ) -> float:
    """Seconds at ``tick`` under a tempo map of ``(tick, tempo_us_per_beat)`` pairs."""
    us_ticks, prev_tick, prev_tempo = 0, 0, tempo_map[0][1]
    for change_tick, tempo in tempo_map[1:]:
        if change_tick >= tick:
            break
        us_ticks += (change_tick - prev_tick) * prev_tempo
        prev_tick, prev_tempo = change_tick, tempo
    return (us_ticks + (tick - prev_tick) * prev_tempo) / (ppq * 1e6)


def _seconds_to_tick(onset_s: float, tempo_map, ppq: int = PPQ) -> int:
    prev_tick, prev_tempo, prev_s = 0, tempo_map[0][1], 0.0
    for change_tick, tempo in tempo_map[1:]:
        change_s = prev_s + (change_tick - prev_tick) * prev_tempo / (ppq * 1e6)
        if change_s > onset_s:
            break
        prev_tick, prev_tempo, prev_s = change_tick, tempo, change_s
    return prev_tick + round((onset_s - prev_s) * ppq * 1e6 / prev_tempo)


def _tempo_map(rng, bpm: int, bar_ticks: int, lead_in_ticks: int, changes: bool):
    tempo = round(60e6 / bpm)
    tempo_map = [(0, tempo)]
    if changes:  # drift every second bar, plus one change mid-bar to exercise parsers
        for bar in range(2, 80, 2):
            tempo = int(np.clip(tempo * rng.uniform(0.95, 1.05), 60e6 / 180, 60e6 / 60))
            tempo_map.append((lead_in_ticks + bar * bar_ticks, tempo))
        tempo_map.insert(1, (lead_in_ticks + bar_ticks + PPQ, round(tempo_map[0][1] * 0.98)))
    return tempo_map


def _voice_pitch(voice: str, ch: str, rng) -> int:
    if voice == "hat":
        if ch == "o":
            return 46 if rng.random() < 0.75 else 26
        return 42 if rng.random() < 0.8 else 22
    if voice == "ride":
        return 53 if ch == "b" else (51 if rng.random() < 0.85 else 59)
    if voice == "snare":
        return 40 if ch == "r" or (ch == "X" and rng.random() < 0.15) else 38
    return {"kick": 36, "pedal": 44, "xstick": 37, "clap": 39}[voice]


def _fill_notes(start_step: int, n_steps: int, steps_per_beat: int, rng):
    """A tom fill over ``n_steps`` grid steps: (step, pitch, pattern char, flam)."""
    notes = []
    for i in range(n_steps):
        step = start_step + i
        on_beat = step % steps_per_beat == 0
        if on_beat and rng.random() < 0.5:
            notes.append((step, 36, "x", False))
        if rng.random() > 0.85 and not on_beat:
            continue
        drum = _FILL_TOMS[min(3, i * 4 // n_steps)]  # walk down the kit as the fill goes on
        if drum in _TOM_RIM and rng.random() < 0.12:
            drum = _TOM_RIM[drum]
        notes.append((step, drum, "X" if on_beat else "x", rng.random() < 0.15))
    return notes


def _build(rng, bpm, ts, steps_per_beat, voices, beat_type, tempo_changes, duration_s):
    """Hits (intended_s, pitch, velocity), grid ticks of open hats, tempo map, end tick."""
    bar_ticks = PPQ * 4 * ts[0] // ts[1]
    step_ticks = PPQ // steps_per_beat
    steps_per_bar = bar_ticks // step_ticks
    lead_in = PPQ  # one silent beat, so every file starts with measurable silence
    tempo_map = _tempo_map(rng, bpm, bar_ticks, lead_in, tempo_changes)
    tail_s = rng.uniform(0.5, 0.8)
    cutoff_s = duration_s - tail_s
    hits, opens = [], []

    def hit(grid_tick, pitch, ch, at_s=None, flam=False):
        """Humanise a grid hit (jitter sd 2.5 ms, at most 8 ms) unless ``at_s`` pins its time."""
        onset_s = at_s
        if onset_s is None:
            jitter_s = float(np.clip(rng.normal(0, 2.5e-3), -8e-3, 8e-3))
            onset_s = tick_to_seconds(grid_tick, tempo_map) + jitter_s
        if onset_s > cutoff_s - 0.05:
            return None  # past the end of the performance
        velocity = int(np.clip(round(_VELOCITY[ch] * dynamics + rng.normal(0, 7)), 1, 127))
        hits.append((onset_s, pitch, velocity))
        if flam:  # grace note 3-8 ms early, softer: a near-simultaneous pair
            hits.append((onset_s - rng.uniform(3e-3, 8e-3), pitch, max(1, velocity * 2 // 5)))
        return onset_s

    bar = 0
    while tick_to_seconds(lead_in + bar * bar_ticks, tempo_map) < cutoff_s:
        bar_tick = lead_in + bar * bar_ticks
        dynamics = rng.uniform(0.9, 1.05)
        fill = (bar % 2 == 1) if beat_type == "fill" else (bar % 4 == 3 and rng.random() < 0.5)
        fill_from = steps_per_bar  # first step of the fill (half a bar or a whole bar)
        if fill:
            fill_from = steps_per_bar // 2 if rng.random() < 0.6 else 0
        phrase_start = bar % 4 == 0
        for voice, pattern in voices.items():
            for step, ch in enumerate(pattern[:fill_from]):
                if phrase_start and step == 0 and voice in ("hat", "ride", "kick"):
                    continue  # the crash + kick below replace them
                extra_ghost = voice == "snare" and ch == "." and rng.random() < 0.06
                if ch == "." and not extra_ghost:
                    continue
                ch = "g" if extra_ghost else ch
                flam = voice == "snare" and ch == "X" and rng.random() < 0.1
                grid_tick = bar_tick + step * step_ticks
                kept = hit(grid_tick, _voice_pitch(voice, ch, rng), ch, flam=flam)
                if ch == "o" and kept is not None:
                    opens.append(grid_tick)
        if phrase_start:  # kick and crash on exactly the same tick
            onset_s = hit(bar_tick, 36, "X")
            crash = [49, 57][rng.integers(2)]
            if onset_s is not None:
                hit(bar_tick, crash if rng.random() < 0.75 else {49: 55, 57: 52}[crash], "X",
                    at_s=onset_s)
        for step, pitch, ch, flam in _fill_notes(fill_from, steps_per_bar - fill_from,
                                                 steps_per_beat, rng):
            hit(bar_tick + step * step_ticks, pitch, ch, flam=flam)
        bar += 1
    # The drummer stops with kick + crash together; the tail is then 0.5-0.8 s of decay.
    end_tick = _seconds_to_tick(cutoff_s, tempo_map)
    dynamics = 1.0
    cutoff_s += 0.1  # let the ending itself through hit()'s cut-off test
    onset_s = hit(end_tick, 36, "X", at_s=tick_to_seconds(end_tick, tempo_map))
    hit(end_tick, 49, "X", at_s=onset_s)
    return hits, opens, tempo_map, end_tick


def _pedal(hits, opens, end_tick, rng):
    """Hi-hat pedal CC 4 (127 = closed): ramps open before each open hat, closes at the next hat.

    Returns the CC events ``(tick, value)`` and the pedal "chick" notes the closing foot adds.
    """
    cc = [(0, 127)]
    hat_ticks = sorted(t for t, p, _ in hits if p in (42, 22, 44, 46, 26))
    pedal_hits = []
    for grid_tick in opens:
        later = [t for t in hat_ticks if t > grid_tick + PPQ // 8]
        close = later[0] if later and later[0] <= grid_tick + PPQ else grid_tick + PPQ // 2
        close = min(close, end_tick)  # at the latest, the foot closes with the final hit
        if not later or later[0] != close:
            pedal_hits.append((close, 44, int(rng.integers(40, 70))))  # the foot's "chick"
        cc += [(max(0, grid_tick - 40), 100), (max(0, grid_tick - 20), 55),
               (max(0, grid_tick - 4), int(rng.integers(10, 31))),
               (close - 30, 60), (close - 12, 100), (close, 127)]
    for tick, pitch, _ in hits:
        if pitch == 44:  # jazz-style foot on 2 and 4: the pedal lifts again after each chick
            cc += [(max(0, tick - 40), 70), (tick, 127),
                   (tick + PPQ // 4, int(rng.integers(30, 60)))]
    return sorted((min(tick, end_tick), value) for tick, value in cc), pedal_hits


def plan_corpus(performances: int = 4, *, seed: int = 0, min_duration_s: float = 8.0,
                max_duration_s: float = 20.0) -> tuple[Performance, ...]:
    """Plan every performance (notes, tempo map, layout, split) without touching the disk.

    Deterministic in its arguments: :func:`generate` writes exactly these notes, so this is the
    ground truth for tests. Performance ``i`` depends only on ``seed`` and ``i``.
    """
    if performances < 1 or seed < 0:
        raise ValueError(f"need performances >= 1 and seed >= 0, got {performances}, {seed}")
    if not 2.0 <= min_duration_s <= max_duration_s:
        raise ValueError("need 2.0 <= min_duration_s <= max_duration_s, got "
                         f"{min_duration_s}, {max_duration_s}")
    split_rng = np.random.default_rng([seed, 1])
    splits = list(split_rng.choice(["train", "validation", "test"], size=performances,
                                   p=[0.7, 0.15, 0.15]))
    for i, split in zip(split_rng.permutation(performances), ("train", "validation", "test")):
        splits[i] = split  # every split present once there are >= 3 performances
    numbers: dict[str, int] = {}
    planned = []
    for index in range(performances):
        rng = np.random.default_rng([seed, 0, index])
        drummer, slot = 1 + index // 4, index % 4
        # E-GMD mixes numbered sessions and an eval_session per drummer.
        session = f"drummer{drummer}/" + (f"session{1 + slot // 2}" if slot < 3 else "eval_session")
        numbers[session] = numbers.get(session, 0) + 1
        style = list(_STYLES)[rng.integers(len(_STYLES))]
        (bpm_low, bpm_high), grooves = _STYLES[style]
        groove = int(rng.integers(len(grooves)))
        ts, steps_per_beat, voices = grooves[groove]
        bpm = int(rng.integers(bpm_low, bpm_high + 1))
        beat_type = "fill" if rng.random() < 0.3 else "beat"
        n_samples = round(rng.uniform(min_duration_s, max_duration_s) * SAMPLE_RATE_HZ)
        tempo_changes = index % 3 == 1 or rng.random() < 0.2
        hits, opens, tempo_map, end_tick = _build(rng, bpm, ts, steps_per_beat, voices, beat_type,
                                                  tempo_changes, n_samples / SAMPLE_RATE_HZ)
        tick_hits = {}
        for onset_s, pitch, velocity in hits:
            tick = max(0, _seconds_to_tick(onset_s, tempo_map))
            tick_hits[tick, pitch] = max(velocity, tick_hits.get((tick, pitch), 0))
        notes = [(t, p, v) for (t, p), v in tick_hits.items()]
        cc, pedal_hits = _pedal(notes, opens, end_tick, rng)
        for tick, pitch, velocity in pedal_hits:
            tick_hits.setdefault((tick, pitch), velocity)
        tempo_map = [tm for tm in tempo_map if tm[0] <= end_tick]
        planned.append(Performance(
            id=f"{session}/{numbers[session]}", number=numbers[session],
            style=f"{style}/groove{groove + 1}", bpm=bpm, beat_type=beat_type,
            time_signature=ts, split=str(splits[index]), duration_s=n_samples / SAMPLE_RATE_HZ,
            tempo_map=tuple(tempo_map), hits=_with_offs(sorted(tick_hits.items()), tempo_map),
            pedal_cc=tuple(cc), end_tick=end_tick))
    return tuple(planned)


def _with_offs(tick_hits, tempo_map):
    """Give each note a short length, ended before the next onset of the same pitch."""
    next_onset: dict[int, int] = {}
    out = []
    for (tick, pitch), velocity in reversed(tick_hits):
        off = min(tick + 60 + (tick * 7 + pitch) % 40, next_onset.get(pitch, 1 << 27))
        next_onset[pitch] = tick
        out.append(DrumHit(tick, tick_to_seconds(tick, tempo_map), pitch, velocity, max(off, tick)))
    return tuple(reversed(out))


def _tracks(perf: Performance):
    meta = Track(f"{perf.style} {perf.bpm} {perf.beat_type}", end_tick=perf.end_tick)
    meta.time_signature(0, *perf.time_signature)
    for tick, tempo in perf.tempo_map:
        meta.set_tempo(tick, tempo)
    notes = Track("TD-17", end_tick=perf.end_tick)
    for tick, kind, a, b in _events(perf):
        if kind == CONTROL:
            notes.control_change(tick, DRUM_CHANNEL, a, b)
        else:
            notes.note_on(tick, DRUM_CHANNEL, a, b)
    return [meta, notes]


def _events(perf: Performance, pitch_map=None) -> list[tuple[int, int, int, int]]:
    """The note track's events ``(tick, kind, a, b)`` in order: note-off (key, 0), pedal CC 4
    (4, value) and note-on (key, velocity). Per tick: note-offs first (so a re-strike is not cut),
    then pedal CCs, then note-ons. The stored MIDI and the renderer both play these."""
    hits = perf.hits
    if pitch_map:
        mapped: dict[tuple[int, int], int] = {}
        for h in hits:
            key = (h.onset_tick, pitch_map.get(h.pitch, h.pitch))
            mapped[key] = max(h.velocity, mapped.get(key, 0))
        hits = _with_offs(sorted(mapped.items()), perf.tempo_map)
    events = [(h.off_tick, NOTE_OFF, h.pitch, 0) for h in hits]
    events += [(t, CONTROL, 4, value) for t, value in perf.pedal_cc]
    events += [(h.onset_tick, NOTE_ON, h.pitch, h.velocity) for h in hits]
    return sorted(events)


def midi_bytes(perf: Performance) -> bytes:
    """The stored ``.midi`` of a performance: SMF 1, 480 PPQN, TD-17 pitches, running status."""
    return to_bytes(_tracks(perf), ppq=PPQ, format=1)


def _render(soundfont: Path, perf: Performance, program: int) -> bytes:
    """Render one performance with one kit; returns the WAV file's bytes.

    The stored MIDI's events (TD-17 pitches mapped to their GM relatives) are placed at the
    sample nearest their exact time under the tempo map."""
    events = [(round(tick_to_seconds(tick, perf.tempo_map) * SAMPLE_RATE_HZ), kind, a, b)
              for tick, kind, a, b in _events(perf, GM_RENDER_PITCH)]
    try:
        return render_wav(soundfont, program, events,
                          n_samples=round(perf.duration_s * SAMPLE_RATE_HZ),
                          sample_rate_hz=SAMPLE_RATE_HZ, gain=RENDER_GAIN)
    except RuntimeError as e:
        raise RuntimeError(f"rendering {perf.id}: {e}") from None


def render_performance(soundfont: Path, perf: Performance, program: int) -> bytes:
    """The mono 44.1 kHz WAV bytes of ``perf`` through drum kit ``program``: exactly what
    :func:`generate` writes (the dataset-layout samples render GMD and plain pairs with it)."""
    return _render(soundfont, perf, program)


def generate(out_dir: str | os.PathLike[str], *, performances: int = 4, kits: int = 3,
             seed: int = 0, min_duration_s: float = 8.0, max_duration_s: float = 20.0,
             soundfont: str | os.PathLike[str] | None = None, jobs: int | None = None,
             progress: Callable[[int, int], None] | None = None) -> DrumsSample:
    """Write an E-GMD-shaped corpus (MIDI, WAV, ``e-gmd-v1.0.0.csv``) under ``out_dir``.

    Parameters
    ----------
    out_dir : path
        Root of the corpus; created if missing. Files are written atomically.
    performances : int
        Number of distinct performances.
    kits : int
        Renders per performance, each through a different drum kit of the soundfont.
    seed : int
        Everything (notes, tempi, splits, kits) follows from it.
    min_duration_s, max_duration_s : float
        Range of each performance's audio length, seconds (uniform).
    soundfont : path, optional
        SF2 file; default: the TimGM6mb.sf2 that ``pretty_midi`` ships, else the first of
        TimGM6mb, FluidR3_GM, default-GM in /usr/share/sounds/sf2.
    jobs : int, optional
        Parallel renders (default ``os.cpu_count()``); does not change the output.
    progress : callable, optional
        ``progress(n_done, n_total)`` after each render.
    """
    sf2 = find_soundfont(soundfont)
    available = list_kits(sf2)
    if not available:
        raise ValueError(f"{sf2} has no drum kits (bank 128); pass another soundfont=")
    if not 1 <= kits <= len(available):
        raise ValueError(f"kits must be in 1..{len(available)} (the drum kits in {sf2.name}), "
                         f"got {kits}")
    plan = plan_corpus(performances, seed=seed, min_duration_s=min_duration_s,
                       max_duration_s=max_duration_s)
    root = Path(out_dir)
    rows, tasks = [], []
    for i, perf in enumerate(plan):
        (root / perf.session).mkdir(parents=True, exist_ok=True)
        data = midi_bytes(perf)
        for j in range(kits):
            kit_index = (i * kits + j) % len(available)  # cycle so kits differ across performances
            program, kit_name = available[kit_index]
            stem = f"{perf.session}/{perf.stem(kit_index + 1)}"
            write_bytes_atomic(root / f"{stem}.midi", data)
            tasks.append((perf, program, root / f"{stem}.wav"))
            rows.append([perf.drummer, perf.session, perf.id, perf.style, perf.bpm, perf.beat_type,
                         "{}-{}".format(*perf.time_signature), f"{perf.duration_s:.6f}", perf.split,
                         f"{stem}.midi", f"{stem}.wav", kit_name])

    def render_one(task):
        perf, program, wav_path = task
        write_bytes_atomic(wav_path, _render(sf2, perf, program))

    with ThreadPoolExecutor(max_workers=jobs or os.cpu_count() or 1) as pool:
        futures = [pool.submit(render_one, task) for task in tasks]
        try:
            for n_done, future in enumerate(as_completed(futures), start=1):
                future.result()  # re-raise a failed render here, in the caller's thread
                if progress is not None:
                    progress(n_done, len(tasks))
        except BaseException:  # failure or Ctrl-C: start no more renders; no CSV is written
            for future in futures:
                future.cancel()
            raise
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    writer.writerows(rows)
    csv_path = root / CSV_NAME
    write_bytes_atomic(csv_path, text.getvalue().encode("utf-8"))
    return DrumsSample(root=root, csv_path=csv_path, n_performances=len(plan), n_pairs=len(rows),
                       total_audio_s=sum(p.duration_s for p in plan) * kits)
