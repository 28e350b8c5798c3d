"""The arrays the SPM tests take, checked before the engine sees them: one clear error naming
the argument, the observation and the node, never a wrong number."""

from __future__ import annotations

import numpy as np

#: The engine's design codes (src/cadence/gait/spm_stats.h, Design).
ONE_SAMPLE, TWO_SAMPLE, REGRESSION, ANOVA1, ANOVA1RM = 0, 1, 2, 3, 4


class SpmInputError(ValueError):
    """Data an SPM test cannot use (too few observations, NaN, shapes that differ)."""


def paired_curves(YA, YB, names: tuple[str, str] = ("YA", "YB")) -> tuple[np.ndarray, np.ndarray]:
    """Both groups of a paired test as :func:`curves`, refused unless they hold the same
    observations (shapes)."""
    a, b = curves(YA, names[0]), curves(YB, names[1])
    if a.shape != b.shape:
        raise SpmInputError(f"{names[0]}, {names[1]}: a paired test needs the same observations in both, got "
                            f"shapes {a.shape} and {b.shape}")
    return a, b


def curves(Y, name: str = "Y", min_rows: int = 2) -> np.ndarray:
    """``Y`` as a C-contiguous float64 (J, Q) array of finite values."""
    try:
        a = np.ascontiguousarray(Y, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise SpmInputError(f"{name}: not an array of numbers ({e})") from None
    if a.ndim != 2:
        raise SpmInputError(f"{name}: a (J, Q) array of J curves is needed, got {a.ndim}-D shape {a.shape} "
                            f"(0-D data, one value per observation, is not supported)")
    if a.shape[1] < 2:
        raise SpmInputError(f"{name}: curves of at least 2 nodes are needed, got {a.shape[1]}")
    if a.shape[0] < min_rows:
        raise SpmInputError(f"{name}: at least {min_rows} observations are needed, got {a.shape[0]}")
    bad = ~np.isfinite(a)
    if bad.any():
        j, q = np.argwhere(bad)[0]
        raise SpmInputError(f"{name}: observation {j} holds {a[j, q]} at node {q} ({int(bad.sum())} non-finite "
                            f"value(s) in all); remove or fill them before the test")
    return a


def zero_variance_nodes(a: np.ndarray) -> list[int]:
    """Nodes where every observation has the same value (spm1d's check: ``Y.var(axis=0) == 0``)."""
    return np.flatnonzero(a.var(axis=0) == 0).tolist()


def check_variance(a: np.ndarray, name: str, spm1d_says: str = "spm1d refuses this too") -> None:
    """spm1d refuses curves of zero variance at a node (the statistic is 0/0 there); so do we."""
    nodes = zero_variance_nodes(a)
    if nodes:
        shown = ", ".join(map(str, nodes[:10])) + (f", ... ({len(nodes)} in all)" if len(nodes) > 10 else "")
        raise SpmInputError(f"{name}: zero variance at node(s) {shown}: every observation has the same value "
                            f"there, so the test statistic is undefined ({spm1d_says})")


def same_nodes(a: np.ndarray, b: np.ndarray, names: str) -> None:
    if a.shape[1] != b.shape[1]:
        raise SpmInputError(f"{names}: curves of different lengths ({a.shape[1]} and {b.shape[1]} nodes)")


def group_codes(labels, rows: int, name: str = "A") -> tuple[np.ndarray, np.ndarray]:
    """Labels -> (group index per row in the order of the sorted labels, the sorted labels)."""
    a = np.asarray(labels)
    if a.ndim != 1 or a.shape[0] != rows:
        raise SpmInputError(f"{name}: one label per observation is needed ({rows}), got shape {a.shape}")
    levels, codes = np.unique(a, return_inverse=True)
    return np.ascontiguousarray(codes, dtype=np.int32), levels


def unsupported(roi=None, cluster_size=0, interp=True, circular=False) -> None:
    """spm1d options the engine does not implement: said, never ignored."""
    if roi is not None:
        raise NotImplementedError("roi (regions of interest) is not supported by cadence.gait.spm")
    if cluster_size:
        raise NotImplementedError("cluster_size > 0 is not supported by cadence.gait.spm (spm1d ignores it too)")
    if not interp:
        raise NotImplementedError("interp=False is not supported: cluster endpoints are interpolated to the "
                                  "threshold, as spm1d's default")
    if circular:
        raise NotImplementedError("circular=True is not supported by cadence.gait.spm")
