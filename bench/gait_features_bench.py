"""Benchmark: per-cycle features of a UMich-2021-scale gait file, cadence vs the ways users do it.

Contenders, each in a fresh subprocess (so peak RSS is its own), on the same Parquet file:
  locohub   pandas.read_parquet, then per subject x task LocoHub's get_cycles (a string mask on the
            whole table) and numpy statistics per cycle (vectorised across features: a stronger
            baseline than the guide's per-feature loop): mean, std, min, max, ROM, peak, skewness,
            kurtosis, dominant frequency (np.fft.rfft), RMSE to the mean pattern;
  polars    the same aggregates polars can express, group_by(subject, task, step) on the Parquet
            (mean, std ddof 0, min, max, skew, kurtosis, arg_max |x|): no FFT or RMSE;
  duckdb    the same in SQL (avg, stddev_pop, min, max, arg_max); without skewness and kurtosis,
            which DuckDB refuses on cycles holding NaN ("SKEW is out of range");
  pyarrow   the floor: reading the same columns with pyarrow.parquet.read_table;
  cadence   LocomotionData(path).cycle_features(outliers_among="all"): index + streamed read +
            every statistic, with 1 job and with all jobs (RMSE against the mean pattern of all
            cycles, as the LocoHub way computes it).
Every contender is timed alike: its modules are imported before the clock starts, and the
figure is the best of --repeat runs in its own subprocess. The run checks every statistic each
contender computes against cadence's (per cycle and feature, to 1e-9; skewness and kurtosis to
1e-9 absolute; indices exactly), on the cycles without NaN, and prints a Markdown table for
bench/RESULTS.md.

usage: python bench/gait_features_bench.py [--data FILE] [--features 52] [--repeat 3] [--scale umich|small]
needs: pip install polars duckdb   (the project's `bench` extra)
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

KINDS = ("angle", "velocity", "moment", "power")
#: What each contender computes (cadence's statistic names) and the modules it imports, which are
#: imported before its clock starts.
COMPUTES = {
    "locohub": ("mean", "std", "min", "max", "rom", "peak_index", "skewness", "kurtosis", "dominant_frequency", "rmse"),
    "polars": ("mean", "std", "min", "max", "skewness", "kurtosis", "peak_index"),
    "duckdb": ("mean", "std", "min", "max", "peak_index"),
    "pyarrow": (),
}
IMPORTS = {"locohub": ("pandas", "numpy", "pyarrow.parquet"),  # read_parquet imports pyarrow
           "polars": ("polars",), "duckdb": ("duckdb",),
           "pyarrow": ("pyarrow.parquet",), "cadence1": ("cadence.gait", "pyarrow"),
           "cadence": ("cadence.gait", "pyarrow")}
#: Statistics compared exactly (indices); the rest to a tolerance (see check()).
EXACT = ("peak_index", "dominant_frequency")


def features_of(path):
    import pyarrow.parquet as pq

    names = pq.read_schema(path).names
    skip = {"subject", "task", "task_id", "task_info", "step", "phase_ipsi"}
    return [c for c in names if c not in skip and any(k in c for k in KINDS)]


def run_locohub(path, features):
    import pandas as pd

    df = pd.read_parquet(path)
    out = []
    for subject in sorted(df["subject"].unique()):
        for task in sorted(df["task"].unique()):
            sub = df[(df["subject"] == subject) & (df["task"] == task)]  # LocoHub's get_cycles
            if len(sub) == 0 or len(sub) % 150:
                continue
            X = sub[features].to_numpy().reshape(len(sub) // 150, 150, len(features))
            pattern = X.mean(axis=0)
            steps = sub["step"].to_numpy()[::150]
            for c in range(X.shape[0]):
                x = X[c]
                m, sd = np.mean(x, axis=0), np.std(x, axis=0)
                lo, hi = np.min(x, axis=0), np.max(x, axis=0)
                d = x - m
                m2, m3, m4 = (d ** 2).mean(0), (d ** 3).mean(0), (d ** 4).mean(0)
                peak = np.argmax(np.abs(x), axis=0)
                skew, kurt = m3 / m2 ** 1.5, m4 / m2 ** 2 - 3
                dom = np.argmax(np.abs(np.fft.rfft(x, axis=0))[1:75], axis=0) + 1
                rmse = np.sqrt(((x - pattern) ** 2).mean(axis=0))
                out.append((subject, task, steps[c], np.stack([m, sd, lo, hi, hi - lo, peak, skew, kurt, dom, rmse])))
    out.sort(key=lambda r: (r[0], r[1], r[2]))
    stacked = np.stack([r[3] for r in out])  # (cycles, stat, features)
    return {name: stacked[:, i] for i, name in enumerate(COMPUTES["locohub"])}


def run_polars(path, features):
    import polars as pl

    aggs = []
    for f in features:
        c = pl.col(f)
        aggs += [c.mean().alias(f"{f}__mean"), c.std(ddof=0).alias(f"{f}__std"), c.min().alias(f"{f}__min"),
                 c.max().alias(f"{f}__max"), c.skew().alias(f"{f}__skew"), c.kurtosis().alias(f"{f}__kurt"),
                 c.abs().arg_max().alias(f"{f}__peak")]
    out = (pl.scan_parquet(path).select(["subject", "task", "step", *features])
           .with_columns(pl.col("subject").cast(pl.String), pl.col("task").cast(pl.String))
           .group_by(["subject", "task", "step"]).agg(aggs).sort(["subject", "task", "step"]).collect())
    names = {"mean": "mean", "std": "std", "min": "min", "max": "max", "skewness": "skew", "kurtosis": "kurt",
             "peak_index": "peak"}
    return {stat: np.column_stack([out[f"{f}__{short}"].to_numpy().astype(np.float64) for f in features])
            for stat, short in names.items()}


def run_duckdb(path, features):
    import duckdb

    aggs = ", ".join(f'avg("{f}") AS "{f}__mean", stddev_pop("{f}") AS "{f}__std", min("{f}") AS "{f}__min", '
                     f'max("{f}") AS "{f}__max", '
                     f'arg_max(phase_ipsi, abs("{f}")) AS "{f}__peak"' for f in features)
    con = duckdb.connect()
    out = con.execute(f"SELECT subject, task, step, {aggs} FROM read_parquet('{path}') "
                      f"GROUP BY subject, task, step ORDER BY subject, task, step").fetchnumpy()
    result = {s: np.column_stack([out[f"{f}__{s}"] for f in features]) for s in ("mean", "std", "min", "max")}
    # arg_max gives the phase of the peak: back to its point (phase = 100 * i / 149)
    phase = np.column_stack([np.asarray(out[f"{f}__peak"], dtype=np.float64) for f in features])
    result["peak_index"] = np.round(phase / 100 * 149)
    return result


def run_pyarrow(path, features):
    import pyarrow.parquet as pq

    t = pq.read_table(path, columns=features)
    return {} if t.num_rows >= 0 else None


def run_cadence(path, features, jobs):
    from cadence.gait import LocomotionData

    import pyarrow as pa

    loco = LocomotionData(path, jobs=jobs, memory_limit="1G", verbose=False)  # streamed, bounded memory
    t = loco.cycle_features(features, output="arrow", outliers_among="all", show_progress=False)

    t = t.set_column(0, "subject", t.column("subject").cast(pa.string()))
    t = t.set_column(1, "task", t.column("task").cast(pa.string()))
    t = t.sort_by([("subject", "ascending"), ("task", "ascending"), ("step", "ascending")])
    stages = dict((n, s) for n, s, _ in loco.last_run.stages)
    run_cadence.analyse_s = stages.get("analyse", float("nan"))
    from cadence.gait import STATS

    return {s: np.column_stack([t.column(f"{f}__{s}").to_numpy() for f in features]) for s in STATS}


def check(key: str, got: dict, ref: dict, complete: np.ndarray) -> list[str]:
    """Every statistic ``key`` computes, equal to cadence's; returns the names checked."""
    stats = COMPUTES.get(key, tuple(ref))
    assert set(got) == set(stats), (key, sorted(got), stats)
    for stat in stats:
        a, b = got[stat][complete], ref[stat][complete]
        assert a.shape == b.shape, (key, stat, a.shape, b.shape)
        if stat in EXACT:
            np.testing.assert_array_equal(a, b, err_msg=f"{key} {stat}")
        elif stat in ("skewness", "kurtosis"):  # ratios of small central moments: absolute
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-9, equal_nan=True, err_msg=f"{key} {stat}")
        else:
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=f"{key} {stat}")
    return list(stats)


