// Statistics of one cycle of one feature (150 points), accumulated in double: the per-cycle
// features of the guide, computed in one sweep over data already in L1.
//
// NaN policy. kPropagate (default) behaves like numpy: any NaN in the series makes every
// statistic NaN (numpy's argmax would report the first NaN's position as the "peak"; here the
// peak is NaN too). kOmit skips NaN values (numpy's nan* functions; skewness and kurtosis over
// the remaining values); a series with no values left gives NaN. The dominant frequency needs
// every point and is NaN when any is missing, under both policies.
//
// Skewness and kurtosis are the biased moment ratios of scipy.stats.skew / kurtosis (Fisher,
// excess): g1 = m3 / m2^1.5, g2 = m4 / m2^2 - 3, and NaN when the series is constant to
// within scipy's tolerance (m2 <= (1e-15 * mean)^2).
#pragma once

#include <cstdint>

namespace cadence::gait {

enum Stat : int {
  kMean = 0,
  kStd,                // ddof 0
  kMin,
  kMax,
  kRom,                // max - min
  kPeakIndex,          // argmax |x|, first on ties
  kPeakTiming,         // peak index / points, the guide's fraction of the cycle
  kSkewness,
  kKurtosis,
  kDominantFrequency,  // harmonic k in cycles per stride (see spectrum.h)
  kRmse,               // RMSE to the group's mean pattern (set by group_analysis)
  kStatCount
};
const char* stat_name(int stat) noexcept;

enum class NanPolicy : std::uint8_t { kPropagate = 0, kOmit = 1 };

// What validation needs from the same sweep: extremes over the non-NaN values and whether any
// value is NaN or infinite.
struct SeriesInfo {
  bool spectrum = false;   // complete (no NaN), finite and not constant: dominant frequency defined
  bool nonfinite = false;  // any NaN or +-inf
  double lo = 0.0, hi = 0.0;
};

// Fills out[kMean .. kKurtosis] (out[s] for stat s; out[kDominantFrequency] and out[kRmse]
// are left alone). Finite series (the common case) take a branch-free path; any NaN or inf
// falls back to a careful one.
SeriesInfo series_stats(const double* x, int n, NanPolicy policy, double* out);

}  // namespace cadence::gait
