#include "cadence/gait/cycle_index.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

namespace cadence::gait {

const char* drop_reason_name(DropReason r) noexcept {
  switch (r) {
    case DropReason::kNone: return "none";
    case DropReason::kGroupRowsNotMultiple: return "group_rows_not_multiple_of_150";
    case DropReason::kRunRowsNotMultiple: return "group_split_mid_cycle";
    case DropReason::kStepChangesInCycle: return "step_changes_within_cycle";
    case DropReason::kPhaseNotIncreasing: return "phase_not_increasing";
    case DropReason::kDuplicateStep: return "duplicate_step";
  }
  return "unknown";
}

std::int32_t CycleIndex::find_group(std::int32_t subject, std::int32_t task) const noexcept {
  for (std::size_t g = 0; g < groups.size(); ++g)
    if (groups[g].subject == subject && groups[g].task == task) return static_cast<std::int32_t>(g);
  return -1;
}

std::int32_t CycleIndexBuilder::group_of(std::int32_t subject, std::int32_t task, std::int64_t row) {
  if (subject < 0 || task < 0) throw std::invalid_argument("gait index: negative dictionary code");
  // Dense (subject, task) table, regrown when a larger code appears: lookups happen once per run.
  if (task >= lookup_tasks_ || static_cast<std::size_t>(subject) * lookup_tasks_ >= group_lookup_.size()) {
    const std::int32_t tasks = std::max(lookup_tasks_, task + 1);
    const std::size_t subjects =
        std::max<std::size_t>(lookup_tasks_ ? group_lookup_.size() / lookup_tasks_ : 0, subject + 1);
    std::vector<std::int64_t> grown(subjects * tasks, -1);
    for (std::size_t s = 0; lookup_tasks_ && s < group_lookup_.size() / lookup_tasks_; ++s)
      for (std::int32_t t = 0; t < lookup_tasks_; ++t) grown[s * tasks + t] = group_lookup_[s * lookup_tasks_ + t];
    group_lookup_ = std::move(grown);
    lookup_tasks_ = tasks;
  }
  auto& slot = group_lookup_[static_cast<std::size_t>(subject) * lookup_tasks_ + task];
  if (slot < 0) {
    slot = static_cast<std::int64_t>(index_.groups.size());
    GroupInfo g;
    g.subject = subject;
    g.task = task;
    g.first_row = row;  // the group's own first row, not the start of the batch holding it
    index_.groups.push_back(g);
    group_cycles_.emplace_back();
  }
  return static_cast<std::int32_t>(slot);
}

void CycleIndexBuilder::close_run() {
  if (!in_run_) return;
  auto& g = index_.groups[cur_group_];
  if (run_rows_ % kPointsPerCycle != 0 && g.reason == DropReason::kNone)
    g.reason = DropReason::kRunRowsNotMultiple;
  index_.runs.push_back({run_start_, run_rows_, cur_group_});
  in_run_ = false;
}

void CycleIndexBuilder::append(const KeyBatch& b) {
  if (first_batch_) {
    index_.has_step = b.step != nullptr;
    index_.has_phase = b.phase != nullptr;
    first_batch_ = false;
    has_condition_ = b.condition != nullptr;
  } else if (index_.has_step != (b.step != nullptr) || index_.has_phase != (b.phase != nullptr) ||
             has_condition_ != (b.condition != nullptr)) {
    throw std::invalid_argument("gait index: step/phase/condition columns present in some batches only");
  }
  for (std::int64_t i = 0; i < b.rows; ++i) {
    const std::int64_t row = index_.rows + i;
    const std::int32_t s = b.subject[i], t = b.task[i];
    if (!in_run_ || s != cur_subject_ || t != cur_task_) {
      close_run();
      cur_group_ = group_of(s, t, row);
      cur_subject_ = s;
      cur_task_ = t;
      in_run_ = true;
      run_start_ = row;
      run_rows_ = 0;
      index_.groups[cur_group_].runs += 1;
    }
    auto& cycles = group_cycles_[cur_group_];
    // An empty step cell is unknown, not a value: it neither starts nor breaks a stride.
    const bool known = b.step != nullptr && (b.step_valid == nullptr || b.step_valid[i] != 0);
    const std::int64_t step = known ? b.step[i] : -1;
    const double phase = b.phase ? b.phase[i] : 0.0;
    if (run_rows_ % kPointsPerCycle == 0) {
      cycles.push_back({row, step, DropReason::kNone, b.condition ? b.condition[i] : 0, known});
    } else {
      auto& c = cycles.back();
      if (known && !c.step_known) {
        c.step = step;
        c.step_known = true;
      } else if (known && step != c.step && c.reason == DropReason::kNone) {
        c.reason = DropReason::kStepChangesInCycle;
      }
      // `!(phase > last)` also catches NaN phases.
      if (b.phase && !(phase > last_phase_) && c.reason == DropReason::kNone)
        c.reason = DropReason::kPhaseNotIncreasing;
    }
    last_phase_ = phase;
    ++run_rows_;
    ++index_.groups[cur_group_].rows;
  }
  index_.rows += b.rows;
}

// Duplicated rows (a stride exported twice) look like two whole cycles with one (condition,
// step): the first is kept, every later copy is dropped with a reason instead of being counted
// twice. Cycles without a step value are identified by their position, so never duplicates.
void CycleIndexBuilder::mark_duplicate_steps(std::vector<CycleInfo>& cycles) {
  std::vector<std::size_t> order;
  order.reserve(cycles.size());
  for (std::size_t i = 0; i < cycles.size(); ++i)
    if (cycles[i].step_known) order.push_back(i);
  const auto key = [&](std::size_t i) { return std::pair{cycles[i].condition, cycles[i].step}; };
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return key(a) < key(b); });
  for (std::size_t k = 1; k < order.size(); ++k) {
    auto& c = cycles[order[k]];
    if (key(order[k]) == key(order[k - 1]) && c.reason == DropReason::kNone) c.reason = DropReason::kDuplicateStep;
  }
}

CycleIndex CycleIndexBuilder::finish() {
  close_run();
  std::int64_t total = 0;
  for (std::size_t g = 0; g < index_.groups.size(); ++g) {
    auto& info = index_.groups[g];
    if (info.rows % kPointsPerCycle != 0) info.reason = DropReason::kGroupRowsNotMultiple;
    info.first_cycle = total;
    if (info.usable() && index_.has_step) mark_duplicate_steps(group_cycles_[g]);
    if (info.usable()) {
      info.cycles = info.rows / kPointsPerCycle;
      index_.cycles.insert(index_.cycles.end(), group_cycles_[g].begin(), group_cycles_[g].end());
      total += info.cycles;
    }
    group_cycles_[g] = {};
  }
  CycleIndex out = std::move(index_);
  *this = CycleIndexBuilder{};
  return out;
}

}  // namespace cadence::gait
