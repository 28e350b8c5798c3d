"""Warm runs past the Parquet read floor (issue 11, item 2), side by side in one run.

Each figure is measured in a fresh process (``--child``), so a warm run is what a second
command sees: the decoded feature columns mapped from the cache directory, nothing decoded.

- cold: ``LocomotionData(path)``, then the call (the engine streams the Parquet file);
- compute-only: a new process reads the feature columns into memory, then the call is timed
  (what the engine alone costs);
- warm: ``LocomotionData(path, cache=DIR, cache_results=False)`` in a new process, after one run
  filled DIR: the engine on the memory-mapped Arrow file;
- hit (loop only): ``cache_results=True``: the results themselves come from the cache.

Calls: ``cycle_features()`` (all groups, all features), and the loop ``subject_analysis`` of every
subject + ``population_analysis`` of every task. Every warm answer is checked against the cold
one. Wall and CPU seconds (process_time) of the median repeat are printed, with ratios.

    cadence sample gait /tmp/umich.parquet --scale umich --features 42
    python bench/gait_cache_bench.py /tmp/umich.parquet --repeats 3
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def _digest(obj) -> str:
    """A digest of a result's numbers (NaN-aware), to compare runs across processes."""
    import pandas as pd

    h = hashlib.sha256()

    def walk(x):
        if isinstance(x, dict):
            for k in sorted(x, key=str):
                h.update(str(k).encode())
                walk(x[k])
        elif isinstance(x, (list, tuple)):
            for v in x:
                walk(v)
        elif isinstance(x, pd.DataFrame):
            walk(x.to_numpy(dtype=np.float64, na_value=np.nan) if all(x.dtypes.map(lambda d: d.kind in "fiub"))
                 else x.astype(str).to_numpy().tolist())
        elif isinstance(x, np.ndarray):
            h.update(np.ascontiguousarray(x).tobytes())
        else:
            h.update(repr(x).encode())

    walk(obj)
    return h.hexdigest()[:16]


def _loop(loco) -> dict:
    return {"subjects": {s: loco.subject_analysis(s) for s in loco.subjects},
            "tasks": {t: loco.population_analysis(t) for t in loco.tasks}}


def _timed(fn):
    w, c = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w, time.process_time() - c


def child(mode: str, path: str, cache: str) -> dict:
    import warnings

    warnings.simplefilter("ignore")
    from cadence.gait import LocomotionData

    what, kind = mode.split(":")
    call = (lambda lo: lo.cycle_features()) if what == "features" else _loop
    if kind == "cold":
        loco = LocomotionData(path, verbose=False)
        out, wall, cpu = _timed(lambda: call(loco))
        return {"digest": _digest(out), "cold": [wall, cpu]}
    if kind == "compute":  # the columns read into memory before the clock starts
        loco = LocomotionData(path, verbose=False)
        loco.feature_table()
        out, wall, cpu = _timed(lambda: call(loco))
        return {"digest": _digest(out), "compute": [wall, cpu]}
    loco = LocomotionData(path, verbose=False, cache=cache, cache_results=kind == "hit")
    out, wall, cpu = _timed(lambda: call(loco))
    return {"digest": _digest(out), kind: [wall, cpu], "cache": loco.cache.stats()}


def run_child(mode: str, path: Path, cache: Path) -> dict:
    r = subprocess.run([sys.executable, __file__, "--child", mode, str(path), str(cache)], capture_output=True,
                       text=True, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("file", type=Path, nargs="?")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--child", nargs=3, metavar=("MODE", "PATH", "CACHE"))
    a = ap.parse_args()
    if a.child:
        print(json.dumps(child(*a.child)))
        return
    import pyarrow.parquet as pq

    md = pq.ParquetFile(a.file).metadata
    print(f"{a.file}: {md.num_rows:,} rows, {md.num_columns} columns, {a.file.stat().st_size / 2**20:.0f} MiB")
    tmp = Path(tempfile.mkdtemp(prefix="gait-cache-bench-"))
    try:
        for what in ("features", "loop"):
            cache = tmp / what
            rows: dict[str, list] = {}
            fill = run_child(f"{what}:warm", a.file, cache)  # fills the columns (and nothing else)
            kinds = ["cold", "compute", "warm"] + (["hit"] if what == "loop" else [])
            if what == "loop":
                run_child(f"{what}:hit", a.file, cache)  # fills the results
            digests = {fill["digest"]}
            for _ in range(a.repeats):
                for kind in kinds:
                    r = run_child(f"{what}:{kind}", a.file, cache)
                    digests.add(r["digest"])
                    for k in ("cold", "compute", "warm", "hit"):
                        if k in r:
                            rows.setdefault(k, []).append(r[k])
            assert len(digests) == 1, f"{what}: answers differ between runs: {digests}"
            med = {k: (statistics.median(w for w, _ in v), statistics.median(c for _, c in v)) for k, v in rows.items()}
            size = sum(p.stat().st_size for p in cache.rglob("columns.arrow")) / 2**20
            print(f"\n{what} ({'cycle_features()' if what == 'features' else 'subject_analysis x subjects + population_analysis x tasks'}); "
                  f"cache columns file {size:.0f} MiB; answers identical in all runs")
            print(f"  {'':14s} {'wall s':>8s} {'CPU s':>8s}")
            for k in ("cold", "compute", "warm", "hit"):
                if k in med:
                    print(f"  {k:14s} {med[k][0]:8.3f} {med[k][1]:8.3f}")
            w = med["warm"][0]
            print(f"  cold / warm        = {med['cold'][0] / w:5.2f}x  (target >= 3)")
            print(f"  warm / compute     = {w / med['compute'][0]:5.2f}x  (target <= 1.3)")
            if "hit" in med:
                print(f"  cold / hit         = {med['cold'][0] / med['hit'][0]:5.1f}x")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
