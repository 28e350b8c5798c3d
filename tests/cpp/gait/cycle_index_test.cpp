#include "cadence/gait/cycle_index.h"

#include <gtest/gtest.h>

#include <vector>

namespace cadence::gait {
namespace {

// Key columns of `cycles` strides of (subject, task), step = 0.. and phase 0..100.
struct Keys {
  std::vector<std::int32_t> subject, task;
  std::vector<std::int64_t> step;
  std::vector<double> phase;
  std::vector<std::uint8_t> step_valid;  // used when with_validity: 0 = empty step cell
  std::vector<std::int32_t> condition;   // used when with_condition
  bool with_validity = false, with_condition = false;
  void add(int s, int t, int cycles, int points = kPointsPerCycle, int first_step = 0, bool step_present = true,
           int cond = 0) {
    for (int c = 0; c < cycles; ++c)
      for (int p = 0; p < points; ++p) {
        subject.push_back(s);
        task.push_back(t);
        step.push_back(step_present ? first_step + c : 0);
        step_valid.push_back(step_present);
        condition.push_back(cond);
        phase.push_back(100.0 * p / (points - 1));
      }
  }
  KeyBatch batch(std::int64_t begin, std::int64_t end) const {
    return {subject.data() + begin, task.data() + begin, step.data() + begin, phase.data() + begin, end - begin,
            with_validity ? step_valid.data() + begin : nullptr, with_condition ? condition.data() + begin : nullptr};
  }
  std::int64_t rows() const { return static_cast<std::int64_t>(subject.size()); }
};

CycleIndex build(const Keys& k, std::int64_t batch_rows) {
  CycleIndexBuilder b;
  for (std::int64_t r = 0; r < k.rows(); r += batch_rows) b.append(k.batch(r, std::min(k.rows(), r + batch_rows)));
  return b.finish();
}

TEST(CycleIndex, GroupsAndCyclesAreTheSameForAnyBatchSize) {
  Keys k;
  k.add(0, 0, 3);
  k.add(0, 1, 2);
  k.add(1, 0, 4);
  for (std::int64_t batch : {1, 7, 149, 150, 151, 1000, 100000}) {
    const CycleIndex ix = build(k, batch);
    ASSERT_EQ(ix.groups.size(), 3u) << batch;
    EXPECT_EQ(ix.rows, 9 * kPointsPerCycle);
    EXPECT_EQ(ix.groups[2].subject, 1);
    EXPECT_EQ(ix.groups[2].cycles, 4);
    EXPECT_EQ(ix.groups[2].first_cycle, 5);
    ASSERT_EQ(ix.cycles.size(), 9u);
    EXPECT_EQ(ix.cycles[5].row, 5 * kPointsPerCycle);
    EXPECT_EQ(ix.cycles[8].step, 3);
    EXPECT_EQ(ix.runs.size(), 3u);
    for (const auto& c : ix.cycles) EXPECT_EQ(c.reason, DropReason::kNone);
  }
}

TEST(CycleIndex, GroupNotAMultipleOf150IsRejectedWithItsReason) {
  Keys k;
  k.add(0, 0, 2);
  k.add(0, 1, 1, 149);  // a short stride: the group has 149 rows
  k.add(0, 2, 1);
  const CycleIndex ix = build(k, 64);
  ASSERT_EQ(ix.groups.size(), 3u);
  EXPECT_TRUE(ix.groups[0].usable());
  EXPECT_EQ(ix.groups[1].reason, DropReason::kGroupRowsNotMultiple);
  EXPECT_EQ(ix.groups[1].cycles, 0);
  EXPECT_EQ(ix.groups[1].rows, 149);
  EXPECT_EQ(ix.groups[2].first_cycle, 2);
  EXPECT_EQ(ix.cycles.size(), 3u);
  EXPECT_STREQ(drop_reason_name(ix.groups[1].reason), "group_rows_not_multiple_of_150");
}

TEST(CycleIndex, GroupThatComesBackLaterKeepsItsRowsInFileOrder) {
  Keys k;
  k.add(0, 0, 2);
  k.add(1, 0, 1);
  k.add(0, 0, 1, kPointsPerCycle, 2);
  const CycleIndex ix = build(k, 100);
  ASSERT_EQ(ix.groups.size(), 2u);
  EXPECT_EQ(ix.groups[0].runs, 2);
  EXPECT_EQ(ix.groups[0].cycles, 3);
  EXPECT_EQ(ix.cycles[2].row, 3 * kPointsPerCycle);
  EXPECT_EQ(ix.cycles[2].step, 2);
  EXPECT_EQ(ix.runs.size(), 3u);
}

TEST(CycleIndex, RunsThatSplitACycleRejectTheGroup) {
  Keys k;
  k.add(0, 0, 1, 100);
  k.add(1, 0, 1);
  k.add(0, 0, 1, 200);  // 300 rows in all, but cut 100 + 200
  const CycleIndex ix = build(k, 1000);
  EXPECT_EQ(ix.groups[0].reason, DropReason::kRunRowsNotMultiple);
  EXPECT_TRUE(ix.groups[1].usable());
}

TEST(CycleIndex, MalformedCyclesAreFlagged) {
  Keys k;
  k.add(0, 0, 3);
  k.step[kPointsPerCycle + 10] = 99;    // cycle 1: the step changes inside it
  k.phase[2 * kPointsPerCycle + 5] = 0.0;  // cycle 2: phase goes back
  const CycleIndex ix = build(k, 77);
  ASSERT_EQ(ix.cycles.size(), 3u);
  EXPECT_EQ(ix.cycles[0].reason, DropReason::kNone);
  EXPECT_EQ(ix.cycles[1].reason, DropReason::kStepChangesInCycle);
  EXPECT_EQ(ix.cycles[2].reason, DropReason::kPhaseNotIncreasing);
  EXPECT_TRUE(ix.groups[0].usable());
}

TEST(CycleIndex, DuplicatedStridesAreDroppedAfterTheFirstCopy) {
  Keys k;
  k.add(0, 0, 3);                   // steps 0, 1, 2
  k.add(0, 0, 2, kPointsPerCycle);  // steps 0, 1 again: the rows were exported twice
  const CycleIndex ix = build(k, 1000);
  ASSERT_EQ(ix.cycles.size(), 5u);
  const DropReason want[5] = {DropReason::kNone, DropReason::kNone, DropReason::kNone,
                              DropReason::kDuplicateStep, DropReason::kDuplicateStep};
  for (int c = 0; c < 5; ++c) EXPECT_EQ(ix.cycles[c].reason, want[c]) << c;
  EXPECT_STREQ(drop_reason_name(DropReason::kDuplicateStep), "duplicate_step");
}

TEST(CycleIndex, FirstRowIsTheGroupsOwnFirstRowNotItsBatchStart) {
  Keys k;
  k.add(0, 0, 3);  // rows 0..449
  k.add(0, 1, 2);  // rows 450..749
  k.add(1, 0, 4);  // rows 750..1349
  for (std::int64_t batch : {1, 7, 149, 150, 151, 1000, 100000}) {
    const CycleIndex ix = build(k, batch);
    ASSERT_EQ(ix.groups.size(), 3u) << batch;
    EXPECT_EQ(ix.groups[0].first_row, 0) << batch;
    EXPECT_EQ(ix.groups[1].first_row, 3 * kPointsPerCycle) << batch;
    EXPECT_EQ(ix.groups[2].first_row, 5 * kPointsPerCycle) << batch;
  }
}

TEST(CycleIndex, EmptyStepCellsAreUnknownNotDuplicates) {
  Keys k;
  k.with_validity = true;
  k.add(0, 0, 3, kPointsPerCycle, 0, /*step_present=*/false);
  k.add(0, 1, 2);
  k.step_valid[4 * kPointsPerCycle] = 0;  // task 1, cycle 1: first row empty, the rest say step 1
  const CycleIndex ix = build(k, 100);
  ASSERT_EQ(ix.cycles.size(), 5u);
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(ix.cycles[c].reason, DropReason::kNone) << c;
    EXPECT_FALSE(ix.cycles[c].step_known) << c;
    EXPECT_EQ(ix.cycles[c].step, -1) << c;
  }
  EXPECT_EQ(ix.cycles[4].reason, DropReason::kNone);
  EXPECT_TRUE(ix.cycles[4].step_known);
  EXPECT_EQ(ix.cycles[4].step, 1);
}

TEST(CycleIndex, StepsRestartingPerConditionAreNotDuplicates) {
  Keys k;
  k.with_condition = true;
  k.add(0, 0, 2, kPointsPerCycle, 0, true, /*cond=*/0);  // steps 0, 1 at speed A
  k.add(0, 0, 2, kPointsPerCycle, 0, true, /*cond=*/1);  // steps 0, 1 again at speed B
  k.add(0, 0, 1, kPointsPerCycle, 1, true, /*cond=*/1);  // step 1 at speed B twice: a duplicate
  const CycleIndex ix = build(k, 333);
  ASSERT_EQ(ix.cycles.size(), 5u);
  for (int c = 0; c < 4; ++c) EXPECT_EQ(ix.cycles[c].reason, DropReason::kNone) << c;
  EXPECT_EQ(ix.cycles[4].reason, DropReason::kDuplicateStep);
  EXPECT_EQ(ix.cycles[2].condition, 1);
}

TEST(CycleIndex, WorksWithoutStepAndPhase) {
  Keys k;
  k.add(2, 3, 2);
  CycleIndexBuilder b;
  b.append({k.subject.data(), k.task.data(), nullptr, nullptr, k.rows()});
  const CycleIndex ix = b.finish();
  EXPECT_FALSE(ix.has_step);
  EXPECT_EQ(ix.cycles.size(), 2u);
  EXPECT_EQ(ix.cycles[1].step, -1);
  EXPECT_EQ(ix.find_group(2, 3), 0);
  EXPECT_EQ(ix.find_group(0, 0), -1);
}

}  // namespace
}  // namespace cadence::gait
