"""Nonparametric SPM tests (spm1d.stats.nonparam): thresholds and cluster p values from label
permutations instead of random field theory, with spm1d's semantics.

- ``iterations=-1``: every permutation, in spm1d's order (sign flips as
  ``itertools.product((1, -1))``, group labels as spm1d's permutations without repetition, row
  orders as ``itertools.permutations``); two-tailed t tests use the first half of them.
- ``zstar``: ``numpy.percentile(PDF0, 100 (1 - alpha))`` (linear), PDF0 the maximum of each
  permutation's field (of |t| when two-tailed, alpha not halved).
- cluster p: the share of permutations whose largest upward cluster integral (PDF1) is at least
  the cluster's, floored at 1/nPermUnique (1/iterations) and capped at alpha; two-tailed doubles it
  (capped at alpha). No p_set.
- more than 10,000 permutations are refused unless ``force_iterations=True``.
- ``iterations > 0``: random permutations from the engine's generator (``seed``): spm1d's numpy
  draws are not reproduced, so those numbers differ from spm1d's run to run as spm1d's do.
"""

from __future__ import annotations

from math import ceil

import numpy as np

from ... import _core
from ...runtime import make_job
from . import inputs
from .clusters import clusters_of

#: spm1d's limit on permutations without force_iterations.
MAX_ITERATIONS = 10_000


class PermutationLimitError(ValueError, Warning):
    """More permutations than MAX_ITERATIONS without ``force_iterations=True`` (spm1d raises a
    ``Warning`` here; this is both, so either ``except`` catches it)."""


def check_iterations(n: int, iterations: int, alpha: float, force_iterations: bool) -> None:
    """spm1d's checks of a permutation count, in spm1d's order (``n``: unique permutations)."""
    if iterations > n:
        raise ValueError(f"Number of specified iterations ({iterations}) exceeds the maximum possible number "
                         f"of iterations ({n})")
    if alpha < 1 / n:
        raise ValueError(f"Specified alpha {alpha:0.5f} must be greater than or equal to (1/nPermTotal)={1 / n:0.5f}")
    if ((iterations == -1 and n > MAX_ITERATIONS) or iterations > MAX_ITERATIONS) and not force_iterations:
        count = n if iterations == -1 else iterations
        raise PermutationLimitError(
            f"The total number of permutations ({count}) is very large; give iterations=N (N <= "
            f"{MAX_ITERATIONS}) for random permutations, or force_iterations=True to run them all")
    if iterations != -1 and iterations < 10:
        raise ValueError(f"Number of specified iterations ({iterations}) must be at least 10")
    if iterations > 0 and iterations < 1 / alpha:
        raise ValueError(f"Number of specified iterations ({iterations}) must be at least {ceil(1 / alpha)} "
                         f"to conduct inference at alpha={alpha:0.5f}")


class _SnPM:
    dim = 1
    isparametric = False
    isanova = False
    STAT = "T"

    def __init__(self, design: int, y: np.ndarray, groups=None, n_groups: int = 0, x=None) -> None:
        self._args = (design, y, groups, n_groups, x)
        try:
            z, n = _core.spm_permutation_statistic(design, y, groups, n_groups, x)
        except ValueError as e:
            raise inputs.SpmInputError(str(e)) from None
        self.z = np.asarray(z)
        self.Q = int(self.z.size)
        self.nPermUnique = int(round(n))

    def _infer(self, alpha, iterations, two_tailed, interp, circular, force_iterations, cluster_metric, seed, jobs):
        inputs.unsupported(interp=interp, circular=circular)
        if cluster_metric != "MaxClusterIntegral":
            raise NotImplementedError(f"cluster_metric={cluster_metric!r}: only 'MaxClusterIntegral' (spm1d's "
                                      f"default) is supported")
        if not 0.0 < alpha < 1.0:
            raise ValueError(f"alpha={alpha}: give a Type I error rate between 0 and 1")
        iterations = int(iterations)
        check_iterations(self.nPermUnique, iterations, alpha, force_iterations)
        r = _core.spm_permutation_inference(*self._args, self.z, float(alpha), bool(two_tailed), iterations,
                                            int(seed), make_job(jobs, 0))
        n_perm = iterations if iterations > 0 else self.nPermUnique
        clusters = clusters_of(r["clusters"], r["zstar"], n_perm=n_perm, n_perm_unique=self.nPermUnique)
        return SnPMinference(self, alpha, float(r["zstar"]), clusters, two_tailed, r)

    def __repr__(self) -> str:
        return (f"SnPM{{{'t' if self.STAT == 'T' else self.STAT}}}\n   SnPM.z           :  (1x{self.Q}) test stat "
                f"field\n   SnPM.nPermUnique :  {self.nPermUnique} permutations possible\n")


class SnPM_T(_SnPM):
    """SnPM{t}: ``inference(alpha=0.05, iterations=-1, two_tailed=False, ...)`` as spm1d's."""

    def inference(self, alpha: float = 0.05, iterations: int = -1, two_tailed: bool = False, interp: bool = True,
                  circular: bool = False, force_iterations: bool = False,
                  cluster_metric: str = "MaxClusterIntegral", *, seed: int = 0, jobs: int = 0) -> "SnPMinference":
        """Permutation inference; ``seed`` (random permutations) and ``jobs`` (worker threads, 0 = all
        cores) are cadence's additions."""
        return self._infer(alpha, iterations, two_tailed, interp, circular, force_iterations, cluster_metric,
                           seed, jobs)


