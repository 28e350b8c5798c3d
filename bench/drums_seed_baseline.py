"""Benchmark baseline: the seed drum pipeline's method, reimplemented faithfully, defects included.

The seed (shared/seeds/000_*.txt; DOMAIN.md §1) turns E-GMD MIDI/WAV pairs into one record per
merged onset. This does what its public source does, so that Cadence is timed against the real
method and checked against its answers:

1. CSV pass: ``soundfile.info`` of each WAV; pairs whose CSV duration is > 1 s off are dropped.
2. MIDI (mido): notes of the LAST track, listed as they END (note-off order); ticks -> seconds
   with the FIRST ``set_tempo`` of track 0 only; start/end rounded to 10 ms; equal rounded
   starts merged by ``itertools.groupby`` over that unsorted list (label: pitch or pitch list).
3. Audio read once per file (soundfile, mono float32), 44.1 -> 22.05 kHz by ``x[::2]``; clip =
   ``[max(0, start - 0.02 s), ... + fix_length]``, zero-padded, one copy per onset.
4. "Smart compression" by float32 size: < 50 KiB float32; < 400 KiB float16; else one 16-bit
   FLAC encode into a BytesIO, kept only if < 0.7 x the float16 size.
5. Records go row by row (``iterrows``) into a batch, written every ``batch_files`` files.

Defects kept on purpose (they are what is measured): aliasing decimation, one tempo, last track
only, unsorted group-by, a clip copy per onset, FLAC bytes gzipped again.

The one deliberate deviation: the seed pickles each batch with ``to_pickle(compression="gzip")``
(gzip level 9). Pickle is forbidden here, so a batch is a Parquet file of the same columns (clip
bytes as binary: raw float32/float16 bytes or the FLAC stream, plus ``codec`` and ``n_samples``;
a single pitch becomes a one-element label list) compressed with gzip level 9: the same payload
through the same compressor. Minor: a batch every N files (the seed: ~2,000 records); CSV
order (the seed shuffled); no tempo event means 120 bpm (its worker default); one thread
throughout (its parallel modes gave 1.0x; its last version FLAC-encoded in 4 threads).

usage: python bench/drums_seed_baseline.py [--data DIR] [--fix-length 5.0 0.2]
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import math
import platform
import shutil
import tempfile
import time
from pathlib import Path

import mido
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import soundfile as sf

__all__ = ["STAGES", "baseline_records", "compress_clip", "decode_clip", "merge_unsorted",
           "read_pairs", "run_baseline", "seed_notes"]

PAD_BEFORE_S = 0.02
FLOAT32_MAX_KIB = 50  # below: kept as float32
FLOAT16_MAX_KIB = 400  # below: float16; at or above: try FLAC
FLAC_KEEP_RATIO = 0.7  # FLAC kept only if smaller than this fraction of the float16 size
DURATION_DIFF_MAX_S = 1.0  # the seed's diff_threshold
DEFAULT_TEMPO_US = 500_000
GZIP_LEVEL = 9  # what pandas' to_pickle(compression="gzip") uses (gzip.GzipFile's default)
STAGES = ("midi", "load", "slice", "compress", "frame", "save")


def read_pairs(csv_or_pairs, limit: int | None = None):
    """``[(track_id, midi_path, wav_path, csv_duration_s or None)]`` from an E-GMD CSV or pairs.

    ``csv_or_pairs`` is the CSV's path (file paths in it relative to its folder) or an iterable of
    ``(midi_path, wav_path)``; CSV rows with an empty field are skipped, as the seed's ``dropna``.
    """
    if not isinstance(csv_or_pairs, (str, Path)):
        return [(i, Path(m), Path(w), None) for i, (m, w) in enumerate(csv_or_pairs)][:limit]
    root = Path(csv_or_pairs).parent
    with open(csv_or_pairs, newline="") as f:
        rows = [r for r in csv.DictReader(f) if all(v not in ("", None) for v in r.values())]
    return [(i, root / r["midi_filename"], root / r["audio_filename"], float(r["duration"]))
            for i, r in enumerate(rows)][:limit]


def seed_notes(midi_path):
    """The seed's MIDI step: ``([[pitch, start_s, end_s], ...] in note-off order, n_tempo)``.

    Seconds are not yet rounded (the seed rounds next). Last track, first tempo of track 0 only;
    ``n_tempo`` counts tempo events in all tracks: > 1 means this file's times are wrong.
    """
    mid, time_log, notes, open_notes = mido.MidiFile(midi_path), 0, [], {}
    for msg in mid.tracks[-1]:
        time_log += msg.time
        if msg.type == "note_on" and msg.velocity > 0:
            if msg.note in open_notes:
                held = open_notes[msg.note]
                # The seed's re-strike handling, kept as is: an int has no .append, so it builds
                # [new, old] (newest first), then appends later ones; the note-off takes [0].
                open_notes[msg.note] = held + [time_log] if isinstance(held, list) \
                    else [time_log, held]
            else:
                open_notes[msg.note] = time_log
        elif msg.type in ("note_on", "note_off"):
            held = open_notes[msg.note]  # KeyError on an unmatched note-off: the seed drops the file
            if isinstance(held, list):
                start = held.pop(0)
                if not held:
                    del open_notes[msg.note]
            else:
                start = open_notes.pop(msg.note)
            # floor/ceil to 1/100 tick: a no-op on integer ticks, but it makes them floats
            notes.append([msg.note, math.floor(start * 100) / 100, math.ceil(time_log * 100) / 100])
    tempo = next((m.tempo for m in mid.tracks[0] if m.type == "set_tempo"), DEFAULT_TEMPO_US)
    n_tempo = sum(m.type == "set_tempo" for t in mid.tracks for m in t)
    tpb = mid.ticks_per_beat
    return [[p, mido.tick2second(s, tpb, tempo), mido.tick2second(e, tpb, tempo)]
            for p, s, e in notes], n_tempo


def merge_unsorted(notes):
    """The seed's merge: ``itertools.groupby`` on start over the list as given (note-off order).

    Only *adjacent* equal starts merge; equal starts with another note between them stay apart.
    """
    merged = []
    for _, group in itertools.groupby(notes, key=lambda n: n[1]):
        group = list(group)
        if len(group) > 1:
            merged.append([[n[0] for n in group], min(n[1] for n in group),
                           max(n[2] for n in group)])
        else:
            merged.append(group[0])
    return merged


def _load_audio(wav_path, sample_rate_hz):
    audio, rate = sf.read(wav_path, dtype="float32")
    if audio.ndim > 1:
        audio = audio.mean(axis=1)
    if rate != sample_rate_hz:
        if rate % sample_rate_hz:
            raise ValueError(f"{wav_path}: {rate} Hz is not a multiple of {sample_rate_hz} Hz; the "
                             "seed decimates by an integer step (it used librosa otherwise)")
        audio = audio[:: rate // sample_rate_hz]  # decimation without a low-pass: aliasing
    return audio


def _slice(audio, starts_s, fix_length_s, sample_rate_hz):
    """One float32 copy per onset, as the seed's per-note loop (its "vectorised" slicing)."""
    target = int(fix_length_s * sample_rate_hz)
    first = np.maximum(0, (np.maximum(0.0, np.asarray(starts_s) - PAD_BEFORE_S)
                           * sample_rate_hz).astype(np.int32))
    clips = []
    for s in first:
        clip = audio[s:s + target].copy()  # empty when the onset is past the end
        if len(clip) < target:
            clip = np.concatenate([clip, np.zeros(target - len(clip), dtype=np.float32)])
        clips.append(clip.astype(np.float32))
    return clips


