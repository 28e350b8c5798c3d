// The subject x task -> cycle index of a phase-indexed (LocoHub) file, built once from its key
// columns while they stream past, so no later call scans the table again (LocoHub's get_cycles
// filters the whole DataFrame with a string mask on every call).
//
// Rows are read in file order. A *group* is one (subject, task); a *run* is a maximal block of
// consecutive rows of one group. LocoHub takes a group's rows in file order and cuts them into
// blocks of 150: a cycle is one such block. The index decides up front, before any feature
// column is read, which groups the engine can analyse and why the others cannot, so that the
// feature pass never drops anything silently:
//   - a group whose row count is not a multiple of 150 (LocoHub's get_cycles returns None);
//   - a group with a run that is not a multiple of 150 rows (its cycles would straddle two
//     distant parts of the file);
// and which cycles are malformed: the step changes inside the 150 rows, or the phase does not
// increase. A cycle is identified by (subject, task, condition, step), the condition being the
// file's task_id or task_info when it has one: step numbers that restart per condition are not
// duplicates. A cycle without a step value (an empty cell) is identified by its position alone.
// Memory is O(groups + cycles), never O(rows).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace cadence::gait {

inline constexpr int kPointsPerCycle = 150;

// Why a group or a cycle is left out of the engine's per-cycle features. A fixed list: every
// entry of a drop log carries one of these.
enum class DropReason : std::uint8_t {
  kNone = 0,
  kGroupRowsNotMultiple = 1,   // group rows % 150 != 0: LocoHub's get_cycles gives (None, [])
  kRunRowsNotMultiple = 2,     // a contiguous part of the group is not whole cycles
  kStepChangesInCycle = 3,     // the step column changes inside one block of 150 rows
  kPhaseNotIncreasing = 4,     // phase does not increase strictly inside the block
  kDuplicateStep = 5,          // a second cycle with a (condition, step) already seen in its group
};
inline constexpr int kDropReasonCount = 6;
const char* drop_reason_name(DropReason r) noexcept;

// One batch of key columns, as views (no copy). step and phase may be null (column absent).
struct KeyBatch {
  const std::int32_t* subject = nullptr;  // global dictionary codes, >= 0
  const std::int32_t* task = nullptr;
  const std::int64_t* step = nullptr;
  const double* phase = nullptr;
  std::int64_t rows = 0;
  const std::uint8_t* step_valid = nullptr;  // 0 = empty step cell; null pointer = all present
  const std::int32_t* condition = nullptr;   // task_id / task_info codes; null pointer = none
};

struct Run {
  std::int64_t row_begin = 0;  // file row of the run's first row
  std::int64_t rows = 0;
  std::int32_t group = 0;
};

struct GroupInfo {
  std::int32_t subject = 0;
  std::int32_t task = 0;
  std::int64_t rows = 0;
  std::int32_t runs = 0;
  std::int64_t first_row = 0;
  std::int64_t first_cycle = 0;  // index of the group's first cycle in CycleIndex::cycles
  std::int64_t cycles = 0;       // rows / 150 when usable, else 0
  DropReason reason = DropReason::kNone;
  [[nodiscard]] bool usable() const noexcept { return reason == DropReason::kNone; }
};

struct CycleInfo {
  std::int64_t row = 0;   // file row of the cycle's first point
  std::int64_t step = 0;  // its first present step value (-1 when step_known is false)
  DropReason reason = DropReason::kNone;
  std::int32_t condition = 0;  // condition code of its first row (0 without a condition column)
  bool step_known = false;     // false: no step column, or every step cell of the cycle empty
};

class CycleIndex {
 public:
  std::vector<Run> runs;          // file order
  std::vector<GroupInfo> groups;  // order of first appearance
  std::vector<CycleInfo> cycles;  // grouped by group, cycle order within a group
  std::int64_t rows = 0;
  bool has_step = false;
  bool has_phase = false;

  [[nodiscard]] std::int32_t find_group(std::int32_t subject, std::int32_t task) const noexcept;
};

// Consumes key batches in file order; finish() returns the index.
class CycleIndexBuilder {
 public:
  void append(const KeyBatch& batch);
  CycleIndex finish();

 private:
  static void mark_duplicate_steps(std::vector<CycleInfo>& cycles);
  std::int32_t group_of(std::int32_t subject, std::int32_t task, std::int64_t row);
  void close_run();

  CycleIndex index_;
  std::vector<std::int64_t> group_lookup_;  // (subject, task) -> group, dense
  std::int32_t lookup_tasks_ = 0;
  // Current run and the cycle scan inside it.
  bool in_run_ = false;
  std::int32_t cur_group_ = -1, cur_subject_ = -1, cur_task_ = -1;
  std::int64_t run_start_ = 0, run_rows_ = 0;
  double last_phase_ = 0.0;
  DropReason cycle_reason_ = DropReason::kNone;
  // Per-group cycle lists collected during the scan (merged into `cycles` by finish()).
  std::vector<std::vector<CycleInfo>> group_cycles_;
  bool first_batch_ = true;
  bool has_condition_ = false;
};

}  // namespace cadence::gait
