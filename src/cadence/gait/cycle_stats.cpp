#include "cadence/gait/cycle_stats.h"

#include <cmath>
#include <limits>

#include "cadence/gait/lanes.h"

namespace cadence::gait {

const char* stat_name(int stat) noexcept {
  static const char* const names[kStatCount] = {
      "mean", "std", "min", "max", "rom", "peak_index", "peak_timing",
      "skewness", "kurtosis", "dominant_frequency", "rmse"};
  return stat >= 0 && stat < kStatCount ? names[stat] : "?";
}

const char* nan_policy_name(NanPolicy p) noexcept {
  return p == NanPolicy::kPropagate ? "propagate" : p == NanPolicy::kOmit ? "omit" : "?";
}

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kLanes = 4;  // independent accumulators: lets the compiler vectorise reductions

void fill_nan(double* out) {
  for (int s = kMean; s <= kKurtosis; ++s) out[s] = kNaN;
}

// Shape statistics from the central moments, used by every path that computes moments.
void shape(double mean, double s2, double s3, double s4, double* out) {
  out[kStd] = std::sqrt(s2);
  const double tol = 1e-15 * mean;  // scipy: "precision loss ... data are nearly identical"
  if (s2 <= tol * tol) {
    out[kSkewness] = kNaN;
    out[kKurtosis] = kNaN;
  } else {
    out[kSkewness] = s3 / (s2 * std::sqrt(s2));
    out[kKurtosis] = s4 / (s2 * s2) - 3.0;
  }
}

// Central moments and shape statistics once the mean is known; `keep(i)` selects values.
template <class Keep>
void moments(const double* x, int n, double mean, double count, Keep keep, double* out) {
  double m2[kLanes] = {}, m3[kLanes] = {}, m4[kLanes] = {};
  int i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      const double d = keep(i + l) ? x[i + l] - mean : 0.0;
      const double d2 = d * d;
      m2[l] += d2;
      m3[l] += d2 * d;
      m4[l] += d2 * d2;
    }
  for (; i < n; ++i) {
    const double d = keep(i) ? x[i] - mean : 0.0;
    m2[0] += d * d;
    m3[0] += d * d * d;
    m4[0] += d * d * d * d;
  }
  const double s2 = ((m2[0] + m2[1]) + (m2[2] + m2[3])) / count;
  const double s3 = ((m3[0] + m3[1]) + (m3[2] + m3[3])) / count;
  const double s4 = ((m4[0] + m4[1]) + (m4[2] + m4[3])) / count;
  shape(mean, s2, s3, s4, out);
}

// Mean and the extremes with where the largest magnitude first is; both paths end here.
void location(double mean, double mn, double mx, int arg, int n, double* out) {
  out[kMean] = mean;
  out[kMin] = mn;
  out[kMax] = mx;
  out[kRom] = mx - mn;
  out[kPeakIndex] = arg;
  out[kPeakTiming] = static_cast<double>(arg) / n;
}

SeriesInfo careful_stats(const double* x, int n, NanPolicy policy, double* out);

}  // namespace

SeriesInfo series_stats(const double* x, int n, NanPolicy policy, double* out) {
  // Fast path: sums and extremes in 8 independent lanes (min/max as selects, which the
  // compiler turns into vector min/max). A NaN or inf anywhere makes the sum non-finite.
  constexpr int W = 8;
  double s[W] = {}, lo[W], hi[W], am[W] = {};
  for (int l = 0; l < W; ++l) {
    lo[l] = std::numeric_limits<double>::infinity();
    hi[l] = -std::numeric_limits<double>::infinity();
  }
  int i = 0;
  for (; i + W <= n; i += W)
    for (int l = 0; l < W; ++l) {
      const double v = x[i + l];
      s[l] += v;
      lo[l] = v < lo[l] ? v : lo[l];
      hi[l] = v > hi[l] ? v : hi[l];
      const double a = std::fabs(v);
      am[l] = a > am[l] ? a : am[l];
    }
  for (; i < n; ++i) {
    const double v = x[i];
    s[0] += v;
    lo[0] = v < lo[0] ? v : lo[0];
    hi[0] = v > hi[0] ? v : hi[0];
    am[0] = std::fabs(v) > am[0] ? std::fabs(v) : am[0];
  }
  const double total = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
  if (!std::isfinite(total) || n == 0) return careful_stats(x, n, policy, out);
  double mn = lo[0], mx = hi[0], peak = am[0];
  for (int l = 1; l < W; ++l) {
    mn = lo[l] < mn ? lo[l] : mn;
    mx = hi[l] > mx ? hi[l] : mx;
    peak = am[l] > peak ? am[l] : peak;
  }
  int arg = 0;
  while (std::fabs(x[arg]) != peak) ++arg;  // the first position of the largest magnitude
  const double mean = total / n;
  location(mean, mn, mx, arg, n, out);
  moments(x, n, mean, n, [](int) { return true; }, out);
  SeriesInfo info;
  info.lo = mn;
  info.hi = mx;
  info.spectrum = !std::isnan(out[kSkewness]);
  return info;
}

