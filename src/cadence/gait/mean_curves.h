// Each feature's mean curve over a group's cycles (LocoHub's get_mean_patterns: the mean at each
// of the 150 points), alone: what LocomotionData.subject_mean_curves and the SPM comparisons
// need, without the rest of group_analysis' per-cycle statistics.
#pragma once

#include <cstdint>
#include <vector>

#include "cadence/gait/cycle_stats.h"
#include "cadence/gait/group_analysis.h"
#include "cadence/runtime/job.h"

namespace cadence::gait {

// columns: one float32/float64 column per feature, cycles * 150 values each. Returns features x
// 150, row-major. kPropagate: a NaN makes its point's mean NaN; kOmit: the mean of the finite
// values (NaN where a point has none). Features run in parallel on the job's pool.
std::vector<double> mean_curves(const std::vector<ColumnView>& columns, std::int64_t cycles, NanPolicy policy,
                                runtime::Job& job);

}  // namespace cadence::gait
