#include "cadence/gait/cycle_stats.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <vector>

#include "cadence/gait/lanes.h"
#include "cadence/gait/validation.h"

namespace cadence::gait {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Reference: textbook two-pass formulas in long double.
void reference(const std::vector<double>& x, double* out) {
  long double s = 0;
  for (double v : x) s += v;
  const long double mean = s / x.size();
  long double m2 = 0, m3 = 0, m4 = 0;
  for (double v : x) {
    const long double d = v - mean;
    m2 += d * d;
    m3 += d * d * d;
    m4 += d * d * d * d;
  }
  m2 /= x.size();
  m3 /= x.size();
  m4 /= x.size();
  out[kMean] = static_cast<double>(mean);
  out[kStd] = static_cast<double>(std::sqrt(m2));
  out[kSkewness] = static_cast<double>(m3 / std::pow(m2, 1.5L));
  out[kKurtosis] = static_cast<double>(m4 / (m2 * m2) - 3);
}

TEST(CycleStats, MatchesReferenceWithin1e12) {
  std::mt19937_64 rng(3);
  std::gamma_distribution<double> skewed(2.0, 1.5);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<double> x(150);
    for (auto& v : x) v = skewed(rng) - 1.0 + trial;
    double got[kStatCount], want[kStatCount];
    ASSERT_TRUE(series_stats(x.data(), 150, NanPolicy::kPropagate, got).spectrum);
    reference(x, want);
    for (int s : {kMean, kStd, kSkewness, kKurtosis})
      EXPECT_NEAR(got[s], want[s], 1e-12 * std::max(1.0, std::fabs(want[s]))) << stat_name(s);
    const auto [lo, hi] = std::minmax_element(x.begin(), x.end());
    EXPECT_EQ(got[kMin], *lo);
    EXPECT_EQ(got[kMax], *hi);
    EXPECT_EQ(got[kRom], *hi - *lo);
  }
}

TEST(CycleStats, PeakIsTheFirstLargestMagnitude) {
  std::vector<double> x(150, 0.5);
  x[40] = -3.0;
  x[90] = 3.0;  // tie on |x|: the first wins, as numpy's argmax
  x[141] = 2.0;
  double out[kStatCount];
  series_stats(x.data(), 150, NanPolicy::kPropagate, out);
  EXPECT_EQ(out[kPeakIndex], 40);
  EXPECT_DOUBLE_EQ(out[kPeakTiming], 40.0 / 150);
  x[40] = 0;
  series_stats(x.data(), 150, NanPolicy::kPropagate, out);
  EXPECT_EQ(out[kPeakIndex], 90);
}

TEST(CycleStats, NanPropagatesOrIsOmitted) {
  std::vector<double> x(150);
  for (int i = 0; i < 150; ++i) x[i] = std::sin(i * 0.1);
  x[17] = kNaN;
  double out[kStatCount];
  EXPECT_FALSE(series_stats(x.data(), 150, NanPolicy::kPropagate, out).spectrum);
  for (int s = kMean; s <= kKurtosis; ++s) EXPECT_TRUE(std::isnan(out[s])) << stat_name(s);
  EXPECT_FALSE(series_stats(x.data(), 150, NanPolicy::kOmit, out).spectrum);  // no spectrum with a gap
  std::vector<double> rest;
  for (int i = 0; i < 150; ++i)
    if (i != 17) rest.push_back(x[i]);
  double want[kStatCount];
  reference(rest, want);
  EXPECT_NEAR(out[kMean], want[kMean], 1e-14);
  EXPECT_NEAR(out[kStd], want[kStd], 1e-14);
  EXPECT_NEAR(out[kKurtosis], want[kKurtosis], 1e-12);
  std::vector<double> all_nan(150, kNaN);
  series_stats(all_nan.data(), 150, NanPolicy::kOmit, out);
  EXPECT_TRUE(std::isnan(out[kMean]));
}

TEST(CycleStats, ConstantSeriesHasNoShapeNorSpectrum) {
  std::vector<double> x(150, 0.25);
  double out[kStatCount];
  EXPECT_FALSE(series_stats(x.data(), 150, NanPolicy::kPropagate, out).spectrum);
  EXPECT_EQ(out[kStd], 0.0);
  EXPECT_TRUE(std::isnan(out[kSkewness]));
  EXPECT_TRUE(std::isnan(out[kKurtosis]));
}

