"""Benchmark: sequence examples for sequence-level models (4 s windows at 22.05 kHz, 128-band log-mel,
~100 frames/s, onset roll), shuffled, the librosa way against cadence, side by side in one run.

Contenders, on one corpus prepared in the index layout (FLAC), page cache warm:
  librosa way   per sequence: soundfile read of the window from a per-file FLAC (the same 16-bit
                samples the store holds) + librosa.feature.melspectrogram + power_to_db + a numpy
                onset roll from the onset labels (searchsorted + floor division)
  cadence x1    drums.open(mode="sequences", features=MelSpec()).read_batch, batches of 32, 1 job
  cadence x2    the same, 2 jobs, with build/core/parallel_ceiling run before and after it
  floor         cadence x1 without features: the window's FLAC decode and the rolls only

The order is a seeded shuffle of the items, random window offsets per epoch; the three contenders
run in turn on each batch of 32 (interleaved, so a change of load cannot favour one). Rates are sequences per second of wall time and per CPU second of this
process (the second does not move when other work shares the machine). Checks: for every sequence
the librosa way computed, cadence's log-mel equals it within 4.3e-4 dB (1e-4 relative power) and the
onset rolls are equal; the 2-job batches equal the 1-job batches bit for bit.

usage: python bench/drums_sequences_bench.py [--data DIR] [--performances 8] [--epochs 2]
"""

from __future__ import annotations

import os

# Per core: numpy's BLAS (librosa's mel product) on one thread. Its default thread pool would spin
# on the other vCPU after each call, taking it from whichever contender runs next.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
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


class Clock:
    """Wall and CPU seconds of one contender, summed over the slices it ran in."""

    def __init__(self):
        self.wall = self.cpu = 0.0
        self.n = 0

    def run(self, fn, n: int):
        c0, w0 = time.process_time(), time.perf_counter()
        out = fn()
        self.wall += time.perf_counter() - w0
        self.cpu += time.process_time() - c0
        self.n += n
        return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, help="keep the corpus here between runs (default: a temporary directory)")
    ap.add_argument("--performances", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=2)
    args = ap.parse_args()
    tmp = None
    if args.data is None:
        tmp = tempfile.TemporaryDirectory(prefix="cadence-seq-bench-")
        args.data = Path(tmp.name)
    out = prepare(args.data, args.performances)
    kw = dict(mode="sequences", length_s=4.0, fps=100, features=MelSpec(), offsets="random", seed=0)
    one, two = drums.open(out, jobs=1, **kw), drums.open(out, jobs=2, **kw)
    bare = drums.open(out, jobs=1, **{**kw, "features": None})  # the read + targets floor
    paths = per_file_flacs(one, args.data)
    rng = np.random.default_rng(0)
    orders = [rng.permutation(len(one)) for _ in range(args.epochs)]
    way = LibrosaWay(one, paths)
    # Warm-up (page cache, FFT plans, librosa's first call), not timed.
    one.read_batch(orders[0][:4]), two.read_batch(orders[0][:4])
    way(0, 0)
    load0 = os.getloadavg()
    ceiling_before = ceiling()

    # Interleaved batch by batch (librosa way, 1 job, 2 jobs on the same items in turn), so that a
    # change in the machine's load between contenders cannot bias the ratios.
    clocks = {name: Clock() for name in ("librosa", "one", "two", "bare")}
    worst_db, checked = 0.0, 0
    for e, order in enumerate(orders):
        for ds in (one, two, bare):
            ds.set_epoch(e)
        for i in range(0, len(order), BATCH):
            idx = order[i:i + BATCH]
            starts, files = one.starts(idx), one._item_file[idx]
            ref = clocks["librosa"].run(lambda: [way(int(f), int(s)) for f, s in zip(files, starts)], len(idx))
            a = clocks["one"].run(lambda: one.read_batch(idx), len(idx))
            b = clocks["two"].run(lambda: two.read_batch(idx), len(idx))
            c = clocks["bare"].run(lambda: bare.read_batch(idx), len(idx))
            assert np.array_equal(c["audio"], a["audio"]) and np.array_equal(c["onset_roll"], a["onset_roll"])
            # Answers.
            for j, (logmel, roll) in enumerate(ref):
                worst_db = max(worst_db, float(np.abs(a["features"][j] - logmel).max()))
                assert np.array_equal(a["onset_roll"][j], roll), "onset rolls differ"
            checked += len(ref)
            for k in a:
                assert np.array_equal(a[k], b[k]), f"2 jobs differ from 1 job in {k}"
    assert worst_db <= 4.3e-4, f"log-mel differs from librosa by {worst_db} dB"
    ceiling_after = ceiling()
    load1 = os.getloadavg()

    lib = clocks["librosa"]
    rows = [("librosa way (soundfile + melspectrogram + power_to_db + numpy roll), 1 thread", lib),
            ("cadence read_batch, 1 job", clocks["one"]),
            ("cadence read_batch, 2 jobs", clocks["two"]),
            ("floor: cadence read_batch without features (FLAC decode + rolls), 1 job", clocks["bare"])]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, Python "
          f"{sys.version.split()[0]}; load average {load0[0]:.2f} before, {load1[0]:.2f} after")
    print(f"data: {len(one._files)} files, {one._files_meta['n_samples'].sum() / one.sample_rate_hz:.0f} s at "
          f"{one.sample_rate_hz} Hz (FLAC index layout); {len(one)} sequences of 4 s per epoch x {len(orders)} epochs, "
          f"{one.n_frames} frames of {one.hop_samples} samples, 128 mels (n_fft 2048, slaney, power_to_db top_db 80), "
          f"shuffled, random offsets, batches of {BATCH}, contenders interleaved batch by batch")
    print(f"checked: log-mel within {worst_db:.2e} dB of librosa on {checked} sequences, onset rolls equal, "
          f"2 jobs = 1 job bit for bit")
    print(f"parallel ceiling before: {ceiling_before}\nparallel ceiling after:  {ceiling_after}\n")
    print("| contender | sequences | wall s | sequences/s | CPU s | sequences per CPU s | vs librosa way (wall) |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, c in rows:
        print(f"| {name} | {c.n} | {c.wall:.2f} | {c.n / c.wall:,.0f} | {c.cpu:.2f} | {c.n / c.cpu:,.0f} | "
              f"{lib.wall / c.wall:.1f}x |")
    print(f"\n2 jobs / 1 job: {clocks['one'].wall / clocks['two'].wall:.2f}x wall")
    if tmp:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
