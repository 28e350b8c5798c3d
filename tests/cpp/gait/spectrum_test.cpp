#include "cadence/gait/spectrum.h"

#include "cadence/gait/lanes.h"

#include <gtest/gtest.h>

#include <cmath>
#include <complex>
#include <numbers>
#include <random>
#include <vector>

namespace cadence::gait {
namespace {

// |X_k|^2 by the textbook O(n^2) DFT, in long double.
std::vector<double> direct_power(const std::vector<double>& x) {
  const int n = static_cast<int>(x.size());
  std::vector<double> out(n / 2);
  for (int k = 0; k < n / 2; ++k) {
    long double re = 0, im = 0;
    for (int i = 0; i < n; ++i) {
      const long double a = -2.0L * std::numbers::pi_v<long double> * k * i / n;
      re += x[i] * std::cos(a);
      im += x[i] * std::sin(a);
    }
    out[k] = static_cast<double>(re * re + im * im);
  }
  return out;
}

TEST(Spectrum, PowerMatchesTheDirectDftForSeveralLengths) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal;
  for (int n : {4, 6, 10, 30, 64, 98, 150, 154}) {  // 154 = 2 * 7 * 11: the generic radix path
    std::vector<double> x(n);
    for (auto& v : x) v = normal(rng);
    const SpectrumPlan plan(n);
    const auto got = plan.power(x.data());
    const auto want = direct_power(x);
    double scale = 0;
    for (double w : want) scale = std::max(scale, w);
    for (int k = 0; k < n / 2; ++k) EXPECT_NEAR(got[k], want[k], 1e-10 * scale) << "n=" << n << " k=" << k;
  }
}

TEST(Spectrum, DominantHarmonicOfKnownSinusoidsInEveryLane) {
  const int n = 150;
  const SpectrumPlan plan(n);
  std::vector<double> x(4 * n);
  const int k_true[4] = {1, 7, 33, 74};
  for (int l = 0; l < 4; ++l)
    for (int i = 0; i < n; ++i)
      x[l * n + i] = 0.3 + std::sin(2 * std::numbers::pi * k_true[l] * i / n) +
                     0.2 * std::cos(2 * std::numbers::pi * 3 * i / n);
  SpectrumPlan::Workspace ws;
  int got[4];
  plan.dominant_harmonic(x.data(), n, 4, got, ws);
  EXPECT_EQ(got[0], 1);
  EXPECT_EQ(got[1], 7);
  EXPECT_EQ(got[2], 33);
  EXPECT_EQ(got[3], 74);
  plan.dominant_harmonic(x.data() + n, n, 2, got, ws);  // fewer lanes than the width
  EXPECT_EQ(got[0], 7);
  EXPECT_EQ(got[1], 33);
}

// The engine's entry point: lane-interleaved series, 4 or 8 per call, against the textbook DFT.
// The arg-max must be the DFT's wherever the top two bins differ by more than rounding.
// One test per width: a CPU without AVX-512 shows the 8-lane one as skipped.
static void check_interleaved(int width) {
  const int n = 150;
  const SpectrumPlan plan(n);
  std::mt19937_64 rng(3);
  std::normal_distribution<double> normal;
  SpectrumPlan::Workspace ws;
  int checked = 0;
  {
    for (int trial = 0; trial < 40; ++trial) {
      std::vector<std::vector<double>> series(width, std::vector<double>(n));
      std::vector<double> x(n * width);
      for (int l = 0; l < width; ++l)
        for (int p = 0; p < n; ++p)
          x[p * width + l] = series[l][p] = (trial % 2 && p > 0 ? series[l][p - 1] : 0.0) + normal(rng);  // odd: walks
      int got[8];
      plan.dominant_harmonic_interleaved(x.data(), got, ws, width);
      for (int l = 0; l < width; ++l) {
        const auto power = direct_power(series[l]);
        int arg = 1;
        for (int k = 2; k < n / 2; ++k) arg = power[k] > power[arg] ? k : arg;
        double second = 0;
        for (int k = 1; k < n / 2; ++k) if (k != arg) second = std::max(second, power[k]);
        if (power[arg] - second > 1e-9 * power[arg]) {
          EXPECT_EQ(got[l], arg) << "width " << width << " trial " << trial << " lane " << l;
          ++checked;
        }
      }
    }
  }
  EXPECT_GT(checked, 20 * width);  // of 40 * width lanes: most have one clear peak
}

TEST(Spectrum, InterleavedDominantHarmonicMatchesTheDirectDftFourLanes) { check_interleaved(4); }

TEST(Spectrum, InterleavedDominantHarmonicMatchesTheDirectDftEightLanes) {
  if (CADENCE_HAVE_AVX512_BUILD && lanes::simd_width() != 8) GTEST_SKIP() << "AVX-512 path: this CPU has no AVX-512";
  check_interleaved(8);
}

TEST(Spectrum, RejectsOddLengths) { EXPECT_THROW(SpectrumPlan(151), std::invalid_argument); }

}  // namespace
}  // namespace cadence::gait
