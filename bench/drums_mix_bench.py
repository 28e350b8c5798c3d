"""Benchmark: what mixing datasets costs (issue 19, target: drums.mix at >= 95 % of read_batch's
windows/s), side by side in one run, answers checked.

Data: the ENST, MDB and Slakh sample layouts and an E-GMD-shaped sample, each prepared as its own
directory (index layout, FLAC, 22.05 kHz, adtof5 classes), opened with the same jobs. One epoch of
mix draws (default weights) decides which windows are read; both contenders read exactly those
windows, page cache warm:

  read_batch   each dataset's own draws, in the mix's order for that dataset, in full batches of
               one dataset (what a loop over a single directory pays)
  mix          drums.mix(...).read_batch over the draws in draw order: a batch's draws grouped by
               dataset, one read_batch each, put back in draw order
  (and the same two through __getitems__, PyTorch's fetch: arrays plus the per-item strings)

Records: 0.2 s windows, batches of 128, on 1 and 2 jobs. Sequences: 4 s windows, batches of 16.
The contenders take turns over --rounds rounds; the best round of each is reported, as windows
per second of wall time and per CPU second of this process (engine threads included; the second
moves less when other work shares the machine). Check: the mix's batches equal the windows,
labels and MIDI hits read one by one from their own datasets.

usage: python bench/drums_mix_bench.py [--data DIR] [--windows 30000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np

from cadence import drums
from cadence.drums.dataset import join
from cadence.drums.sequences import SequenceDataset
from cadence.cli import main as cli
from cadence.sample import layouts

LAYOUTS = ("enst", "mdb", "slakh")


def corpora(data: Path) -> dict[str, Path]:
    """{name: prepared directory}, made on first use."""
    out = {}
    for name in (*LAYOUTS, "egmd"):
        src, dst = data / name, data / f"{name}-prepared"
        if not (dst / "journal.jsonl").exists():
            if name == "egmd":
                cli(["sample", "drums", str(src), "--performances", "8", "--kits", "2", "--force", "-q"])
                root = src
            else:
                cli(["sample", "drums", "--layout", name, str(src), "--force", "-q"])
                root = src / layouts.TOP_FOLDERS[name]
            assert cli(["drums", "prepare", str(root), str(dst), "--mapping", "adtof5", "-q"]) == 0
        out[name] = dst
    return out


def direct(m, batch: int, fetch: str):
    """The mix's windows read dataset by dataset: each dataset's draws in its stream order, in
    full batches of that dataset."""
    which, position = m.draws()
    plan = []
    for k, name in enumerate(m.names):
        pos = position[which == k]
        plan += [(m.datasets[name], pos[i:i + batch]) for i in range(0, len(pos), batch)]

    def run():
        n = 0
        for ds, pos in plan:
            b = getattr(ds, fetch)(pos)
            n += len(b["audio"] if fetch == "read_batch" else b.arrays["audio"])
        return n
    return run


def joined(m, batch: int, fetch: str):
    """The same draws, in draw order, read from the datasets joined end to end (drums.dataset.join,
    SequenceDataset.join) without the mix: what the mix's own bookkeeping adds is the difference."""
    parts = list(m.datasets.values())
    ds, base = join(parts) if m.mode == "records" else SequenceDataset.join(parts)[:2]
    which, position = m.draws()
    order = base[which] + position

    def run():
        n = 0
        for i in range(0, len(order), batch):
            b = getattr(ds, fetch)(order[i:i + batch])
            n += len(b["audio"] if fetch == "read_batch" else b.arrays["audio"])
        return n
    return run


def mixed(m, batch: int, fetch: str):
    def run():
        n = 0
        for i in range(0, len(m), batch):
            b = getattr(m, fetch)(np.arange(i, min(i + batch, len(m))))
            n += len(b["audio"] if fetch == "read_batch" else b.arrays["audio"])
        return n
    return run


