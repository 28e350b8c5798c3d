"""Cost of ``--monitor`` (issue 11, item 3: < 2 %), two ways in one run.

1. The sampler itself: the CPU time of one sample (three /proc reads, the jobs' budget counters,
   the stage), timed over many samples; at the default interval of 0.5 s that is the share of
   one core the monitor takes, whatever the pipeline.
2. A/B: ``cadence gait features FILE -o OUT`` in fresh processes with and without ``--monitor``
   (which also writes report.json and draws the PNG), alternated, median of ``--repeats``; wall
   and CPU seconds (the children's rusage).

    python bench/monitor_overhead_bench.py /tmp/umich.parquet --repeats 5
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def per_sample_cost(n: int = 2000) -> float:
    from cadence.monitor import PerformanceMonitor, note_progress
    from cadence.runtime import make_job

    mon = PerformanceMonitor(max_history=n + 10)
    mon.start_monitoring(background=False)  # one sample; the loop below takes the others
    jobs = [make_job(1, 0) for _ in range(2)]  # made while it runs: sampled (held to the end)
    note_progress("cycle features", "row", 10, 100)
    for _ in range(n):
        mon.sample()
    mon.stop_monitoring()  # one more
    del jobs
    return mon.sampling_seconds / (n + 2)


def run(cmd: list[str]) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("file", type=Path)
    ap.add_argument("--repeats", type=int, default=5)
    a = ap.parse_args()
    cost = per_sample_cost()
    print(f"one sample: {cost * 1e6:.0f} us CPU; at 0.5 s: {cost / 0.5:.4%} of one core")
    exe = [sys.executable, "-c", "import sys; from cadence.cli import main; sys.exit(main())"]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "f.parquet")
        base = [*exe, "gait", "features", str(a.file), "-o", out, "-q"]
        times: dict[str, list] = {"plain": [], "monitor": []}
        run(base)  # warm the page cache
        for _ in range(a.repeats):
            times["plain"].append(run(base))
            times["monitor"].append(run([*base, "--monitor"]))
        import json

        doc = json.loads(Path(out).with_suffix(".report.json").read_text())["monitor"]
        in_run = doc["sampling_cpu_s"] / doc["wall_s"]
        print(f"in the last monitored run: {doc['samples']} samples, {doc['sampling_cpu_s'] * 1e3:.2f} ms CPU "
              f"sampling in {doc['wall_s']:.2f} s = {in_run:.3%} of one core")
        t = time.perf_counter()
        from cadence.monitor import PerformanceMonitor

        mon = PerformanceMonitor()
        mon.start_monitoring(0.01)
        time.sleep(0.3)
        mon.stop_monitoring()
        mon.plot_performance(os.path.join(tmp, "p.png"))
        print(f"drawing the PNG (matplotlib import included): {time.perf_counter() - t - 0.3:.2f} s, once at the end")
    med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in times.items()}
    for k, (w, c) in med.items():
        print(f"  gait features {k:8s} wall {w:7.3f} s  CPU {c:7.3f} s")
    print(f"  --monitor costs {med['monitor'][0] / med['plain'][0] - 1:+.1%} wall, "
          f"{med['monitor'][1] / med['plain'][1] - 1:+.1%} CPU (report.json and PNG included)")


if __name__ == "__main__":
    main()