def child(args) -> None:
    features = features_of(args.data)
    fn = {"locohub": run_locohub, "polars": run_polars, "duckdb": run_duckdb, "pyarrow": run_pyarrow,
          "cadence1": lambda p, f: run_cadence(p, f, 1), "cadence": lambda p, f: run_cadence(p, f, 0)}[args.child]
    for module in IMPORTS[args.child]:  # outside the clock, for every contender alike
        importlib.import_module(module)
    best, result, analyse = float("inf"), None, []
    for _ in range(args.repeat):
        start = time.perf_counter()
        result = fn(str(args.data), features)
        best = min(best, time.perf_counter() - start)
        analyse.append(getattr(run_cadence, "analyse_s", float("nan")))
    np.savez(args.out, **result)
    print(json.dumps({"seconds": best, "rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                      "analyse_s": min(analyse)}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, help="reuse an existing UMich-scale sample")
    ap.add_argument("--features", type=int, default=52, help="columns written (52 gives 42 LocoHub features)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per contender, best taken (every contender)")
    ap.add_argument("--scale", choices=["umich", "small"], default="umich",
                    help="small: 3 subjects, for checking the bench itself")
    ap.add_argument("--skip", default="", help="comma-separated contenders to skip")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args)
    if args.data is None:
        from cadence.sample import gait

        args.data = Path(tempfile.mkdtemp(prefix="cadence_bench_")) / "umich.parquet"
        if args.scale == "umich":
            gait.generate(args.data, scale="umich", n_features=args.features, seed=1)
        else:
            gait.generate(args.data, subjects=3, strides_per_task=20, n_features=args.features, seed=1)
    features = features_of(args.data)
    ncpu = os.cpu_count() or 1
    names = {"locohub": "LocoHub way (pandas + get_cycles + numpy per cycle)", "polars": "Polars group_by",
             "duckdb": "DuckDB GROUP BY", "pyarrow": "floor: pyarrow read_table of the same columns",
             "cadence1": "cadence cycle_features, 1 job", "cadence": f"cadence cycle_features, {ncpu} jobs"}
    skip = set(filter(None, args.skip.split(",")))
    tmp = Path(tempfile.mkdtemp(prefix="cadence_bench_out_"))
    subprocess.run([sys.executable, __file__, "--child", "pyarrow", "--data", str(args.data), "--out",
                    str(tmp / "warm.npz"), "--repeat", "1"], check=True, capture_output=True)  # page cache
    rows = {}
    for key in names:
        if key in skip:
            continue
        p = subprocess.run([sys.executable, __file__, "--child", key, "--data", str(args.data), "--out",
                            str(tmp / f"{key}.npz"), "--repeat", str(args.repeat)], check=True, capture_output=True,
                           text=True)
        rows[key] = json.loads(p.stdout.strip().splitlines()[-1])
        print(f"{names[key]}: {rows[key]['seconds']:.3f} s", file=sys.stderr)
    ref = dict(np.load(tmp / "cadence.npz"))
    # Cycles with NaN are compared only where numpy's propagation is shared: Polars and DuckDB
    # skip NaN in min/max, so those cycles are left out of the cross-check.
    complete = ~np.isnan(ref["mean"]).any(axis=1)
    checked = {key: check(key, dict(np.load(tmp / f"{key}.npz")), ref, complete)
               for key in rows if key not in ("pyarrow", "cadence")}
    n_rows = __import__("pyarrow.parquet", fromlist=["x"]).read_metadata(args.data).num_rows
    print(f"\nData: {args.data.name}, {n_rows:,} rows, {len(complete):,} cycles, {len(features)} features "
          f"({platform.processor() or platform.machine()}, {ncpu} CPUs). Every contender: best of {args.repeat} "
          f"runs, imports outside the clock. Answers checked against cadence on the {complete.sum():,} "
          f"cycles without NaN, every statistic each contender computes:")
    for key, stats in checked.items():
        print(f"- {names[key]}: {', '.join(stats)}")
    print()
    t = {k: v["seconds"] for k, v in rows.items()}
    c = t.get("cadence", float("nan"))
    print("| contender | seconds | peak RSS MiB | cadence is ... faster |")
    print("|---|---:|---:|---:|")
    for key, v in rows.items():
        print(f"| {names[key]} | {v['seconds']:.3f} | {v['rss_mib']:.0f} | {v['seconds'] / c:.2f}x |")
    if "cadence1" in rows:
        a1, an = rows["cadence1"]["analyse_s"], rows["cadence"]["analyse_s"]
        print(f"\ncompute part (engine 'analyse' stage): 1 job {a1:.3f} s, {ncpu} jobs {an:.3f} s, ratio {a1 / an:.2f}x")
    if "pyarrow" in rows:
        print(f"cadence total / pyarrow floor: {c / t['pyarrow']:.2f}x (target <= 1.25x)")


if __name__ == "__main__":
    main()