def compress_clip(clip, sample_rate_hz=22050):
    """The seed's "smart compression" of a float32 clip: ``(array or FLAC dict, codec name)``."""
    size_kib = clip.nbytes / 1024
    if size_kib < FLOAT32_MAX_KIB:
        return clip.astype(np.float32), "float32"
    half = clip.astype(np.float16)
    if size_kib < FLOAT16_MAX_KIB:
        return half, "float16"
    buffer = io.BytesIO()
    sf.write(buffer, clip, sample_rate_hz, format="FLAC", subtype="PCM_16")
    flac = buffer.getvalue()
    if len(flac) < half.nbytes * FLAC_KEEP_RATIO:
        return {"compressed_audio": flac, "format": "FLAC", "sample_rate": sample_rate_hz,
                "original_shape": clip.shape, "original_dtype": str(clip.dtype)}, "flac"
    return half, "float16"


def decode_clip(stored):
    """A clip back to float32 samples, from any of :func:`compress_clip`'s forms."""
    if isinstance(stored, dict):
        audio, _ = sf.read(io.BytesIO(stored["compressed_audio"]), dtype="float32")
        return audio
    return np.asarray(stored, dtype=np.float32)


def _save_batch(records, path):
    """One batch on disk (Parquet + gzip 9 in place of pickle + gzip); returns its size, bytes."""
    frame = pd.DataFrame(records)
    audio = frame["audio_wav"]
    table = pa.table({
        "label": pa.array([lab if isinstance(lab, list) else [lab] for lab in frame["label"]],
                          pa.list_(pa.int16())),
        "start": pa.array(frame["start"], pa.float64()),
        "end": pa.array(frame["end"], pa.float64()),
        "track_id": pa.array(frame["track_id"], pa.int64()),
        "codec": pa.array(["flac" if isinstance(a, dict) else str(a.dtype) for a in audio]),
        "n_samples": pa.array([a["original_shape"][0] if isinstance(a, dict) else a.size
                               for a in audio], pa.int32()),
        "audio_wav": pa.array([a["compressed_audio"] if isinstance(a, dict) else a.tobytes()
                               for a in audio], pa.binary()),
        "sampling_rate": pa.array(frame["sampling_rate"], pa.int32()),
    })
    pq.write_table(table, path, compression="gzip", compression_level=GZIP_LEVEL,
                   use_dictionary=["codec"])
    return Path(path).stat().st_size


