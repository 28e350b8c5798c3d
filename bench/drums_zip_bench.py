"""Benchmark: `cadence drums prepare` from the corpus's zip against the extracted directory.

Side by side in one run, index layout (the default), same corpus, same options, alternating
contenders over several rounds (so a busy neighbour hits both alike): the directory, the zip as
E-GMD packs it (every member deflated), and the zip with stored WAVs (zip64 structures). The
answer is checked: each zip run's shard files must equal the directory run's, byte for byte.
Target (issue 12): zip >= 0.8x the directory's speed. Reports wall and CPU seconds (the CPU
figures hold when other jobs share the machine).

usage: python bench/drums_zip_bench.py [--performances 8] [--kits 3] [--rounds 3] [--data DIR]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from cadence import drums
from cadence.drums.archive import write_zip
import drums_sample_corpus  # bench/, beside this script


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def shards(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(out.iterdir())
            if p.name.startswith(("onsets-", "audio-", "files-", "records-"))}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    drums_sample_corpus.add_arguments(ap)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cadence_zip_bench_"))
    try:
        root = drums_sample_corpus.corpus(args, tmp)
        contenders = {"directory": root, "zip (deflate)": write_zip(root, tmp / "egmd.zip")}
        zipfile.ZIP64_LIMIT = zipfile.ZIP_FILECOUNT_LIMIT = 0  # zip64 records everywhere (bench only)
        contenders["zip64 (stored WAV)"] = write_zip(root, tmp / "egmd64.zip", stored=(".wav",))
        times: dict[str, list[tuple[float, float]]] = {k: [] for k in contenders}
        reference = None
        report = None
        for _ in range(args.rounds):
            for name, src in contenders.items():
                out = tmp / "out"
                shutil.rmtree(out, ignore_errors=True)
                c0, t0 = cpu_s(), time.perf_counter()
                report = drums.prepare(src, out, jobs=args.jobs, show_progress=False)
                times[name].append((time.perf_counter() - t0, cpu_s() - c0))
                got = shards(out)
                if reference is None:
                    reference = got
                assert got == reference, f"{name}: shard files differ from the directory's"
        audio_s = report["audio_hours"] * 3600
        print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
              f"load average {os.getloadavg()[0]:.2f}")
        print(f"corpus: {report['files_ok']} pairs, {audio_s:.0f} s of audio, {report['records']} records; "
              f"zip {contenders['zip (deflate)'].stat().st_size / 1e6:.1f} MB deflated, "
              f"{contenders['zip64 (stored WAV)'].stat().st_size / 1e6:.1f} MB stored; {args.rounds} rounds, "
              f"jobs {report['jobs']}")
        base_wall = min(w for w, _ in times["directory"])
        base_cpu = min(c for _, c in times["directory"])
        print("| source | best wall s | best CPU s | speed vs directory (wall) | (CPU) |")
        print("|---|---:|---:|---:|---:|")
        for name, ts in times.items():
            wall, cpu = min(w for w, _ in ts), min(c for _, c in ts)
            print(f"| {name} | {wall:.2f} | {cpu:.2f} | {base_wall / wall:.2f}x | {base_cpu / cpu:.2f}x |")
        print("shard files identical to the directory's: yes (checked every run)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
