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
  // W is a whole number of hops, so every window is a sum of consecutive hop blocks: one pass
  // over the audio into n / hop block energies (no per-sample prefix array to allocate).
  const std::size_t blocks_per_w =
      std::max<std::size_t>(1, static_cast<std::size_t>(std::lround(cfg.window_s * rate_hz / static_cast<double>(hop))));
  const double hop_s = static_cast<double>(hop) / rate_hz;

  const std::size_t n_blocks = (n + hop - 1) / hop;
  std::vector<double> block(n_blocks);
  double total = 0.0;
  for (std::size_t b = 0; b < n_blocks; ++b) {
    const float* x = audio + b * hop;
    const std::size_t m = std::min(hop, n - b * hop);
    float acc = 0.0f;  // a block is a few dozen samples: float is exact enough, and vectorises
    for (std::size_t i = 0; i < m; ++i) acc += x[i] * x[i];
    block[b] = acc;
    total += acc;
  }
  // A floor relative to the file's mean window energy: digital silence and the noise floor do
  // not make onsets of their own.
  const double mean_window = total / static_cast<double>(n) * static_cast<double>(blocks_per_w * hop);
  if (!(mean_window > 0.0)) return out;
  const double floor = 1e-3 * mean_window;

  // Envelope frame k is time k * hop: log(E[t, t+W) / E[t-W, t)), rectified; window sums slide.
  const std::size_t frames = n_blocks + 1;
  std::vector<double> env(frames);
  auto blk = [&](std::ptrdiff_t b) { return b < 0 || b >= static_cast<std::ptrdiff_t>(n_blocks) ? 0.0 : block[static_cast<std::size_t>(b)]; };
  const auto bw = static_cast<std::ptrdiff_t>(blocks_per_w);
  double after = 0.0, before = 0.0;  // sums of blocks [k, k+W) and [k-W, k)
  for (std::ptrdiff_t b = 0; b < bw; ++b) after += blk(b);
  for (std::size_t k = 0; k < frames; ++k) {
    const auto kk = static_cast<std::ptrdiff_t>(k);
    env[k] = std::max(0.0, std::log((std::max(after, 0.0) + floor) / (std::max(before, 0.0) + floor)));
    // Slide both windows one block: rounding drift stays far below the floor.
    before += blk(kk) - blk(kk - bw);
    after += blk(kk + bw) - blk(kk);
  }
  const double duration_s = static_cast<double>(n) / rate_hz;
  std::vector<double> hits;
  for (double s : onsets_s)
    if (s >= 0.0 && s < duration_s) hits.push_back(s / hop_s);
  out.onsets_used = static_cast<int>(hits.size());
  if (out.onsets_used < cfg.min_onsets) return out;

  const auto max_lag = static_cast<std::ptrdiff_t>(std::ceil(cfg.search_s / hop_s));
  // Each hit adds the envelope, linearly interpolated at its (fractional) frame, at every lag:
  // one contiguous run of frames per hit, so the inner loop is a plain vectorisable sweep.
  std::vector<double> corr(static_cast<std::size_t>(2 * max_lag + 1), 0.0);
  const auto last = static_cast<std::ptrdiff_t>(frames) - 2;  // frame k and k + 1 must exist
  for (double h : hits) {
    const auto k0 = static_cast<std::ptrdiff_t>(std::floor(h));
    const double f = h - static_cast<double>(k0);
    const std::ptrdiff_t lo = std::max(-max_lag, -k0), hi = std::min(max_lag, last - k0);
    const double* e = env.data() + k0;
    double* c = corr.data() + max_lag;
    for (std::ptrdiff_t lag = lo; lag <= hi; ++lag) c[lag] += e[lag] * (1.0 - f) + e[lag + 1] * f;
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
