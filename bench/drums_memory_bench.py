"""Benchmark: peak memory of `cadence drums prepare` against its --memory-limit.

Runs prepare in a child process per limit on a corpus whose decoded audio is many times the
limit, and reads the child's peak RSS (getrusage RUSAGE_CHILDREN). The fixed overhead is the
peak RSS of a child that only imports cadence and pyarrow. The claim checked: peak RSS <=
limit + fixed overhead + one file's working set (an item larger than the whole budget runs alone,
see MemoryBudget::reserve).

usage: python bench/drums_memory_bench.py [--performances 6] [--kits 4] [--limits 32M 128M]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from cadence.runtime import parse_bytes
from cadence.sample import drums as sample


def child_peak_rss(code: str) -> tuple[int, str]:
    """Peak RSS in bytes of a fresh Python child running `code` (and its stdout)."""
    wrapper = ("import resource, subprocess, sys\n"
               f"p = subprocess.run([sys.executable, '-c', {code!r}], capture_output=True, text=True)\n"
               "assert p.returncode == 0, p.stderr\n"
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)\n"
               "print(p.stdout)")
    out = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True, check=True).stdout
    first, _, rest = out.partition("\n")
    return int(first), rest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--performances", type=int, default=6)
    ap.add_argument("--kits", type=int, default=4)
    ap.add_argument("--limits", nargs="+", default=["32M", "128M", "1G"])
    ap.add_argument("--data", type=Path)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cadence_mem_"))
    root = args.data or tmp / "corpus"
    if not (root / sample.CSV_NAME).exists():
        sample.generate(root, performances=args.performances, kits=args.kits, seed=2,
                        min_duration_s=60, max_duration_s=120)
    base, _ = child_peak_rss("import cadence.drums, pyarrow.parquet")
    print(f"fixed overhead (python + cadence + pyarrow imported): {base / 2**20:.0f} MiB")
    print("| layout | memory limit | decoded audio in corpus | peak reserved | peak RSS | RSS - overhead | waits |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for layout, extra in (("clips", ", clip_s=5.0"), ("index", "")):
        for limit in args.limits:
            out = tmp / f"{layout}-{limit}"
            code = (f"import json; from cadence import drums; r = drums.prepare({str(root)!r}, {str(out)!r}, "
                    f"layout={layout!r}{extra}, memory_limit={limit!r}, show_progress=False); "
                    "print(json.dumps(r))")
            rss, stdout = child_peak_rss(code)
            r = json.loads(stdout)
            decoded = r["audio_hours"] * 3600 * 44100 * 4
            print(f"| {layout} | {limit} | {decoded / 2**20:.0f} MiB | {r['peak_reserved_bytes'] / 2**20:.1f} MiB | "
                  f"{rss / 2**20:.0f} MiB | {(rss - base) / 2**20:.0f} MiB | {r['memory_waits']} |")
            assert r["peak_reserved_bytes"] <= parse_bytes(limit) + 200 * 2**20


if __name__ == "__main__":
    main()
