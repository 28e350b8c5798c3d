"""Benchmark: peak memory of `cadence drums prepare` against its --memory-limit.

Runs prepare in a child process per limit on a corpus whose decoded audio is many times the
limit, and reads the child's peak RSS (getrusage RUSAGE_CHILDREN). The fixed overhead is the
peak RSS of a child that only imports cadence and pyarrow.

What is asserted: peak *reserved* bytes (the engine's own accounting) <= limit + the largest
file's working set (decode + resample, from the corpus: an item larger than what is left of the
budget runs alone, see MemoryBudget::reserve) + the largest output one item holds until written
(its clips, from the prepared records), and that the limit made workers wait.
What is reported, not asserted: peak RSS. It also holds the Parquet writer's row-group buffers and
allocator pools that the budget does not see (bench/RESULTS.md says how large they were).

usage: python bench/drums_memory_bench.py [--performances 6] [--kits 4] [--limits 32M 128M]
"""

from __future__ import annotations

import argparse
import json
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


def max_onsets(out: Path) -> int:
    """The most records any one input has in a prepared directory."""
    import pyarrow.compute as pc

    from cadence import drums

    counts = pc.value_counts(drums.open(out).labels.column("pair_id"))
    return max(c["counts"].as_py() for c in counts)


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
    import soundfile as sf  # the largest file's frame count bounds one item's working set
    max_frames = max(sf.info(p).frames for p in root.rglob("*.wav"))
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
            one_file = max_frames * 4 + max_frames * 2  # float32 decode at 44.1 kHz + resampled at 22.05 kHz
            # A finished item holds its output until written: for clips, every onset's window
            # (auto codec: float16 at most for 5 s clips, 2 bytes a sample); for the index layout,
            # the file's audio once (16-bit at most).
            held = max_onsets(out) * 5 * 22050 * 2 if layout == "clips" else max_frames * 2
            bound = parse_bytes(limit) + one_file + held
            assert r["peak_reserved_bytes"] <= bound, (limit, r["peak_reserved_bytes"], bound)
            assert r["memory_waits"] > 0 or parse_bytes(limit) >= decoded


if __name__ == "__main__":
    main()
