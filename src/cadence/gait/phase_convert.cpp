#include "cadence/gait/phase_convert.h"

#include <algorithm>
#include <cmath>
#include <limits>

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

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// numpy.percentile's default ("linear"): position (n - 1) * q in the sorted values.
double percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = (static_cast<double>(v.size()) - 1.0) * q;
  const auto lo = static_cast<std::size_t>(std::floor(pos));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

struct TrialOut {
  std::vector<StrideRecord> kept, dropped;
  std::vector<std::vector<double>> values;  // per feature, kept strides x 150
  std::int32_t strikes = 0;
};

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

TrialOut convert_trial(std::int32_t trial, const double* t, const double* force, std::int64_t lo, std::int64_t hi,
                       const std::vector<const double*>& features, const PhaseConfig& cfg) {
  TrialOut out;
  out.values.resize(features.size());
  const auto n = static_cast<std::size_t>(hi - lo);
  auto strikes = heel_strikes(t + lo, force + lo, n, cfg);
  out.strikes = static_cast<std::int32_t>(strikes.size());
  if (strikes.size() < 2) return out;
  const auto m = static_cast<std::int32_t>(strikes.size()) - 1;  // strides
  std::vector<StrideRecord> strides(static_cast<std::size_t>(m));
  std::vector<double> durations;
  for (std::int32_t k = 0; k < m; ++k) {
    auto& s = strides[static_cast<std::size_t>(k)];
    s.trial = trial;
    s.stride = k;
    s.start_s = t[lo + strikes[static_cast<std::size_t>(k)]];
    s.end_s = t[lo + strikes[static_cast<std::size_t>(k) + 1]];
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
    for (auto& s : strides) {
      const double d = s.end_s - s.start_s;
      if (s.drop == StrideDrop::None && (d < low || d > high)) s.drop = StrideDrop::DurationOutlier;
    }
  }
  std::vector<std::int64_t> finite;
  for (const auto& s : strides) {
    if (s.drop != StrideDrop::None) {
      out.dropped.push_back(s);
      continue;
    }
    const std::int64_t a = lo + strikes[static_cast<std::size_t>(s.stride)];
    const std::int64_t b = lo + strikes[static_cast<std::size_t>(s.stride) + 1];
    for (std::size_t f = 0; f < features.size(); ++f) {
      auto& v = out.values[f];
      const std::size_t at = v.size();
      v.resize(at + kPointsPerCycle);
      interpolate(t, features[f], a, b, s.start_s, s.end_s, finite, v.data() + at);
    }
    out.kept.push_back(s);
  }
  return out;
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
  std::vector<TrialOut> outs(trials);
  auto& stage = job.timers().stage("to_phase");
  job.parallel_for(trials, [&](std::size_t i) {
    runtime::ScopedStage timer(stage);
    outs[i] = convert_trial(static_cast<std::int32_t>(i), time_s, force, trial_offsets[i], trial_offsets[i + 1],
                            features, config);
  });
  PhaseBatch batch;
  batch.values.resize(features.size());
  std::size_t rows = 0;
  for (const auto& o : outs) rows += o.kept.size() * kPointsPerCycle;
  for (auto& v : batch.values) v.reserve(rows);
  for (auto& o : outs) {
    batch.strikes_per_trial.push_back(o.strikes);
    batch.kept.insert(batch.kept.end(), o.kept.begin(), o.kept.end());
    batch.dropped.insert(batch.dropped.end(), o.dropped.begin(), o.dropped.end());
    for (std::size_t f = 0; f < features.size(); ++f)
      batch.values[f].insert(batch.values[f].end(), o.values[f].begin(), o.values[f].end());
    o = TrialOut{};  // give each trial's buffers back as soon as they are copied
  }
  return batch;
}

}  // namespace cadence::gait
