"""cadence.gait.spm against spm1d 0.4.55 itself, on spm1d's bundled gait datasets
(PlantarArchAngle: ttest2, ttest_paired, ttest; SpeedGRF: regress; SpeedGRFcategorical: anova1;
SpeedGRFcategoricalRM: anova1rm):
z to 1e-9 relative, zstar, cluster endpoints and p to 1e-6; nonparametric with every
permutation's maximum and cluster integral equal to spm1d's; bad input refused by name."""

import numpy as np
import pytest
import spm1d

from cadence.gait import spm
from cadence.gait.spm import SpmInputError
from cadence.gait.spm.nonparam import PermutationLimitError

TOL = 1e-6


@pytest.fixture(scope="module")
def arch():
    return spm1d.data.uv1d.t2.PlantarArchAngle().get_data()


@pytest.fixture(scope="module")
def speed():
    return spm1d.data.uv1d.regress.SpeedGRF().get_data()


@pytest.fixture(scope="module")
def categorical():
    return spm1d.data.uv1d.anova1.SpeedGRFcategorical().get_data()


def assert_raw_equal(ours, ref):
    assert ours.STAT == ref.STAT
    np.testing.assert_allclose(ours.z, ref.z, rtol=1e-9, atol=1e-12 * np.abs(ref.z).max())
    assert tuple(float(v) for v in ours.df) == pytest.approx(tuple(float(v) for v in ref.df), rel=1e-12)
    assert ours.fwhm == pytest.approx(ref.fwhm, rel=1e-9)
    assert ours.resels[0] == ref.resels[0]
    assert ours.resels[1] == pytest.approx(ref.resels[1], rel=1e-9)


def assert_clusters_equal(ours, ref, nonparam=False):
    assert ours.zstar == pytest.approx(ref.zstar, abs=TOL)
    assert len(ours.clusters) == len(ref.clusters) > 0 or len(ref.clusters) == len(ours.clusters) == 0
    for a, b in zip(ours.clusters, ref.clusters):
        assert a.endpoints == pytest.approx(tuple(map(float, b.endpoints)), abs=TOL)
        assert a.extent == pytest.approx(float(b.extent), abs=TOL)
        assert a.csign == b.csign
        assert a.P == pytest.approx(float(b.P), abs=TOL)
        if nonparam:
            assert a.metric_value == pytest.approx(b.metric_value, rel=1e-9, abs=1e-9)
        else:
            assert a.h == pytest.approx(float(b.h), abs=TOL)
            assert a.extentR == pytest.approx(float(b.extentR), abs=TOL)
    if not nonparam:
        assert ours.p_set == pytest.approx(float(ref.p_set), abs=TOL)


@pytest.mark.parametrize("two_tailed", [True, False])
def test_ttest2_equals_spm1d(arch, two_tailed):
    YA, YB = arch
    ours, ref = spm.ttest2(YA, YB, equal_var=True), spm1d.stats.ttest2(YA, YB, equal_var=True)
    assert_raw_equal(ours, ref)
    oi, ri = ours.inference(0.05, two_tailed=two_tailed), ref.inference(0.05, two_tailed=two_tailed)
    assert_clusters_equal(oi, ri)
    assert oi.h0reject == ri.h0reject


@pytest.mark.parametrize("alpha", [0.05, 0.2])
def test_ttest_paired_equals_spm1d(arch, alpha):
    YA, YB = arch
    ours, ref = spm.ttest_paired(YA, YB), spm1d.stats.ttest_paired(YA, YB)
    assert_raw_equal(ours, ref)
    ri = ref.inference(alpha, two_tailed=True)
    assert_clusters_equal(ours.inference(alpha), ri)  # two-tailed by default, as spm1d's SPM_T
    assert len(ri.clusters) >= 1


def test_ttest_against_scalar_and_curve(arch):
    YA, YB = arch
    for y0 in (2.0, YB.mean(axis=0)):
        ours, ref = spm.ttest(YA, y0), spm1d.stats.ttest(YA, y0)
        assert_raw_equal(ours, ref)
        assert_clusters_equal(ours.inference(0.05, two_tailed=True), ref.inference(0.05, two_tailed=True))


@pytest.mark.parametrize("rows_a, rows_b, scale", [(10, 10, 1.0), (6, 10, 1.0), (10, 7, 3.0)])
def test_ttest2_unequal_variance_reml_equals_spm1d(arch, rows_a, rows_b, scale):
    """spm1d's default equal_var=False: the df estimated by ReML (non-integer), then RFT on it."""
    YA, YB = arch
    a, b = YA[:rows_a] * scale, YB[:rows_b]
    ours, ref = spm.ttest2(a, b), spm1d.stats.ttest2(a, b)
    assert ours.df[1] == pytest.approx(float(ref.df[1]), rel=1e-9) and not float(ref.df[1]).is_integer()
    assert_raw_equal(ours, ref)
    assert_clusters_equal(ours.inference(0.05, two_tailed=True), ref.inference(0.05, two_tailed=True))


