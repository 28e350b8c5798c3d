"""Parametric SPM tests (spm1d.stats' ttest, ttest_paired, ttest2, regress, anova1, anova1rm) and their
random field theory inference, both computed by the engine."""

from __future__ import annotations

import warnings

import numpy as np

from ... import _core
from . import inputs
from .clusters import clusters_of

#: spm1d's warning for anova1(equal_var=False), given as spm1d gives it.
ANOVA1_REML_WARNING = ("\nWARNING:  Non-sphericity corrections for one-way ANOVA are currently approximate and "
                       "have not been verified.\n")


#: spm1d's warning for anova1rm with one curve per subject and condition, given as spm1d gives it.
ANOVA1RM_SINGLE_WARNING = ("\nWARNING:  Only one observation per subject found.  Residuals and inference will be "
                           "approximate. To avoid approximate residuals: (a) Add multiple observations per subject "
                           "and per condition, and (b) ensure that all subjects and conditions have the same number "
                           "of observations.\n")
#: spm1d's refusal of anova1rm(equal_var=False).
ANOVA1RM_UNEQUAL_VAR = ('Non-sphericity corrections are not yet implemented. Set "equal_var" to "True" to force an '
                        'assumption of equal variance.')


def _df(pair) -> tuple:
    """(1, 18) as spm1d prints it: whole numbers as int."""
    return tuple(int(v) if float(v).is_integer() else float(v) for v in pair)


class _SPM:
    """A raw SPM: the statistic field and what inference needs."""

    dim = 1
    isinference = False
    isparametric = True
    isregress = False
    isanova = False

    def __init__(self, fit: dict) -> None:
        self.STAT = fit["stat"]
        self.z = np.asarray(fit["z"])
        self.Q = int(self.z.size)
        self.df = _df(fit["df"])
        self.fwhm = float(fit["fwhm"])
        self.resels = (int(fit["resels"][0]), float(fit["resels"][1]))

    @property
    def nNodes(self) -> int:
        return self.Q

    def _infer(self, alpha: float, two_tailed: bool):
        if not 0.0 < alpha < 1.0:
            raise ValueError(f"alpha={alpha}: give a Type I error rate between 0 and 1")
        r = _core.spm_rft_inference(self.STAT, np.ascontiguousarray(self.z, dtype=np.float64), float(self.df[0]),
                                    float(self.df[1]), self.fwhm, float(self.resels[0]), self.resels[1],
                                    float(alpha), bool(two_tailed))
        clusters = clusters_of(r["clusters"], r["zstar"], fwhm=self.fwhm)
        cls = SPMi_T if self.STAT == "T" else SPMi_F
        return cls(self, alpha, float(r["zstar"]), clusters, float(r["p_set"]), two_tailed)

    def __repr__(self) -> str:
        lines = [f"SPM{{{'t' if self.STAT == 'T' else self.STAT}}}",
                 f"   SPM.z      :  (1x{self.Q}) test stat field",
                 f"   SPM.df     :  {self.df}", f"   SPM.fwhm   :  {self.fwhm:.5f}",
                 f"   SPM.resels :  ({self.resels[0]}, {self.resels[1]:.5f})"]
        return "\n".join(lines) + "\n"


class SPM_T(_SPM):
    """SPM{t}: ``inference(alpha=0.05, two_tailed=True)`` as spm1d's."""

    def inference(self, alpha: float = 0.05, cluster_size: int = 0, two_tailed: bool = True, interp: bool = True,
                  circular: bool = False) -> "SPMi_T":
        """Random field theory inference. Two-tailed: threshold at alpha/2, clusters of both signs,
        cluster p and p_set doubled (capped at 1)."""
        inputs.unsupported(cluster_size=cluster_size, interp=interp, circular=circular)
        return self._infer(alpha, two_tailed)


class SPM_F(_SPM):
    """SPM{F}: ``inference(alpha=0.05)`` (one-tailed, as spm1d's)."""

    isanova = True

    def inference(self, alpha: float = 0.05, cluster_size: int = 0, interp: bool = True,
                  circular: bool = False) -> "SPMi_F":
        inputs.unsupported(cluster_size=cluster_size, interp=interp, circular=circular)
        return self._infer(alpha, False)


