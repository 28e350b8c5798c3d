// The SPM engine alone: distributions against scipy's values, RFT thresholds against spm1d's,
// spm1d's cluster geometry, and permutations in spm1d's order (the Python tests compare whole
// results with spm1d itself).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "cadence/gait/spm_anova1rm.h"
#include "cadence/gait/spm_inference.h"
#include "cadence/gait/spm_rft.h"
#include "cadence/gait/spm_stats.h"

namespace cadence::gait::spm {
namespace {

// J rows of `nodes` nodes with a group label per row (views: the vectors outlive the sample).
Sample grouped(Design design, const std::vector<double>& y, std::size_t nodes, const std::vector<int>& groups,
               int n_groups) {
  Sample s;
  s.design = design;
  s.y = y.data();
  s.rows = y.size() / nodes;
  s.nodes = nodes;
  s.groups = groups.data();
  s.n_groups = n_groups;
  return s;
}

TEST(SpmRft, SurvivalFunctionsMatchScipy) {
  EXPECT_NEAR(t_sf(2.0, 10.0), 0.03669401738537018, 1e-14);
  EXPECT_NEAR(t_sf(-1.5, 4.5), 0.8998904571719233, 1e-14);
  EXPECT_NEAR(t_sf(9.0, 30.0) / 2.5074159580739443e-10, 1.0, 1e-10);
  EXPECT_NEAR(f_sf(3.0, 2.0, 10.0), 0.09536743164062497, 1e-14);
  EXPECT_NEAR(f_sf(0.5, 3.0, 57.0), 0.683778673760526, 1e-14);
  EXPECT_EQ(f_sf(-1.0, 3.0, 57.0), 1.0);
}

TEST(SpmRft, ThresholdsMatchSpm1d) {
  // spm1d.rft1d.t.isf_resels(0.05, 18, (1, 4.855), withBonf=True, nNodes=101) and the F one
  const RftField t{Stat::kT, 1.0, 18.0, 1.0, 4.855, 101};
  EXPECT_NEAR(isf(t, 0.05), 2.929375812505123, 1e-7);
  EXPECT_NEAR(p_max(t, isf(t, 0.05)), 0.05, 1e-12);
  const RftField f{Stat::kF, 2.0, 57.0, 1.0, 16.345, 101};
  EXPECT_NEAR(isf(f, 0.05), 7.596830374213746, 1e-7);
  // a rough field: Bonferroni over 101 nodes is less severe than RFT and wins
  const RftField rough{Stat::kT, 1.0, 18.0, 1.0, 500.0, 101};
  EXPECT_NEAR(101.0 * t_sf(isf(rough, 0.05), 18.0), 0.05, 1e-12);
  EXPECT_THROW(isf(t, 0.0), std::invalid_argument);
}

TEST(SpmClusters, EndpointsInterpolatedExceptAtTheEnds) {
  const std::vector<double> z{3.0, 2.5, 1.0, 0.0, 1.0, 3.0, 1.0, -2.0, -3.0};
  const auto c = find_clusters(z.data(), z.size(), 2.0, true);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_DOUBLE_EQ(c[0].x0, 0.0);  // the curve's start: not interpolated
  EXPECT_DOUBLE_EQ(c[0].x1, 1.0 + 0.5 / 1.5);
  EXPECT_DOUBLE_EQ(c[1].x0, 4.5);
  EXPECT_DOUBLE_EQ(c[1].x1, 5.5);
  EXPECT_DOUBLE_EQ(c[1].height, 2.0);
  EXPECT_DOUBLE_EQ(c[1].metric, 1.0);  // trapezoid of (2, 3, 2) - 2 with unit spacing
  EXPECT_EQ(c[2].sign, -1);
  EXPECT_DOUBLE_EQ(c[2].x0, 7.0);  // -2 is on the threshold: the run starts there
  EXPECT_DOUBLE_EQ(c[2].x1, 8.0);
  EXPECT_EQ(find_clusters(z.data(), z.size(), 2.0, false).size(), 2u);
  EXPECT_DOUBLE_EQ(max_cluster_integral(z.data(), z.size(), 2.0), 1.0);  // 3-2 alone; (3, 2.5) -> 0.75
  const std::vector<double> none{0.0, 1.0};
  EXPECT_DOUBLE_EQ(max_cluster_integral(none.data(), 2, 2.0), 0.0);
}

TEST(SpmPermutations, CountsAndOrderFollowSpm1d) {
  // 6 observations of 2 nodes, two groups of 3: C(6, 3) = 20 labellings
  std::vector<double> y{1, 2, 2, 1, 3, 5, 4, 4, 6, 5, 5, 7};
  const std::vector<int> groups{0, 0, 0, 1, 1, 1};
  Sample s = grouped(Design::kTwoSample, y, 2, groups, 2);
  EXPECT_DOUBLE_EQ(unique_permutations(s), 20.0);
  const auto z = permutation_statistic(s);
  const auto all = permutation_inference(s, z, 0.1, {false, -1, 0}, nullptr);
  ASSERT_EQ(all.pdf0.size(), 20u);
  EXPECT_DOUBLE_EQ(all.pdf0[0], std::max(z[0], z[1]));  // the first labelling is the identity
  const auto half = permutation_inference(s, z, 0.1, {true, -1, 0}, nullptr);
  EXPECT_EQ(half.pdf0.size(), 10u);
  // the last labelling puts group 0 on rows 3, 4, 5: the statistic's sign flips
  EXPECT_DOUBLE_EQ(all.pdf0[19], std::max(-z[0], -z[1]));
  s.design = Design::kOneSample;
  EXPECT_DOUBLE_EQ(unique_permutations(s), 64.0);
  s.design = Design::kRegression;
  std::vector<double> x{1, 2, 3, 4, 5, 6};
  s.x = x.data();
  EXPECT_DOUBLE_EQ(unique_permutations(s), 720.0);
}

TEST(SpmReml, EqualGroupSpreadGivesThePooledDf) {
  // two groups of 4 whose curves spread alike: ReML's variances agree, df = J - 2 as pooled
  std::vector<double> y{0, 1, 2, 3, 1, 2, 3, 5, 2, 4, 4, 7, 3, 3, 5, 9,
                        10, 11, 12, 13, 11, 12, 13, 15, 12, 14, 14, 17, 13, 13, 15, 19};
  const std::vector<int> groups{0, 0, 0, 0, 1, 1, 1, 1};
  Sample s = grouped(Design::kTwoSample, y, 4, groups, 2);
  s.equal_var = false;
  const Field f = fit(s);
  EXPECT_NEAR(f.df2, 6.0, 1e-9);
  s.equal_var = true;
  EXPECT_EQ(fit(s).z, f.z);  // only the df changes
}

TEST(SpmStats, RefusesWhatItCannotTest) {
  std::vector<double> y{1, 2, NAN, 4};
  Sample s;
  s.y = y.data();
  s.rows = 2;
  s.nodes = 2;
  EXPECT_THROW(fit(s), std::invalid_argument);
  y[2] = 3;
  s.rows = 1;
  EXPECT_THROW(fit(s), std::invalid_argument);
}

// 3 subjects x 2 conditions, one curve each, 2 nodes. Node 0 by hand: cells (subject, condition)
// 1 3 / 2 5 / 3 4: means m = 3, m_a = 2, 4, m_s = 2, 3.5, 3.5; SS_A = 3 * (1 + 1) = 6;
// interaction residuals m_sa - m_s - m_a + m: 0, 0 / -0.5, 0.5 / 0.5, -0.5, SS_SA = 1;
// F = (6 / 1) / (1 / 2) = 12, df (1, 2).
TEST(SpmAnova1rm, ClassicFByHandAndBalanceRequired) {
  std::vector<double> y{1, 0, 3, 1, 2, 0, 5, 2, 3, 1, 4, 0};  // rows: s0a0 s0a1 s1a0 s1a1 s2a0 s2a1
  std::vector<int> cond{0, 1, 0, 1, 0, 1}, subj{0, 0, 1, 1, 2, 2};
  Sample s = grouped(Design::kAnova1rm, y, 2, cond, 2);
  s.subjects = subj.data();
  s.n_subjects = 3;
  const Field f = fit(s);
  EXPECT_EQ(f.stat, Stat::kF);
  EXPECT_DOUBLE_EQ(f.df1, 1.0);
  EXPECT_DOUBLE_EQ(f.df2, 2.0);
  EXPECT_NEAR(f.z[0], 12.0, 1e-12);
  EXPECT_TRUE(single_responses(s));
  EXPECT_THROW(permutation_statistic(s), std::invalid_argument);  // no nonparametric version
  subj[5] = 1;  // subject 1 twice in condition 1, subject 2 never: unbalanced
  EXPECT_THROW(fit(s), std::invalid_argument);
}

}  // namespace
}  // namespace cadence::gait::spm
