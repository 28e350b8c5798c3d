"""Statistical parametric mapping of whole gait curves, with spm1d's API (spm1d 0.4.55).

``ttest``, ``ttest_paired``, ``ttest2``, ``regress``, ``anova1`` and ``anova1rm`` take (J, Q) arrays (J
curves of Q nodes) as ``spm1d.stats`` does and return an SPM with ``.z``, ``.df``, ``.fwhm``,
``.resels`` and ``.inference(alpha)`` (``.zstar``, ``.clusters``, ``.p_set``); the
nonparametric versions are in :mod:`cadence.gait.spm.nonparam`. The statistics, the smoothness,
random field theory and the permutations run in the C++ engine (src/cadence/gait/spm_*);
docs/gait.md ("Comparing conditions: SPM") writes the formulas down.

``equal_var=False`` (spm1d's default for ``ttest2`` and ``anova1``) estimates the degrees of
freedom by spm1d's ReML. Not supported (each raises NotImplementedError saying so): ``roi``,
``circular``, ``interp=False``, ``cluster_size`` > 0, 0-D data (one value per observation);
the nonparametric ``anova1rm`` and the two- and three-way ANOVAs are not provided.
"""

from __future__ import annotations

from . import nonparam
from .clusters import Cluster
from .inputs import SpmInputError
from .parametric import SPM_F, SPM_T, SPMi_F, SPMi_T, anova1, anova1rm, regress, ttest, ttest2, ttest_paired

__all__ = ["Cluster", "SPM_F", "SPM_T", "SPMi_F", "SPMi_T", "SpmInputError", "anova1", "anova1rm", "nonparam", "regress",
           "ttest", "ttest2", "ttest_paired"]
