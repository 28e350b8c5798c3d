"""LocoHub semantics re-implemented plainly with pandas and numpy, to check cadence.gait against.

This is what LocoHub's LocomotionData does (a string mask per call, reshape, numpy statistics),
and the guide's per-cycle features written out with numpy one cycle at a time.
"""

import numpy as np
import pandas as pd

KINDS = ("angle", "velocity", "moment", "power")
FORCES = ("grf", "cop")  # features too in LocoHub's newest package
PATTERN_INDEX = np.linspace(0, 100, 150, endpoint=False)  # the newest get_mean_patterns' Series index


def features_of(df, api="current"):
    skip = {"subject", "task", "task_id", "task_info", "step", "phase_ipsi", "phase", "time", "time_s", "cycle"}
    words = KINDS + (FORCES if api == "current" else ())
    return [c for c in df.columns if c not in skip and any(k in c for k in words)]


def get_cycles(df, subject, task, features):
    """LocoHub's mask and reshape; subject None pools every subject of the task, in file order."""
    mask = df["task"] == task
    if subject is not None:
        mask &= df["subject"] == subject
    sub = df[mask]
    if len(sub) == 0 or len(sub) % 150:
        return None
    return sub[features].to_numpy().reshape(len(sub) // 150, 150, len(features))


def mean_patterns(X, names, api="current"):
    """get_mean_patterns: {f: (150,)} (legacy) or {f: {'mean': Series, 'std': Series}} (current)."""
    if api == "legacy":
        return {f: X[:, :, i].mean(axis=0) for i, f in enumerate(names)}
    return {f: {"mean": pd.Series(X[:, :, i].mean(axis=0), index=PATTERN_INDEX),
                "std": pd.Series(X[:, :, i].std(axis=0), index=PATTERN_INDEX)} for i, f in enumerate(names)}


def filtered_cycles(X, phase_range=None, cycles=None, where=None, where_X=None):
    """What filter(phase_range, cycles, where) keeps of one group's cycles X, written plainly:
    cycles first (positions), then conditions on the points in the phase range, then points."""
    grid = np.linspace(0, 100, 150)
    points = np.ones(150, bool) if phase_range is None else (grid >= phase_range[0]) & (grid <= phase_range[1])
    keep = np.arange(X.shape[0])
    if cycles is not None:
        keep = keep[cycles]
    for j, (lo, hi) in enumerate((where or {}).values()):
        x = where_X[keep][:, points, j]
        lo, hi = -np.inf if lo is None else lo, np.inf if hi is None else hi
        keep = keep[np.all((x >= lo) & (x <= hi), axis=1)]
    return X[keep][:, points, :]


def validate(X, names):
    ok = np.ones(X.shape[0], bool)
    with np.errstate(invalid="ignore"):
        for i, f in enumerate(names):
            x = X[:, :, i]
            if "angle" in f:
                ok &= ~np.any((x < -np.pi) | (x > np.pi), axis=1)
                ok &= ~np.any(np.abs(np.diff(x, axis=1)) > 0.5236, axis=1)
            elif "velocity" in f:
                ok &= ~np.any(np.abs(x) > 17.45, axis=1)
            elif "moment" in f:
                ok &= ~np.any(np.abs(x) > 300, axis=1)
            ok &= ~np.any(~np.isfinite(x), axis=1)
    return ok


def rmse(X, basis=None):
    B = X if basis is None else X[basis]
    return np.sqrt(((X - B.mean(axis=0)) ** 2).mean(axis=(1, 2)))


def outliers(X, threshold=2.0, basis=None):
    r = rmse(X, basis)
    rb = r if basis is None else r[basis]
    out = r > rb.mean() + threshold * rb.std()
    if basis is not None:
        out &= basis
    return np.flatnonzero(out)


def cycle_stats(x):
    """The guide's per-cycle features of one (150,) series, numpy only; NaN -> all NaN."""
    if np.isnan(x).any():
        return dict.fromkeys(("mean", "std", "min", "max", "rom", "peak_index", "peak_timing", "skewness",
                              "kurtosis", "dominant_frequency"), np.nan)
    m = np.mean(x)
    d = x - m
    m2, m3, m4 = np.mean(d ** 2), np.mean(d ** 3), np.mean(d ** 4)
    constant = m2 <= (np.finfo(np.float64).resolution * m) ** 2
    peak = int(np.argmax(np.abs(x)))
    spectrum = np.abs(np.fft.rfft(x))[1:75]
    return {"mean": m, "std": np.std(x), "min": np.min(x), "max": np.max(x), "rom": np.max(x) - np.min(x),
            "peak_index": peak, "peak_timing": peak / len(x),
            "skewness": np.nan if constant else m3 / m2 ** 1.5,
            "kurtosis": np.nan if constant else m4 / m2 ** 2 - 3,
            "dominant_frequency": np.nan if constant else float(np.argmax(spectrum) + 1)}


def load(path):
    df = pd.read_parquet(path)
    for c in ("subject", "task"):
        df[c] = df[c].astype(str)
    return df
