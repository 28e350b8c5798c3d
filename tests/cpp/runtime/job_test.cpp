#include "cadence/runtime/job.h"

#include <gtest/gtest.h>

#include <thread>

#include "synthetic_load.h"

using namespace cadence::runtime;

TEST(Job, SyntheticLoadHonoursBudgetAndCountsProgress) {
  Job job({4, 2 * 1000});
  const auto r = run_synthetic_load(job, 40, 1.0, 1000);
  EXPECT_EQ(r.items_done, 40);
  EXPECT_LE(r.max_concurrent, 2);
  EXPECT_EQ(job.budget().peak_reserved_bytes(), 2000u);
  const auto stages = job.timers().snapshot();
  ASSERT_EQ(stages.size(), 1u);
  EXPECT_EQ(stages[0].calls, 40);
}

TEST(Job, CancelFromAnotherThreadStopsTheLoad) {
  Job job({2, 0});
  std::thread canceller([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    job.cancellation().cancel();
  });
  EXPECT_THROW(run_synthetic_load(job, 100000, 1.0, 0), Cancelled);
  canceller.join();
  const auto snap = job.progress().snapshot();
  EXPECT_LT(snap.at(1).second, 100000);
  EXPECT_EQ(job.budget().reserved_bytes(), 0u);  // every reservation was given back
}
