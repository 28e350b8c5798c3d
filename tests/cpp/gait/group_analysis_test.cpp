#include "cadence/gait/group_analysis.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "cadence/gait/cycle_index.h"
#include "cadence/gait/lanes.h"

namespace cadence::gait {
namespace {

constexpr int P = kPointsPerCycle;

struct Group {
  int cycles, features;
  std::vector<std::vector<double>> cols;  // [feature][cycle * 150 + point]
  std::vector<ColumnView> views() const {
    std::vector<ColumnView> v;
    for (const auto& c : cols) v.push_back({c.data(), false});
    return v;
  }
};

Group make_group(int cycles, int features, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, 0.05);
  Group g{cycles, features, {}};
  for (int f = 0; f < features; ++f) {
    g.cols.emplace_back(static_cast<std::size_t>(cycles) * P);
    for (int c = 0; c < cycles; ++c)
      for (int p = 0; p < P; ++p)
        g.cols[f][c * P + p] = 0.5 * std::sin(2 * M_PI * (f % 3 + 1) * p / (P - 1)) + noise(rng);
  }
  return g;
}

AnalysisSpec spec_for(int features) {
  AnalysisSpec s;
  for (int f = 0; f < features; ++f) s.kinds.push_back(f % 2 ? FeatureKind::kVelocity : FeatureKind::kAngle);
  return s;
}

TEST(GroupAnalysis, PatternsRmseAndOutliersMatchAReference) {
  Group g = make_group(40, 5, 11);
  for (int f = 0; f < g.features; ++f)  // cycle 7 is an outlier: scaled up
    for (int p = 0; p < P; ++p) g.cols[f][7 * P + p] *= 1.8;
  runtime::Job job({2, 0});
  const SpectrumPlan plan(P);
  const GroupResult r = analyse_group(g.views(), g.cycles, -1, nullptr, spec_for(g.features), plan, job);
  // Reference in long double.
  std::vector<long double> mean(static_cast<std::size_t>(g.features) * P, 0);
  for (int f = 0; f < g.features; ++f)
    for (int p = 0; p < P; ++p) {
      for (int c = 0; c < g.cycles; ++c) mean[f * P + p] += g.cols[f][c * P + p];
      mean[f * P + p] /= g.cycles;
    }
  std::vector<double> rmse(g.cycles);
  for (int c = 0; c < g.cycles; ++c) {
    long double s = 0;
    for (int f = 0; f < g.features; ++f)
      for (int p = 0; p < P; ++p) s += std::pow(g.cols[f][c * P + p] - mean[f * P + p], 2);
    rmse[c] = static_cast<double>(std::sqrt(s / (g.features * P)));
    EXPECT_NEAR(r.rmse[c], rmse[c], 1e-12 * rmse[c]);
  }
  for (int f = 0; f < g.features; ++f)
    for (int p = 0; p < P; ++p) EXPECT_NEAR(r.mean_pattern[f * P + p], static_cast<double>(mean[f * P + p]), 1e-14);
  int outliers = 0;
  for (int c = 0; c < g.cycles; ++c) outliers += r.outlier[c];
  EXPECT_EQ(outliers, 1);
  EXPECT_EQ(r.outlier[7], 1);
  EXPECT_GT(r.rmse[7], r.rmse_threshold);
  for (int c = 0; c < g.cycles; ++c) EXPECT_EQ(r.valid[c], 1);
}

TEST(GroupAnalysis, Float32InputGivesTheSameAsItsFloat64Copy) {
  Group g = make_group(13, 3, 5);
  std::vector<std::vector<float>> f32;
  std::vector<ColumnView> v32;
  for (auto& c : g.cols) {
    f32.emplace_back(c.begin(), c.end());
    for (std::size_t i = 0; i < c.size(); ++i) c[i] = f32.back()[i];  // the exact float values
  }
  for (const auto& c : f32) v32.push_back({c.data(), true});
  runtime::Job job({1, 0});
  const SpectrumPlan plan(P);
  const auto a = analyse_group(v32, g.cycles, -1, nullptr, spec_for(3), plan, job);
  const auto b = analyse_group(g.views(), g.cycles, -1, nullptr, spec_for(3), plan, job);
  EXPECT_EQ(a.stats, b.stats);
  EXPECT_EQ(a.rmse, b.rmse);
}

TEST(GroupAnalysis, DeterministicAcrossThreadCounts) {
  const Group g = make_group(101, 7, 9);
  const SpectrumPlan plan(P);
  runtime::Job one({1, 0}), two({2, 0}), many({8, 0});
  const auto a = analyse_group(g.views(), g.cycles, -1, nullptr, spec_for(7), plan, one);
  for (runtime::Job* job : {&two, &many}) {
    const auto b = analyse_group(g.views(), g.cycles, -1, nullptr, spec_for(7), plan, *job);
    EXPECT_EQ(a.stats.size(), b.stats.size());
    for (std::size_t i = 0; i < a.stats.size(); ++i)
      ASSERT_TRUE(a.stats[i] == b.stats[i] || (std::isnan(a.stats[i]) && std::isnan(b.stats[i]))) << i;
    EXPECT_EQ(a.rmse, b.rmse);
    EXPECT_EQ(a.mean_pattern, b.mean_pattern);
  }
}

TEST(GroupAnalysis, NanPropagatesLikeNumpyOrIsOmitted) {
  Group g = make_group(10, 2, 4);
  g.cols[1][3 * P + 20] = std::numeric_limits<double>::quiet_NaN();
  runtime::Job job({1, 0});
  const SpectrumPlan plan(P);
  auto spec = spec_for(2);
  const auto prop = analyse_group(g.views(), g.cycles, -1, nullptr, spec, plan, job);
  EXPECT_TRUE(std::isnan(prop.mean_pattern[P + 20]));
  EXPECT_FALSE(prop.valid[3]);
  EXPECT_TRUE(prop.valid[4]);
  for (int c = 0; c < g.cycles; ++c) {
    EXPECT_TRUE(std::isnan(prop.rmse[c]));  // the pattern has a NaN point: every RMSE is NaN
    EXPECT_EQ(prop.outlier[c], 0);
  }
  spec.nan_policy = NanPolicy::kOmit;
  const auto omit = analyse_group(g.views(), g.cycles, -1, nullptr, spec, plan, job);
  EXPECT_FALSE(std::isnan(omit.mean_pattern[P + 20]));
  for (int c = 0; c < g.cycles; ++c) EXPECT_FALSE(std::isnan(omit.rmse[c]));
  EXPECT_FALSE(omit.valid[3]);  // LocoHub's finiteness rule holds under both policies
}

TEST(GroupAnalysis, RangeChecksFlagOutOfRangeFiniteValues) {
  Group g = make_group(6, 2, 8);
  g.cols[0][2 * P + 75] = 5.0;
  g.cols[0][4 * P + 75] = std::numeric_limits<double>::quiet_NaN();  // skipped by the validator
  auto spec = spec_for(2);
  spec.range_checks.resize(3);
  spec.range_checks[2].push_back({0, 75, -1.0, 1.0});
  spec.range_checks[2].push_back({1, 0, std::numeric_limits<double>::quiet_NaN(), 10.0});
  runtime::Job job({2, 0});
  const SpectrumPlan plan(P);
  const auto r = analyse_group(g.views(), g.cycles, 2, nullptr, spec, plan, job);
  ASSERT_EQ(r.range_failures.size(), 1u);
  EXPECT_EQ(r.range_failures[0].cycle, 2);
  EXPECT_EQ(r.range_failures[0].value, 5.0);
  EXPECT_TRUE(r.fail[0 * g.cycles + 2] & kFailRange);
  const auto none = analyse_group(g.views(), g.cycles, 1, nullptr, spec, plan, job);  // other task
  EXPECT_TRUE(none.range_failures.empty());
}

// The kernels take 4 series per call (SSE2/AVX2) or 8 (AVX-512): every lane is its own fixed
// sequence of operations, so both widths give the same bits, NaN, inf, float32 and a cycle count
// that is not a multiple of either width included.
TEST(GroupAnalysis, SameBitsForFourAndEightLanes) {
  if (CADENCE_HAVE_AVX512_BUILD && lanes::simd_width() != 8) GTEST_SKIP() << "AVX-512 path: this CPU has no AVX-512";
  Group g = make_group(37, 5, 21);
  g.cols[1][3 * P + 20] = std::numeric_limits<double>::quiet_NaN();
  g.cols[2][9 * P + 7] = std::numeric_limits<double>::infinity();
  for (int p = 0; p < P; ++p) g.cols[3][11 * P + p] = 0.25;  // constant: no shape, no spectrum
  std::vector<std::vector<float>> f32;
  std::vector<ColumnView> v32;
  for (const auto& c : g.cols) f32.emplace_back(c.begin(), c.end());
  for (const auto& c : f32) v32.push_back({c.data(), true});
  const SpectrumPlan plan(P);
  runtime::Job job({2, 0});
  for (NanPolicy policy : {NanPolicy::kPropagate, NanPolicy::kOmit})
    for (const auto& views : {g.views(), v32}) {
      auto spec = spec_for(g.features);
      spec.nan_policy = policy;
      spec.simd_width = 4;
      const auto four = analyse_group(views, g.cycles, -1, nullptr, spec, plan, job);
      spec.simd_width = 8;
      const auto eight = analyse_group(views, g.cycles, -1, nullptr, spec, plan, job);
      ASSERT_EQ(four.stats.size(), eight.stats.size());
      for (std::size_t i = 0; i < four.stats.size(); ++i)
        ASSERT_EQ(0, std::memcmp(&four.stats[i], &eight.stats[i], sizeof(double)))
            << "stat " << stat_name(static_cast<int>(i / (g.features * g.cycles))) << " feature "
            << i / g.cycles % g.features << " cycle " << i % g.cycles << ": " << four.stats[i] << " vs "
            << eight.stats[i];
      EXPECT_EQ(0, std::memcmp(four.rmse.data(), eight.rmse.data(), four.rmse.size() * sizeof(double)));
      EXPECT_EQ(four.fail, eight.fail);
      EXPECT_EQ(four.valid, eight.valid);
    }
}

}  // namespace
}  // namespace cadence::gait
