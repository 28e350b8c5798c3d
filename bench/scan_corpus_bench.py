"""Benchmark: decoding a corpus's audio and measuring its level, engine vs plain Python.

Contenders, side by side in one run on the same files:
  python    soundfile.read + numpy (downmix, peak, RMS), one file after another: what a
            Python pipeline does today;
  cadence   cadence.drums.scan_corpus with 1 job and with all jobs.
The run checks its own answers (durations, peaks and RMS equal across contenders) and prints
a Markdown table for bench/RESULTS.md.

usage: python bench/scan_corpus_bench.py [--performances 8] [--kits 4] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from cadence.drums import scan_corpus
from cadence.sample import drums


def python_scan(paths):
    out = []
    for p in paths:
        x, rate = sf.read(p, dtype="float32", always_2d=True)
        mono = x.mean(axis=1)
        out.append((len(mono) / rate, float(np.abs(mono).max()),
                    float(10 * np.log10(np.mean(mono.astype(np.float64) ** 2)))))
    return np.array(out)


def cadence_scan(paths, jobs):
    t = scan_corpus(paths, jobs=jobs, show_progress=False)
    assert all(t.column("ok").to_pylist()), "every file must decode"
    return np.column_stack([t.column(c).to_numpy() for c in ("duration_s", "peak", "rms_dbfs")])


def best_of(fn, repeat):
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--performances", type=int, default=8)
    ap.add_argument("--kits", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--data", type=Path, help="reuse an existing corpus directory")
    args = ap.parse_args()

    root = args.data or Path(tempfile.mkdtemp(prefix="cadence_bench_")) / "drums"
    if not (root / drums.CSV_NAME).exists():
        drums.generate(root, performances=args.performances, kits=args.kits, seed=1,
                       min_duration_s=20, max_duration_s=60)
    paths = sorted(str(p) for p in root.rglob("*.wav"))
    audio_s = sum(sf.info(p).duration for p in paths)
    ncpu = os.cpu_count() or 1

    python_scan(paths[:2])  # warm the page cache for every contender alike
    cadence_scan(paths, 1)
    rows = []
    t_py, ref = best_of(lambda: python_scan(paths), args.repeat)
    rows.append(("python (soundfile + numpy), 1 thread", t_py, ref))
    t1, r1 = best_of(lambda: cadence_scan(paths, 1), args.repeat)
    rows.append(("cadence scan_corpus, 1 job", t1, r1))
    tn, rn = best_of(lambda: cadence_scan(paths, 0), args.repeat)
    rows.append((f"cadence scan_corpus, {ncpu} jobs", tn, rn))

    for name, _, result in rows[1:]:
        np.testing.assert_allclose(result[:, 0], ref[:, 0], rtol=0, atol=1e-9, err_msg=name)
        np.testing.assert_allclose(result[:, 1], ref[:, 1], rtol=1e-6, err_msg=name)
        np.testing.assert_allclose(result[:, 2], ref[:, 2], atol=1e-3, err_msg=name)

    print(f"machine: {platform.processor() or platform.machine()}, {ncpu} cores, "
          f"Python {platform.python_version()}")
    print(f"data: {len(paths)} WAV files, {audio_s:.0f} s of 44.1 kHz 16-bit mono audio; "
          f"best of {args.repeat}\n")
    print("| contender | seconds | files/s | audio s per s | vs python |")
    print("|---|---:|---:|---:|---:|")
    for name, t, _ in rows:
        print(f"| {name} | {t:.3f} | {len(paths) / t:.0f} | {audio_s / t:.0f} | {t_py / t:.2f}x |")
    print(f"\n{ncpu} jobs vs 1 job: {t1 / tn:.2f}x")


if __name__ == "__main__":
    main()
