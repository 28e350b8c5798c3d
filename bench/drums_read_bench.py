"""Benchmark: reading prepared drum records the way training does (shuffled windows), every
contender side by side in one run, answers checked bit-exact.

Contenders, on one corpus (E-GMD-like lengths, more files than any cache), page cache warm:
  index/flac     drums.open(index layout, FLAC).read_batch, 1 job: frame-wise decode
  index/pcm16    the same with --index-codec pcm16: a pread of the window's bytes
  memmap/pcm16   numpy: np.memmap of the same PCM16 bytes, slice + astype(float32) per window
  wav/soundfile  soundfile open + seek + read of the original WAVs (DrumClassification, Lhotse)
  clips          drums.open(clips layout).read_batch (0.2 s float32, 5 s auto = FLAC/float16)
  ds[i]          single items, index/flac
  read_batch x2  2 jobs against 1 job, with the machine's parallel ceiling in the same minutes
  DataLoader     torch DataLoader(num_workers=2, drums.collate) against read_batch on 2 jobs, records
                 (batch 128) and sequences (4 s, log-mel, batch 16): batches through reused shared
                 buffers (drums/batch_pool.py) and, as before, a fresh segment per batch
                 (CADENCE_SHARED_BATCHES=0); the three take turns in each of 3 rounds
  hf/datasets    (if installed) HF datasets over a Parquet of {bytes} clips with 100-row groups

Rates are windows per second of wall time and per CPU second of this process (the second does
not move when other work shares the machine). Checks: index/flac windows equal the stored FLAC
decoded whole by soundfile and cut with numpy; pcm16 equals the memmap slices; clips equal the
index windows; the DataLoader and 2-job batches equal 1-job batches.

usage: python bench/drums_read_bench.py [--data DIR] [--performances 70] [--windows 4000]
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import soundfile as sf

from cadence import _core, drums

BATCH = 128


def timed(fn, repeat: int = 3) -> tuple[float, float, object]:
    """Best (wall s, cpu s) of `repeat` runs of fn, and its last result."""
    best_wall = best_cpu = float("inf")
    out = None
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        out = fn()
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best_wall, best_cpu, out


def batches(ds, order, keep: bool = True):
    """Batches of windows in `order`; with keep=False each is dropped as a training step would
    (what is timed: keeping thousands of windows would time page faults, not reading)."""
    out = []
    for k in range(0, len(order), BATCH):
        audio = ds.read_batch(order[k:k + BATCH])["audio"]
        if keep:
            out.append(audio)
    return out


def read_all(ds, order) -> np.ndarray:
    return np.concatenate(batches(ds, order))


def prepare(root: Path, out: Path, name: str, **kw) -> Path:
    path = out / name
    if not (path / "journal.jsonl").exists():
        drums.prepare(root, path, show_progress=False, **kw)
    return path


def stored_flac_windows(ds, rows) -> np.ndarray:
    """Reference: each stored file decoded whole by soundfile (libsndfile), windows cut in numpy."""
    s = ds._s
    out = np.zeros((len(rows), ds.n_samples), np.float32)
    files = {}
    for j, i in enumerate(rows):
        src = int(s.source_of[ds._indices[i]])
        if src not in files:
            blob = s.blobs[s.src["blob"][src]]
            off, n = int(s.src["audio_offset"][src]), int(s.src["audio_bytes"][src])
            with open(blob, "rb") as f:
                f.seek(off)
                files[src] = sf.read(io.BytesIO(f.read(n)), dtype="float32")[0]
        x = files[src]
        start, n = _core.drums_onset_window(int(s.onset_sample[ds._indices[i]]), ds.pad_before_s, ds.clip_s,
                                            ds.sample_rate_hz)
        lo, hi = max(start, 0), min(start + n, len(x))
        out[j, lo - start:hi - start] = x[lo:hi]
    return out


def memmap_windows(ds, rows, keep: bool = True) -> list:
    """numpy memmap slices of the PCM16 blob, one window at a time (what a hand-written reader does)."""
    s = ds._s
    maps = [np.memmap(b, np.int16, mode="r") for b in s.blobs]
    blob, offset, count = s.src["blob"], s.src["audio_offset"] // 2, s.src["n_samples"]
    pad = round(ds.pad_before_s * ds.sample_rate_hz)
    out = []
    for i in rows:
        r = ds._indices[i]
        src = s.source_of[r]
        m, base, n = maps[blob[src]], offset[src], count[src]
        start = s.onset_sample[r] - pad
        lo, hi = max(start, 0), min(start + ds.n_samples, n)
        w = np.zeros(ds.n_samples, np.float32)
        w[lo - start:hi - start] = m[base + lo:base + hi].astype(np.float32) / np.float32(32768)
        if keep:
            out.append(w)
    return out


def wav_windows(corpus: Path, ds, rows, clip_s: float, keep: bool = False) -> list:
    """soundfile on the original WAVs: open, seek, read the window (as Lhotse / DrumClassification)."""
    s = ds._s
    pid, onset_s = s.pair_strings["pair_id"], s.onset_s
    out = []
    for i in rows:
        r = ds._indices[i]
        with sf.SoundFile(corpus / (pid[s.pair_of[r]] + ".wav")) as f:
            start = max(int(round((onset_s[r] - 0.02) * f.samplerate)), 0)
            f.seek(min(start, f.frames))
            w = f.read(int(round(clip_s * f.samplerate)), dtype="float32", fill_value=0.0)
            if keep:
                out.append(w)
    return out


def ceiling() -> float | None:
    """The machine's own 2-job speed-up on a compute-bound kernel, measured now (bench/cpp)."""
    exe = Path(__file__).resolve().parents[1] / "build/core/parallel_ceiling"
    if not exe.exists():
        return None
    text = subprocess.run([str(exe)], capture_output=True, text=True).stdout
    for tok in text.replace(",", " ").split():
        if tok.endswith("x") and tok[:-1].replace(".", "", 1).isdigit():
            return float(tok[:-1])
    return None


