"""Benchmark: the engine's annotation readers, onsets per second on one core (issue 19 target:
text/XML parsing >= 1 M onsets/s per core).

For each format a file of N onsets is generated in the dataset's own shape (ENST "time label",
MDB "time<TAB>LABEL", RBMA13/TMIDT "time<TAB>index", IDMT-SMT-Drums XML events), then read
round after round by `_core.read_annotation` (one call = one thread, file in the page cache)
and, side by side in the same run, by the usual Python way (ADTOF's TextReader-style split and
dict lookup; xml.etree for IDMT, as public loaders do). The answers are checked: the engine's
times, pitches and unmapped counts must equal the Python reader's.

With --prepare, also the issue's second target (preparing a layout within 10 % of E-GMD's rate
on the same audio, only the annotation reader differing): the benchmark corpus's MIDI/WAV pairs
prepared by `_core.PrepareRun` on one worker, once from the MIDI files and once from RBMA13-style
text files holding the same notes (class index = pitch - 35; pitches outside 35..81 written as
index 99, which the table lacks). Checked: the text run keeps exactly the in-range notes and
counts the rest as unmapped label "99"; its onset times are the MIDI run's where every note is
in range.

usage: python bench/drums_annotation_bench.py [--onsets 1000000] [--rounds 5] [--prepare]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from cadence import _core


def _times(n: int, rng: random.Random) -> list[str]:
    t, out = 0.0, []
    for _ in range(n):
        t += rng.uniform(0.005, 0.2)
        out.append(f"{t:.6f}")
    return out


def write_corpus(tmp: Path, n: int) -> dict[str, Path]:
    rng = random.Random(0)
    enst = list(_core.annotation_label_map("enst")) + ["sweep", "mtr"]
    mdb = list(_core.annotation_label_map("mdb"))
    files = {}
    times = _times(n, rng)
    files["enst"] = tmp / "enst.txt"
    files["enst"].write_text("".join(f"{t} {rng.choice(enst)}\n" for t in times))
    files["mdb"] = tmp / "mdb_subclass.txt"
    files["mdb"].write_text("".join(f"{t}\t{rng.choice(mdb)}\n" for t in times))
    files["rbma13"] = tmp / "rbma13.txt"
    files["rbma13"].write_text("".join(f"{t}\t{rng.randrange(47)}\n" for t in times))
    files["idmt"] = tmp / "idmt.xml"
    events = "".join(
        f"    <event>\n      <pitch>0</pitch>\n      <onsetSec>{t}</onsetSec>\n      <offsetSec>{t}</offsetSec>\n"
        f"      <instrument>{rng.choice(('KD', 'SD', 'HH'))}</instrument>\n    </event>\n"
        for t in times)
    files["idmt"].write_text('<?xml version="1.0" encoding="UTF-8"?>\n<instrumentRecording>\n  <globalParameter>'
                             "<audioFileName>bench#MIX.wav</audioFileName></globalParameter>\n  <transcription>\n"
                             f"{events}  </transcription>\n</instrumentRecording>\n")
    return files


def python_reader(path: Path, fmt: str):
    """The usual Python way: split each line (ADTOF's TextReader), or xml.etree for IDMT."""
    table = _core.annotation_label_map(fmt)
    times, pitches, unmapped = [], [], {}
    if fmt == "idmt":
        pairs = ((e.findtext("onsetSec"), e.findtext("instrument")) for e in ET.parse(path).getroot().iter("event"))
    else:
        pairs = (line.split() for line in path.read_text().splitlines() if line.strip())
    for t, label in pairs:
        label = label.strip()
        if label in table:
            times.append(float(t))
            pitches.append(table[label])
        else:
            unmapped[label] = unmapped.get(label, 0) + 1
    return times, pitches, unmapped


def best_of(rounds: int, fn) -> tuple[float, object]:
    secs, out = [], None
    for _ in range(rounds):
        t0 = time.perf_counter()
        out = fn()
        secs.append(time.perf_counter() - t0)
    return statistics.median(secs), out


ENGINE = dict(layout="index", sample_rate_hz=22050, merge_s=0.01, pad_before_s=0.02, clip_s=0.2, codec="auto",
              index_codec="flac", flac_level=0, csv_tolerance_s=1.0, midi_tolerance_s=1.0, map_name="gmd9", classes=[])


def prepare_bench(tmp: Path, rounds: int) -> None:
    import csv

    import pyarrow as pa

    from cadence.sample import drums as sample

    root = tmp / "corpus"
    sample.generate(root, performances=8, kits=3, seed=1, min_duration_s=20, max_duration_s=40)
    with open(root / sample.CSV_NAME, newline="") as f:
        rows = list(csv.DictReader(f))
    midi_inputs, text_inputs, outside_by_pair, in_range, out_range = [], [], [], 0, 0
    for i, row in enumerate(rows):
        midi, wav = str(root / row["midi_filename"]), str(root / row["audio_filename"])
        notes = _core.midi_read(midi)["notes"]
        lines = []
        for t, p in zip(notes["onset_s"].tolist(), notes["pitch"].tolist()):
            ok = 35 <= p <= 81
            in_range += ok
            out_range += not ok
            lines.append(f"{t!r}\t{p - 35 if ok else 99}\n")
        outside_by_pair.append(sum(not 35 <= p <= 81 for p in notes["pitch"].tolist()))
        txt = tmp / f"{i:04d}.txt"
        txt.write_text("".join(lines))
        midi_inputs.append((midi, wav, math.nan))
        text_inputs.append(([str(txt)], "rbma13", [wav], math.nan))

    def run(inputs, name):
        job = _core.Job(jobs=1, memory_limit_bytes=0)
        t0 = time.perf_counter()
        pr = _core.PrepareRun(inputs, job, **ENGINE)
        results = []
        while (r := pr.next()) is not None:
            results.append(r)
        wall = time.perf_counter() - t0
        reading[name].append(sum(sec for stage, sec, _ in job.stages() if stage == "midi"))
        return wall, results

    walls = {"midi": [], "rbma13 text": []}
    reading = {"midi": [], "rbma13 text": []}  # the engine's "midi" stage: reading the annotations
    for _ in range(rounds):  # alternated, so load changes hit both alike
        for name, inputs in (("midi", midi_inputs), ("rbma13 text", text_inputs)):
            wall, results = run(inputs, name)
            walls[name].append(wall)
            if name == "midi":
                midi_results = results
            else:
                text_results = results
    audio_s = sum(r.stats["audio_s"] for r in midi_results)
    assert all(r.ok for r in midi_results + text_results)
    assert sum(r.stats["notes"] for r in text_results) == in_range
    assert sum(r.stats["unmapped_labels"].get("99", 0) for r in text_results) == out_range
    same = 0
    for m, t, outside in zip(midi_results, text_results, outside_by_pair):
        if outside == 0:  # every note in range: the same hits, so the same onsets
            same += 1
            assert (pa.record_batch(m.records).column("onset_s").to_pylist()
                    == pa.record_batch(t.records).column("onset_s").to_pylist())
    print(f"\n{len(rows)} pairs, {audio_s:.0f} s of audio, {in_range:,} notes in 35..81 and {out_range:,} outside, "
          f"index layout, 1 worker, median of {rounds} alternated rounds, load {os.getloadavg()[0]:.1f}; "
          f"{same} pairs with every note in range have the MIDI run's onsets exactly")
    print("| annotations | wall s | audio s per wall s | ratio to MIDI | reading them (stage midi) s |")
    print("|---|---:|---:|---:|---:|")
    base = statistics.median(walls["midi"])
    for name, w in walls.items():
        med = statistics.median(w)
        print(f"| {name} | {med:.2f} | {audio_s / med:.0f} | {med / base:.3f} | {statistics.median(reading[name]):.4f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--onsets", type=int, default=1_000_000, help="onsets per file (default 1,000,000)")
    ap.add_argument("--rounds", type=int, default=5, help="reads per reader (median reported)")
    ap.add_argument("--prepare", action="store_true", help="also prepare the bench corpus from MIDI and from text")
    args = ap.parse_args()
    if args.prepare:
        with tempfile.TemporaryDirectory(prefix="cadence_annotation_bench_") as d:
            prepare_bench(Path(d), max(1, args.rounds // 2))
        return
    with tempfile.TemporaryDirectory(prefix="cadence_annotation_bench_") as d:
        files = write_corpus(Path(d), args.onsets)
        print(f"{args.onsets:,} onsets per file, median of {args.rounds} rounds, load {os.getloadavg()[0]:.1f}")
        print("| format | file MB | engine s | engine M onsets/s | Python s | Python M onsets/s | engine / Python |")
        print("|---|---:|---:|---:|---:|---:|---:|")
        for fmt, path in files.items():
            eng_s, got = best_of(args.rounds, lambda: _core.read_annotation(str(path), fmt))
            py_s, (times, pitches, unmapped) = best_of(max(1, args.rounds // 2), lambda: python_reader(path, fmt))
            # The answers must agree, or the figures mean nothing.
            np.testing.assert_array_equal(got["time_s"], times)
            np.testing.assert_array_equal(got["pitch"], pitches)
            assert got["unmapped_labels"] == unmapped, (got["unmapped_labels"], unmapped)
            n = args.onsets
            print(f"| {fmt} | {path.stat().st_size / 1e6:.1f} | {eng_s:.3f} | {n / eng_s / 1e6:.2f} | {py_s:.3f} | "
                  f"{n / py_s / 1e6:.2f} | {py_s / eng_s:.1f}x |")


if __name__ == "__main__":
    main()
