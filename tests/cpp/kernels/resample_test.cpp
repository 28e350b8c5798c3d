#include "cadence/kernels/resample.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

using namespace cadence::kernels;

namespace {
std::vector<float> sine(double hz, int rate, std::size_t n) {
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = 0.5f * static_cast<float>(std::sin(2 * std::numbers::pi * hz * i / rate));
  return x;
}
double rms(const std::vector<float>& x, std::size_t from, std::size_t to) {
  double s = 0;
  for (std::size_t i = from; i < to; ++i) s += static_cast<double>(x[i]) * x[i];
  return std::sqrt(s / static_cast<double>(to - from));
}
}  // namespace

TEST(Resample, LengthIsRoundedRatio) {
  EXPECT_EQ(resampled_length(44100, 44100, 22050), 22050u);
  EXPECT_EQ(resampled_length(3, 44100, 22050), 2u);  // 1.5 rounds to 2
  auto y = resample(sine(100, 44100, 44101).data(), 44101, 44100, 16000);
  EXPECT_EQ(y.size(), resampled_length(44101, 44100, 16000));
}

TEST(Resample, KeepsAnInBandToneAndItsPhase) {
  const auto x = sine(1000, 44100, 44100);
  const auto y = resample(x.data(), x.size(), 44100, 22050);
  const auto ref = sine(1000, 22050, 22050);
  EXPECT_NEAR(rms(y, 1000, 21000), 0.5 / std::sqrt(2.0), 1e-3);
  double max_err = 0;
  for (std::size_t i = 1000; i < 21000; ++i) max_err = std::max(max_err, std::fabs(double(y[i]) - ref[i]));
  EXPECT_LT(max_err, 2e-3);  // no delay: the output is aligned with the input
}

TEST(Resample, RemovesWhatDroppingSamplesWouldAlias) {
  // A 15 kHz tone does not exist at 22.05 kHz. Dropping every other sample folds it to 7.05 kHz
  // at full level; a proper resampler removes it.
  const auto x = sine(15000, 44100, 44100);
  const auto y = resample(x.data(), x.size(), 44100, 22050);
  std::vector<float> dropped;
  for (std::size_t i = 0; i < x.size(); i += 2) dropped.push_back(x[i]);
  EXPECT_GT(rms(dropped, 1000, 21000), 0.3);
  EXPECT_LT(rms(y, 1000, 21000), 0.5 * 1e-3);  // at least 60 dB down
}

TEST(Resample, SameRateIsACopyAndBadRatesThrow) {
  const std::vector<float> x = {1, 2, 3};
  EXPECT_EQ(resample(x.data(), 3, 8000, 8000), x);
  EXPECT_THROW(resample(x.data(), 3, 0, 8000), std::invalid_argument);
}
