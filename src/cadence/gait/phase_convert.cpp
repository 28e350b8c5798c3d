#include "cadence/gait/phase_convert.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <new>

#include <sys/mman.h>

#include "cadence/gait/cycle_index.h"

namespace cadence::gait {

const char* drop_name(StrideDrop d) noexcept {
  switch (d) {
    case StrideDrop::None: return "kept";
    case StrideDrop::TrialStart: return "trial_start";
    case StrideDrop::TrialEnd: return "trial_end";
    case StrideDrop::TooShort: return "too_short";
    case StrideDrop::TooLong: return "too_long";
    case StrideDrop::DurationOutlier: return "duration_outlier";
  }
  return "?";
}

void PhaseColumn::Free::operator()(double* p) const noexcept { std::free(p); }

namespace {

// Output columns are large and written once: 2 MiB-aligned with transparent huge pages asked
// for, so first touch costs one fault per 2 MiB instead of one per 4 KiB (half the run's time
// went to page faults at UMich scale).
double* allocate_column(std::size_t n) {
  constexpr std::size_t kHuge = std::size_t{2} << 20;
  const std::size_t bytes = std::max<std::size_t>(n * sizeof(double), 1);
  if (bytes < kHuge) {
    auto* p = static_cast<double*>(std::malloc(bytes));
    if (!p) throw std::bad_alloc();
    return p;
  }
  const std::size_t rounded = (bytes + kHuge - 1) / kHuge * kHuge;
  auto* p = static_cast<double*>(std::aligned_alloc(kHuge, rounded));
  if (!p) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  madvise(p, rounded, MADV_HUGEPAGE);  // advice only: without THP it changes nothing
#endif
  return p;
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// numpy.percentile's default ("linear"): position (n - 1) * q in the sorted values.
double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = (static_cast<double>(v.size()) - 1.0) * q;
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

// One feature over one stride, sample rows [a, b]: 150 points, linear between the finite
// samples that bracket each point (NaN where no finite sample lies on one side).
void interpolate(const double* t, const double* x, std::int64_t a, std::int64_t b, double start_s, double end_s,
                 std::vector<std::int64_t>& finite, double* out) {
  finite.clear();
  for (std::int64_t i = a; i <= b; ++i)
    if (std::isfinite(x[i])) finite.push_back(i);
  constexpr int P = kPointsPerCycle;
  if (finite.size() < 2) {
    std::fill(out, out + P, kNaN);
    return;
  }
  std::size_t p = 0;
  for (int j = 0; j < P; ++j) {
    const double tj = j == 0 ? start_s : j == P - 1 ? end_s : start_s + (end_s - start_s) * (j / double(P - 1));
    if (tj < t[finite.front()] || tj > t[finite.back()]) {
      out[j] = kNaN;
      continue;
    }
    while (p + 2 < finite.size() && t[finite[p + 1]] <= tj) ++p;
    const std::int64_t i0 = finite[p], i1 = finite[p + 1];
    const double t0 = t[i0], t1 = t[i1];
    if (tj == t1) {
      out[j] = x[i1];
    } else if (tj == t0 || t1 == t0) {
      out[j] = x[i0];
    } else {
      out[j] = x[i0] + (x[i1] - x[i0]) * ((tj - t0) / (t1 - t0));
    }
  }
}

// A trial's strides, classified; `strikes` are rows of the batch.
struct TrialStrides {
  std::vector<StrideRecord> strides;
  std::vector<std::int64_t> strikes;
  std::size_t kept = 0;
  std::size_t first_out = 0;  // index of its first kept stride in the output
};

TrialStrides classify(std::int32_t trial, const double* t, const double* force, std::int64_t lo, std::int64_t hi,
                      const PhaseConfig& cfg) {
  TrialStrides out;
  out.strikes = heel_strikes(t + lo, force + lo, static_cast<std::size_t>(hi - lo), cfg);
  for (auto& s : out.strikes) s += lo;
  if (out.strikes.size() < 2) return out;
  const auto m = static_cast<std::int32_t>(out.strikes.size()) - 1;
  out.strides.resize(static_cast<std::size_t>(m));
  std::vector<double> durations;
  for (std::int32_t k = 0; k < m; ++k) {
    auto& s = out.strides[static_cast<std::size_t>(k)];
    s.trial = trial;
    s.stride = k;
    s.start_s = t[out.strikes[static_cast<std::size_t>(k)]];
    s.end_s = t[out.strikes[static_cast<std::size_t>(k) + 1]];
    const double d = s.end_s - s.start_s;
    if (k < cfg.drop_first) s.drop = StrideDrop::TrialStart;
    else if (k >= m - cfg.drop_last) s.drop = StrideDrop::TrialEnd;
    else if (d < cfg.min_stride_s) s.drop = StrideDrop::TooShort;
    else if (d > cfg.max_stride_s) s.drop = StrideDrop::TooLong;
    else durations.push_back(d);
  }
  if (cfg.iqr_factor > 0 && !durations.empty()) {
    const double q1 = percentile(durations, 0.25), q3 = percentile(durations, 0.75);
    const double low = q1 - cfg.iqr_factor * (q3 - q1), high = q3 + cfg.iqr_factor * (q3 - q1);
    for (auto& s : out.strides) {
      const double d = s.end_s - s.start_s;
      if (s.drop == StrideDrop::None && (d < low || d > high)) s.drop = StrideDrop::DurationOutlier;
    }
  }
  for (const auto& s : out.strides) out.kept += s.drop == StrideDrop::None;
  return out;
}

// Every feature of one stride (rows a..b) into out[f] + at. The bracketing samples and weights
// of the 150 points are found once (the time axis is shared) and each feature is a branch-free
// gather. Where both samples bracketing a point are finite, that is exactly what interpolate()
// computes over the finite samples; a feature whose points come out non-finite (a NaN or inf
// next to a point) is redone by interpolate(), so the result never depends on the path.
void interpolate_stride(const double* t, const std::vector<const double*>& features, std::int64_t a, std::int64_t b,
                        double start_s, double end_s, std::vector<PhaseColumn>& out, std::size_t at,
                        std::vector<std::int64_t>& finite) {
  constexpr int P = kPointsPerCycle;
  std::int64_t lo[P], hi[P];
  double w[P];
  std::int64_t p = a;
  for (int j = 0; j < P; ++j) {
    const double tj = j == 0 ? start_s : j == P - 1 ? end_s : start_s + (end_s - start_s) * (j / double(P - 1));
    while (p + 2 <= b && t[p + 1] <= tj) ++p;
    const double t0 = t[p], t1 = t[p + 1];
    if (tj == t1) {  // on a sample: that sample's value, exactly
      lo[j] = hi[j] = p + 1;
      w[j] = 0.0;
    } else if (tj == t0 || t1 == t0) {
      lo[j] = hi[j] = p;
      w[j] = 0.0;
    } else {
      lo[j] = p;
      hi[j] = p + 1;
      w[j] = (tj - t0) / (t1 - t0);
    }
  }
  for (std::size_t f = 0; f < features.size(); ++f) {
    const double* x = features[f];
    double* o = out[f].data.get() + at;
    bool finite_out = true;
    for (int j = 0; j < P; ++j) {
      const double x0 = x[lo[j]];
      o[j] = x0 + (x[hi[j]] - x0) * w[j];
      finite_out &= std::isfinite(o[j]);
    }
    if (!finite_out) interpolate(t, x, a, b, start_s, end_s, finite, o);
  }
}

}  // namespace

std::vector<std::int64_t> heel_strikes(const double* t, const double* force, std::size_t n, const PhaseConfig& cfg) {
  std::vector<std::int64_t> out;
  if (cfg.events) {
    for (std::size_t i = 0; i < n; ++i)
      if (std::isfinite(force[i]) && force[i] != 0.0) out.push_back(static_cast<std::int64_t>(i));
    return out;
  }
  // Centred moving average over the finite samples of the window (a window of NaN is NaN).
  const int w = std::max(1, cfg.smooth_samples);
  const auto before = static_cast<std::ptrdiff_t>(w / 2), after = static_cast<std::ptrdiff_t>(w - 1 - w / 2);
  std::vector<double> s(n, kNaN);
  for (std::size_t i = 0; i < n; ++i) {
    double sum = 0.0;
    int count = 0;
    const auto lo = std::max<std::ptrdiff_t>(0, static_cast<std::ptrdiff_t>(i) - before);
    const auto hi = std::min<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(n) - 1, static_cast<std::ptrdiff_t>(i) + after);
    for (std::ptrdiff_t k = lo; k <= hi; ++k)
      if (std::isfinite(force[k])) {
        sum += force[k];
        ++count;
      }
    if (count) s[i] = sum / count;
  }
  double last = -std::numeric_limits<double>::infinity();
  for (std::size_t i = 1; i < n; ++i) {
    if (!(s[i - 1] < cfg.threshold && s[i] >= cfg.threshold)) continue;  // NaN compares false
    if (t[i] - last < cfg.min_contact_gap_s) continue;
    out.push_back(static_cast<std::int64_t>(i));
    last = t[i];
  }
  return out;
}

PhaseBatch to_phase(const double* time_s, const double* force, const std::vector<std::int64_t>& trial_offsets,
                    const std::vector<const double*>& features, const PhaseConfig& config, runtime::Job& job) {
  const std::size_t trials = trial_offsets.empty() ? 0 : trial_offsets.size() - 1;
  auto& stage = job.timers().stage("to_phase");
  // Pass 1: heel strikes and stride rules per trial (cheap); then every kept stride's place in
  // the output is known, the columns are allocated once, and pass 2 fills them in place.
  std::vector<TrialStrides> per(trials);
  job.parallel_for(trials, [&](std::size_t i) {
    runtime::ScopedStage timer(stage);
    per[i] = classify(static_cast<std::int32_t>(i), time_s, force, trial_offsets[i], trial_offsets[i + 1], config);
  });
  PhaseBatch batch;
  std::size_t kept = 0;
  for (auto& tr : per) {
    tr.first_out = kept;
    kept += tr.kept;
    batch.strikes_per_trial.push_back(static_cast<std::int32_t>(tr.strikes.size()));
    for (const auto& s : tr.strides) (s.drop == StrideDrop::None ? batch.kept : batch.dropped).push_back(s);
  }
  const std::size_t rows = kept * kPointsPerCycle;
  batch.values.resize(features.size());
  for (auto& c : batch.values) {
    c.data.reset(allocate_column(rows));  // uninitialised: pass 2 writes every element
    c.size = rows;
  }
  job.parallel_for(trials, [&](std::size_t i) {
    runtime::ScopedStage timer(stage);
    const TrialStrides& tr = per[i];
    std::vector<std::int64_t> finite;
    std::size_t r = tr.first_out;
    for (const auto& s : tr.strides) {
      if (s.drop != StrideDrop::None) continue;
      const auto k = static_cast<std::size_t>(s.stride);
      interpolate_stride(time_s, features, tr.strikes[k], tr.strikes[k + 1], s.start_s, s.end_s, batch.values,
                         r * kPointsPerCycle, finite);
      ++r;
    }
  });
  return batch;
}

}  // namespace cadence::gait