def test_anova1_unequal_variance_reml_equals_spm1d(categorical):
    Y, A = categorical
    idx = np.r_[0:5, 20:32, 40:60]  # unbalanced groups
    with pytest.warns(UserWarning, match="approximate and have not been verified"):  # spm1d's own warning
        ours = spm.anova1(Y[idx], A[idx])
    with pytest.warns(UserWarning, match="approximate and have not been verified"):
        ref = spm1d.stats.anova1(Y[idx], A[idx])
    assert ours.df == pytest.approx(tuple(float(v) for v in ref.df), rel=1e-9)
    assert_raw_equal(ours, ref)
    assert_clusters_equal(ours.inference(0.05), ref.inference(0.05))


def test_regress_equals_spm1d(speed):
    Y, x = speed
    ours, ref = spm.regress(Y, x), spm1d.stats.regress(Y, x)
    assert_raw_equal(ours, ref)
    np.testing.assert_allclose(ours.r, ref.r, rtol=1e-9)
    oi, ri = ours.inference(0.05, two_tailed=True), ref.inference(0.05, two_tailed=True)
    assert len(ri.clusters) == 4
    assert_clusters_equal(oi, ri)


def test_anova1_equals_spm1d(categorical):
    Y, A = categorical
    ours, ref = spm.anova1(Y, A, equal_var=True), spm1d.stats.anova1(Y, A, equal_var=True)
    assert_raw_equal(ours, ref)
    oi, ri = ours.inference(0.05), ref.inference(0.05)
    assert len(ri.clusters) == 2
    assert_clusters_equal(oi, ri)
    # the list form gives the same SPM
    groups = [Y[A == a] for a in np.unique(A)]
    np.testing.assert_allclose(spm.anova1(groups, equal_var=True).z, ours.z, rtol=1e-12)


@pytest.fixture(scope="module")
def repeated():
    return spm1d.data.uv1d.anova1rm.SpeedGRFcategoricalRM().get_data()


def test_anova1rm_equals_spm1d(repeated):
    Y, A, S = repeated  # 10 subjects x 3 speeds, one curve each: spm1d's approximate residuals
    with pytest.warns(UserWarning, match="Only one observation per subject"):
        ours = spm.anova1rm(Y, A, S)
    with pytest.warns(UserWarning, match="Only one observation per subject"):
        ref = spm1d.stats.anova1rm(Y, A, S)
    assert_raw_equal(ours, ref)
    assert ours.df == (2, 18)
    oi, ri = ours.inference(0.05), ref.inference(0.05)
    assert len(ri.clusters) == 4
    assert_clusters_equal(oi, ri)
    # rows in any order, labels of any values: the same SPM
    order = np.random.default_rng(3).permutation(len(Y))
    with pytest.warns(UserWarning):
        moved = spm.anova1rm(Y[order], (A * 3 + 1)[order], (S * 7 + 2)[order])
    np.testing.assert_allclose(moved.z, ours.z, rtol=1e-12)
    assert moved.fwhm == pytest.approx(ours.fwhm, rel=1e-12)


def test_anova1rm_with_replicates_equals_spm1d(repeated):
    Y, A, S = repeated  # two curves per subject and condition: residuals from the cell means, no warning
    noise = np.cumsum(np.random.default_rng(5).normal(0, 0.5, Y.shape), axis=1)  # smooth: one cluster stays
    Y2, A2, S2 = np.vstack([Y, Y + noise]), np.r_[A, A], np.r_[S, S]
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = spm.anova1rm(Y2, A2, S2)
    ref = spm1d.stats.anova1rm(Y2, A2, S2)
    assert_raw_equal(ours, ref)
    oi, ri = ours.inference(0.05), ref.inference(0.05)
    assert len(ri.clusters) > 0
    assert_clusters_equal(oi, ri)


def test_anova1rm_refusals(repeated):
    Y, A, S = repeated
    with pytest.raises(SpmInputError, match="balanced .* subject 3 has 0 curve"):
        keep = ~((S == 3) & (A == 1))
        spm.anova1rm(Y[keep], A[keep], S[keep])
    with pytest.raises(NotImplementedError, match="Non-sphericity"):
        spm.anova1rm(Y, A, S, equal_var=False)
    with pytest.raises(SpmInputError, match="at least 2 subjects"):
        spm.anova1rm(Y[S == 0], A[S == 0], S[S == 0])
    with pytest.raises(NotImplementedError, match="parametric spm.anova1rm"):
        spm.nonparam.anova1rm(Y, A, S)


