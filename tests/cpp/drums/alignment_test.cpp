// The offset estimator on synthetic drum-like audio: decaying noise bursts (a different timbre
// per hit) at known times, shifted by known offsets, with jittered hits and background noise.
#include "cadence/drums/alignment.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

namespace {

using cadence::drums::estimate_offset;

struct Render {
  std::vector<float> audio;
  std::vector<double> midi_s;
};

// Hits on a 16th-note grid at `bpm` with humanised timing and random gaps; the audio places
// each hit at midi + offset_s, rounded to the sample (a renderer's resolution).
Render render(double offset_s, int rate, unsigned seed, double bpm = 110, double seconds = 12) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> jitter(0.0, 0.004);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  Render r;
  r.audio.assign(static_cast<std::size_t>(seconds * rate), 0.0f);
  for (auto& x : r.audio) x = static_cast<float>(1e-4 * (u(rng) - 0.5));  // a noise floor
  const double step = 60.0 / bpm / 4;
  for (double t = 0.3; t < seconds - 0.5; t += step) {
    if (u(rng) < 0.35) continue;
    const double midi = t + jitter(rng);
    r.midi_s.push_back(midi);
    const double gain = 0.2 + 0.8 * u(rng), decay_s = 0.01 + 0.15 * u(rng);
    const auto start = static_cast<std::ptrdiff_t>(std::lround((midi + offset_s) * rate));
    for (std::ptrdiff_t i = 0; i < static_cast<std::ptrdiff_t>(0.4 * rate); ++i) {
      const auto at = start + i;
      if (at < 0 || at >= static_cast<std::ptrdiff_t>(r.audio.size())) continue;
      const double env = gain * std::exp(-static_cast<double>(i) / (decay_s * rate));
      r.audio[static_cast<std::size_t>(at)] += static_cast<float>(env * (u(rng) * 2 - 1));
    }
  }
  return r;
}

class AlignmentOffsets : public ::testing::TestWithParam<double> {};

TEST_P(AlignmentOffsets, RecoveredWithinOneMillisecond) {
  const double offset_s = GetParam() / 1e3;
  for (int rate : {22050, 44100}) {
    for (unsigned seed : {1u, 2u, 3u}) {
      const Render r = render(offset_s, rate, seed);
      const auto a = estimate_offset(r.audio.data(), r.audio.size(), rate, r.midi_s);
      ASSERT_TRUE(a.ok);
      EXPECT_NEAR(a.offset_s, offset_s, 0.001) << "rate " << rate << " seed " << seed;
      EXPECT_GT(a.peak_ratio, 3.0);
      EXPECT_EQ(a.onsets_used, static_cast<int>(r.midi_s.size()));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Injected, AlignmentOffsets, ::testing::Values(0.0, 5.0, -5.0, 20.0, -20.0, 80.0, -80.0, 3.6));

TEST(Alignment, SilenceAndTooFewOnsetsGiveNoEstimate) {
  std::vector<float> silence(22050, 0.0f);
  EXPECT_FALSE(estimate_offset(silence.data(), silence.size(), 22050, {0.1, 0.2, 0.3, 0.4, 0.5}).ok);
  const Render r = render(0.0, 22050, 4);
  EXPECT_FALSE(estimate_offset(r.audio.data(), r.audio.size(), 22050, {r.midi_s[0], r.midi_s[1]}).ok);
  EXPECT_FALSE(estimate_offset(r.audio.data(), 0, 22050, r.midi_s).ok);
  // Onsets outside the audio are not used.
  std::vector<double> far = r.midi_s;
  far.push_back(1e6);
  far.push_back(-3.0);
  EXPECT_EQ(estimate_offset(r.audio.data(), r.audio.size(), 22050, far).onsets_used,
            static_cast<int>(r.midi_s.size()));
}

TEST(Alignment, UnrelatedOnsetsGiveALowPeakRatio) {
  const Render r = render(0.0, 22050, 5);
  std::mt19937 rng(9);
  std::uniform_real_distribution<double> u(0.5, 11.0);
  std::vector<double> random_onsets(r.midi_s.size());
  for (auto& t : random_onsets) t = u(rng);
  const auto good = estimate_offset(r.audio.data(), r.audio.size(), 22050, r.midi_s);
  const auto bad = estimate_offset(r.audio.data(), r.audio.size(), 22050, random_onsets);
  EXPECT_GT(good.peak_ratio, 3 * bad.peak_ratio);
}

}  // namespace
