"""Feature correlation matrix (issue 11, item 4): the engine against numpy.corrcoef of the
reshaped array (the guide's ``_numpy_correlation``) and the guide's numba
``fast_correlation_matrix`` (when numba is installed), side by side in one run.

Inputs are one subject x task and one task pooled over every subject of a UMich-scale file.
numpy and numba get the guide's input, the (cycles, 150, features) float64 array from
``get_cycles`` made contiguous (its making is not timed); the engine gets what
``LocomotionData`` holds, one contiguous column per feature (zero-copy slices of the loaded
columns), and is timed both alone (``_core.gait_feature_correlations``) and end to end
(``get_feature_correlations``: group lookup, column slices, engine, DataFrame). Every result is
checked against numpy at 1e-9. Median of ``--repeats`` calls; wall and CPU seconds.

    python bench/gait_correlation_bench.py /tmp/umich.parquet
    python bench/gait_correlation_bench.py /tmp/umich.parquet --threads 1   # one core each
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings

if "--threads" in sys.argv[:-1] and sys.argv[sys.argv.index("--threads") + 1] != "0":
    # set before numpy and numba start their thread pools
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "NUMBA_NUM_THREADS"):
        os.environ[_var] = sys.argv[sys.argv.index("--threads") + 1]

import numpy as np  # noqa: E402


def guide_numba_kernel():
    """The guide's OptimizedAnalytics.fast_correlation_matrix, as written there."""
    from numba import jit, prange

    @jit(nopython=True, parallel=True)
    def fast_correlation_matrix(data_3d):
        n_cycles, n_points, n_features = data_3d.shape
        flattened_data = np.zeros((n_features, n_cycles * n_points))
        for feat in prange(n_features):
            for cycle in range(n_cycles):
                for point in range(n_points):
                    idx = cycle * n_points + point
                    flattened_data[feat, idx] = data_3d[cycle, point, feat]
        corr_matrix = np.zeros((n_features, n_features))
        for i in prange(n_features):
            for j in range(i, n_features):
                data_i = flattened_data[i, :]
                data_j = flattened_data[j, :]
                mean_i = np.mean(data_i)
                mean_j = np.mean(data_j)
                numerator = 0.0
                denom_i = 0.0
                denom_j = 0.0
                for k in range(len(data_i)):
                    diff_i = data_i[k] - mean_i
                    diff_j = data_j[k] - mean_j
                    numerator += diff_i * diff_j
                    denom_i += diff_i * diff_i
                    denom_j += diff_j * diff_j
                if denom_i > 0 and denom_j > 0:
                    corr = numerator / np.sqrt(denom_i * denom_j)
                else:
                    corr = 0.0
                corr_matrix[i, j] = corr
                corr_matrix[j, i] = corr
        return corr_matrix

    return fast_correlation_matrix


def timed(fn, repeats):
    out, walls, cpus = fn(), [], []  # one warm-up call (thread pools, caches)
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return out, statistics.median(walls), statistics.median(cpus)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=0,
                    help="threads for every contender (OpenBLAS, numba, engine); 0: each its default (all cores)")
    a = ap.parse_args()
    warnings.simplefilter("ignore")
    from cadence import _core
    from cadence.gait import LocomotionData
    from cadence.runtime import make_job

    loco = LocomotionData(a.file, verbose=False, nan_policy="omit", jobs=a.threads)
    clean = LocomotionData(a.file, verbose=False, jobs=a.threads)
    loco.feature_table()
    clean.shared.table = loco.shared.table
    try:
        numba_kernel = guide_numba_kernel()
    except ImportError:
        numba_kernel = None
    subject, task = loco.subjects[0], loco.tasks[0]
    for who in (subject, None):
        x3, names = clean.get_cycles(who, task)
        x = np.ascontiguousarray(x3, dtype=np.float64)
        # the sample file has NaNs; compare on finite data: drop cycles holding one
        x = x[np.isfinite(x).all(axis=(1, 2))]
        F = x.shape[2]
        cols = [np.ascontiguousarray(x[:, :, i]).reshape(-1) for i in range(F)]
        rows = cols[0].shape[0]
        label = f"{'subject ' + who if who else 'all subjects'} x {task}: {x.shape[0]} cycles, {rows:,} rows, {F} features"
        ref, t_np, c_np = timed(lambda: np.corrcoef(x.reshape(-1, F).T), a.repeats)
        res = {"numpy.corrcoef (guide)": (t_np, c_np)}
        if numba_kernel is not None:
            numba_kernel(x[:2])  # compile outside the timing
            got, t, c = timed(lambda: numba_kernel(x), a.repeats)
            assert np.abs(got - ref).max() < 1e-9
            res["numba kernel (guide)"] = (t, c)
        job = make_job(a.threads, 0)
        got, t, c = timed(lambda: _core.gait_feature_correlations(cols, rows, 0, job), a.repeats)
        err = float(np.abs(got - ref).max())
        assert err < 1e-9, err
        res["engine (columns)"] = (t, c)
        stacked, t, c = timed(lambda: np.corrcoef(np.stack(cols)), a.repeats)
        res["numpy.corrcoef (same columns)"] = (t, c)
        # end to end from LocomotionData (the file's rows, NaNs and all; policy 'omit')
        _, t, c = timed(lambda: loco.correlations_of(who, task, None), a.repeats)
        res["get_feature_correlations (omit)"] = (t, c)
        print(f"\n{label}; engine vs numpy max |diff| {err:.1e}")
        print(f"  {'':34s} {'wall ms':>9s} {'CPU ms':>9s}")
        for k, (t, c) in res.items():
            print(f"  {k:34s} {t * 1e3:9.2f} {c * 1e3:9.2f}")
        peers = [res["numpy.corrcoef (guide)"][0]] + ([res["numba kernel (guide)"][0]] if numba_kernel else [])
        print(f"  engine speed-up over the faster guide contender: {min(peers) / res['engine (columns)'][0]:.1f}x "
              f"(target >= 5)")


if __name__ == "__main__":
    main()
