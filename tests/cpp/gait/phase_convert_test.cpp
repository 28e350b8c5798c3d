// Time-indexed walking to phase: synthetic trials with known heel-strike samples (vertical GRF
// as double humps, a linear rise through the threshold just before each strike sample),
// kinematics as known periodic functions of the stride phase.
#include "cadence/gait/phase_convert.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "cadence/gait/cycle_index.h"

namespace {

using cadence::gait::PhaseConfig;
using cadence::gait::StrideDrop;

constexpr double kFs = 2000.0;
constexpr double kBw = 700.0;      // N
constexpr double kSlope = 14000.0;  // N/s on the rise through the threshold

double knee(double phase) { return 0.3 * std::sin(2 * M_PI * phase) + 0.05 * std::sin(4 * M_PI * phase); }

struct Walk {
  std::vector<double> t, grf, knee, events;
  std::vector<std::int64_t> strikes;  // sample indices
};

// Strides of the given durations (s), each strike on a sample; 0.5 s of standing still first.
Walk walk(const std::vector<double>& durations) {
  Walk w;
  std::vector<double> strike_s{0.5};
  for (double d : durations) strike_s.push_back(strike_s.back() + d);
  for (auto& s : strike_s) {
    const auto i = static_cast<std::int64_t>(std::llround(s * kFs));
    w.strikes.push_back(i);
    s = static_cast<double>(i) / kFs;
  }
  const auto n = static_cast<std::size_t>((strike_s.back() + 0.4) * kFs);
  w.t.resize(n);
  w.grf.assign(n, 0.0);
  w.knee.assign(n, 0.0);
  w.events.assign(n, 0.0);
  for (std::size_t i = 0; i < n; ++i) w.t[i] = static_cast<double>(i) / kFs;
  for (std::size_t k = 0; k < strike_s.size(); ++k) {
    w.events[static_cast<std::size_t>(w.strikes[k])] = 1.0;
    // The rise crosses 50 N 0.3 samples before the strike sample.
    const double t0 = strike_s[k] - 50.0 / kSlope - 0.3 / kFs;
    const double next = k + 1 < strike_s.size() ? strike_s[k + 1] : strike_s[k] + 1.1;
    const double stance = 0.6 * (next - strike_s[k]);
    for (std::size_t i = 0; i < n; ++i) {
      const double dt = w.t[i] - t0;
      if (dt < 0 || dt >= stance) continue;
      const double u = dt / stance;
      const double humps = kBw * (0.2 + std::sin(M_PI * u) + 0.25 * std::sin(3 * M_PI * u));
      w.grf[i] = std::min(kSlope * dt, humps);
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    const auto k = std::upper_bound(strike_s.begin(), strike_s.end(), w.t[i]) - strike_s.begin() - 1;
    if (k < 0 || k + 1 >= static_cast<std::ptrdiff_t>(strike_s.size())) continue;
    w.knee[i] = knee((w.t[i] - strike_s[k]) / (strike_s[k + 1] - strike_s[k]));
  }
  return w;
}

TEST(PhaseConvert, HeelStrikesFromTheForceWithinOneSample) {
  const Walk w = walk({1.10, 1.05, 1.12, 1.08, 1.15, 1.02, 1.09});
  const auto hs = cadence::gait::heel_strikes(w.t.data(), w.grf.data(), w.t.size(), PhaseConfig{});
  ASSERT_EQ(hs.size(), w.strikes.size());
  for (std::size_t k = 0; k < hs.size(); ++k) EXPECT_LE(std::llabs(hs[k] - w.strikes[k]), 1) << k;
  PhaseConfig events;
  events.events = true;
  EXPECT_EQ(cadence::gait::heel_strikes(w.t.data(), w.events.data(), w.t.size(), events), w.strikes);
  // In body weights, with the same threshold expressed in them: the same strikes.
  std::vector<double> bw(w.grf);
  for (auto& x : bw) x /= kBw;
  PhaseConfig in_bw;
  in_bw.threshold = 50.0 / kBw;
  const auto hs_bw = cadence::gait::heel_strikes(w.t.data(), bw.data(), w.t.size(), in_bw);
  ASSERT_EQ(hs_bw.size(), w.strikes.size());
  for (std::size_t k = 0; k < hs.size(); ++k) EXPECT_LE(std::llabs(hs_bw[k] - w.strikes[k]), 1);
}

TEST(PhaseConvert, ContactsCloserThanTheMinimumGapAreOne) {
  Walk w = walk({1.1, 1.1, 1.1});
  // A bounce 0.1 s after the second strike: the force drops below and rises again.
  const auto at = static_cast<std::size_t>(w.strikes[1] + 0.1 * kFs);
  for (std::size_t i = at; i < at + 20; ++i) w.grf[i] = 0.0;
  const auto hs = cadence::gait::heel_strikes(w.t.data(), w.grf.data(), w.t.size(), PhaseConfig{});
  EXPECT_EQ(hs.size(), w.strikes.size());
}

TEST(PhaseConvert, PhaseCurvesMatchTheAnalyticOnesAndDropsAreLogged) {
  // 12 strides: one too long (2.7 s), one a duration outlier (0.8 s among ~1.1 s).
  const std::vector<double> d{1.10, 1.08, 1.12, 1.09, 2.70, 1.11, 0.80, 1.10, 1.07, 1.13, 1.10, 1.09};
  const Walk w = walk(d);
  std::vector<double> all_nan(w.t.size(), std::nan(""));
  std::vector<double> gappy(w.knee);
  // A short gap inside the sixth stride (kept): interpolated across, never NaN.
  for (std::int64_t i = w.strikes[5] + 300; i < w.strikes[5] + 304; ++i) gappy[static_cast<std::size_t>(i)] = std::nan("");
  cadence::runtime::Job job(cadence::runtime::JobOptions{2, 0});
  const std::vector<std::int64_t> offsets{0, static_cast<std::int64_t>(w.t.size())};
  const auto out = cadence::gait::to_phase(w.t.data(), w.grf.data(), offsets,
                                           {w.knee.data(), all_nan.data(), gappy.data()}, PhaseConfig{}, job);
  ASSERT_EQ(out.strikes_per_trial, std::vector<std::int32_t>{13});
  // Strides 0, 1 (trial start), 11 (trial end), 4 (too long), 6 (outlier) dropped.
  std::vector<std::pair<int, StrideDrop>> drops;
  for (const auto& s : out.dropped) drops.emplace_back(s.stride, s.drop);
  const std::vector<std::pair<int, StrideDrop>> expected{{0, StrideDrop::TrialStart}, {1, StrideDrop::TrialStart},
                                                         {4, StrideDrop::TooLong},    {6, StrideDrop::DurationOutlier},
                                                         {11, StrideDrop::TrialEnd}};
  EXPECT_EQ(drops, expected);
  ASSERT_EQ(out.kept.size(), 7u);
  const int P = cadence::gait::kPointsPerCycle;
  ASSERT_EQ(out.values[0].size, out.kept.size() * P);
  double worst = 0;
  for (std::size_t s = 0; s < out.kept.size(); ++s) {
    const auto k = static_cast<std::size_t>(out.kept[s].stride);
    EXPECT_DOUBLE_EQ(out.kept[s].start_s, static_cast<double>(w.strikes[k]) / kFs);
    EXPECT_DOUBLE_EQ(out.kept[s].end_s, static_cast<double>(w.strikes[k + 1]) / kFs);
    for (int j = 0; j < P; ++j) {
      worst = std::max(worst, std::fabs(out.values[0][s * P + j] - knee(j / double(P - 1))));
      EXPECT_TRUE(std::isnan(out.values[1][s * P + j]));
      EXPECT_NEAR(out.values[2][s * P + j], knee(j / double(P - 1)), 1e-4);
    }
  }
  EXPECT_LT(worst, 1e-6);
}

TEST(PhaseConvert, TrialsAreIndependentWhateverTheJobs) {
  const Walk a = walk({1.1, 1.05, 1.12, 1.08, 1.1}), b = walk({0.9, 0.95, 0.92, 0.94, 0.93, 0.91});
  std::vector<double> t(a.t), grf(a.grf), knee_v(a.knee);
  t.insert(t.end(), b.t.begin(), b.t.end());
  grf.insert(grf.end(), b.grf.begin(), b.grf.end());
  knee_v.insert(knee_v.end(), b.knee.begin(), b.knee.end());
  const std::vector<std::int64_t> offsets{0, static_cast<std::int64_t>(a.t.size()), static_cast<std::int64_t>(t.size())};
  cadence::runtime::Job one(cadence::runtime::JobOptions{1, 0}), two(cadence::runtime::JobOptions{2, 0});
  const auto x = cadence::gait::to_phase(t.data(), grf.data(), offsets, {knee_v.data()}, PhaseConfig{}, one);
  const auto y = cadence::gait::to_phase(t.data(), grf.data(), offsets, {knee_v.data()}, PhaseConfig{}, two);
  ASSERT_EQ(x.values[0].size, y.values[0].size);
  for (std::size_t i = 0; i < x.values[0].size; ++i) ASSERT_EQ(x.values[0][i], y.values[0][i]) << i;
  EXPECT_EQ(x.kept.size(), 2u + 3u);  // 5 strides - 3, then 6 - 3
  EXPECT_EQ(x.kept.back().trial, 1);
}

}  // namespace
