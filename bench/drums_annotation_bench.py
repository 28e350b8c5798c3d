"""Benchmark: the engine's annotation readers, onsets per second on one core (issue 19 target:
text/XML parsing >= 1 M onsets/s per core).

For each format a file of N onsets is generated in the dataset's own shape (ENST "time label",
MDB "time<TAB>LABEL", RBMA13/TMIDT "time<TAB>index", IDMT-SMT-Drums XML events), then read
round after round by `_core.read_annotation` (one call = one thread, file in the page cache)
and, side by side in the same run, by the usual Python way (ADTOF's TextReader-style split and
dict lookup; xml.etree for IDMT, as public loaders do). The answers are checked: the engine's
times, pitches and unmapped counts must equal the Python reader's.

usage: python bench/drums_annotation_bench.py [--onsets 1000000] [--rounds 5]
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--onsets", type=int, default=1_000_000, help="onsets per file (default 1,000,000)")
    ap.add_argument("--rounds", type=int, default=5, help="reads per reader (median reported)")
    args = ap.parse_args()
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