namespace {

SeriesInfo careful_stats(const double* x, int n, NanPolicy policy, double* out) {
  double sum[kLanes] = {};
  double lo[kLanes], hi[kLanes], peak[kLanes];
  int at[kLanes];
  int nans[kLanes] = {};
  for (int l = 0; l < kLanes; ++l) {
    lo[l] = std::numeric_limits<double>::infinity();
    hi[l] = -std::numeric_limits<double>::infinity();
    peak[l] = -1.0;
    at[l] = n;
  }
  // Lane l sees indices l, l + 4, ...; ties on |x| resolve to the lowest index afterwards.
  int i = 0;
  for (; i + kLanes <= n; i += kLanes)
    for (int l = 0; l < kLanes; ++l) {
      const double v = x[i + l];
      const bool nan = v != v;
      nans[l] += nan;
      sum[l] += nan ? 0.0 : v;
      lo[l] = nan || v >= lo[l] ? lo[l] : v;
      hi[l] = nan || v <= hi[l] ? hi[l] : v;
      const double a = std::fabs(v);
      if (!nan && a > peak[l]) {
        peak[l] = a;
        at[l] = i + l;
      }
    }
  for (; i < n; ++i) {
    const double v = x[i];
    const bool nan = v != v;
    nans[0] += nan;
    sum[0] += nan ? 0.0 : v;
    if (!nan) {
      lo[0] = v < lo[0] ? v : lo[0];
      hi[0] = v > hi[0] ? v : hi[0];
      const double a = std::fabs(v);
      if (a > peak[0] || (a == peak[0] && i < at[0])) {
        peak[0] = a;
        at[0] = i;
      }
    }
  }
  int nan_count = 0;
  double total = 0.0, mn = lo[0], mx = hi[0], pk = peak[0];
  int arg = at[0];
  for (int l = 0; l < kLanes; ++l) {
    nan_count += nans[l];
    total += sum[l];
    mn = lo[l] < mn ? lo[l] : mn;
    mx = hi[l] > mx ? hi[l] : mx;
    if (peak[l] > pk || (peak[l] == pk && at[l] < arg)) {
      pk = peak[l];
      arg = at[l];
    }
  }
  const int count = n - nan_count;
  SeriesInfo info;
  info.nonfinite = true;  // this path runs only when the fast sum was not finite
  info.lo = mn;
  info.hi = mx;
  if (count == 0 || (nan_count > 0 && policy == NanPolicy::kPropagate)) {
    fill_nan(out);
    out[kPeakIndex] = kNaN;
    out[kPeakTiming] = kNaN;
    return info;
  }
  const double mean = total / count;
  location(mean, mn, mx, arg, n, out);
  if (nan_count == 0) {
    moments(x, n, mean, count, [](int) { return true; }, out);
  } else {
    moments(x, n, mean, count, [x](int k) { return x[k] == x[k]; }, out);
  }
  // +-inf values make the mean or spread non-finite: no spectrum then either.
  info.spectrum = nan_count == 0 && std::isfinite(out[kStd]) && !std::isnan(out[kSkewness]);
  return info;
}

}  // namespace

