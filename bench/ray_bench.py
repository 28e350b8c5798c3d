"""Ray's overhead on the two jobs (issue 13; results in bench/RESULTS.md, "Ray").

1. One-node Ray cluster (this machine, all its CPUs) against the local engine, same job, same
   machine, run alternately: wall-time ratio ray/local for drums prepare (demo corpus) and gait
   features (demo and UMich-scale files). Each output is checked equal to the local one.
2. Two simulated nodes (ray.cluster_utils, 1 CPU each): the same job cut into few and into many
   units; the extra wall time per extra unit is the per-unit scheduling + commit overhead.

    .venv/bin/python bench/ray_bench.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa


def wall(fn, repeat: int) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def compare(local, ray_run, repeat: int):
    """Best wall time of each, run alternately (a busy machine drifts): (local_s, ray_s, outputs)."""
    best = [float("inf"), float("inf")]
    outs = [None, None]
    for _ in range(repeat):
        for i, fn in enumerate((local, ray_run)):
            t = time.perf_counter()
            outs[i] = fn()
            best[i] = min(best[i], time.perf_counter() - t)
    return best[0], best[1], outs


def same_table(a: pa.Table, b: pa.Table) -> bool:
    return a.schema == b.schema and all(
        np.array_equal(x.to_numpy(zero_copy_only=False).view(np.uint64), y.to_numpy(zero_copy_only=False).view(np.uint64))
        if pa.types.is_floating(x.type) else x.equals(y)
        for x, y in ((a.column(n).combine_chunks(), b.column(n).combine_chunks()) for n in a.column_names))


def drums_job(root: Path, tmp: Path, **kw):
    from cadence import drums

    def run():
        out = tmp / f"out-{time.monotonic_ns()}"
        report = drums.prepare(root, out, show_progress=False, **kw)
        records = drums.open(out).labels
        shutil.rmtree(out)
        return report, records
    return run


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="demo scale only, one repeat")
    args = ap.parse_args()
    import ray
    from ray.cluster_utils import Cluster

    from cadence.gait import LocomotionData
    from cadence.sample import drums as sample_drums
    from cadence.sample import gait as sample_gait

    repeat = 1 if args.quick else 5
    results: dict = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        t = time.perf_counter()
        sample_drums.generate(tmp / "drums", seed=0)  # the demo corpus: 12 pairs of 8-20 s
        sample_gait.generate(tmp / "gait.parquet", seed=0)  # the demo file
        files = {"gait demo": tmp / "gait.parquet"}
        if not args.quick:
            sample_gait.generate(tmp / "umich.parquet", scale="umich", seed=0)
            files["gait UMich scale"] = tmp / "umich.parquet"
        results["generate_s"] = time.perf_counter() - t

        # 1. One node: this machine's CPUs, one task at a time using all of them.
        ray.init(address="local", include_dashboard=False, log_to_driver=False)
        local_s, ray_s, ((_, ref), (rep, mine)) = compare(drums_job(tmp / "drums", tmp),
                                                          drums_job(tmp / "drums", tmp, executor="ray"), repeat)
        assert mine.equals(ref)
        results["drums demo"] = {"local_s": local_s, "ray_s": ray_s, "ratio": ray_s / local_s, "units": rep["units"]}
        for name, path in files.items():
            loco = LocomotionData(path)
            local_s, ray_s, (ref, mine) = compare(
                lambda: loco.cycle_features(output="arrow", show_progress=False),
                lambda: loco.cycle_features(output="arrow", executor="ray", show_progress=False), repeat)
            assert same_table(mine, ref)
            from cadence.gait.ray_executor import UNIT_ROWS, split_units
            results[name] = {"local_s": local_s, "ray_s": ray_s, "ratio": ray_s / local_s, "rows": loco.cycle_index.index.rows,
                             "units": len(split_units(loco.cycle_index, UNIT_ROWS))}
        ray.shutdown()

        # 2. Two nodes of 1 CPU: few units against many.
        c = Cluster(initialize_head=True, head_node_args={"num_cpus": 0, "include_dashboard": False})
        for _ in range(2):
            c.add_node(num_cpus=1)
        c.wait_for_nodes()
        ray.init(address=c.address, log_to_driver=False)
        w = {}
        for n in (6, 1):  # inputs per unit: 2 units, 12 units
            w[n], (rep, _) = wall(drums_job(tmp / "drums", tmp, executor="ray", unit_inputs=n), repeat)
            w[f"units{n}"] = rep["units"]
        results["drums 2 nodes"] = {"wall_s": {"2 units": w[6], "12 units": w[1]},
                                    "ms_per_unit": 1e3 * (w[1] - w[6]) / (w["units1"] - w["units6"])}
        loco = LocomotionData(files["gait demo"])
        from cadence.gait.ray_executor import split_units
        rows = loco.cycle_index.index.rows
        few, many = rows // 2 + 1, rows // 32
        wf, _ = wall(lambda: loco.cycle_features(output="arrow", executor="ray", unit_rows=few, show_progress=False), repeat)
        wm, _ = wall(lambda: loco.cycle_features(output="arrow", executor="ray", unit_rows=many, show_progress=False), repeat)
        uf, um = len(split_units(loco.cycle_index, few)), len(split_units(loco.cycle_index, many))
        results["gait demo 2 nodes"] = {"wall_s": {f"{uf} units": wf, f"{um} units": wm},
                                        "ms_per_unit": 1e3 * (wm - wf) / (um - uf)}
        ray.shutdown()
        c.shutdown()
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