def assert_nonparam_equal(oi, ri):
    np.testing.assert_allclose(oi.PDF0, ri.PDF0, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(oi.PDF1, ri.PDF1, rtol=1e-9, atol=1e-9)
    assert oi.nPermUnique == ri.nPermUnique
    assert_clusters_equal(oi, ri, nonparam=True)


@pytest.mark.parametrize("two_tailed", [False, True])
def test_nonparam_ttest_paired_every_permutation(arch, two_tailed):
    YA, YB = arch
    ours, ref = spm.nonparam.ttest_paired(YA, YB), spm1d.stats.nonparam.ttest_paired(YA, YB)
    np.testing.assert_allclose(ours.z, ref.z, rtol=1e-12)
    oi = ours.inference(0.05, two_tailed=two_tailed)
    ri = ref.inference(0.05, two_tailed=two_tailed)
    assert len(oi.PDF0) == (512 if two_tailed else 1024)
    assert_nonparam_equal(oi, ri)
    assert len(oi.clusters) == 1


@pytest.mark.parametrize("two_tailed", [False, True])
def test_nonparam_ttest2_every_permutation(arch, two_tailed):
    YA, YB = arch
    a, b = YA[:6], YB[:6] + 1.5  # C(12, 6) = 924 permutations
    oi = spm.nonparam.ttest2(a, b).inference(0.05, two_tailed=two_tailed)
    ri = spm1d.stats.nonparam.ttest2(a, b).inference(0.05, two_tailed=two_tailed)
    assert_nonparam_equal(oi, ri)


def test_nonparam_regress_and_anova1_every_permutation(speed, categorical):
    Y, x = speed
    idx = [0, 7, 15, 23, 31, 44]  # 6! = 720 row orders
    oi = spm.nonparam.regress(Y[idx], x[idx]).inference(0.05, two_tailed=True)
    ri = spm1d.stats.nonparam.regress(Y[idx], x[idx]).inference(0.05, two_tailed=True)
    assert_nonparam_equal(oi, ri)
    Y, A = categorical
    idx = np.r_[np.flatnonzero(A == 1)[:2], np.flatnonzero(A == 2)[:2], np.flatnonzero(A == 3)[:3]]  # 210
    oi = spm.nonparam.anova1(Y[idx], A[idx]).inference(0.05)
    ri = spm1d.stats.nonparam.anova1(Y[idx], A[idx]).inference(0.05)
    assert oi.nPermUnique == 210
    assert_nonparam_equal(oi, ri)


def test_nonparam_random_permutations_are_seeded(arch):
    YA, YB = arch
    s = spm.nonparam.ttest2(YA, YB)
    a = s.inference(0.05, iterations=200, seed=3)
    b = s.inference(0.05, iterations=200, seed=3, jobs=1)
    np.testing.assert_array_equal(a.PDF0, b.PDF0)
    assert len(a.PDF0) == 200 and a.clusters and a.clusters[0].nPerm == 200
    assert not np.array_equal(a.PDF0, s.inference(0.05, iterations=200, seed=4).PDF0)


def test_nonparam_permutation_limits(arch):
    YA, YB = arch
    s = spm.nonparam.ttest2(YA, YB)  # 184,756 permutations
    with pytest.raises(PermutationLimitError, match="184756") as e:
        s.inference(0.05)
    assert isinstance(e.value, Warning)  # spm1d raises a Warning there
    with pytest.raises(ValueError, match="at least 10"):
        s.inference(0.05, iterations=5)
    with pytest.raises(ValueError, match="exceeds the maximum"):
        spm.nonparam.ttest_paired(YA, YB).inference(0.05, iterations=2000)
    with pytest.raises(ValueError, match="1/nPermTotal"):
        spm.nonparam.ttest_paired(YA[:4], YB[:4]).inference(0.05)


def test_bad_input_is_named(arch):
    YA, YB = arch
    bad = YA.copy()
    bad[3, 40] = np.nan
    with pytest.raises(SpmInputError, match="observation 3 .* node 40"):
        spm.ttest2(bad, YB, equal_var=True)
    with pytest.raises(SpmInputError, match="at least 2 observations"):
        spm.ttest(YA[:1])
    with pytest.raises(SpmInputError, match="different lengths"):
        spm.ttest2(YA, YB[:, :50], equal_var=True)
    with pytest.raises(SpmInputError, match="same observations"):
        spm.ttest_paired(YA, YB[:9])
    with pytest.raises(SpmInputError, match="x is constant"):
        spm.regress(YA, np.ones(len(YA)))
    flat = YA.copy()
    flat[:, 90:] = 1.0  # every observation equal there, as spm1d's data check refuses
    with pytest.raises(SpmInputError, match=r"YA: zero variance at node\(s\) 90, 91"):
        spm.ttest2(flat, YB, equal_var=True)
    with pytest.raises(spm1d.stats._datachecks.SPM1DError):
        spm1d.stats.ttest2(flat, YB, equal_var=True)
    with pytest.raises(NotImplementedError, match="roi"):
        spm.ttest(YA, roi=np.ones(YA.shape[1], bool))