class _SPMinference:
    isinference = True

    def __init__(self, spm: _SPM, alpha: float, zstar: float, clusters: list, p_set: float,
                 two_tailed: bool) -> None:
        self.__dict__.update({k: v for k, v in vars(spm).items()})
        self.alpha = alpha
        self.zstar = zstar
        self.clusters = clusters
        self.nClusters = len(clusters)
        self.h0reject = self.nClusters > 0
        self.p_set = p_set
        self.p = [c.P for c in clusters]
        self.two_tailed = two_tailed

    @property
    def zc(self) -> float:
        return self.zstar

    def __repr__(self) -> str:
        ps = ", ".join("<0.001" if p < 0.0005 else f"{p:.3f}" for p in self.p)
        return (super().__repr__() + f"Inference:\n   SPM.alpha     :  {self.alpha:.3f}\n"
                f"   SPM.zstar     :  {self.zstar:.5f}\n   SPM.h0reject  :  {self.h0reject}\n"
                f"   SPM.p_set     :  {self.p_set:.3f}\n   SPM.p_cluster :  ({ps})\n")


class SPMi_T(_SPMinference, SPM_T):
    """An SPM{t} after inference."""


class SPMi_F(_SPMinference, SPM_F):
    """An SPM{F} after inference."""


def _fit(design: int, y: np.ndarray, groups=None, n_groups: int = 0, x=None, equal_var: bool = True,
         subjects=None, n_subjects: int = 0) -> dict:
    try:
        return _core.spm_fit(design, y, groups, n_groups, x, bool(equal_var), subjects, n_subjects)
    except ValueError as e:
        raise inputs.SpmInputError(str(e)) from None


def ttest(Y, y0=None, roi=None) -> SPM_T:
    """One-sample t test of (J, Q) curves against 0, a scalar or a (Q,) curve ``y0``."""
    inputs.unsupported(roi=roi)
    y = inputs.curves(Y)
    inputs.check_variance(y, "Y")
    if y0 is not None:
        ref = np.asarray(y0, dtype=np.float64)
        if ref.ndim not in (0, 1) or (ref.ndim == 1 and ref.shape[0] != y.shape[1]):
            raise inputs.SpmInputError(f"y0: a scalar or a ({y.shape[1]},) curve is needed, got shape {ref.shape}")
        if not np.isfinite(ref).all():
            raise inputs.SpmInputError("y0 holds a non-finite value")
        y = np.ascontiguousarray(y - ref)
    return SPM_T(_fit(inputs.ONE_SAMPLE, y))


def ttest_paired(YA, YB, roi=None) -> SPM_T:
    """Paired t test: the one-sample test of YA - YB (row j of each is the same subject)."""
    inputs.unsupported(roi=roi)
    a, b = inputs.paired_curves(YA, YB)
    for y, name in ((a, "YA"), (b, "YB"), (a - b, "YA - YB")):
        inputs.check_variance(y, name)
    return SPM_T(_fit(inputs.ONE_SAMPLE, np.ascontiguousarray(a - b)))


def ttest2(YA, YB, equal_var: bool = False, roi=None) -> SPM_T:
    """Two-sample t test: pooled variance (``equal_var=True``) or, spm1d's default, one variance
    per group with the df estimated by ReML (docs/gait.md, "SPM: the formulas")."""
    inputs.unsupported(roi=roi)
    a, b = inputs.curves(YA, "YA"), inputs.curves(YB, "YB")
    inputs.same_nodes(a, b, "YA, YB")
    inputs.check_variance(a, "YA")
    inputs.check_variance(b, "YB")
    groups = np.r_[np.zeros(len(a), np.int32), np.ones(len(b), np.int32)]
    return SPM_T(_fit(inputs.TWO_SAMPLE, np.ascontiguousarray(np.vstack([a, b])), groups, 2, equal_var=equal_var))