def _file_notes(midi_path, track_id):
    notes, _ = seed_notes(midi_path)
    if not notes:
        raise ValueError("no notes in the last track")  # the seed skipped such pairs
    rounded = [[p, round(s, 2), round(e, 2)] for p, s, e in notes]  # 10 ms, as the seed
    frame = pd.DataFrame(merge_unsorted(rounded), columns=["label", "start", "end"])
    frame["track_id"] = track_id
    return frame


def _duration_ok(pairs, skipped):
    kept = []
    for pair in pairs:
        try:
            csv_s, wav_s = pair[3], pair[3] is not None and sf.info(str(pair[2])).duration
        except Exception as err:  # the seed's duration pass gave None and dropna dropped the pair
            skipped[str(pair[2])] = f"unreadable WAV: {err}"
            continue
        if csv_s is not None and abs(csv_s - wav_s) > DURATION_DIFF_MAX_S:
            skipped[str(pair[2])] = f"CSV duration {csv_s:.3f} s vs WAV {wav_s:.3f} s"
        else:
            kept.append(pair)
    return kept


def run_baseline(csv_or_pairs, out_dir, *, fix_length_s=5.0, sample_rate_hz=22050,
                 batch_files=10, limit=None) -> dict:
    """Run the seed's method over a corpus, writing batches under ``out_dir``; return its figures.

    Parameters
    ----------
    csv_or_pairs : path or iterable of (midi_path, wav_path)
        An E-GMD CSV (paths relative to its folder) or explicit pairs.
    out_dir : path
        Created if missing; batches are ``audio_set_batch_{i}.parquet``.
    fix_length_s : float
        Clip length, seconds (the seed's run: 5.0).
    sample_rate_hz : int
        Clip rate, Hz; the source rate must be an integer multiple (decimated by ``x[::k]``).
    batch_files, limit : int
        Files per saved batch; only the first ``limit`` pairs (all if None).

    Returns
    -------
    dict
        ``files`` (pairs with records), ``records``, ``seconds`` (wall), ``files_per_s``,
        ``records_per_s``, ``files_per_s_no_save`` (saves left out, as the seed's report timed
        it), ``audio_s`` (input audio) and ``audio_s_per_s``, ``bytes_written``, ``batches``,
        ``codecs`` (records per float32/float16/flac), ``flac_encodes``, ``clip_bytes`` (clips
        as stored) and ``float32_bytes`` (as float32), ``stages`` (seconds per :data:`STAGES`
        and ``other``), ``skipped`` (``{path: reason}``), ``records_per_file``.
    """
    (out := Path(out_dir)).mkdir(parents=True, exist_ok=True)
    stages, codecs = dict.fromkeys(STAGES, 0.0), {"float32": 0, "float16": 0, "flac": 0}
    skipped, per_file, batch, totals = {}, {}, [], dict.fromkeys(
        ("batches", "bytes_written", "clip_bytes", "float32_bytes", "flac_encodes", "audio_s"), 0)
    t_run = time.perf_counter()
    clock = [t_run]

    def lap(stage):  # charge the time since the last lap to ``stage``
        stages[stage] += time.perf_counter() - clock[0]
        clock[0] = time.perf_counter()

    def save():
        path = out / f"audio_set_batch_{totals['batches']}.parquet"
        totals["bytes_written"] += _save_batch(batch, path)
        totals["batches"] += 1
        batch.clear()
        lap("save")

    pairs = _duration_ok(read_pairs(csv_or_pairs, limit), skipped)
    lap("load")
    for track_id, midi, wav, _ in pairs:
        try:
            frame = _file_notes(midi, track_id)
            lap("midi")
            audio = _load_audio(str(wav), sample_rate_hz)
            lap("load")
            clips = _slice(audio, frame["start"].to_numpy(), fix_length_s, sample_rate_hz)
            lap("slice")
            stored = []
            for clip in clips:
                obj, codec = compress_clip(clip, sample_rate_hz)
                stored.append(obj)
                codecs[codec] += 1
                totals["flac_encodes"] += clip.nbytes / 1024 >= FLOAT16_MAX_KIB
            lap("compress")
        except Exception as err:  # the seed logged and skipped the pair; we say why
            skipped[str(midi)] = f"{type(err).__name__}: {err}"
            lap("midi")
            continue
        totals["audio_s"] += len(audio) / sample_rate_hz
        totals["clip_bytes"] += sum(len(o["compressed_audio"]) if isinstance(o, dict)
                                    else o.nbytes for o in stored)
        totals["float32_bytes"] += sum(c.nbytes for c in clips)
        frame["audio_wav"] = stored
        frame["sampling_rate"] = sample_rate_hz
        for _, record in frame.iterrows():  # the seed's streaming of rows into the batch
            batch.append(record.to_dict())
        per_file[str(midi)] = len(frame)
        lap("frame")
        if len(per_file) % batch_files == 0:
            save()
    if batch:
        save()
    seconds, n_records = time.perf_counter() - t_run, sum(per_file.values())
    stages["other"] = max(0.0, seconds - sum(stages.values()))
    return totals | {
        "files": len(per_file), "records": n_records, "seconds": seconds,
        "files_per_s": len(per_file) / seconds, "records_per_s": n_records / seconds,
        # the seed's report timed each pair without its batch saves: the comparable figure
        "files_per_s_no_save": len(per_file) / max(1e-9, seconds - stages["save"]),
        "audio_s_per_s": totals["audio_s"] / seconds, "codecs": codecs, "stages": stages,
        "skipped": skipped, "records_per_file": per_file}


