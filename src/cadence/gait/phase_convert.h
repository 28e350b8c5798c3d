// Time-indexed gait recordings to LocoHub's phase standard: heel strikes from the vertical
// ground reaction force (or a given events column), strides between consecutive strikes, the
// rules of LocoHub's converters for which strides to keep, and each kept stride linearly
// interpolated to 150 points with both ends (phase 0 = heel strike, 100 = the next one).
//
// Defaults are LocoHub's stride segmentation settings (../shared/DOMAIN.md, section 2): a rising
// crossing of 50 N (0.05 when the force is in body weights) of the force smoothed over 5 samples,
// contacts at least 0.3 s apart, strides 0.4-2.5 s, the first 2 and the last stride of a trial
// dropped, then strides whose duration lies outside 1.5 x IQR. Every stride not kept is logged
// with its reason. Trials are independent: a batch of whole trials is converted on all cores.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cadence/runtime/job.h"

namespace cadence::gait {

// LocoHub's heel-strike threshold for a force in body weights (the default below is in newtons).
inline constexpr double kThresholdBodyWeights = 0.05;

struct PhaseConfig {
  double threshold = 50.0;      // in the force's unit (N; kThresholdBodyWeights for body weights)
  int smooth_samples = 5;       // centred moving average (1 = none)
  double min_contact_gap_s = 0.3;
  double min_stride_s = 0.4;
  double max_stride_s = 2.5;
  int drop_first = 2;
  int drop_last = 1;
  double iqr_factor = 1.5;      // 0: no duration-outlier rule
  bool events = false;          // the force column is an events column: nonzero = heel strike
};

// Drop reasons, a fixed list (their names are what the drop log says).
enum class StrideDrop { None, TrialStart, TrialEnd, TooShort, TooLong, DurationOutlier };
inline constexpr int kStrideDropCount = static_cast<int>(StrideDrop::DurationOutlier) + 1;
const char* drop_name(StrideDrop d) noexcept;

// Heel-strike sample indices of one trial (time ascending).
std::vector<std::int64_t> heel_strikes(const double* time_s, const double* force, std::size_t n,
                                       const PhaseConfig& config);

struct StrideRecord {
  std::int32_t trial = 0;        // index into the batch's trials
  std::int32_t stride = 0;       // index among the trial's strides (strike k to k + 1)
  double start_s = 0, end_s = 0;
  StrideDrop drop = StrideDrop::None;
};

// One output column: kept strides x 150 points, allocated once and filled in place by the
// workers (not zero-filled first: every element is written).
struct PhaseColumn {
  struct Free {
    void operator()(double* p) const noexcept;
  };
  std::unique_ptr<double[], Free> data;
  std::size_t size = 0;
  double operator[](std::size_t i) const noexcept { return data[i]; }
};

struct PhaseBatch {
  // One column per feature (row r = kept stride r / 150, point r % 150).
  std::vector<PhaseColumn> values;
  std::vector<StrideRecord> kept;     // in trial order, then time
  std::vector<StrideRecord> dropped;  // every stride not kept, with its reason
  std::vector<std::int32_t> strikes_per_trial;
};

// `trial_offsets` (n_trials + 1 row offsets) split the rows into trials; `features` are columns
// of n rows each (float64). Strides are interpolated NaN-aware: per feature and stride, over the
// finite samples inside it (none, or one: the stride's points are NaN for that feature; outside
// the first/last finite sample: NaN, never extrapolated).
PhaseBatch to_phase(const double* time_s, const double* force, const std::vector<std::int64_t>& trial_offsets,
                    const std::vector<const double*>& features, const PhaseConfig& config, runtime::Job& job);

}  // namespace cadence::gait