def regress(Y, x, roi=None) -> SPM_T:
    """Simple linear regression of (J, Q) curves on J values ``x``; ``.r`` is the correlation."""
    inputs.unsupported(roi=roi)
    y = inputs.curves(Y, min_rows=3)
    inputs.check_variance(y, "Y")
    xs = np.ascontiguousarray(x, dtype=np.float64)
    if xs.ndim != 1 or xs.shape[0] != y.shape[0]:
        raise inputs.SpmInputError(f"x: one value per observation is needed ({y.shape[0]}), got shape {xs.shape}")
    spm = SPM_T(_fit(inputs.REGRESSION, y, x=xs))
    spm.r = spm.z / np.sqrt(y.shape[0] - 2 + spm.z ** 2)
    spm.isregress = True
    return spm


def anova1(Y, A=None, equal_var: bool = False, roi=None) -> SPM_F:
    """One-way ANOVA of (J, Q) curves with J group labels ``A``, or of a list of (J_i, Q) arrays."""
    inputs.unsupported(roi=roi)
    if isinstance(Y, (list, tuple)):
        parts = [inputs.curves(y, f"Y[{i}]", min_rows=1) for i, y in enumerate(Y)]
        for i, p in enumerate(parts):
            inputs.same_nodes(parts[0], p, f"Y[0], Y[{i}]")
            inputs.check_variance(p, f"Y[{i}]")
        A = np.concatenate([[i] * len(p) for i, p in enumerate(parts)])
        y = np.ascontiguousarray(np.vstack(parts))
    else:
        if A is None:
            raise inputs.SpmInputError("A: give one group label per observation (or Y as a list of arrays)")
        y = inputs.curves(Y)
        inputs.check_variance(y, "Y")
    codes, levels = inputs.group_codes(A, y.shape[0])
    if len(levels) < 2:
        raise inputs.SpmInputError("A: a one-way ANOVA needs at least 2 groups")
    if not equal_var:
        warnings.warn(ANOVA1_REML_WARNING, UserWarning, stacklevel=2)
    return SPM_F(_fit(inputs.ANOVA1, y, codes, len(levels), equal_var=equal_var))


def anova1rm(Y, A, SUBJ, equal_var: bool = True, roi=None, _force_approx0D: bool = False) -> SPM_F:
    """One-way repeated-measures ANOVA of (J, Q) curves: condition labels ``A`` and subject labels
    ``SUBJ``, one per curve, every subject with the same number of curves in every condition
    (balanced). The condition effect is tested against the subject x condition interaction, df
    (k-1, (k-1)(n-1)); with one curve per subject and condition the smoothness comes from the
    additive model's residuals, and spm1d's warning that inference is then approximate is given.
    ``equal_var=False`` is refused, as spm1d refuses it."""
    inputs.unsupported(roi=roi)
    if not equal_var:
        raise NotImplementedError(ANOVA1RM_UNEQUAL_VAR)
    if _force_approx0D:
        raise NotImplementedError("_force_approx0D is for 0-D data, which cadence.gait.spm does not support")
    y = inputs.curves(Y)
    inputs.check_variance(y, "Y", "spm1d's anova1rm returns NaN there instead")
    codes, levels = inputs.group_codes(A, y.shape[0])
    subjects, names = inputs.group_codes(SUBJ, y.shape[0], "SUBJ")
    if len(levels) < 2:
        raise inputs.SpmInputError("A: a repeated-measures ANOVA needs at least 2 conditions")
    if len(names) < 2:
        raise inputs.SpmInputError("SUBJ: a repeated-measures ANOVA needs at least 2 subjects")
    cells = np.zeros((len(names), len(levels)), dtype=np.int64)
    np.add.at(cells, (subjects, codes), 1)
    if (cells != cells[0, 0]).any():
        s, a = np.argwhere(cells != cells[0, 0])[0]
        raise inputs.SpmInputError(f"the design must be balanced (spm1d refuses it too): subject {names[s].item()!r} has "
                                   f"{cells[s, a]} curve(s) of condition {levels[a].item()!r}, subject "
                                   f"{names[0].item()!r} has {cells[0, 0]} of condition {levels[0].item()!r}")
    if cells[0, 0] == 1:
        warnings.warn(ANOVA1RM_SINGLE_WARNING, UserWarning, stacklevel=2)
    return SPM_F(_fit(inputs.ANOVA1RM, y, codes, len(levels), subjects=subjects, n_subjects=len(names)))
