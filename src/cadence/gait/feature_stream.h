// The streaming half of the engine: feature columns arrive batch by batch, in file order, as
// zero-copy views (pyarrow record batches), and leave as Arrow batches of per-cycle features,
// one row per cycle. The cycle index (cycle_index.h), built beforehand from the key columns,
// says where every group starts and ends, so:
//   - a group wholly inside a batch is analysed straight from the batch's buffers (no copy);
//   - a group that crosses a batch boundary (or comes back later in the file) is copied into a
//     buffer of its own, reserved from the job's memory budget, and analysed once complete.
// A cycle is therefore never split or dropped at a batch boundary. Groups and cycles the index
// rejected are skipped here and reported by the index's drop log, never silently.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cadence/arrow/array.h"
#include "cadence/gait/cycle_index.h"
#include "cadence/gait/group_analysis.h"
#include "cadence/runtime/job.h"

namespace cadence::gait {

struct StreamOptions {
  AnalysisSpec spec;
  std::vector<std::string> feature_names;  // one per column, in column order
  std::vector<std::string> subject_names;  // by subject code
  std::vector<std::string> task_names;     // by task code
  bool fail_flags = false;                 // add one uint8 `<feature>__fail` column per feature
};

class FeatureStream {
 public:
  FeatureStream(CycleIndex index, StreamOptions options, runtime::Job& job);
  // Holds memory reservations: move-only (and nanobind must not try to copy it).
  FeatureStream(const FeatureStream&) = delete;
  FeatureStream& operator=(const FeatureStream&) = delete;

  // The next `rows` rows of the file. Views are read during the call only. Returns the
  // features of every cycle whose group completed in these rows (possibly none).
  arrow::ArrayPtr push(const std::vector<ColumnView>& columns, std::int64_t rows);
  // Checks that the whole file was pushed and nothing is left open; gives back the buffer kept
  // for groups that cross batch boundaries.
  void finish();

  // Every ranges-file failure so far: subject, task, step, cycle, feature, point, value, min, max.
  [[nodiscard]] arrow::ArrayPtr range_failures() const;
  [[nodiscard]] std::int64_t rows_pushed() const noexcept { return rows_seen_; }
  [[nodiscard]] const CycleIndex& index() const noexcept { return index_; }

 private:
  struct Pending {  // a group copied across batches: [feature][row], `rows` rows per feature
    std::unique_ptr<double[]> data;  // not value-initialised: every value is written before use
    std::size_t capacity = 0;        // values
    std::int64_t rows = 0, filled = 0;
    runtime::Reservation reservation;
  };
  struct Output;  // the columns of one returned batch
  Pending& start_pending(std::int32_t group, std::size_t nf);
  void recycle(Pending&& done);
  void analyse_into(std::int32_t group, const std::vector<ColumnView>& views, Output& out, std::size_t& row);
  arrow::ArrayPtr to_batch(Output&& out);

  CycleIndex index_;
  StreamOptions options_;
  runtime::Job& job_;
  SpectrumPlan plan_;
  std::size_t run_cursor_ = 0;
  std::int64_t rows_seen_ = 0;
  std::map<std::int32_t, Pending> pending_;
  Pending spare_;  // the buffer of the last group that completed, kept for the next one
  GroupResult result_;
  std::int64_t largest_group_rows_ = 0;
  std::vector<std::int64_t> kept_;  // by group: cycles written (the others are in the drop log)
  struct Failure {
    std::int32_t group;
    std::int64_t cycle;
    std::int32_t task;
    std::int32_t check;
    double value;
  };
  std::vector<Failure> failures_;
  runtime::Progress::Counter* rows_done_;
  runtime::Progress::Counter* cycles_done_;
  runtime::StageTimers::Stage* analyse_stage_;
  runtime::StageTimers::Stage* copy_stage_;
  runtime::StageTimers::Stage* build_stage_;
};

}  // namespace cadence::gait
