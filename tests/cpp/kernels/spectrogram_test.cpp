#include "cadence/kernels/spectrogram.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>
#include <vector>

using namespace cadence::kernels;

namespace {

SpectrogramOptions power_options(int n_fft, int hop) {
  SpectrogramOptions o;
  o.n_fft = n_fft;
  o.hop_length = hop;
  return o;
}

// One band per rfft bin, weight 1: the filterbank is the identity, so the output is |X|^2.
Filterbank identity(int n_bins) {
  std::vector<double> dense(static_cast<std::size_t>(n_bins) * n_bins, 0.0);
  for (int k = 0; k < n_bins; ++k) dense[static_cast<std::size_t>(k) * n_bins + k] = 1.0;
  return Filterbank::from_dense(dense, n_bins, n_bins, std::vector<double>(n_bins, 0.0));
}

}  // namespace

TEST(Spectrogram, FrameCountsFollowLibrosa) {
  Spectrogram centred(power_options(2048, 220), identity(1025));
  EXPECT_EQ(centred.n_frames(88200), 1 + 88200 / 220);  // 401
  EXPECT_EQ(centred.n_frames(0), 1);
  auto o = power_options(2048, 512);
  o.center = false;
  Spectrogram plain(o, identity(1025));
  EXPECT_EQ(plain.n_frames(2047), 0);
  EXPECT_EQ(plain.n_frames(2048 + 3 * 512), 4);
}

TEST(Spectrogram, SineLandsInItsBinWithParsevalEnergy) {
  const int n_fft = 256, hop = 64, bin = 16;
  std::vector<float> x(1024);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(std::cos(2 * std::numbers::pi * bin * i / n_fft));
  Spectrogram s(power_options(n_fft, hop), identity(n_fft / 2 + 1));
  const auto frames = s.n_frames(static_cast<std::int64_t>(x.size()));
  std::vector<float> out(static_cast<std::size_t>(frames) * s.n_bands());
  s.compute(x.data(), static_cast<std::int64_t>(x.size()), out.data());
  // A frame well inside: periodic Hann on a bin-centred cosine gives (n_fft/4)^2 at the bin and
  // (n_fft/8)^2 at each neighbour, nothing elsewhere.
  const float* row = out.data() + 8 * s.n_bands();
  EXPECT_NEAR(row[bin], std::pow(n_fft / 4.0, 2), 1e-2);
  EXPECT_NEAR(row[bin - 1], std::pow(n_fft / 8.0, 2), 1e-2);
  EXPECT_NEAR(row[bin + 1], std::pow(n_fft / 8.0, 2), 1e-2);
  EXPECT_LT(row[bin + 3], 1e-6);
  // Frame 0 is centred on sample 0: half its window is zero padding, so less energy.
  EXPECT_LT(out[bin], row[bin]);
}

TEST(Spectrogram, MelFilterbankIsSlaneyTriangles) {
  MelOptions mo;
  mo.n_mels = 40;
  const Filterbank fb = mel_filterbank(22050, 2048, mo);
  ASSERT_EQ(fb.n_bands(), 40);
  ASSERT_EQ(fb.n_bins, 1025);
  // Slaney norm: each triangle's area (sum of weights times bin width) is ~1, up to the bin grid.
  const double bin_hz = 22050.0 / 2048;
  for (int b = 5; b < 40; ++b) {
    double sum = 0;
    for (std::size_t j = fb.offset[b]; j < fb.offset[b + 1]; ++j) sum += fb.weights[j];
    EXPECT_NEAR(sum * bin_hz, 1.0, 0.05) << "band " << b;
  }
  // Centres increase; the first band of the Slaney scale is linear below 1 kHz.
  for (int b = 1; b < 40; ++b) EXPECT_GT(fb.band_hz[b], fb.band_hz[b - 1]);
  const auto dense = fb.dense();
  EXPECT_EQ(dense.size(), 40u * 1025u);
}

TEST(Spectrogram, LogFilterbankBinsAreUniqueAndNormalised) {
  LogFilterOptions lo;  // madmom defaults: 12 bands per octave, 30 Hz - 17 kHz
  const Filterbank fb = log_filterbank(44100, 2048, lo);
  ASSERT_EQ(fb.n_bins, 1024);
  ASSERT_GT(fb.n_bands(), 50);
  for (int b = 0; b < fb.n_bands(); ++b) {
    double sum = 0;
    for (std::size_t j = fb.offset[b]; j < fb.offset[b + 1]; ++j) sum += fb.weights[j];
    EXPECT_NEAR(sum, 1.0, 1e-6) << "band " << b;
    if (b) EXPECT_GT(fb.band_hz[b], fb.band_hz[b - 1]);
  }
  EXPECT_THROW(log_filterbank(44100, 2048, LogFilterOptions{12, 100.0, 101.0, 440.0, true, true}), std::invalid_argument);
}

TEST(Spectrogram, DbFloorsAtTopDbBelowTheWindowMaximum) {
  auto o = power_options(64, 16);
  o.log = SpectrogramOptions::Log::Db;
  o.top_db = 30.0;
  Spectrogram s(o, identity(33));
  std::vector<float> x(256, 0.0f);
  x[128] = 1.0f;  // an impulse: flat spectrum in the frames that see it, silence elsewhere
  std::vector<float> out(static_cast<std::size_t>(s.n_frames(256)) * 33);
  s.compute(x.data(), 256, out.data());
  float top = -1e9f, low = 1e9f;
  for (float v : out) top = std::max(top, v), low = std::min(low, v);
  EXPECT_NEAR(low, top - 30.0f, 1e-4);
}

TEST(Spectrogram, RejectsBadOptions) {
  EXPECT_THROW(Spectrogram(power_options(2047, 10), identity(3)), std::invalid_argument);
  EXPECT_THROW(Spectrogram(power_options(64, 0), identity(3)), std::invalid_argument);
  EXPECT_THROW(Spectrogram(power_options(64, 16), identity(40)), std::invalid_argument);
  MelOptions bad;
  bad.fmin_hz = 12000;
  EXPECT_THROW(mel_filterbank(22050, 2048, bad), std::invalid_argument);
}
