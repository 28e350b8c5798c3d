"""Benchmark: the cost of the MIDI/audio alignment estimate inside `cadence drums prepare`.

Index layout (the default), same corpus, several rounds; the engine times each stage (CPU
seconds summed over workers), so the alignment's share is read from the same runs that do the
rest of the work. Target (issue 12): < 10 % of prepare time. The answer is checked: every
file's estimate must be within 1 ms of 0, as the sample renders start each note on its exact
sample (tests/python/test_drums_alignment.py pins it within 1 ms on shifted copies).

usage: python bench/drums_alignment_bench.py [--performances 8] [--kits 3] [--rounds 3] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

from cadence import drums
import drums_sample_corpus  # bench/, beside this script


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    drums_sample_corpus.add_arguments(ap)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cadence_align_bench_"))
    try:
        root = drums_sample_corpus.corpus(args, tmp)
        rows = []
        for _ in range(args.rounds):
            out = tmp / "out"
            shutil.rmtree(out, ignore_errors=True)
            t0 = time.perf_counter()
            r = drums.prepare(root, out, jobs=args.jobs, show_progress=False)
            wall = time.perf_counter() - t0
            offsets = [v["align_offset_ms"] for v in json.loads((out / "manifest.json").read_text())["inputs"].values()]
            assert offsets and all(abs(ms) < 1.0 for ms in offsets), offsets
            rows.append((wall, r["stages_s"], r))
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}; corpus "
              f"{rows[0][2]['files_ok']} pairs, {rows[0][2]['audio_hours'] * 3600:.0f} s audio; jobs {rows[0][2]['jobs']}")
        print("| round | wall s | stage CPU s (all) | align CPU s | align share of stage CPU | of wall x jobs |")
        print("|---:|---:|---:|---:|---:|---:|")
        for i, (wall, st, r) in enumerate(rows, 1):
            total = sum(st.values())
            print(f"| {i} | {wall:.2f} | {total:.3f} | {st['align']:.3f} | {st['align'] / total:.1%} | "
                  f"{st['align'] / (wall * r['jobs']):.1%} |")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
