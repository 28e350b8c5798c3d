// Each subject x task group's mean curve of every feature (LocoHub's get_mean_patterns: the mean
// at each of the 150 points over the group's cycles), accumulated while the feature columns
// stream past batch by batch: what LocomotionData.subject_mean_curves and the SPM comparisons
// need, without holding the decoded columns (0.7 GB at UMich scale) or the rest of
// group_analysis' per-cycle statistics.
//
// A group's rows are taken in file order, as LocoHub does, and point p of its k-th row is
// k mod 150, so a cycle split across two batches (or two runs of the group) is summed as if it
// were contiguous; each point's values are added in cycle order, the order a whole-group pass
// adds them, so the means do not depend on the batch size.
#pragma once

#include <cstdint>
#include <vector>

#include "cadence/gait/cycle_index.h"
#include "cadence/gait/cycle_stats.h"
#include "cadence/gait/group_analysis.h"
#include "cadence/runtime/job.h"
#include "cadence/runtime/memory_budget.h"

namespace cadence::gait {

class MeanCurveStream {
 public:
  // The accumulators (groups x features x 150 sums, and counts under kOmit) are reserved from
  // the job's budget: std::invalid_argument, naming the bytes, when they do not fit.
  MeanCurveStream(const CycleIndex& index, std::size_t features, NanPolicy policy, runtime::Job& job);
  MeanCurveStream(const MeanCurveStream&) = delete;
  MeanCurveStream& operator=(const MeanCurveStream&) = delete;

  // The next `rows` rows of the file, one float32/float64 column view per feature (read during
  // the call only). Features run in parallel on the job's pool.
  void push(const std::vector<ColumnView>& columns, std::int64_t rows);
  // groups x features x 150, row-major. kPropagate: a NaN makes its point's mean NaN; kOmit: the
  // mean of the finite values (NaN where a point has none). A group whose rows are not whole
  // cycles (LocoHub's get_cycles gives None) is all NaN. std::invalid_argument unless exactly
  // the index's rows were pushed.
  std::vector<double> finish();

  [[nodiscard]] std::int64_t rows_pushed() const noexcept { return rows_seen_; }

 private:
  struct Segment {  // consecutive rows of one group inside a pushed batch
    std::int32_t group;
    std::int64_t first;   // row within the batch
    std::int64_t rows;
    std::int64_t offset;  // rows of the group before this segment, in file order
  };

  std::vector<Run> runs_;
  std::vector<std::int64_t> group_rows_;
  std::vector<std::int64_t> group_seen_;  // rows of each group pushed so far
  std::size_t features_;
  bool omit_;
  runtime::Job& job_;
  runtime::Reservation reservation_;
  std::vector<double> sums_;  // [group][feature][point]
  std::vector<std::uint32_t> counts_;  // the same shape; kOmit only (else every point has all cycles)
  std::size_t next_run_ = 0;
  std::int64_t run_done_ = 0;  // rows of runs_[next_run_] already pushed
  std::int64_t rows_seen_ = 0;
  std::int64_t index_rows_;
};

}  // namespace cadence::gait
