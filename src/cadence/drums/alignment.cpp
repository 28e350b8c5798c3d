#include "cadence/drums/alignment.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace cadence::drums {

AlignmentEstimate estimate_offset(const float* audio, std::size_t n, int rate_hz, const std::vector<double>& onsets_s,
                                  const AlignmentConfig& cfg) {
  AlignmentEstimate out;
  if (rate_hz <= 0 || n == 0) return out;
  const std::size_t hop = std::max<std::size_t>(1, static_cast<std::size_t>(std::lround(cfg.hop_s * rate_hz)));
  const std::size_t w = std::max<std::size_t>(1, static_cast<std::size_t>(std::lround(cfg.window_s * rate_hz)));
  const double hop_s = static_cast<double>(hop) / rate_hz;

  // Prefix sums of squares (double: hours of audio lose nothing), then energy windows.
  std::vector<double> prefix(n + 1);
  prefix[0] = 0.0;
  for (std::size_t i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + static_cast<double>(audio[i]) * audio[i];
  auto energy = [&](std::ptrdiff_t a, std::ptrdiff_t b) {  // samples [a, b), clipped to the file
    a = std::clamp<std::ptrdiff_t>(a, 0, static_cast<std::ptrdiff_t>(n));
    b = std::clamp<std::ptrdiff_t>(b, 0, static_cast<std::ptrdiff_t>(n));
    return prefix[static_cast<std::size_t>(b)] - prefix[static_cast<std::size_t>(a)];
  };
  // A floor relative to the file's mean window energy: digital silence and the noise floor do
  // not make onsets of their own.
  const double mean_window = prefix[n] / static_cast<double>(n) * static_cast<double>(w);
  if (!(mean_window > 0.0)) return out;
  const double floor = 1e-3 * mean_window;

  // Envelope frame k is time k * hop: log(E[t, t+W) / E[t-W, t)), rectified.
  const std::size_t frames = n / hop + 1;
  std::vector<double> env(frames);
  for (std::size_t k = 0; k < frames; ++k) {
    const auto t = static_cast<std::ptrdiff_t>(k * hop);
    const auto wi = static_cast<std::ptrdiff_t>(w);
    env[k] = std::max(0.0, std::log((energy(t, t + wi) + floor) / (energy(t - wi, t) + floor)));
  }
  auto at = [&](double frame) {  // linear interpolation between frames; 0 outside the file
    if (frame < 0.0) return 0.0;
    const auto k = static_cast<std::size_t>(frame);
    if (k + 1 >= frames) return 0.0;
    const double f = frame - static_cast<double>(k);
    return env[k] * (1.0 - f) + env[k + 1] * f;
  };

  const double duration_s = static_cast<double>(n) / rate_hz;
  std::vector<double> hits;
  for (double s : onsets_s)
    if (s >= 0.0 && s < duration_s) hits.push_back(s / hop_s);
  out.onsets_used = static_cast<int>(hits.size());
  if (out.onsets_used < cfg.min_onsets) return out;

  const auto max_lag = static_cast<std::ptrdiff_t>(std::ceil(cfg.search_s / hop_s));
  std::vector<double> corr(static_cast<std::size_t>(2 * max_lag + 1));
  for (std::ptrdiff_t lag = -max_lag; lag <= max_lag; ++lag) {
    double sum = 0.0;
    for (double h : hits) sum += at(h + static_cast<double>(lag));
    corr[static_cast<std::size_t>(lag + max_lag)] = sum;
  }
  const auto best = static_cast<std::size_t>(std::max_element(corr.begin(), corr.end()) - corr.begin());
  // Parabolic interpolation through the peak and its neighbours: the sub-frame offset.
  double delta = 0.0;
  if (best > 0 && best + 1 < corr.size()) {
    const double a = corr[best - 1], b = corr[best], c = corr[best + 1];
    const double denom = a - 2.0 * b + c;
    if (denom < 0.0) delta = std::clamp(0.5 * (a - c) / denom, -0.5, 0.5);
  }
  std::vector<double> sorted = corr;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(sorted.size() / 2), sorted.end());
  const double median = sorted[sorted.size() / 2];
  if (!(corr[best] > 0.0)) return out;
  out.ok = true;
  out.offset_s = (static_cast<double>(static_cast<std::ptrdiff_t>(best) - max_lag) + delta) * hop_s;
  out.peak_ratio = median > 0.0 ? corr[best] / median : std::numeric_limits<double>::infinity();
  return out;
}

}  // namespace cadence::drums
