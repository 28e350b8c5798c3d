"""Benchmark: `cadence drums prepare` against the seed pipeline's method and the codec floor.

Side by side in one run, on one corpus and the same settings:
  seed      bench/drums_seed_baseline.py, the seed's method in Python (mido, soundfile, numpy,
            one FLAC encode per clip, its size rule, its batching);
  cadence   drums.prepare in the clips layout (the seed's design) and the index layout;
  floor     libFLAC alone encoding the very clip samples cadence stores, on the same cores.
The targets of issue 3 are printed as measured ratios. Answers are checked: cadence's record
count must equal the number of merged onsets computed from pretty_midi, and the floor's FLAC
bytes must equal what cadence stored for the same clips.

usage: python bench/drums_prepare_bench.py [--performances 8] [--kits 2] [--data DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import drums_seed_baseline as seed  # noqa: E402

from cadence import _core, _testing, drums  # noqa: E402
from cadence.sample import drums as sample  # noqa: E402


def cadence_run(root, out, **kw) -> dict:
    start = time.perf_counter()
    report = drums.prepare(root, out, show_progress=False, **kw)
    report["wall_s"] = time.perf_counter() - start
    return report


def floor_run(clips: np.ndarray, jobs: int) -> tuple[float, int]:
    job = _core.Job(jobs=jobs)
    start = time.perf_counter()
    nbytes = _testing.drums_encode_clips_floor(clips, 22050, 0, job)  # prepare()'s default level
    return time.perf_counter() - start, nbytes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--performances", type=int, default=8)
    ap.add_argument("--kits", type=int, default=2)
    ap.add_argument("--data", type=Path, help="reuse a corpus directory")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cadence_drums_bench_"))
    root = args.data or tmp / "corpus"
    if not (root / sample.CSV_NAME).exists():
        sample.generate(root, performances=args.performances, kits=args.kits, seed=1,
                        min_duration_s=20, max_duration_s=40)
    csv_path = root / sample.CSV_NAME
    ncpu = os.cpu_count() or 1
    rows = []

    def row(name, files, wall, audio_s, records, note=""):
        rows.append((name, files / wall, records / wall, audio_s / wall, wall, note))
        return files / wall

    # Seed settings: 5 s clips, 22.05 kHz, auto codec.
    b5 = seed.run_baseline(csv_path, tmp / "seed5", fix_length_s=5.0)
    base5 = row("seed method, 5 s clips", b5["files"], b5["seconds"], b5["audio_s"], b5["records"],
                f"{b5['files_per_s_no_save']:.2f} files/s without its batch saves")
    c5 = {j: cadence_run(root, tmp / f"c5j{j}", layout="clips", clip_s=5.0, jobs=j) for j in (1, ncpu)}
    for j, r in c5.items():
        row(f"cadence clips, 5 s, auto, {j} job(s)", r["files_ok"], r["wall_s"], r["audio_hours"] * 3600, r["records"])

    # The floor: the same clip samples (stored as float32 this time), libFLAC alone.
    f32 = cadence_run(root, tmp / "c5f32", layout="clips", clip_s=5.0, codec="float32", jobs=ncpu)
    ds = drums.open(tmp / "c5f32")
    clips = np.stack([np.frombuffer(b, "<f4") for t in ds.iter_shards() for b in t.column("audio").to_pylist()])
    floor = {j: floor_run(clips, j) for j in (1, ncpu)}
    flac_stored = sum(v["bytes"] for r in [c5[ncpu]] for c, v in r["codecs"].items() if c == "flac")
    assert floor[ncpu][1] == flac_stored, (floor[ncpu][1], flac_stored)  # same clips, same bytes
    for j, (wall, _) in floor.items():
        row(f"floor: libFLAC alone, {j} job(s)", f32["files_ok"], wall, f32["audio_hours"] * 3600, len(clips))

    # Short clips.
    b02 = seed.run_baseline(csv_path, tmp / "seed02", fix_length_s=0.2)
    base02 = row("seed method, 0.2 s clips", b02["files"], b02["seconds"], b02["audio_s"], b02["records"])
    c02 = cadence_run(root, tmp / "c02", layout="clips", clip_s=0.2, jobs=ncpu)
    row(f"cadence clips, 0.2 s, auto, {ncpu} jobs", c02["files_ok"], c02["wall_s"], c02["audio_hours"] * 3600, c02["records"])

    # Index layout.
    ci = {j: cadence_run(root, tmp / f"ci{j}", layout="index", jobs=j) for j in (1, ncpu)}
    for j, r in ci.items():
        row(f"cadence index (FLAC per file), {j} job(s)", r["files_ok"], r["wall_s"], r["audio_hours"] * 3600, r["records"])

    # Answers: merged onsets from pretty_midi vs records (cadence's merge rule).
    import pretty_midi
    expected = 0
    for pid in {p for p in drums.open(tmp / "c02").labels.column("pair_id").to_pylist()}:
        notes = sorted(n.start for i in pretty_midi.PrettyMIDI(str(root / (pid + ".midi"))).instruments for n in i.notes)
        first = None
        for t in notes:
            if first is None or t - first > 0.010:
                first, expected = t, expected + 1
    assert c02["records"] == expected == ci[ncpu]["records"], (c02["records"], expected)

    print(f"machine: {platform.machine()}, {ncpu} cores, Python {platform.python_version()}")
    print(f"data: {c02['files_ok']} pairs, {c02['audio_hours'] * 3600:.0f} s of 44.1 kHz audio, "
          f"{c02['records']} merged onsets (cadence) / {b5['records']} seed records\n")
    print("| contender | files/s | records/s | audio s per s | wall s | note |")
    print("|---|---:|---:|---:|---:|---|")
    for name, fps, rps, aps, wall, note in rows:
        print(f"| {name} | {fps:.2f} | {rps:,.0f} | {aps:,.0f} | {wall:.2f} | {note} |")
    fps = lambda r: r["files_ok"] / r["wall_s"]  # noqa: E731
    print("\ntargets:")
    print(f"- seed settings: cadence/seed files/s = {fps(c5[ncpu]) / base5:.1f}x (target >= 4x)")
    print(f"- seed settings: cadence wall / codec floor wall ({ncpu} jobs) = "
          f"{c5[ncpu]['wall_s'] / floor[ncpu][0]:.2f}x (target <= 1.25x); 1 job: "
          f"{c5[1]['wall_s'] / floor[1][0]:.2f}x")
    print(f"- 0.2 s clips: cadence/seed files/s = {fps(c02) / base02:.1f}x (target >= 20x)")
    print(f"- index layout: {ci[1]['audio_s_per_s']:.0f}x realtime on 1 job (target >= 300x per core); "
          f"files/s vs seed at seed settings = {fps(ci[ncpu]) / base5:.1f}x (target >= 30x)")
    print(f"- {ncpu} jobs vs 1 job: clips 5 s {c5[1]['wall_s'] / c5[ncpu]['wall_s']:.2f}x, index "
          f"{ci[1]['wall_s'] / ci[ncpu]['wall_s']:.2f}x, floor {floor[1][0] / floor[ncpu][0]:.2f}x (target >= 1.8x)")
    print(f"- peak reserved / RSS (cadence clips 5 s): {c5[ncpu]['peak_reserved_bytes'] / 2**20:.0f} MiB / "
          f"{c5[ncpu]['peak_rss_bytes'] / 2**20:.0f} MiB (process peak so far)")
    print(f"- stages, cadence clips 5 s {ncpu} jobs (cpu s): {c5[ncpu]['stages_s']}")


if __name__ == "__main__":
    main()
