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
inline constexpr int kNanPolicyCount = 2;
const char* nan_policy_name(NanPolicy p) noexcept;  // "propagate", "omit"

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

// The engine's hot path: `width` (4 or 8, see lanes.h) series at once, lane-interleaved (point p
// of series l at x[p * width + l]), as the spectrum wants them too. Same statistics and
// tolerances as the fast path of series_stats; sums run in four chains per series (points
// p = j mod 4), then ((0+1)+(2+3)): the same bits for either width.
inline constexpr int kStatLanes = 8;  // the widest width
struct LaneStats {
  double stat[kStatLanes][kStatCount];  // [lane][kMean .. kKurtosis]
  SeriesInfo info[kStatLanes];
  double jump[kStatLanes];  // largest |x[p] - x[p-1]|: LocoHub's angle-jump rule
};
// n >= 1; width 4, or 8 where lanes::simd_width() says the CPU runs it (tests may force 8: it
// is then plain vector code, slower, same results). Returns a bit mask of the lanes holding NaN
// or inf (or whose sum overflows): nothing is filled for them; the caller runs series_stats on
// such a series (NaN policies live there).
unsigned lane_stats(const double* x, int n, LaneStats& out, int width = 4);

}  // namespace cadence::gait