class SnPM_F(_SnPM):
    """SnPM{F}: one-tailed ``inference(alpha=0.05, iterations=-1, ...)``."""

    STAT = "F"
    isanova = True

    def inference(self, alpha: float = 0.05, iterations: int = -1, interp: bool = True, circular: bool = False,
                  force_iterations: bool = False, cluster_metric: str = "MaxClusterIntegral", *, seed: int = 0,
                  jobs: int = 0) -> "SnPMinference":
        return self._infer(alpha, iterations, False, interp, circular, force_iterations, cluster_metric, seed, jobs)


class SnPMinference:
    """A nonparametric SPM after inference: ``z``, ``zstar``, ``clusters``, ``p``, ``h0reject``,
    ``PDF0`` (maximum statistic per permutation), ``PDF1`` (largest cluster integral per
    permutation), ``nPermUnique``, ``nPermActual``."""

    isinference = True
    isparametric = False

    def __init__(self, spm: _SnPM, alpha: float, zstar: float, clusters: list, two_tailed: bool, r: dict) -> None:
        self.STAT = spm.STAT
        self.isanova = spm.isanova
        self.z, self.Q, self.nPermUnique = spm.z, spm.Q, spm.nPermUnique
        self.alpha, self.zstar, self.two_tailed = alpha, zstar, two_tailed
        self.clusters = clusters
        self.nClusters = len(clusters)
        self.h0reject = self.nClusters > 0
        self.p = [c.P for c in clusters]
        self.PDF0 = np.asarray(r["pdf0"])
        self.PDF1 = np.asarray(r["pdf1"])
        self.nPermActual = int(r["n_perm"])

    @property
    def zc(self) -> float:
        return self.zstar

    def __repr__(self) -> str:
        ps = ", ".join("<0.001" if p < 0.0005 else f"{p:.3f}" for p in self.p)
        return (f"SnPM{{{'t' if self.STAT == 'T' else self.STAT}}} inference field\n"
                f"   SnPM.nPermUnique   :  {self.nPermUnique} permutations possible\n"
                f"   SPM.alpha          :  {self.alpha:.3f}\n   SPM.zstar          :  {self.zstar:.5f}\n"
                f"   SPM.h0reject       :  {self.h0reject}\n   SPM.p              :  ({ps})\n")


def ttest(y, mu=None, roi=None) -> SnPM_T:
    """One-sample permutation test (sign flips) of (J, Q) curves against ``mu`` (0, a scalar or a curve)."""
    inputs.unsupported(roi=roi)
    a = inputs.curves(y, "y")
    if mu is not None:
        ref = np.asarray(mu, dtype=np.float64)
        if ref.ndim not in (0, 1) or (ref.ndim == 1 and ref.shape[0] != a.shape[1]) or not np.isfinite(ref).all():
            raise inputs.SpmInputError(f"mu: a finite scalar or ({a.shape[1]},) curve is needed")
        a = np.ascontiguousarray(a - ref)
    return SnPM_T(inputs.ONE_SAMPLE, a)


def ttest_paired(yA, yB, roi=None) -> SnPM_T:
    """Paired permutation test: the one-sample test of yA - yB."""
    inputs.unsupported(roi=roi)
    a, b = inputs.paired_curves(yA, yB, ("yA", "yB"))
    return SnPM_T(inputs.ONE_SAMPLE, np.ascontiguousarray(a - b))


def ttest2(y0, y1, roi=None) -> SnPM_T:
    """Two-sample permutation test (pooled-variance t, labels permuted)."""
    inputs.unsupported(roi=roi)
    a, b = inputs.curves(y0, "y0"), inputs.curves(y1, "y1")
    inputs.same_nodes(a, b, "y0, y1")
    groups = np.r_[np.zeros(len(a), np.int32), np.ones(len(b), np.int32)]
    return SnPM_T(inputs.TWO_SAMPLE, np.ascontiguousarray(np.vstack([a, b])), groups, 2)


def regress(y, x, roi=None) -> SnPM_T:
    """Regression permutation test (the rows' order against x permuted)."""
    inputs.unsupported(roi=roi)
    a = inputs.curves(y, "y", min_rows=3)
    xs = np.ascontiguousarray(x, dtype=np.float64)
    if xs.ndim != 1 or xs.shape[0] != a.shape[0]:
        raise inputs.SpmInputError(f"x: one value per observation is needed ({a.shape[0]}), got shape {xs.shape}")
    return SnPM_T(inputs.REGRESSION, a, x=xs)


def anova1(y, A, roi=None) -> SnPM_F:
    """One-way ANOVA permutation test (group labels permuted)."""
    inputs.unsupported(roi=roi)
    a = inputs.curves(y, "y")
    codes, levels = inputs.group_codes(A, a.shape[0])
    if len(levels) < 2:
        raise inputs.SpmInputError("A: a one-way ANOVA needs at least 2 groups")
    return SnPM_F(inputs.ANOVA1, a, codes, len(levels))


def anova1rm(y, A, SUBJ, roi=None):
    """Not provided: spm1d's own nonparametric anova1rm is its legacy implementation (its permuter
    for subjects x conditions); the parametric :func:`cadence.gait.spm.anova1rm` is."""
    raise NotImplementedError("spm.nonparam.anova1rm is not implemented by cadence.gait.spm; use the parametric "
                              "spm.anova1rm")