// Two sweeps over data in L1: (sum, min, max, arg max |x|, jumps), then the central moments.
// Every accumulator is a vector of the W series, in K = 4 chains so that additions overlap.
template <int W>
[[gnu::always_inline]] inline unsigned lane_stats_w(const double* xs, int n, LaneStats& out) {
  using vd = typename lanes::Lanes<W>::vd;
  using vbits = typename lanes::Lanes<W>::vbits;
  using vdu = typename lanes::Lanes<W>::vdu;
  constexpr int K = 4;
  const vdu* x = reinterpret_cast<const vdu*>(xs);
  const double inf = std::numeric_limits<double>::infinity();
  vd sum[K], lo[K], hi[K], peak[K], at[K], jump[K];
  for (int j = 0; j < K; ++j) {
    sum[j] = vd{};
    lo[j] = CADENCE_SPLAT(inf);
    hi[j] = CADENCE_SPLAT(-inf);
    peak[j] = CADENCE_SPLAT(-1.0);
    at[j] = vd{};
    jump[j] = vd{};
  }
  vd prev = x[0];
  // Point p goes to chain p mod K: whole blocks of K points, then the tail.
#define CADENCE_SWEEP1(j, p)                                                \
  do {                                                                      \
    const vd v = x[p];                                                      \
    sum[j] += v;                                                            \
    lo[j] = v < lo[j] ? v : lo[j];                                          \
    hi[j] = v > hi[j] ? v : hi[j];                                          \
    const vd a = CADENCE_VABS(v);                                           \
    const auto more = a > peak[j]; /* strict: a tie keeps the first */      \
    peak[j] = more ? a : peak[j];                                           \
    at[j] = more ? CADENCE_SPLAT(static_cast<double>(p)) : at[j];           \
    const vd d = CADENCE_VABS(v - prev);                                    \
    jump[j] = d > jump[j] ? d : jump[j];                                    \
    prev = v;                                                               \
  } while (0)
  int i = 0;
  for (; i + K <= n; i += K) {
    CADENCE_SWEEP1(0, i);
    CADENCE_SWEEP1(1, i + 1);
    CADENCE_SWEEP1(2, i + 2);
    CADENCE_SWEEP1(3, i + 3);
  }
  for (int j = 0; i + j < n; ++j) CADENCE_SWEEP1(j, i + j);
#undef CADENCE_SWEEP1
  const vd total = (sum[0] + sum[1]) + (sum[2] + sum[3]);
  const auto finite = (total - total) == vd{};  // false for inf and NaN
  const vd mean = total / static_cast<double>(n);
  vd m2[K], m3[K], m4[K];
  for (int j = 0; j < K; ++j) m2[j] = m3[j] = m4[j] = vd{};
#define CADENCE_SWEEP2(j, p)  \
  do {                        \
    const vd d = x[p] - mean; \
    const vd d2 = d * d;      \
    m2[j] += d2;              \
    m3[j] += d2 * d;          \
    m4[j] += d2 * d2;         \
  } while (0)
  for (i = 0; i + K <= n; i += K) {
    CADENCE_SWEEP2(0, i);
    CADENCE_SWEEP2(1, i + 1);
    CADENCE_SWEEP2(2, i + 2);
    CADENCE_SWEEP2(3, i + 3);
  }
  for (int j = 0; i + j < n; ++j) CADENCE_SWEEP2(j, i + j);
#undef CADENCE_SWEEP2
  const vd s2 = ((m2[0] + m2[1]) + (m2[2] + m2[3])) / static_cast<double>(n);
  const vd s3 = ((m3[0] + m3[1]) + (m3[2] + m3[3])) / static_cast<double>(n);
  const vd s4 = ((m4[0] + m4[1]) + (m4[2] + m4[3])) / static_cast<double>(n);
  vd mn = lo[0], mx = hi[0], top = peak[0], jmp = jump[0];
  for (int j = 1; j < K; ++j) {  // extremes are exact: any order gives the same values
    mn = lo[j] < mn ? lo[j] : mn;
    mx = hi[j] > mx ? hi[j] : mx;
    top = peak[j] > top ? peak[j] : top;
    jmp = jump[j] > jmp ? jump[j] : jmp;
  }
  vd arg = CADENCE_SPLAT(static_cast<double>(n));
  for (int j = 0; j < K; ++j) arg = (peak[j] == top && at[j] < arg) ? at[j] : arg;  // first of the tied
  unsigned bad = 0;
  for (int l = 0; l < W; ++l) {
    if (!finite[l]) {
      bad |= 1u << l;
      continue;
    }
    double* o = out.stat[l];
    o[kMean] = mean[l];
    o[kMin] = mn[l];
    o[kMax] = mx[l];
    o[kRom] = mx[l] - mn[l];
    o[kPeakIndex] = arg[l];
    o[kPeakTiming] = arg[l] / n;
    shape(mean[l], s2[l], s3[l], s4[l], o);
    out.info[l] = SeriesInfo{!std::isnan(o[kSkewness]), false, mn[l], mx[l]};
    out.jump[l] = jmp[l];
  }
  return bad;
}

CADENCE_SIMD_CLONES
unsigned lane_stats4(const double* x, int n, LaneStats& out) { return lane_stats_w<4>(x, n, out); }

CADENCE_AVX512
unsigned lane_stats8(const double* x, int n, LaneStats& out) { return lane_stats_w<8>(x, n, out); }

unsigned lane_stats(const double* x, int n, LaneStats& out, int width) {
  return width == 8 ? lane_stats8(x, n, out) : lane_stats4(x, n, out);
}

}  // namespace cadence::gait
