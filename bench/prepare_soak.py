"""Soak (issue 23, point 6; not CI): `cadence drums prepare` killed and starved, then a long
DataLoader run.

``prepare``: a corpus of >= 2 h of audio is prepared once uninterrupted (the reference) and once
into a size-limited tmpfs with SIGKILL at random moments (``--kills``, 10) and one full disk in
the middle of a shard (after half the kills the tmpfs is shrunk to what is used + half a shard;
that run must exit 2 naming the full disk and leave no temporary file; the tmpfs is then
enlarged), resumed with ``--resume`` after each. The result must equal the reference: the label
table, every record's window, every file's metadata and stored audio bytes; `drums verify`
exits 0 and no temporary file is left. Needs root (mount).

``loader``: a DataLoader with 2 worker processes reads shuffled windows (RandomSampler, batches
of 128, drums.collate) from a prepared directory for ``--minutes``; the RSS of the main process
and of each worker is sampled every ``--every-s`` seconds; first/last/max per process printed.

usage: python bench/prepare_soak.py prepare --work DIR [--kills 10] [--seed 0]
       python bench/prepare_soak.py loader --data DIR/soak/out [--minutes 30]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from cadence import drums
from cadence.atomic import TEMP_MARK
from cadence.drums.store import JOURNAL, read_journal
from cadence.sample import drums as sample

CADENCE = Path(sys.executable).with_name("cadence")
OPTIONS = ["--layout", "index", "--shard-size", "8M", "--jobs", "2", "--memory-limit", "256M", "-q"]


def run(root: Path, out: Path, *extra: str, kill_after_s: float | None = None) -> tuple[int | None, str, float]:
    """Prepare ROOT into OUT (--resume when OUT holds a journal); SIGKILL it after
    `kill_after_s` if still running. Returns (exit status or None if killed, stderr, seconds)."""
    resume = ["--resume"] if (out / JOURNAL).exists() else []
    t = time.perf_counter()
    p = subprocess.Popen([str(CADENCE), "drums", "prepare", str(root), str(out), *OPTIONS, *resume, *extra],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        p.wait(timeout=kill_after_s)
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGKILL)
        p.wait()
        p.stderr.close()
        return None, "", time.perf_counter() - t
    err = p.stderr.read()
    p.stderr.close()
    return p.returncode, err, time.perf_counter() - t


def committed(out: Path) -> tuple[int, int]:
    """(shards, inputs) the journal holds."""
    if not (out / JOURNAL).exists():
        return 0, 0
    _, commits = read_journal(out / JOURNAL)
    return sum(1 for c in commits if c.files), sum(len(c.inputs) for c in commits)


def temporaries(out: Path) -> list[str]:
    return [p.name for p in out.iterdir() if TEMP_MARK in p.name or p.name.endswith(".tmp")] if out.exists() else []


def contents(out: Path) -> dict:
    """What a directory holds, independent of where shards were cut: the label table, a digest
    of every record's window, and each file's metadata row with the SHA-256 of its stored audio."""
    ds = drums.open(out)
    digest = hashlib.sha256()
    for start in range(0, len(ds), 4096):
        for x in ds.read_batch(np.arange(start, min(start + 4096, len(ds))))["audio"]:
            digest.update(x.tobytes())
    files = {}
    _, commits = read_journal(out / JOURNAL)
    for c in commits:
        for name in c.files:
            if name.startswith("files-"):
                blob = out / ("audio-" + name[len("files-"):].replace(".parquet", ".bin"))
                t = pq.read_table(out / name).to_pylist()
                with open(blob, "rb") as f:
                    for row in t:
                        f.seek(row.pop("audio_offset"))
                        row["audio_sha256"] = hashlib.sha256(f.read(row["audio_bytes"])).hexdigest()
                        files[row["pair_id"]] = row
    return {"labels": ds.labels, "windows": digest.hexdigest(), "records": len(ds), "files": files}


def df_used(path: Path) -> int:
    s = os.statvfs(path)
    return (s.f_blocks - s.f_bfree) * s.f_frsize


def soak_prepare(args: argparse.Namespace) -> None:
    if os.geteuid() != 0:
        sys.exit("prepare soak: needs root for its size-limited tmpfs (mount -t tmpfs -o size=...)")
    work = args.work
    root = work / "corpus"
    if not (root / sample.CSV_NAME).exists():
        sample.generate(root, performances=args.performances, kits=args.kits, seed=6,
                        min_duration_s=20, max_duration_s=60)
    reference = work / "reference"
    if not ((reference / "report.json").exists() and subprocess.run(
            [str(CADENCE), "drums", "verify", str(reference)], capture_output=True).returncode == 0):
        shutil.rmtree(reference, ignore_errors=True)
        rc, err, wall_s = run(root, reference)
        assert rc == 0, err
        (work / "reference_wall_s").write_text(f"{wall_s}\n")
    ref_report = json.loads((reference / "report.json").read_text())
    ref_s = float((work / "reference_wall_s").read_text())
    ref_bytes = sum(p.stat().st_size for p in reference.iterdir())
    shards, inputs = committed(reference)
    print(f"corpus: {ref_report['files_ok']} pairs, {ref_report['audio_hours']:.2f} h of audio; options {' '.join(OPTIONS)}")
    print(f"reference (uninterrupted): {ref_s:.0f} s, {shards} shards, {ref_bytes / 2**20:.0f} MiB, "
          f"{ref_report['records']:,} records; load {os.getloadavg()[0]:.1f}")

    # A resume's start-up before the first pair (listing the corpus, recovery): a run with nothing left.
    startup_s = run(root, reference)[2]
    disk = work / "disk"
    disk.mkdir(exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={4 * ref_bytes}", "tmpfs", str(disk)], check=True)
    rng = random.Random(args.seed)
    out = disk / "out"
    shard_bytes = 8 << 20
    events = ["kill"] * args.kills
    events.insert(args.kills // 2, "enospc")
    # The kill moments: the uninterrupted run's working time cut at --kills random points, each
    # piece a run's time after its start-up (so the kills are spread over the whole run), and
    # one kill in five during a start-up instead (listing, recovery, the first pairs).
    cuts = sorted(rng.uniform(0, ref_s) for _ in range(args.kills))
    delays = [rng.uniform(0.2, startup_s) if rng.random() < 0.2 else startup_s + b - a
              for a, b in zip([0.0] + cuts, cuts)]
    print(f"start-up (a --resume with nothing left): {startup_s:.1f} s; kill after (s): "
          f"{', '.join(f'{d:.1f}' for d in delays)}")
    print("| # | event | after s | exit | shards | inputs | temporaries |")
    print("|---:|---|---:|---:|---:|---:|---|")
    kills = 0
    try:
        for n, event in enumerate(events, start=1):
            if event == "enospc":
                size = df_used(disk) + shard_bytes // 2
                subprocess.run(["mount", "-o", f"remount,size={size}", str(disk)], check=True)
                rc, err, s = run(root, out)
                left = temporaries(out)
                assert rc == 2 and "No space left on device" in err and "--resume" in err, (rc, err)
                assert not left, left
                subprocess.run(["mount", "-o", f"remount,size={4 * ref_bytes}", str(disk)], check=True)
                print(f"| {n} | full disk at {size / 2**20:.1f} MiB | {s:.1f} | {rc} | {committed(out)[0]} | "
                      f"{committed(out)[1]} | none |", flush=True)
                print(f"  message: {err.strip().splitlines()[-1]}")
                continue
            delay = delays.pop(0)
            rc, err, s = run(root, out, kill_after_s=delay)
            kills += rc is None
            if rc not in (None, 0):
                raise AssertionError(f"run {n} exited {rc}: {err}")
            print(f"| {n} | {'SIGKILL' if rc is None else 'finished before the kill'} | {s:.1f} | "
                  f"{'-' if rc is None else rc} | {committed(out)[0]} | {committed(out)[1]} | "
                  f"{len(temporaries(out))} |", flush=True)
        rc, err, s = run(root, out)
        assert rc == 0, err
        report = json.loads((out / "report.json").read_text())
        print(f"| {len(events) + 1} | final --resume | {s:.1f} | {rc} | {committed(out)[0]} | {committed(out)[1]} | "
              f"{len(temporaries(out))} |")
        print(f"kills delivered: {kills}; recovered in the last run: {report['recovered']}")
        verify = subprocess.run([str(CADENCE), "drums", "verify", str(out)], capture_output=True, text=True)
        assert verify.returncode == 0, verify.stdout + verify.stderr
        assert not temporaries(out)
        a, b = contents(reference), contents(out)
        same = {k: (a[k].equals(b[k]) if k == "labels" else a[k] == b[k]) for k in a}
        print(f"verify: exit 0; compared with the reference: {same}; {b['records']:,} records, "
              f"{len(b['files'])} files")
        assert all(same.values()), same
    finally:
        kept = work / "soak"
        shutil.rmtree(kept, ignore_errors=True)
        if out.exists():
            shutil.copytree(out, kept / "out")  # for the loader soak, off the tmpfs
        subprocess.run(["umount", str(disk)], check=False)


def _rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _children(pid: int) -> list[int]:
    kids = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids += [int(x) for x in (task / "children").read_text().split()]
    return sorted(kids)


def soak_loader(args: argparse.Namespace) -> None:
    import torch

    ds = drums.open(args.data, jobs=1)
    g = torch.Generator().manual_seed(args.seed)
    loader = torch.utils.data.DataLoader(ds, batch_size=128, collate_fn=drums.collate, num_workers=2,
                                         persistent_workers=True, drop_last=True,
                                         sampler=torch.utils.data.RandomSampler(ds, generator=g))
    samples: dict[str, list[int]] = {}
    start = next_sample = time.monotonic()
    end = start + args.minutes * 60
    batches = windows = epochs = 0
    check = 0.0
    print(f"{args.data}: {len(ds):,} records; DataLoader 2 workers, batches of 128, shuffled; {args.minutes} min")
    while time.monotonic() < end:
        epochs += 1
        for batch in loader:
            batches += 1
            windows += batch["audio"].shape[0]
            check += float(batch["audio"][0, :16].sum())  # touch the data
            now = time.monotonic()
            if now >= next_sample:
                workers = _children(os.getpid())
                row = {"main": _rss_bytes(os.getpid())} | {f"worker {i}": _rss_bytes(p) for i, p in enumerate(workers)}
                for k, v in row.items():
                    samples.setdefault(k, []).append(v)
                print(f"  {(now - start) / 60:5.1f} min  {batches:,} batches  " +
                      "  ".join(f"{k} {v / 2**20:.0f} MiB" for k, v in row.items()), flush=True)
                next_sample += args.every_s
            if now >= end:
                break
    wall = time.monotonic() - start
    print(f"{epochs} epochs, {batches:,} batches, {windows:,} windows in {wall / 60:.1f} min "
          f"({windows / wall:,.0f} windows/s)")
    print("| process | samples | first | last | max | last - first |")
    print("|---|---:|---:|---:|---:|---:|")
    for k, v in samples.items():
        print(f"| {k} | {len(v)} | {v[0] / 2**20:.0f} MiB | {v[-1] / 2**20:.0f} MiB | {max(v) / 2**20:.0f} MiB | "
              f"{(v[-1] - v[0]) / 2**20:+.1f} MiB |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--work", type=Path, required=True)
    p.add_argument("--performances", type=int, default=48)
    p.add_argument("--kits", type=int, default=4)
    p.add_argument("--kills", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    q = sub.add_parser("loader")
    q.add_argument("--data", type=Path, required=True)
    q.add_argument("--minutes", type=float, default=30)
    q.add_argument("--every-s", type=float, default=60)
    q.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    (soak_prepare if args.what == "prepare" else soak_loader)(args)


if __name__ == "__main__":
    main()