// The engine's lane kernel against series_stats, one series per lane, for both widths: the
// extremes, peak and jump exactly, the moments to rounding (sums run in other orders). One test
// per width, so that a CPU without AVX-512 shows the 8-lane one as skipped (ctest and gtest say so).
static void check_lane_kernel(int width) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> nd(0.0, 1.0);
  {
    for (int trial = 0; trial < 50; ++trial) {
      std::vector<std::vector<double>> series(width, std::vector<double>(150));
      std::vector<double> x(150 * width);
      for (int l = 0; l < width; ++l)
        for (int p = 0; p < 150; ++p) x[p * width + l] = series[l][p] = nd(rng) * (l + 1) + trial;
      series[1 % width][17] = -series[1 % width][80];  // a tie on |x|
      for (int l = 0; l < width; ++l) x[17 * width + l] = series[l][17];
      const int nan_lane = trial % width;
      if (trial % 3 == 0) x[40 * width + nan_lane] = series[nan_lane][40] = kNaN;
      LaneStats ls;
      const unsigned bad = lane_stats(x.data(), 150, ls, width);
      for (int l = 0; l < width; ++l) {
        double want[kStatCount];
        const SeriesInfo info = series_stats(series[l].data(), 150, NanPolicy::kPropagate, want);
        if (info.nonfinite) {
          EXPECT_TRUE(bad >> l & 1u);
          continue;
        }
        ASSERT_FALSE(bad >> l & 1u);
        for (int s : {kMin, kMax, kRom, kPeakIndex, kPeakTiming}) EXPECT_EQ(ls.stat[l][s], want[s]) << stat_name(s);
        for (int s : {kMean, kStd, kSkewness, kKurtosis})
          EXPECT_NEAR(ls.stat[l][s], want[s], 1e-12 * std::max(1.0, std::fabs(want[s]))) << stat_name(s);
        double jump = 0;
        for (int p = 1; p < 150; ++p) jump = std::max(jump, std::fabs(series[l][p] - series[l][p - 1]));
        EXPECT_EQ(ls.jump[l], jump);
      }
    }
  }
}

TEST(CycleStats, LaneKernelMatchesSeriesStatsFourLanes) { check_lane_kernel(4); }

TEST(CycleStats, LaneKernelMatchesSeriesStatsEightLanes) {
  if (CADENCE_HAVE_AVX512_BUILD && lanes::simd_width() != 8) GTEST_SKIP() << "AVX-512 path: this CPU has no AVX-512";
  check_lane_kernel(8);
}

TEST(Validation, LocoHubRules) {
  std::vector<double> x(150, 0.1);
  EXPECT_EQ(locohub_flags(x.data(), 150, FeatureKind::kAngle), 0);
  x[10] = 0.7;  // a 0.6 rad jump, within +-pi
  EXPECT_EQ(locohub_flags(x.data(), 150, FeatureKind::kAngle), kFailAngleJump);
  EXPECT_EQ(locohub_flags(x.data(), 150, FeatureKind::kVelocity), 0);
  x[10] = 3.3;
  EXPECT_EQ(locohub_flags(x.data(), 150, FeatureKind::kAngle), kFailAngleJump | kFailAngleRange);
  x[10] = 18.0;
  EXPECT_EQ(locohub_flags(x.data(), 150, FeatureKind::kVelocity), kFailVelocity);
  EXPECT_EQ(locohub_flags(x.data(), 150, FeatureKind::kMoment), 0);
  x[10] = -301.0;
  EXPECT_EQ(locohub_flags(x.data(), 150, FeatureKind::kMoment), kFailMoment);
  EXPECT_EQ(locohub_flags(x.data(), 150, FeatureKind::kPower), 0);
  x[10] = std::numeric_limits<double>::infinity();
  EXPECT_EQ(locohub_flags(x.data(), 150, FeatureKind::kOther), kFailNonFinite);
  x[10] = std::numeric_limits<double>::quiet_NaN();  // NaN fails finiteness only, as in numpy
  EXPECT_EQ(locohub_flags(x.data(), 150, FeatureKind::kAngle), kFailNonFinite);
  EXPECT_EQ(locohub_flags(x.data(), 150, FeatureKind::kOther), kFailNonFinite);
}

TEST(Validation, FlagsFromTheStatsSweepEqualTheDirectOnes) {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> nd(0.0, 1.5);
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<double> x(150);
    for (auto& v : x) v = nd(rng) * (trial % 7);
    if (trial % 5 == 0) x[trial % 150] = std::numeric_limits<double>::quiet_NaN();
    double out[kStatCount];
    const SeriesInfo info = series_stats(x.data(), 150, NanPolicy::kPropagate, out);
    for (auto kind : {FeatureKind::kAngle, FeatureKind::kVelocity, FeatureKind::kMoment, FeatureKind::kOther})
      EXPECT_EQ(locohub_flags(x.data(), 150, kind, {}, info.lo, info.hi, info.nonfinite),
                locohub_flags(x.data(), 150, kind))
          << trial;
  }
}

}  // namespace
}  // namespace cadence::gait