def peak_rss_reading(path: Path, windows: int) -> float:
    """Peak RSS (MiB) of a fresh process that opens `path` and reads `windows` shuffled windows."""
    code = "\n".join([
        "import numpy as np, resource",
        "from cadence import drums",
        f"ds = drums.open({str(path)!r}, jobs=1)",
        f"o = np.random.default_rng(0).integers(0, len(ds), {windows})",
        f"for k in range(0, len(o), {BATCH}):",
        f"    ds.read_batch(o[k:k + {BATCH}])",
        # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across fork + exec (it would be ours).
        "print(next(int(x.split()[1]) for x in open('/proc/self/status') if x.startswith('VmHWM')) / 1024)"])
    return float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)


def worker_cpu_s(pids) -> float:
    """CPU seconds (user + system) used so far by these processes (/proc/PID/stat)."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def loader_rounds(contenders: dict, rounds: int = 3) -> dict:
    """Best wall s (and CPU s of this process and its workers) of each contender over `rounds`
    rounds, the contenders taking turns in every round (a change of load hits all of them)."""
    best = {k: (float("inf"), float("inf")) for k in contenders}
    for _ in range(rounds):
        for name, (fn, pids) in contenders.items():
            c0, w0, k0 = time.process_time(), time.perf_counter(), worker_cpu_s(pids())
            fn()
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0 + worker_cpu_s(pids()) - k0
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    return best


def loader_rows(row, flac: Path, ds, d2, order, w1: float, windows: int) -> None:
    """DataLoader with 2 workers (batches through batch_pool's reused shared memory, and through
    PyTorch's fresh segment per batch as before) against read_batch on 2 jobs in this process, for
    records and for sequences; every batch checked against read_batch."""
    import torch  # noqa: PLC0415

    def dataloader(dset, order_, batch, pooled):
        os.environ["CADENCE_SHARED_BATCHES"] = "1" if pooled else "0"  # read by each worker at start
        dl = torch.utils.data.DataLoader(dset, batch_size=batch, sampler=order_.tolist(), num_workers=2,
                                         collate_fn=drums.collate, persistent_workers=True, prefetch_factor=4)
        it = iter(dl)  # start the workers now, with this setting
        first = next(it)
        ref = dset.read_batch(first["index"].numpy())
        assert np.array_equal(first["audio"].numpy(), ref["audio"]), "DataLoader batch differs from read_batch"
        del first, it
        os.environ.pop("CADENCE_SHARED_BATCHES")
        sum(len(b["audio"]) for b in dl)  # first whole epoch: pages and arenas made (not timed)
        return dl

    def pids_of(dl):
        return lambda: [w.pid for w in dl._iterator._workers]

    for what, dset, d2set, order_, batch in (
            ("records", drums.open(flac), d2, drums.BlockShuffleSampler(len(ds), seed=0).order()[:windows * 2], BATCH),
            ("sequences", *(drums.open(flac, mode="sequences", length_s=4.0, features="mel", offsets="random",
                                       jobs=j) for j in (0, 2)), None, 16)):
        if order_ is None:
            order_ = np.random.default_rng(1).permutation(len(dset))[:max(64, windows // 16)]
        pooled, fresh = dataloader(dset, order_, batch, True), dataloader(dset, order_, batch, False)
        n = len(order_)

        def read2():
            for k in range(0, n, batch):
                d2set.read_batch(order_[k:k + batch])
        best = loader_rounds({"read_batch": (read2, list),
                              "pooled": (lambda: sum(len(b["audio"]) for b in pooled), pids_of(pooled)),
                              "fresh": (lambda: sum(len(b["audio"]) for b in fresh), pids_of(fresh))})
        wb, cb = best["read_batch"]
        unit = "windows" if what == "records" else "sequences of 4 s, log-mel"
        row(f"{what}: read_batch, 2 jobs", wb, cb, n, f"batch {batch}, {unit}")
        for name, label in (("pooled", "reused shared buffers (batch_pool)"),
                            ("fresh", "a fresh segment per batch (before)")):
            w, c = best[name]
            row(f"{what}: DataLoader 2 workers, {name}", w, c, n,
                f"{wb / w:.2f}x read_batch on 2 jobs (wall), {cb / c:.2f}x its CPU per item; {label}")
        del pooled, fresh
    dl0 = torch.utils.data.DataLoader(d2, batch_size=BATCH, sampler=order.tolist(), num_workers=0,
                                      collate_fn=drums.collate)
    w0, c0, got0 = timed(lambda: sum(len(b["audio"]) for b in dl0), repeat=2)
    row("records: DataLoader 0 workers, 2 jobs", w0, c0, got0,
        f"{w1 / w0 * got0 / len(order):.2f}x read_batch on 1 job (the engine's threads, no copy between processes)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, help="scratch directory (kept between runs)")
    ap.add_argument("--performances", type=int, default=70, help="performances x 3 kits, 10-120 s each")
    ap.add_argument("--windows", type=int, default=4000, help="shuffled windows per contender")
    args = ap.parse_args()
    data = args.data or Path(tempfile.mkdtemp(prefix="cadence-read-bench-"))
    corpus = data / "corpus"
    if not (corpus / "e-gmd-v1.0.0.csv").exists():
        subprocess.run([sys.executable, "-c", "import sys; from cadence.cli import main; sys.exit(main())",
                        "sample", "drums", str(corpus), "--performances",
                        str(args.performances), "--kits", "3", "--min-duration", "10", "--max-duration", "120",
                        "--seed", "7", "--quiet"], check=True)
    flac = prepare(corpus, data, "index-flac")
    pcm = prepare(corpus, data, "index-pcm16", index_codec="pcm16")
    clips02 = prepare(corpus, data, "clips-0.2", layout="clips", clip_s=0.2, codec="float32")
    clips5 = prepare(corpus, data, "clips-5", layout="clips", clip_s=5.0)

    ds = drums.open(flac, jobs=1)
    n_files = len(ds._s.src["blob"])
    hours = ds._s.src["n_samples"].sum() / ds.sample_rate_hz / 3600
    rng = np.random.default_rng(0)
    order = rng.integers(0, len(ds), args.windows)
    print(f"corpus: {n_files} files, {hours:.2f} h, {len(ds):,} records; {args.windows} shuffled windows; "
          f"bytes: flac {sum(f.stat().st_size for f in flac.glob('audio-*.bin')) / 1e6:.0f} MB, "
          f"pcm16 {sum(f.stat().st_size for f in pcm.glob('audio-*.bin')) / 1e6:.0f} MB")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    rows = []

    def row(name, wall, cpu, n, note=""):
        rows.append((name, n / wall, n / cpu if cpu > 0 else float("nan"), note))
        print(f"  {name:<28} {n / wall:>10,.0f} /s wall {n / cpu:>10,.0f} /s cpu  {note}", flush=True)

    # 0.2 s windows, one core.
    w, c, _ = timed(lambda: batches(ds, order, keep=False))
    row("index/flac 0.2 s", w, c, len(order))
    got = read_all(ds, order)
    check = stored_flac_windows(ds, order[:500])
    assert np.array_equal(got[:500], check), "index/flac windows differ from soundfile's decode"
    dp = drums.open(pcm, jobs=1)
    w, c, _ = timed(lambda: batches(dp, order, keep=False))
    row("index/pcm16 0.2 s", w, c, len(order))
    w, c, _ = timed(lambda: memmap_windows(dp, order, keep=False))
    row("memmap/pcm16 0.2 s", w, c, len(order), "numpy slice + astype per window")
    got_pcm = read_all(dp, order)
    assert np.array_equal(got_pcm, np.stack(memmap_windows(dp, order))), "pcm16 windows differ from memmap slices"
    assert np.array_equal(got_pcm, got), "pcm16 and flac stores differ"
    w, c, _ = timed(lambda: wav_windows(corpus, ds, order, 0.2))
    row("wav/soundfile 0.2 s", w, c, len(order), "44.1 kHz originals, open+seek+read")
    w, c, _ = timed(lambda: [ds[int(i)] for i in order[:1000]])
    row("index/flac ds[i] 0.2 s", w, c, 1000, "single items")

    # 5 s windows.
    d5 = drums.open(flac, jobs=1, clip_s=5.0)
    o5 = order[:max(args.windows // 8, 256)]
    w, c, _ = timed(lambda: batches(d5, o5, keep=False))
    got5 = read_all(d5, o5)
    row("index/flac 5 s", w, c, len(o5))
    w, c, _ = timed(lambda: wav_windows(corpus, ds, o5, 5.0))
    row("wav/soundfile 5 s", w, c, len(o5))

    # Clips.
    c02 = drums.open(clips02, jobs=1)
    w, c, _ = timed(lambda: batches(c02, order, keep=False))
    row("clips 0.2 s (float32)", w, c, len(order))
    gc = read_all(c02, order)
    # float32 clips are not quantised to 16 bits: within half a PCM16 step of the index windows.
    assert np.abs(gc - got).max() <= 0.5 / 32768 + 1e-7, "clips differ from index windows"
    c5 = drums.open(clips5, jobs=1)
    w, c, _ = timed(lambda: batches(c5, o5, keep=False))
    gc5 = read_all(c5, o5)
    row("clips 5 s (auto)", w, c, len(o5))
    flac_rows = c5._s.src["codec"][o5] == drums.directory.CODEC_IDS["flac"]
    assert np.array_equal(gc5[flac_rows], got5[flac_rows]), "5 s FLAC clips differ from index windows"

    # Two jobs, with the ceiling of the machine in the same minutes.
    d2 = drums.open(flac, jobs=2)
    w1, _, _ = timed(lambda: batches(ds, order, keep=False))
    w2, _, _ = timed(lambda: batches(d2, order, keep=False))
    assert np.array_equal(read_all(d2, order), got)
    ceil = ceiling()
    row("index/flac 0.2 s, 2 jobs", w2, float("nan"), len(order),
        f"{w1 / w2:.2f}x one job; machine ceiling {ceil:.2f}x" if ceil else f"{w1 / w2:.2f}x one job")

    try:
        import torch
        from torch.utils.data import DataLoader
    except ImportError:
        torch = None
    if torch is not None:
        loader_rows(row, flac, ds, d2, order, w1, args.windows)

    try:
        import datasets as hf
    except ImportError:
        hf = None
    if hf is not None:
        # HF's own Parquet layout: audio {bytes} per row, 100-row row groups, decoded per item.
        import pyarrow as pa
        hf_path = data / "hf-clips.parquet"
        if not hf_path.exists():
            t = pa.table({"record_id": [c02._s.record_id(i) for i in range(len(c02))]})
            blobs = [_wav_bytes(c02.read_batch([i])["audio"][0], c02.sample_rate_hz) for i in range(len(c02))]
            t = t.append_column("audio", pa.array([{"bytes": b, "path": None} for b in blobs]))
            pq.write_table(t, hf_path, row_group_size=100)
        try:
            hds = hf.load_dataset("parquet", data_files=str(hf_path), split="train").cast_column(
                "audio", hf.Audio(sampling_rate=c02.sample_rate_hz))
            w, c, got_hf = timed(lambda: [hds[int(i)]["audio"]["array"] for i in order[:500]], repeat=1)
            assert np.allclose(np.stack(got_hf), gc[:500], atol=1 / 32768), "HF clips differ"
            row("hf/datasets clips 0.2 s", w, c, 500, f"datasets {hf.__version__}: load_dataset('parquet'), "
                "WAV bytes per item, 100-row groups")
        except ImportError as e:  # datasets >= 4 decodes audio with torchcodec (FFmpeg)
            print(f"  hf/datasets: not run ({e})")

    rss = {name: peak_rss_reading(p, args.windows) for name, p in (("index/flac", flac), ("clips 5 s", clips5))}
    s = ds._s
    label_bytes = sum(a.nbytes for a in (s.pair_of, s.onset_s, s.onset_sample, s.class_velocity, s.hit_offsets,
                                         s.pitches, s.velocities))
    print("  peak RSS reading " + ", ".join(f"{k} {v:.0f} MiB" for k, v in rss.items()) +
          f"; labels in memory {label_bytes / len(ds):.1f} bytes/record ({label_bytes / 2**20:.1f} MiB here)")
    print("\n| contender | windows/s (wall) | windows/s (CPU s) | note |\n|---|---:|---:|---|")
    for name, a, b, note in rows:
        print(f"| {name} | {a:,.0f} | {b:,.0f} | {note} |")


def _wav_bytes(x: np.ndarray, rate: int) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, x, rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


if __name__ == "__main__":
    main()
