"""Benchmark: the wheel against the dev build, side by side in one run (issue 18: "the wheel loses
no speed"). The same workloads run in two interpreters, alternately (dev, wheel, dev, wheel...):

  prepare        drums.prepare(corpus, index layout, FLAC, 2 jobs) into a fresh directory
  read flac      shuffled 0.2 s windows from that index, read_batch of 128, 1 job
  read pcm16     the same from an index prepared with --index-codec pcm16
  gait features  LocomotionData(file).cycle_features() on the UMich-scale sample, 2 jobs
  import         `python -c "import cadence"` in a fresh process

Each figure is the median over rounds; the ratio is wheel / dev (time) or dev / wheel (rate), so
< 1.05 means within 5 %. The corpus and gait file are made once, by the dev build. Both
interpreters read the same prepared bytes for the read contenders (made by the dev build), and
the check at the end asserts that each build's prepared records equal the other's.

usage: python bench/package_bench.py --wheel-python VENV/bin/python [--dev-python .venv/bin/python]
       [--performances 24] [--rounds 5] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

WORKLOAD = r"""
import json, sys, time, shutil
import numpy as np
corpus, scratch, flac_index, pcm_index, gait_file, windows = sys.argv[1:7]
windows = int(windows)
from cadence import drums
from cadence.gait import LocomotionData
out = {}
dest = f"{scratch}/prepare-{time.monotonic_ns()}"
t = time.perf_counter(); drums.prepare(corpus, dest, jobs=2, show_progress=False)
out["prepare_s"] = time.perf_counter() - t
out["prepared_records"] = len(drums.open(dest))
shutil.rmtree(dest)
for name, path in (("read_flac_wps", flac_index), ("read_pcm16_wps", pcm_index)):
    ds = drums.open(path, jobs=1)
    order = np.random.default_rng(0).permutation(len(ds))[:windows]
    ds.read_batch(order[:128])  # warm
    t = time.perf_counter()
    for k in range(0, len(order), 128):
        ds.read_batch(order[k:k + 128])
    out[name] = len(order) / (time.perf_counter() - t)
loco = LocomotionData(gait_file, jobs=2, verbose=False)
t = time.perf_counter(); loco.cycle_features(output="arrow", show_progress=False)
out["gait_features_s"] = time.perf_counter() - t
print(json.dumps(out))
"""


def run(python: str, *args: str) -> dict:
    done = subprocess.run([python, "-c", WORKLOAD, *args], capture_output=True, text=True, cwd="/")
    if done.returncode != 0:
        raise SystemExit(f"{python}: workload failed\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def import_s(python: str, rounds: int = 7) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        subprocess.run([python, "-c", "import cadence"], check=True, cwd="/")
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--wheel-python", required=True, help="python of a venv with the wheel installed")
    ap.add_argument("--dev-python", default=str(ROOT / ".venv/bin/python"))
    ap.add_argument("--performances", type=int, default=24)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--windows", type=int, default=20000)
    ap.add_argument("--data", type=Path, help="scratch directory to reuse (corpus, indexes, gait file)")
    args = ap.parse_args()
    scratch = args.data or Path(tempfile.mkdtemp(prefix="cadence-package-bench-"))
    scratch.mkdir(parents=True, exist_ok=True)
    dev, wheel = args.dev_python, args.wheel_python
    for name, py in (("dev", dev), ("wheel", wheel)):
        info = subprocess.run([py, "-c", "import cadence, json; print(json.dumps(cadence.build_info()))"],
                              capture_output=True, text=True, check=True, cwd="/").stdout
        print(f"{name}: {py}: native_libs={json.loads(info)['native_libs']}")
    corpus, gait = scratch / "corpus", scratch / "gait.parquet"
    flac, pcm = scratch / "index-flac", scratch / "index-pcm16"
    setup = (f"from cadence.sample import drums as s, gait as g; from cadence import drums; from pathlib import Path\n"
             f"Path('{corpus}/{{}}'.format(s.CSV_NAME)).exists() or s.generate('{corpus}', performances={args.performances}, "
             f"kits=3, seed=1, min_duration_s=20, max_duration_s=40)\n"
             f"Path('{flac}/journal.jsonl').exists() or drums.prepare('{corpus}', '{flac}', show_progress=False)\n"
             f"Path('{pcm}/journal.jsonl').exists() or drums.prepare('{corpus}', '{pcm}', index_codec='pcm16', show_progress=False)\n")
    subprocess.run([dev, "-c", setup], check=True, cwd="/")
    if not gait.exists():
        subprocess.run([str(Path(dev).parent / "cadence"), "sample", "gait", str(gait), "--scale", "umich"], check=True)

    results: dict[str, list[dict]] = {"dev": [], "wheel": []}
    wargs = (str(corpus), str(scratch), str(flac), str(pcm), str(gait), str(args.windows))
    for r in range(args.rounds):
        for name, py in (("dev", dev), ("wheel", wheel)):
            results[name].append(run(py, *wargs))
        print(f"round {r + 1}/{args.rounds} done", flush=True)
    med = {n: {k: statistics.median(x[k] for x in rs) for k in rs[0]} for n, rs in results.items()}
    assert med["dev"]["prepared_records"] == med["wheel"]["prepared_records"] > 0
    imp = {n: import_s(py) for n, py in (("dev", dev), ("wheel", wheel))}

    print(f"\nmachine: {platform.processor() or platform.machine()}, {platform.node()}; "
          f"{args.rounds} rounds, medians; corpus {args.performances} performances, "
          f"{int(med['dev']['prepared_records'])} records")
    print(f"{'workload':<16}{'dev':>12}{'wheel':>12}{'wheel cost':>12}")
    for key, label, unit, rate in (("prepare_s", "prepare", "s", False), ("read_flac_wps", "read flac", "w/s", True),
                                   ("read_pcm16_wps", "read pcm16", "w/s", True),
                                   ("gait_features_s", "gait features", "s", False)):
        d, w = med["dev"][key], med["wheel"][key]
        ratio = d / w if rate else w / d
        print(f"{label:<16}{d:>10.3g}{unit:>2}{w:>10.3g}{unit:>2}{ratio:>11.3f}x")
    print(f"{'import cadence':<16}{imp['dev']:>11.3f}s{imp['wheel']:>11.3f}s{imp['wheel'] / imp['dev']:>11.3f}x")


if __name__ == "__main__":
    main()
