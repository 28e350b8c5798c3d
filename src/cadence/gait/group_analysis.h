// Everything the engine computes for one subject x task group, from zero-copy column views:
// per-cycle statistics of every feature (cycle_stats.h, spectrum.h), LocoHub validation flags
// and ranges-file failures (validation.h), the mean and std patterns (150 points, ddof 0),
// each cycle's RMSE to the mean pattern, per feature and over all features (LocoHub's outlier
// metric), and the outlier flags (RMSE > mean + threshold * std of the RMSEs).
//
// Work is split over the job's workers by blocks of cycles, then by features for the patterns;
// each worker loads a cycle's 150 points once into a double buffer (float32 or float64 input)
// and computes everything from there.
#pragma once

#include <cstdint>
#include <vector>

#include "cadence/gait/cycle_stats.h"
#include "cadence/gait/spectrum.h"
#include "cadence/gait/validation.h"
#include "cadence/runtime/job.h"

namespace cadence::gait {

// One feature column of a batch: `data` points at the group's first row. No copy is made.
struct ColumnView {
  const void* data = nullptr;
  bool is_float32 = false;
};

struct AnalysisSpec {
  std::vector<FeatureKind> kinds;  // one per column
  NanPolicy nan_policy = NanPolicy::kPropagate;
  double outlier_threshold = 2.0;
  // false: LocoHub's find_outlier_cycles (mean pattern and RMSE statistics over all cycles);
  // true: over the cycles that pass validation only, as a cleaning pipeline judges outliers.
  bool outliers_among_valid = false;
  LocoHubLimits limits;
  // Series per kernel call: 0 = the widest this CPU runs (8 with AVX-512, else 4); 4 forces 4;
  // 8 is honoured where the CPU has AVX-512 (or in builds without it: plain vector code). Any
  // width gives the same bits; tests use this to check that.
  int simd_width = 0;
  std::vector<std::vector<RangeCheck>> range_checks;  // by task code; empty: no ranges file
};

struct GroupResult {
  std::int64_t cycles = 0;
  int features = 0;
  std::vector<double> stats;          // [stat][feature][cycle]
  std::vector<double> rmse;           // [cycle], over all points and features
  std::vector<std::uint8_t> valid;    // [cycle], LocoHub rules over all features
  std::vector<std::uint8_t> outlier;  // [cycle]
  std::vector<std::uint8_t> fail;     // [feature][cycle], FailBit flags
  std::vector<double> mean_pattern;   // [feature][point], over the basis cycles
  std::vector<double> std_pattern;    // [feature][point]
  std::vector<RangeFailure> range_failures;
  double rmse_threshold = 0.0;        // mean + threshold * std of the basis RMSEs

  [[nodiscard]] double stat(int s, int f, std::int64_t c) const {
    return stats[(static_cast<std::size_t>(s) * features + f) * cycles + c];
  }
};

// `include` (nullable, one byte per cycle) leaves malformed cycles out of the patterns and the
// outlier statistics; their own statistics are still computed. `task` selects the range checks.
GroupResult analyse_group(const std::vector<ColumnView>& columns, std::int64_t cycles, int task,
                          const std::uint8_t* include, const AnalysisSpec& spec,
                          const SpectrumPlan& plan, runtime::Job& job);
// The same into `out`, whose vectors keep their capacity: a stream analysing group after group
// reuses one result's memory instead of faulting in fresh pages for every group.
void analyse_group(const std::vector<ColumnView>& columns, std::int64_t cycles, int task,
                   const std::uint8_t* include, const AnalysisSpec& spec, const SpectrumPlan& plan,
                   runtime::Job& job, GroupResult& out);

}  // namespace cadence::gait