def _window_groups(onsets_s, merge_s):
    """Groups if, in time order, a hit joins the group whose FIRST hit is <= merge_s before it."""
    n, first = 0, -math.inf
    for t in sorted(onsets_s):
        if t - first > merge_s:
            n, first = n + 1, t
    return n


def baseline_records(csv_or_pairs, *, merge_s=0.010, limit=None) -> list[dict]:
    """The seed's answers per file, from the MIDI alone (no audio), for checking Cadence.

    Returns one dict per pair, in order: ``midi_filename``, ``track_id``, ``n_notes``,
    ``n_records`` (merged onsets), ``onsets_s`` and ``labels`` (record order, 10 ms rounded),
    ``note_onsets_s`` / ``note_pitches`` (every note, seed's single-tempo seconds, unrounded,
    note-off order), ``tempo_events`` (all tracks; > 1 means the seed's times drift after the
    first change), ``distinct_starts`` (records a sorted group-by with the same 10 ms rounding
    would give; ``n_records - distinct_starts`` is what the unsorted group-by adds),
    ``window_groups`` (groups under a sorted first-hit window of ``merge_s``, Cadence's rule,
    from the seed's times: equal to Cadence's count on single-tempo files), ``error``.
    """
    out = []
    for track_id, midi, _, _ in read_pairs(csv_or_pairs, limit):
        row = {"midi_filename": str(midi), "track_id": track_id, "error": None}
        try:
            notes, n_tempo = seed_notes(midi)
        except Exception as err:
            out.append(row | {"error": f"{type(err).__name__}: {err}", "n_records": 0})
            continue
        rounded = [[p, round(s, 2), round(e, 2)] for p, s, e in notes]
        merged = merge_unsorted(rounded)
        out.append(row | {
            "n_notes": len(notes), "n_records": len(merged),
            "onsets_s": [m[1] for m in merged], "labels": [m[0] for m in merged],
            "note_onsets_s": [n[1] for n in notes], "note_pitches": [n[0] for n in notes],
            "tempo_events": n_tempo, "distinct_starts": len({n[1] for n in rounded}),
            "window_groups": _window_groups([n[1] for n in notes], merge_s)})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, help="an E-GMD-shaped corpus (default: generate one)")
    ap.add_argument("--performances", type=int, default=8)
    ap.add_argument("--kits", type=int, default=2)
    ap.add_argument("--fix-length", type=float, nargs="+", default=[5.0, 0.2])
    ap.add_argument("--batch-files", type=int, default=10)
    args = ap.parse_args()

    from cadence.sample import drums  # only the CLI needs the generator
    root = args.data or Path(tempfile.mkdtemp(prefix="cadence_seed_")) / "drums"
    if not (root / drums.CSV_NAME).exists():
        drums.generate(root, performances=args.performances, kits=args.kits, seed=1,
                       min_duration_s=20, max_duration_s=40)
    checks = baseline_records(root / drums.CSV_NAME)
    print(f"machine: {platform.processor() or platform.machine()}, Python "
          f"{platform.python_version()}; data: {root}, {len(checks)} pairs; files with > 1 tempo "
          f"event: {sum(c.get('tempo_events', 0) > 1 for c in checks)}; records added by the "
          f"unsorted group-by: {sum(c['n_records'] - c.get('distinct_starts', 0) for c in checks)}")
    print("\n| fix_length s | files/s | files/s w/o save | records/s | audio s/s | records "
          "| MB written | f32/f16/flac | " + " | ".join(STAGES) + " | other |")
    print("|---:" * (9 + len(STAGES) + 1) + "|")
    for fix in args.fix_length:
        out = Path(tempfile.mkdtemp(prefix="cadence_seed_out_"))
        try:
            r = run_baseline(root / drums.CSV_NAME, out, fix_length_s=fix,
                             batch_files=args.batch_files)
        finally:
            shutil.rmtree(out, ignore_errors=True)
        shares = " | ".join(f"{r['stages'][s]:.2f} s ({100 * r['stages'][s] / r['seconds']:.0f}%)"
                            for s in (*STAGES, "other"))
        print(f"| {fix:g} | {r['files_per_s']:.2f} | {r['files_per_s_no_save']:.2f} | "
              f"{r['records_per_s']:.0f} | {r['audio_s_per_s']:.1f} | {r['records']} | "
              f"{r['bytes_written'] / 1e6:.1f} | {'/'.join(map(str, r['codecs'].values()))} | "
              f"{shares} |" + (f" skipped: {r['skipped']}" if r["skipped"] else ""))


if __name__ == "__main__":
    main()
