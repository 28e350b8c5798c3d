"""Benchmark: peak RSS of `cadence drums prepare` against --memory-limit and --shard-size.

Issue 23, point 8: with the clips layout, a shard's audio stayed in memory until the shard
closed (the buffered label table kept the engine's ``codec`` dictionary zero-copy, and with it
the pair's whole exported result), so peak RSS grew by one shard. Each run here is a child
process (its peak RSS read by a parent with getrusage(RUSAGE_CHILDREN)), at every memory limit
and shard size asked for; ``--before`` adds runs with the writer as it was (take() copies the
labels, dictionaries shared), for the same settings, side by side.

Checked: every run of one shard size has the same files, byte for byte (the journal's SHA-256),
whatever the limit and the writer; every run's records equal the first run's (labels and a
sample of windows read back through drums.open), whatever the shard size.

usage: python bench/drums_shard_memory_bench.py [--data DIR] [--limits 32M 256M 4G]
       [--shard-sizes 64M 1G] [--before 32M] [--performances 36 --kits 4]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from cadence import drums
from cadence.sample import drums as sample

# The writer as it was before the fix (a4bfe92): the label tables buffered as given (the clip
# table after take(), which keeps a dictionary column's dictionary zero-copy: the engine's), the
# audio column combined (a copy).
BEFORE = """
import numpy as np, pyarrow as pa
from cadence.drums import store
def table_add(self, table):
    self.buffer.append(table)
    self.buffered_bytes += table.nbytes
    self.rows += table.num_rows
    if self.buffered_bytes >= store.ROW_GROUP_BYTES:
        merged = pa.concat_tables(self.buffer)
        rows = max(1, merged.num_rows * store.ROW_GROUP_BYTES // max(merged.nbytes, 1))
        self.writer.write_table(merged, row_group_size=rows)
        self.buffer, self.buffered_bytes = [], 0
        return True
    return False
def audio_add(self, table):
    audio = table.column("audio").combine_chunks()
    n = len(audio)
    offsets = np.frombuffer(audio.buffers()[1], np.int64, n + 1, audio.offset * 8)
    data = audio.buffers()[2]
    starts = np.empty(n, np.int64)
    if n and (table.num_rows == 1 or "window_start_sample" not in table.column_names):
        for k in range(n):
            starts[k] = self.blob.add(memoryview(data)[offsets[k]:offsets[k + 1]])
    elif n:
        starts[:] = self.blob.add(memoryview(data)[offsets[0]:offsets[n]]) + offsets[:n] - offsets[0]
    rest = table.drop_columns(["audio"]).take(np.arange(table.num_rows))
    rest = rest.append_column(pa.field("audio_offset", pa.int64(), False), pa.array(starts))
    rest = rest.append_column(pa.field("audio_bytes", pa.int64(), False), pa.array(np.diff(offsets)))
    table_add(self.table, rest)
    return True
store._TableWriter.add = table_add
store._AudioTableWriter.add = audio_add
"""
CHILD = "import sys; from cadence.cli import main; sys.exit(main(sys.argv[1:]))"


def peak_rss(args: list[str], before: bool) -> tuple[int, float]:
    """Peak RSS in bytes and wall seconds of `cadence ARGS` in a child process."""
    wrapper = ("import resource, subprocess, sys, time\n"
               "t = time.perf_counter()\n"
               "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
               "assert p.returncode == 0, p.stderr\n"
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024, time.perf_counter() - t)")
    code = (BEFORE if before else "") + CHILD
    out = subprocess.run([sys.executable, "-c", wrapper, sys.executable, "-c", code, *args],
                         capture_output=True, text=True, check=True).stdout
    rss, wall = out.split()
    return int(rss), float(wall)


def file_digests(out: Path) -> dict[str, str]:
    lines = [json.loads(line) for line in (out / "journal.jsonl").read_text().splitlines()]
    return {k: v["sha256"] for e in lines if e["type"] == "commit" for k, v in e["files"].items()}


def same_records(a: Path, b: Path) -> bool:
    x, y = drums.open(a), drums.open(b)
    if not x.labels.equals(y.labels):
        return False
    rows = np.arange(0, len(x), max(1, len(x) // 500))
    return all(np.array_equal(p, q) for p, q in zip(x.read_batch(rows)["audio"], y.read_batch(rows)["audio"]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, help="reuse a corpus directory")
    ap.add_argument("--performances", type=int, default=36)
    ap.add_argument("--kits", type=int, default=4)
    ap.add_argument("--limits", nargs="+", default=["32M", "256M", "4G"])
    ap.add_argument("--shard-sizes", nargs="+", default=["64M", "1G"])
    ap.add_argument("--before", nargs="*", default=["32M"], help="limits to run the old writer at too")
    ap.add_argument("--clip", default="5")
    ap.add_argument("--layout", default="clips")
    ap.add_argument("--jobs", default="2")
    ap.add_argument("--scratch", type=Path, help="where outputs go (default: a temporary directory)")
    args = ap.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="cadence_shardmem_", dir=args.scratch))
    root = args.data or scratch / "corpus"
    if not (root / sample.CSV_NAME).exists():
        sample.generate(root, performances=args.performances, kits=args.kits, seed=23,
                        min_duration_s=20, max_duration_s=60)
    base, _ = peak_rss(["--version"], False)
    print(f"corpus {root}; fixed overhead (`cadence --version`): {base / 2**20:.0f} MiB; load {os.getloadavg()[0]:.1f}")
    print("| writer | memory limit | shard size | shards | output | peak RSS | RSS - overhead | peak reserved | wall s |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    digests: dict[str, dict] = {}
    first: Path | None = None
    for limit in args.limits:
        for before in ([False, True] if limit in args.before else [False]):
            for shard in args.shard_sizes:
                out = scratch / f"{'before' if before else 'after'}-{limit}-{shard}"
                rss, wall = peak_rss(["drums", "prepare", str(root), str(out), "--layout", args.layout, "--clip", args.clip,
                                      "--jobs", args.jobs, "--memory-limit", limit, "--shard-size", shard, "-q"], before)
                report = json.loads((out / "report.json").read_text())
                files = file_digests(out)
                assert digests.setdefault(shard, files) == files, f"{out}: other bytes than the first {shard} run"
                if first is None:
                    first = out
                elif out.name.endswith(shard) and shard != args.shard_sizes[0] and limit == args.limits[0]:
                    assert same_records(first, out), f"{out}: other records than {first}"
                n = sum(1 for name in files if name.endswith(".bin"))
                size = sum((out / name).stat().st_size for name in files)
                print(f"| {'before' if before else 'after'} | {limit} | {shard} | {n} | {size / 2**20:,.0f} MiB | "
                      f"{rss / 2**20:.0f} MiB | {(rss - base) / 2**20:.0f} MiB | "
                      f"{report['peak_reserved_bytes'] / 2**20:.0f} MiB | {wall:.0f} |", flush=True)
                if out != first:
                    subprocess.run(["rm", "-rf", str(out)], check=True)
    print(f"audio: {report['audio_hours']:.2f} h, {report['files_ok']} files; done {time.strftime('%H:%M')}")


if __name__ == "__main__":
    main()
