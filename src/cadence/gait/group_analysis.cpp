#include "cadence/gait/group_analysis.h"

#include "cadence/gait/cycle_index.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>
#include <stdexcept>
#include <type_traits>

#include "cadence/gait/lanes.h"

namespace cadence::gait {

namespace {

constexpr int P = kPointsPerCycle;
constexpr int kMaxW = lanes::kMaxWidth;
static_assert(kStatLanes == kMaxW);
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::int64_t kCyclesPerTask = 8;   // per-cycle checks
constexpr std::int64_t kCyclesPerRun = 32;   // statistics: 32 x 150 contiguous values of one feature
constexpr double kZeros[P] = {};
constexpr float kZerosF[P] = {};

inline double value_at(const ColumnView& col, std::int64_t row) {
  return col.is_float32 ? static_cast<const float*>(col.data)[row]
                        : static_cast<const double*>(col.data)[row];
}

// Cycles c .. c + lanes - 1 of one feature column, lane-interleaved into X: X[p * W + l] =
// point p of cycle c + l; lanes past `lanes` are zeros. The W cycles are contiguous in the
// column, so the loads stream; W x W blocks are transposed in registers, float32 widened exactly.
template <int W, class T>
[[gnu::always_inline]] inline void load_lanes_w(const T* column, std::int64_t c, int lanes, const T* zeros,
                                                double* X) {
  using vd = typename lanes::Lanes<W>::vd;
  using vdu = typename lanes::Lanes<W>::vdu;
  using vfu = typename lanes::Lanes<W>::vfu;
  const T* s[W];
  for (int l = 0; l < W; ++l) s[l] = l < lanes ? column + (c + l) * P : zeros;
  vdu* out = reinterpret_cast<vdu*>(X);
  int p = 0;
  for (; p + W <= P; p += W) {
    vd a[W];
    for (int l = 0; l < W; ++l) {
      if constexpr (std::is_same_v<T, float>)
        a[l] = __builtin_convertvector(*reinterpret_cast<const vfu*>(s[l] + p), vd);
      else
        a[l] = *reinterpret_cast<const vdu*>(s[l] + p);
    }
    if constexpr (W == 4)
      CADENCE_TRANSPOSE4(a, out + p);
    else
      CADENCE_TRANSPOSE8(a, out + p);
  }
  for (; p < P; ++p)
    for (int l = 0; l < W; ++l) X[p * W + l] = s[l][p];
}

CADENCE_SIMD_CLONES
void load_lanes4(const ColumnView& col, std::int64_t c, int lanes, double* X) {
  if (col.is_float32)
    load_lanes_w<4>(static_cast<const float*>(col.data), c, lanes, kZerosF, X);
  else
    load_lanes_w<4>(static_cast<const double*>(col.data), c, lanes, kZeros, X);
}

CADENCE_AVX512
void load_lanes8(const ColumnView& col, std::int64_t c, int lanes, double* X) {
  if (col.is_float32)
    load_lanes_w<8>(static_cast<const float*>(col.data), c, lanes, kZerosF, X);
  else
    load_lanes_w<8>(static_cast<const double*>(col.data), c, lanes, kZeros, X);
}

// One feature of a group: the mean pattern over the basis cycles, then one sweep over every
// cycle for its squared distance to the pattern (dev, and the points counted in dev_n: LocoHub's
// RMSE) and, for basis cycles, the std pattern. `Omit` skips NaN (nan_policy='omit').
template <bool Omit>
[[gnu::always_inline]] inline void feature_patterns(const ColumnView& col, std::int64_t cycles,
                                                    const std::uint8_t* basis, double* mean, double* sd,
                                                    double* dev, double* dev_n) {
  using vd = lanes::Lanes<4>::vd;  // 4 consecutive points: chains p mod 4 whatever the CPU
  using vdu = lanes::Lanes<4>::vdu;
  constexpr int L = 4;
  double sum[P] = {}, count[P] = {}, sq[P] = {}, wide[P];
  auto cycle = [&](std::int64_t c) -> const double* {
    if (!col.is_float32) return static_cast<const double*>(col.data) + c * P;
    const float* src = static_cast<const float*>(col.data) + c * P;
    for (int p = 0; p < P; ++p) wide[p] = src[p];
    return wide;
  };
  for (std::int64_t c = 0; c < cycles; ++c) {
    if (!basis[c]) continue;
    const double* x = cycle(c);
    for (int p = 0; p < P; ++p) {
      const bool skip = Omit && x[p] != x[p];
      sum[p] += skip ? 0.0 : x[p];
      count[p] += skip ? 0.0 : 1.0;
    }
  }
  for (int p = 0; p < P; ++p) mean[p] = count[p] > 0 ? sum[p] / count[p] : kNaN;
  const vd one = CADENCE_SPLAT(1.0);
  for (std::int64_t c = 0; c < cycles; ++c) {
    const double* x = cycle(c);
    const bool in_basis = basis[c] != 0;
    vd acc = vd{}, n = vd{};  // lane j: points p = j mod 4
    int p = 0;
    for (; p + L <= P; p += L) {
      const vd v = *reinterpret_cast<const vdu*>(x + p);
      const vd d = v - *reinterpret_cast<const vdu*>(mean + p);
      const vd d2 = d * d;
      if (Omit) {
        acc += d == d ? d2 : vd{};
        n += d == d ? one : vd{};
        if (in_basis) *reinterpret_cast<vdu*>(sq + p) += v == v ? d2 : vd{};
      } else {
        acc += d2;
        n += one;
        if (in_basis) *reinterpret_cast<vdu*>(sq + p) += d2;
      }
    }
    for (; p < P; ++p) {
      const double d = x[p] - mean[p];
      const bool skip = Omit && d != d;
      acc[p % L] += skip ? 0.0 : d * d;
      n[p % L] += skip ? 0.0 : 1.0;
      if (in_basis) sq[p] += (Omit && x[p] != x[p]) ? 0.0 : d * d;
    }
    dev[c] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    dev_n[c] = (n[0] + n[1]) + (n[2] + n[3]);
  }
  for (int p = 0; p < P; ++p) sd[p] = count[p] > 0 ? std::sqrt(sq[p] / count[p]) : kNaN;
}

CADENCE_SIMD_CLONES
void feature_patterns(const ColumnView& col, std::int64_t cycles, const std::uint8_t* basis, bool omit,
                      double* mean, double* sd, double* dev, double* dev_n) {
  if (omit)
    feature_patterns<true>(col, cycles, basis, mean, sd, dev, dev_n);
  else
    feature_patterns<false>(col, cycles, basis, mean, sd, dev, dev_n);
}

// The same code for AVX-512 CPUs: the per-point sums over cycles (element-wise, their order
// unchanged) vectorise wider; the explicit 4-point vectors stay 4 points, so the bits are equal.
CADENCE_AVX512
void feature_patterns_avx512(const ColumnView& col, std::int64_t cycles, const std::uint8_t* basis, bool omit,
                             double* mean, double* sd, double* dev, double* dev_n) {
  if (omit)
    feature_patterns<true>(col, cycles, basis, mean, sd, dev, dev_n);
  else
    feature_patterns<false>(col, cycles, basis, mean, sd, dev, dev_n);
}

// Per-worker scratch: W cycles of one feature, lane-interleaved; one series; the FFT workspace.
struct Scratch {
  double lanes[P * kMaxW];
  double series[P];
  SpectrumPlan::Workspace fft;
};

}  // namespace

GroupResult analyse_group(const std::vector<ColumnView>& columns, std::int64_t cycles, int task,
                          const std::uint8_t* include, const AnalysisSpec& spec,
                          const SpectrumPlan& plan, runtime::Job& job) {
  GroupResult r;
  analyse_group(columns, cycles, task, include, spec, plan, job, r);
  return r;
}

void analyse_group(const std::vector<ColumnView>& columns, std::int64_t cycles, int task,
                   const std::uint8_t* include, const AnalysisSpec& spec, const SpectrumPlan& plan,
                   runtime::Job& job, GroupResult& r) {
  const int nf = static_cast<int>(columns.size());
  r.range_failures.clear();
  r.rmse_threshold = 0.0;
  r.cycles = cycles;
  r.features = nf;
  const std::size_t fc = static_cast<std::size_t>(nf) * cycles;
  r.stats.assign(kStatCount * fc, kNaN);
  r.rmse.assign(cycles, kNaN);
  r.valid.assign(cycles, 1);
  r.outlier.assign(cycles, 0);
  r.fail.assign(fc, 0);
  r.mean_pattern.assign(static_cast<std::size_t>(nf) * P, kNaN);
  r.std_pattern.assign(static_cast<std::size_t>(nf) * P, kNaN);
  if (cycles == 0 || nf == 0) return;
  if (plan.n() != P) throw std::invalid_argument("analyse_group: the spectrum plan must be for 150 points");
  const bool omit = spec.nan_policy == NanPolicy::kOmit;
  static const std::vector<RangeCheck> kNoChecks;
  const auto& checks = task >= 0 && static_cast<std::size_t>(task) < spec.range_checks.size()
                           ? spec.range_checks[task] : kNoChecks;
  std::mutex failures_mutex;
  auto at = [&](int s, int f, std::int64_t c) -> double& {
    return r.stats[(static_cast<std::size_t>(s) * nf + f) * cycles + c];
  };
  // 1. Per feature, W consecutive cycles at a time (W = 8 with AVX-512, else 4): statistics,
  // LocoHub flags, spectrum. A task is one feature over a run of cycles, read as one contiguous
  // stretch of its column; the W series are loaded once, lane-interleaved, and every kernel
  // reads them from there.
  int W = lanes::simd_width();
  if (spec.simd_width == 4 || (spec.simd_width == 8 && !CADENCE_HAVE_AVX512_BUILD)) W = spec.simd_width;
  const std::int64_t runs = (cycles + kCyclesPerRun - 1) / kCyclesPerRun;
  job.parallel_for(static_cast<std::size_t>(nf * runs), [&](std::size_t t) {
    thread_local Scratch scratch;
    double* X = scratch.lanes;
    LaneStats ls;
    double careful[kStatCount];
    const int f = static_cast<int>(t / runs);
    const FeatureKind kind = spec.kinds[f];
    const std::int64_t c0 = static_cast<std::int64_t>(t % runs) * kCyclesPerRun;
    const std::int64_t c1 = std::min(cycles, c0 + kCyclesPerRun);
    for (std::int64_t c = c0; c < c1; c += W) {
      const int lanes = static_cast<int>(std::min<std::int64_t>(W, c1 - c));
      if (W == 8)
        load_lanes8(columns[f], c, lanes, X);
      else
        load_lanes4(columns[f], c, lanes, X);
      const unsigned bad = lane_stats(X, P, ls, W);
      bool spectral[kMaxW] = {};
      bool any_spectral = false;
      for (int l = 0; l < lanes; ++l) {
        const double* out = ls.stat[l];
        SeriesInfo info = ls.info[l];
        std::uint8_t flags;
        if (bad >> l & 1u) {  // NaN or inf: the careful path, on the series itself
          for (int p = 0; p < P; ++p) scratch.series[p] = X[p * W + l];
          info = series_stats(scratch.series, P, spec.nan_policy, careful);
          flags = locohub_flags(scratch.series, P, kind, spec.limits, info.lo, info.hi, info.nonfinite);
          out = careful;
        } else {
          flags = locohub_flags(kind, spec.limits, info.lo, info.hi, false, ls.jump[l]);
        }
        r.fail[static_cast<std::size_t>(f) * cycles + c + l] = flags;
        for (int s = kMean; s <= kKurtosis; ++s) at(s, f, c + l) = out[s];
        spectral[l] = info.spectrum;
        any_spectral |= info.spectrum;
      }
      if (any_spectral) {
        int k[kMaxW];
        plan.dominant_harmonic_interleaved(X, k, scratch.fft, W);
        for (int l = 0; l < lanes; ++l)
          if (spectral[l]) at(kDominantFrequency, f, c + l) = k[l];
      }
    }
  });

  // Per cycle: valid under LocoHub's rules (every feature), then the ranges file's checks. Without
  // checks this is a few bytes per cycle: done here, no workers to wake and wait for.
  const std::int64_t blocks = (cycles + kCyclesPerTask - 1) / kCyclesPerTask;
  const auto per_block = [&](std::size_t b) {
    std::vector<RangeFailure> found;
    const std::int64_t c0 = static_cast<std::int64_t>(b) * kCyclesPerTask;
    const std::int64_t c1 = std::min(cycles, c0 + kCyclesPerTask);
    for (std::int64_t c = c0; c < c1; ++c) {
      bool valid = true;
      for (int f = 0; f < nf; ++f) valid &= r.fail[static_cast<std::size_t>(f) * cycles + c] == 0;
      r.valid[c] = valid;
      for (std::size_t i = 0; i < checks.size(); ++i) {
        const RangeCheck& chk = checks[i];
        if (chk.feature < 0 || chk.feature >= nf) continue;
        const double v = value_at(columns[chk.feature], c * P + chk.point);
        if (std::isfinite(v) && out_of_range(v, chk)) {
          r.fail[static_cast<std::size_t>(chk.feature) * cycles + c] |= kFailRange;
          found.push_back({c, static_cast<std::int32_t>(i), v});
        }
      }
    }
    if (!found.empty()) {
      std::lock_guard lock(failures_mutex);
      r.range_failures.insert(r.range_failures.end(), found.begin(), found.end());
    }
  };
  if (checks.empty()) {
    for (std::int64_t b = 0; b < blocks; ++b) per_block(static_cast<std::size_t>(b));
  } else {
    job.parallel_for(static_cast<std::size_t>(blocks), per_block);
  }
  std::sort(r.range_failures.begin(), r.range_failures.end(),
            [](const RangeFailure& a, const RangeFailure& b) {
              return a.cycle != b.cycle ? a.cycle < b.cycle : a.check < b.check;
            });

  // The basis: cycles that shape the mean pattern and the outlier statistics.
  std::vector<std::uint8_t> basis(cycles, 1);
  for (std::int64_t c = 0; c < cycles; ++c)
    basis[c] = (include ? include[c] != 0 : true) && (!spec.outliers_among_valid || r.valid[c]);

  // 2. Per feature (its column is re-read from cache, not memory): mean and std patterns (sums
  // over cycles, vectorised over points) and every cycle's squared distance to the pattern.
  std::vector<double> dev(fc), dev_n(fc);
  job.parallel_for(static_cast<std::size_t>(nf), [&](std::size_t f) {
    double* mean = r.mean_pattern.data() + f * P;
    double* sd = r.std_pattern.data() + f * P;
    if (W == 8)
      feature_patterns_avx512(columns[f], cycles, basis.data(), omit, mean, sd, dev.data() + f * cycles,
                              dev_n.data() + f * cycles);
    else
      feature_patterns(columns[f], cycles, basis.data(), omit, mean, sd, dev.data() + f * cycles,
                       dev_n.data() + f * cycles);
  });

  // 3. RMSE to the mean pattern, per feature and over all features (sums in feature order).
  for (std::int64_t c = 0; c < cycles; ++c) {
    double total = 0.0, total_n = 0.0;
    for (int f = 0; f < nf; ++f) {
      const double s = dev[static_cast<std::size_t>(f) * cycles + c], n = dev_n[static_cast<std::size_t>(f) * cycles + c];
      at(kRmse, f, c) = n > 0 ? std::sqrt(s / n) : kNaN;
      total += s;
      total_n += n;
    }
    r.rmse[c] = total_n > 0 ? std::sqrt(total / total_n) : kNaN;
  }

  // 4. Outliers: RMSE above mean + threshold * std (ddof 0) of the basis cycles' RMSEs. Under
  // kPropagate a NaN RMSE makes the threshold NaN and flags nothing, as LocoHub's numpy does.
  double s = 0.0, n = 0.0;
  for (std::int64_t c = 0; c < cycles; ++c)
    if (basis[c] && !(omit && std::isnan(r.rmse[c]))) {
      s += r.rmse[c];
      n += 1.0;
    }
  const double mean = n > 0 ? s / n : kNaN;
  double ss = 0.0;
  for (std::int64_t c = 0; c < cycles; ++c)
    if (basis[c] && !(omit && std::isnan(r.rmse[c]))) ss += (r.rmse[c] - mean) * (r.rmse[c] - mean);
  r.rmse_threshold = n > 0 ? mean + spec.outlier_threshold * std::sqrt(ss / n) : kNaN;
  for (std::int64_t c = 0; c < cycles; ++c) r.outlier[c] = basis[c] && r.rmse[c] > r.rmse_threshold;
}

}  // namespace cadence::gait
