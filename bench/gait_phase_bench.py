"""Benchmark: time-indexed gait to LocoHub phase, cadence's engine against numpy/scipy
implementations of the same rules, on a UMich-sized recording.

Data (generated, seed 0): 10 subjects x 4 tasks x 4 trials, ~14,240 kept strides as UMich 2021
has, 100 Hz, vertical GRF in N (double humps) and --features periodic kinematic columns with
a few NaN gaps. Every contender gets the same in-memory float64 arrays and the same rules
(heel strikes: 5-sample centred moving average, rising crossing of 50 N, >= 0.3 s apart;
strides 0.4-2.5 s; first 2 and last 1 per trial dropped; 1.5 x IQR; 150 points, both ends,
NaN-aware linear interpolation):
  numpy loop    per trial, per stride, per feature np.interp over the finite samples (the shape
                of LocoHub's converters' loops)
  numpy vector  per stride, all features at once (searchsorted once, fancy indexing), np.interp
                only for features with NaN in the stride
  cadence       _core.gait_to_phase (the engine `cadence gait phase` runs), all cores
Answers checked: the same kept strides and drops, values equal within 1e-12. Then `cadence gait
phase` end to end on the Parquet file (reading and writing included).

usage: python bench/gait_phase_bench.py [--features 40] [--rate 100]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from scipy.ndimage import convolve1d

from cadence import _core
from cadence.runtime import make_job

RULES = dict(threshold=50.0, smooth_samples=5, min_contact_gap_s=0.3, min_stride_s=0.4, max_stride_s=2.5,
             drop_first=2, drop_last=1, iqr_factor=1.5)


def recording(n_features: int, rate: float, seed: int = 0):
    """UMich-sized: 10 x 4 x 4 trials of ~92 strides -> ~14,700 strides, ~14,200 kept."""
    rng = np.random.default_rng(seed)
    coef = rng.normal(0, 0.3, (n_features, 4))
    times, grfs, feats, offsets, keys = [], [], [], [0], []
    for subject in range(10):
        for task in ("level_walking", "incline_walking", "decline_walking", "stair_ascent"):
            for trial in range(4):
                d = rng.normal(1.1, 0.03, 92)
                d[rng.integers(0, 92, 2)] *= 1.4  # a few odd strides for the IQR rule
                strikes = np.round(np.r_[0.4, 0.4 + np.cumsum(d)] * rate).astype(np.int64)
                n = int(strikes[-1] + 0.4 * rate)
                t = np.arange(n) / rate
                ss = strikes / rate
                k = np.clip(np.searchsorted(ss, t, side="right") - 1, 0, len(ss) - 2)
                ph = (t - ss[k]) / (ss[k + 1] - ss[k])
                stance = ph < 0.6
                u = np.where(stance, ph / 0.6, 0)
                grf = np.where(stance & (t >= ss[0]) & (t < ss[-1]),
                               700 * (0.2 + np.sin(np.pi * u) + 0.25 * np.sin(3 * np.pi * u)), 0.0)
                x = (coef[:, :1] * np.sin(2 * np.pi * ph) + coef[:, 1:2] * np.cos(2 * np.pi * ph)
                     + coef[:, 2:3] * np.sin(4 * np.pi * ph) + coef[:, 3:4])
                gaps = rng.integers(0, n - 5, 3)
                for g in gaps:
                    x[rng.integers(0, n_features), g:g + 4] = np.nan
                times.append(t + 1000.0 * len(keys))
                grfs.append(grf)
                feats.append(x)
                offsets.append(offsets[-1] + n)
                keys.append((f"UM21_AB{subject + 1:02d}", task, f"trial:{trial}"))
    return (np.concatenate(times), np.concatenate(grfs), np.ascontiguousarray(np.concatenate(feats, axis=1)),
            np.array(offsets, np.int64), keys)


def strikes_np(t, f, r):
    w = r["smooth_samples"]
    finite = np.isfinite(f)
    kern = np.ones(w)
    num = convolve1d(np.where(finite, f, 0.0), kern, mode="constant", origin=(w - 1) // 2 - w // 2)
    cnt = convolve1d(finite.astype(float), kern, mode="constant", origin=(w - 1) // 2 - w // 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        s = num / cnt
    cand = np.flatnonzero((s[:-1] < r["threshold"]) & (s[1:] >= r["threshold"])) + 1
    out, last = [], -np.inf
    for i in cand:
        if t[i] - last >= r["min_contact_gap_s"]:
            out.append(i)
            last = t[i]
    return np.array(out, np.int64)


def strides_np(t, hs, r):
    m = len(hs) - 1
    start, end = t[hs[:-1]], t[hs[1:]]
    d = end - start
    reason = np.array(["kept"] * m, object)
    k = np.arange(m)
    reason[k < r["drop_first"]] = "trial_start"
    rest = (reason == "kept") & (k >= m - r["drop_last"])
    reason[rest] = "trial_end"
    reason[(reason == "kept") & (d < r["min_stride_s"])] = "too_short"
    reason[(reason == "kept") & (d > r["max_stride_s"])] = "too_long"
    ok = reason == "kept"
    if r["iqr_factor"] > 0 and ok.any():
        q1, q3 = np.percentile(d[ok], [25, 75])
        lo, hi = q1 - r["iqr_factor"] * (q3 - q1), q3 + r["iqr_factor"] * (q3 - q1)
        reason[ok & ((d < lo) | (d > hi))] = "duration_outlier"
    return start, end, reason


def interp_one(t, x, a, b, start, end):
    seg_t, seg_x = t[a:b + 1], x[a:b + 1]
    m = np.isfinite(seg_x)
    tj = start + (end - start) * (np.arange(150) / 149)
    tj[0], tj[-1] = start, end
    if m.sum() < 2:
        return np.full(150, np.nan)
    return np.interp(tj, seg_t[m], seg_x[m], left=np.nan, right=np.nan)


def kept_strides(t, f, X, offsets, r, drops: list):
    """The strides both numpy contenders interpolate: (trial time, trial features, heel strikes,
    stride, start, end) per kept stride, trial by trial; dropped ones go to ``drops``."""
    for i in range(len(offsets) - 1):
        lo, hi = offsets[i], offsets[i + 1]
        tt, xx = t[lo:hi], X[:, lo:hi]
        hs = strikes_np(tt, f[lo:hi], r)
        if len(hs) < 2:
            continue
        start, end, reason = strides_np(tt, hs, r)
        for s in range(len(start)):
            if reason[s] != "kept":
                drops.append((i, s, reason[s]))
            else:
                yield tt, xx, hs, s, start[s], end[s]


def numpy_loop(t, f, X, offsets, r):
    out, drops = [], []
    for tt, xx, hs, s, t0, t1 in kept_strides(t, f, X, offsets, r, drops):
        out.append(np.stack([interp_one(tt, xx[j], hs[s], hs[s + 1], t0, t1) for j in range(len(xx))]))
    return np.concatenate(out, axis=1) if out else np.zeros((len(X), 0)), drops


def numpy_vector(t, f, X, offsets, r):
    out, drops = [], []
    frac = np.arange(150) / 149
    for tt, xx, hs, s, t0, t1 in kept_strides(t, f, X, offsets, r, drops):
        a, b = hs[s], hs[s + 1]
        seg_t, seg = tt[a:b + 1], xx[:, a:b + 1]
        tj = t0 + (t1 - t0) * frac
        tj[0], tj[-1] = t0, t1
        k = np.clip(np.searchsorted(seg_t, tj, side="right") - 1, 0, len(seg_t) - 2)
        w = (tj - seg_t[k]) / (seg_t[k + 1] - seg_t[k])
        v = seg[:, k] + (seg[:, k + 1] - seg[:, k]) * w
        v[:, -1] = seg[:, -1]
        for j in np.flatnonzero(~np.isfinite(seg).all(axis=1)):
            v[j] = interp_one(tt, xx[j], a, b, t0, t1)
        out.append(v)
    return np.concatenate(out, axis=1) if out else np.zeros((len(X), 0)), drops


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--features", type=int, default=40)
    ap.add_argument("--rate", type=float, default=100.0)
    ap.add_argument("--jobs", type=int, default=0)
    args = ap.parse_args()
    t, f, X, offsets, keys = recording(args.features, args.rate)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    print(f"recording: {len(t):,} rows, {len(keys)} trials, {args.features} features, {args.rate:g} Hz")

    job = make_job(args.jobs, None)
    cols = [np.ascontiguousarray(x) for x in X]
    best = {}
    for name, fn in (("cadence", None), ("numpy vector", numpy_vector), ("numpy loop", numpy_loop)):
        times = []
        for _ in range(3 if name == "cadence" else 1):
            c0, t0 = time.process_time(), time.perf_counter()
            if fn is None:
                values, kept, dropped, strikes = _core.gait_to_phase(t, f, offsets, cols, job, events=False, **RULES)
                result = (values, list(zip(dropped["trial"], dropped["stride"], dropped["reason"])))
            else:
                result = fn(t, f, X, offsets, RULES)
            times.append((time.perf_counter() - t0, time.process_time() - c0))
        best[name] = (min(w for w, _ in times), min(c for _, c in times), result)
    ref_v, ref_d = best["cadence"][2]
    ref_v = np.stack(ref_v)  # (outside the timing: the engine hands one array per feature)
    for name in ("numpy vector", "numpy loop"):
        v, d = best[name][2]
        assert v.shape == ref_v.shape, (name, v.shape, ref_v.shape)
        assert [tuple(map(str, x)) for x in d] == [tuple(map(str, x)) for x in ref_d], name
        same = np.isclose(v, ref_v, rtol=0, atol=1e-12, equal_nan=True)
        assert same.all(), (name, np.nanmax(np.abs(v - ref_v)))
    kept = ref_v.shape[1] // 150
    print(f"strides kept {kept:,}, dropped {len(ref_d):,}; answers equal (1e-12, NaN in the same places)")
    print("| contender | wall s | CPU s | cadence faster (wall) | (CPU) |")
    print("|---|---:|---:|---:|---:|")
    for name, (w, c, _) in best.items():
        print(f"| {name} | {w:.3f} | {c:.3f} | {w / best['cadence'][0]:.1f}x | {c / best['cadence'][1]:.1f}x |")

    tmp = Path(tempfile.mkdtemp(prefix="cadence_phase_bench_"))
    try:
        trial_of_row = np.repeat(np.arange(len(keys)), np.diff(offsets))
        table = {"subject": pa.array([keys[i][0] for i in range(len(keys))]).take(trial_of_row),
                 "task": pa.array([keys[i][1] for i in range(len(keys))]).take(trial_of_row),
                 "task_id": pa.array([keys[i][2] for i in range(len(keys))]).take(trial_of_row),
                 "time_s": t, "grf_vertical_ipsi_N": f}
        table |= {f"joint{j}_flexion_angle_ipsi_rad": X[j] for j in range(len(X))}
        pq.write_table(pa.table(table), tmp / "time.parquet", row_group_size=1 << 17)
        cli = [str(Path(sys.executable).with_name("cadence")), "gait", "phase", str(tmp / "time.parquet"), str(tmp / "phase.parquet"),
               "-q", "--json"]
        t0 = time.perf_counter()
        subprocess.run(cli, check=True, capture_output=True)
        print(f"`cadence gait phase` end to end (read {(tmp / 'time.parquet').stat().st_size / 1e6:.0f} MB Parquet, "
              f"write phase Parquet): {time.perf_counter() - t0:.2f} s wall; output rows "
              f"{pq.ParquetFile(tmp / 'phase.parquet').metadata.num_rows:,}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
