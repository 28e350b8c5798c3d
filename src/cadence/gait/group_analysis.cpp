#include "cadence/gait/group_analysis.h"

#include "cadence/gait/cycle_index.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <mutex>

namespace cadence::gait {

namespace {

constexpr int P = kPointsPerCycle;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::int64_t kCyclesPerTask = 8;

inline void load(const ColumnView& col, std::int64_t offset, double* out) {
  if (col.is_float32) {
    const float* src = static_cast<const float*>(col.data) + offset;
    for (int i = 0; i < P; ++i) out[i] = src[i];
  } else {
    const double* src = static_cast<const double*>(col.data) + offset;
    for (int i = 0; i < P; ++i) out[i] = src[i];
  }
}

inline double value_at(const ColumnView& col, std::int64_t row) {
  return col.is_float32 ? static_cast<const float*>(col.data)[row]
                        : static_cast<const double*>(col.data)[row];
}

// Per-worker scratch: one cycle of every lane, and the FFT workspace.
struct Scratch {
  std::vector<double> series;  // [lane][point]
  SpectrumPlan::Workspace fft;
};

}  // namespace

GroupResult analyse_group(const std::vector<ColumnView>& columns, std::int64_t cycles, int task,
                          const std::uint8_t* include, const AnalysisSpec& spec,
                          const SpectrumPlan& plan, runtime::Job& job) {
  const int nf = static_cast<int>(columns.size());
  GroupResult r;
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
  if (cycles == 0 || nf == 0) return r;
  const bool omit = spec.nan_policy == NanPolicy::kOmit;
  static const std::vector<RangeCheck> kNoChecks;
  const auto& checks = task >= 0 && static_cast<std::size_t>(task) < spec.range_checks.size()
                           ? spec.range_checks[task] : kNoChecks;
  std::mutex failures_mutex;
  auto at = [&](int s, int f, std::int64_t c) -> double& {
    return r.stats[(static_cast<std::size_t>(s) * nf + f) * cycles + c];
  };
  const std::int64_t blocks = (cycles + kCyclesPerTask - 1) / kCyclesPerTask;

  // 1. Per cycle and feature: statistics, spectrum, LocoHub flags, ranges.
  job.parallel_for(static_cast<std::size_t>(blocks), [&](std::size_t b) {
    thread_local Scratch scratch;
    scratch.series.resize(static_cast<std::size_t>(SpectrumPlan::kLanes) * P);
    double* series = scratch.series.data();
    double out[kStatCount];
    std::vector<RangeFailure> found;
    const std::int64_t c0 = static_cast<std::int64_t>(b) * kCyclesPerTask;
    const std::int64_t c1 = std::min(cycles, c0 + kCyclesPerTask);
    for (std::int64_t c = c0; c < c1; ++c) {
      bool valid = true;
      for (int f0 = 0; f0 < nf; f0 += SpectrumPlan::kLanes) {
        const int lanes = std::min(SpectrumPlan::kLanes, nf - f0);
        int spectral[SpectrumPlan::kLanes];
        int n_spectral = 0;
        for (int l = 0; l < lanes; ++l) {
          const int f = f0 + l;
          double* x = series + static_cast<std::size_t>(n_spectral) * P;
          load(columns[f], c * P, x);
          const SeriesInfo info = series_stats(x, P, spec.nan_policy, out);
          const std::uint8_t flags =
              locohub_flags(x, P, spec.kinds[f], spec.limits, info.lo, info.hi, info.nonfinite);
          r.fail[static_cast<std::size_t>(f) * cycles + c] = flags;
          valid &= flags == 0;
          for (int s = kMean; s <= kKurtosis; ++s) at(s, f, c) = out[s];
          if (info.spectrum) spectral[n_spectral++] = f;  // keep x: its slot is now taken
        }
        if (n_spectral > 0) {
          int k[SpectrumPlan::kLanes];
          plan.dominant_harmonic(series, P, n_spectral, k, scratch.fft);
          for (int l = 0; l < n_spectral; ++l) at(kDominantFrequency, spectral[l], c) = k[l];
        }
      }
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
  });
  std::sort(r.range_failures.begin(), r.range_failures.end(),
            [](const RangeFailure& a, const RangeFailure& b) {
              return a.cycle != b.cycle ? a.cycle < b.cycle : a.check < b.check;
            });

  // The basis: cycles that shape the mean pattern and the outlier statistics.
  std::vector<std::uint8_t> basis(cycles, 1);
  for (std::int64_t c = 0; c < cycles; ++c)
    basis[c] = (include ? include[c] != 0 : true) && (!spec.outliers_among_valid || r.valid[c]);

  // 2. Mean and std patterns, one feature per task: sums run over cycles, vectorised over points.
  job.parallel_for(static_cast<std::size_t>(nf), [&](std::size_t f) {
    double sum[P] = {}, sq[P] = {}, count[P] = {};
    double x[P];
    for (std::int64_t c = 0; c < cycles; ++c) {
      if (!basis[c]) continue;
      load(columns[f], c * P, x);
      for (int p = 0; p < P; ++p) {
        const bool skip = omit && x[p] != x[p];
        sum[p] += skip ? 0.0 : x[p];
        count[p] += skip ? 0.0 : 1.0;
      }
    }
    double* mean = r.mean_pattern.data() + f * P;
    for (int p = 0; p < P; ++p) mean[p] = count[p] > 0 ? sum[p] / count[p] : kNaN;
    for (std::int64_t c = 0; c < cycles; ++c) {
      if (!basis[c]) continue;
      load(columns[f], c * P, x);
      for (int p = 0; p < P; ++p) {
        const double d = x[p] - mean[p];
        sq[p] += (omit && x[p] != x[p]) ? 0.0 : d * d;
      }
    }
    double* sd = r.std_pattern.data() + f * P;
    for (int p = 0; p < P; ++p) sd[p] = count[p] > 0 ? std::sqrt(sq[p] / count[p]) : kNaN;
  });

  // 3. RMSE to the mean pattern, per feature and over all features.
  job.parallel_for(static_cast<std::size_t>(blocks), [&](std::size_t b) {
    double x[P];
    const std::int64_t c0 = static_cast<std::int64_t>(b) * kCyclesPerTask;
    const std::int64_t c1 = std::min(cycles, c0 + kCyclesPerTask);
    for (std::int64_t c = c0; c < c1; ++c) {
      double total = 0.0, total_n = 0.0;
      for (int f = 0; f < nf; ++f) {
        load(columns[f], c * P, x);
        const double* mean = r.mean_pattern.data() + f * P;
        double s = 0.0, n = 0.0;
        for (int p = 0; p < P; ++p) {
          const double d = x[p] - mean[p];
          const bool skip = omit && d != d;
          s += skip ? 0.0 : d * d;
          n += skip ? 0.0 : 1.0;
        }
        at(kRmse, f, c) = n > 0 ? std::sqrt(s / n) : kNaN;
        total += s;
        total_n += n;
      }
      r.rmse[c] = total_n > 0 ? std::sqrt(total / total_n) : kNaN;
    }
  });

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
  return r;
}

}  // namespace cadence::gait
