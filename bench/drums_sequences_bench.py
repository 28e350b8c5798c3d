"""Benchmark: sequence examples for sequence-level models (4 s windows at 22.05 kHz, 128-band log-mel,
~100 frames/s, onset roll), shuffled, the librosa way against cadence, side by side in one run.

Contenders, on one corpus prepared in the index layout (FLAC), page cache warm:
  librosa way   per sequence: soundfile read of the window from a per-file FLAC (the same 16-bit
                samples the store holds) + librosa.feature.melspectrogram + power_to_db + a numpy
                onset roll from the onset labels (searchsorted + floor division)
  cadence x1    drums.open(mode="sequences", features=MelSpec()).read_batch, batches of 32, 1 job
  cadence x2    the same, 2 jobs, with build/core/parallel_ceiling run before and after it

The order is a seeded shuffle of the items, random window offsets per epoch; cadence reads several
epochs, the librosa way one. Rates are sequences per second of wall time and per CPU second of this
process (the second does not move when other work shares the machine). Checks: for every sequence
the librosa way computed, cadence's log-mel equals it within 4.3e-4 dB (1e-4 relative power) and the
onset rolls are equal; the 2-job batches equal the 1-job batches bit for bit.

usage: python bench/drums_sequences_bench.py [--data DIR] [--performances 8] [--epochs 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from cadence import drums
from cadence.drums import MelSpec

BATCH = 32
ROOT = Path(__file__).resolve().parents[1]


def ceiling() -> str:
    exe = ROOT / "build/core/parallel_ceiling"
    if not exe.exists():
        return "(build/core/parallel_ceiling missing: make ctest)"
    return subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.strip()


def prepare(data: Path, performances: int) -> Path:
    from cadence.sample import drums as sample

    corpus, out = data / "corpus", data / "index"
    if not (corpus / "e-gmd-v1.0.0.csv").exists():
        sample.generate(corpus, performances=performances, kits=2, seed=1, min_duration_s=20, max_duration_s=40)
    if not (out / "report.json").exists():
        drums.prepare(corpus, out, show_progress=False)  # index layout, FLAC, 22,050 Hz
    return out


def per_file_flacs(ds, data: Path) -> list[Path]:
    """Each stored file written as its own 16-bit FLAC (the librosa way's input: same samples)."""
    paths = []
    store = ds._s.store()
    for f, n in enumerate(ds._files_meta["n_samples"]):
        p = data / "flac" / f"{f:05d}.flac"
        if not p.exists():
            p.parent.mkdir(parents=True, exist_ok=True)
            sf.write(p, store.read(f, 0, int(n)), ds.sample_rate_hz, subtype="PCM_16")
        paths.append(p)
    return paths


class LibrosaWay:
    """What a training script does without cadence, one sequence at a time."""

    def __init__(self, ds, paths):
        import librosa

        self.librosa = librosa
        self.ds, self.paths = ds, paths
        s = ds._s
        order = np.lexsort((s.onset_sample, s.source_of))
        self.onsets, self.velocity = s.onset_sample[order], s.class_velocity[order]
        self.begin = np.searchsorted(s.source_of[order], np.arange(len(paths) + 1))

    def __call__(self, file: int, start: int) -> tuple[np.ndarray, np.ndarray]:
        ds, lb = self.ds, self.librosa
        with sf.SoundFile(self.paths[file]) as f:
            f.seek(start)
            y = f.read(ds.n_samples, dtype="float32", fill_value=0.0)
        mel = lb.feature.melspectrogram(y=y, sr=ds.sample_rate_hz, n_fft=2048, hop_length=ds.hop_samples, n_mels=128)
        logmel = lb.power_to_db(mel)
        lo, hi = self.begin[file], self.begin[file + 1]
        on = self.onsets[lo:hi]
        a, b = np.searchsorted(on, [start, start + ds.n_samples])
        roll = np.zeros((ds.n_frames, len(ds.class_names)), np.float32)
        frames = (on[a:b] - start) // ds.hop_samples
        rows, cols = np.nonzero(self.velocity[lo + a:lo + b])
        roll[frames[rows], cols] = 1.0
        return logmel.T, roll


def run_cadence(ds, order_by_epoch):
    """All epochs' batches; returns (wall s, cpu s, the first epoch's batches kept for checks)."""
    kept = []
    c0, w0 = time.process_time(), time.perf_counter()
    for e, order in enumerate(order_by_epoch):
        ds.set_epoch(e)
        for i in range(0, len(order), BATCH):
            b = ds.read_batch(order[i:i + BATCH])
            if e == 0:
                kept.append(b)
    return time.perf_counter() - w0, time.process_time() - c0, kept


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, help="keep the corpus here between runs (default: a temporary directory)")
    ap.add_argument("--performances", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=3, help="epochs cadence reads (the librosa way reads one)")
    args = ap.parse_args()
    tmp = None
    if args.data is None:
        tmp = tempfile.TemporaryDirectory(prefix="cadence-seq-bench-")
        args.data = Path(tmp.name)
    out = prepare(args.data, args.performances)
    kw = dict(mode="sequences", length_s=4.0, fps=100, features=MelSpec(), offsets="random", seed=0)
    one, two = drums.open(out, jobs=1, **kw), drums.open(out, jobs=2, **kw)
    paths = per_file_flacs(one, args.data)
    rng = np.random.default_rng(0)
    orders = [rng.permutation(len(one)) for _ in range(args.epochs)]
    way = LibrosaWay(one, paths)
    # Warm-up (page cache, FFT plans, librosa's first call), not timed.
    one.read_batch(orders[0][:4]), two.read_batch(orders[0][:4])
    way(0, 0)
    load0 = os.getloadavg()
    ceiling_before = ceiling()

    one.set_epoch(0)
    starts = one.starts(orders[0])
    files = one._item_file[orders[0]]
    c0, w0 = time.process_time(), time.perf_counter()
    ref = [way(int(f), int(s)) for f, s in zip(files, starts)]
    lib_wall, lib_cpu = time.perf_counter() - w0, time.process_time() - c0

    one_wall, one_cpu, one_batches = run_cadence(one, orders)
    two_wall, two_cpu, two_batches = run_cadence(two, orders)
    ceiling_after = ceiling()
    load1 = os.getloadavg()

    # Answers.
    feats = np.concatenate([b["features"] for b in one_batches])
    rolls = np.concatenate([b["onset_roll"] for b in one_batches])
    worst_db = max(float(np.abs(feats[j] - r[0]).max()) for j, r in enumerate(ref))
    assert worst_db <= 4.3e-4, f"log-mel differs from librosa by {worst_db} dB"
    assert all(np.array_equal(rolls[j], r[1]) for j, r in enumerate(ref)), "onset rolls differ"
    for a, b in zip(one_batches, two_batches):
        for k in a:
            assert np.array_equal(a[k], b[k]), f"2 jobs differ from 1 job in {k}"

    n_lib, n_cad = len(ref), sum(len(o) for o in orders)
    rows = [("librosa way (soundfile + melspectrogram + power_to_db + numpy roll), 1 process", n_lib, lib_wall, lib_cpu),
            ("cadence read_batch, 1 job", n_cad, one_wall, one_cpu),
            ("cadence read_batch, 2 jobs", n_cad, two_wall, two_cpu)]
    lib_rate = n_lib / lib_wall
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{sys.version.split()[0]}; load average {load0[0]:.2f} before, {load1[0]:.2f} after")
    print(f"data: {len(one._files)} files, {one._files_meta['n_samples'].sum() / one.sample_rate_hz:.0f} s at "
          f"{one.sample_rate_hz} Hz (FLAC index layout); {len(one)} sequences of 4 s per epoch, {one.n_frames} frames "
          f"of {one.hop_samples} samples, 128 mels (n_fft 2048, slaney, power_to_db top_db 80), shuffled, random offsets")
    print(f"checked: log-mel within {worst_db:.2e} dB of librosa on {n_lib} sequences, onset rolls equal, 2 jobs = 1 job")
    print(f"parallel ceiling before: {ceiling_before}\nparallel ceiling after:  {ceiling_after}\n")
    print("| contender | sequences | wall s | sequences/s | CPU s | sequences per CPU s | vs librosa way |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, n, wall, cpu in rows:
        print(f"| {name} | {n} | {wall:.2f} | {n / wall:,.0f} | {cpu:.2f} | {n / cpu:,.0f} | {n / wall / lib_rate:.1f}x |")
    print(f"\n2 jobs / 1 job: {one_wall / two_wall:.2f}x wall")
    if tmp:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