def check(m, batches: int, batch: int) -> None:
    """The mix's first batches against each draw read alone from its own dataset."""
    which, position = m.draws()
    for i in range(0, batches * batch, batch):
        b = m.read_batch(np.arange(i, i + batch))
        for j in range(batch):
            one = m.datasets[m.names[which[i + j]]].read_batch([position[i + j]])
            for key, value in one.items():
                if key in ("pitches", "velocities", "hit_offsets"):
                    continue
                assert np.array_equal(b[key][j], value[0]), key
            if "hit_offsets" in b:
                h = b["hit_offsets"]
                assert np.array_equal(b["pitches"][h[j]:h[j + 1]], one["pitches"])
                assert np.array_equal(b["velocities"][h[j]:h[j + 1]], one["velocities"])
        assert np.array_equal(b["dataset_index"], which[i:i + batch])


def turns(contenders: dict, rounds: int) -> dict:
    """Best (wall s, cpu s, windows) of each contender, taking turns (order flipped each round)."""
    best = {k: (float("inf"), float("inf"), 0) for k in contenders}
    names = list(contenders)
    for r in range(rounds):
        for k in (names if r % 2 == 0 else names[::-1]):
            c0, w0 = time.process_time(), time.perf_counter()
            n = contenders[k]()
            wall, cpu = time.perf_counter() - w0, time.process_time() - c0
            best[k] = (min(best[k][0], wall), min(best[k][1], cpu), n)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=Path(tempfile.gettempdir()) / "cadence-mix-bench")
    ap.add_argument("--windows", type=int, default=30_000, help="record draws per epoch (default 30,000)")
    ap.add_argument("--sequences", type=int, default=600, help="sequence draws (default 600)")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    paths = corpora(args.data)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"load {os.getloadavg()[0]:.2f}", flush=True)
    rows = []
    for mode, jobs, batch, draws in (("records", 1, 128, args.windows), ("records", 2, 128, args.windows),
                                      ("sequences", 1, 16, args.sequences)):
        kw = {"mode": "sequences", "length_s": 4.0} if mode == "sequences" else {}
        sets = {name: drums.open(p, jobs=jobs, **kw) for name, p in paths.items()}
        m = drums.mix(sets, length=draws, seed=0)
        check(m, 3, batch)
        print(f"{mode}, {jobs} job(s), batch {batch}: {m}", flush=True)
        contenders = {"read_batch": direct(m, batch, "read_batch"), "mix.read_batch": mixed(m, batch, "read_batch"),
                      "joined.read_batch": joined(m, batch, "read_batch"),
                      "__getitems__": direct(m, batch, "__getitems__"),
                      "mix.__getitems__": mixed(m, batch, "__getitems__"),
                      "joined.__getitems__": joined(m, batch, "__getitems__")}
        contenders["read_batch"]()  # page cache and engine threads warm
        best = turns(contenders, args.rounds)
        for fetch in ("read_batch", "__getitems__"):
            (dw, dc, n), (mw, mc, n2), (jw, jc, n3) = best[fetch], best["mix." + fetch], best["joined." + fetch]
            assert n == n2 == n3 == draws
            rows.append((f"{mode}, {jobs} job(s), {fetch}", n / dw, n / dc, n / jw, n / jc, n / mw, n / mc))
            print(f"  {fetch:<13} per dataset {n / dw:>8,.0f}/s wall {n / dc:>8,.0f}/s cpu | joined {n / jw:>8,.0f} "
                  f"{n / jc:>8,.0f} | mix {n / mw:>8,.0f} {n / mc:>8,.0f} | mix/per dataset cpu {dc / mc:.3f}, "
                  f"mix/joined cpu {jc / mc:.3f}", flush=True)
    print("\n| windows read through | per dataset (/s CPU) | joined (/s CPU) | mix (/s CPU) | mix / per dataset "
          "(CPU) | mix / joined (CPU) | per dataset, joined, mix (/s wall) |\n|---|---:|---:|---:|---:|---:|---|")
    for name, dw, dc, jw, jc, mw, mc in rows:
        print(f"| {name} | {dc:,.0f} | {jc:,.0f} | {mc:,.0f} | {mc / dc:.3f} | {mc / jc:.3f} | "
              f"{dw:,.0f}, {jw:,.0f}, {mw:,.0f} |")


if __name__ == "__main__":
    main()
