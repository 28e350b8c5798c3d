#include "cadence/runtime/job.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <utility>
#include <vector>

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
  auto& items = job.progress().counter("items");  // the load's counter (one per name)
  std::thread canceller([&] {
    while (items.load() == 0) std::this_thread::yield();  // mid-run, however busy the machine
    job.cancellation().cancel();
  });
  EXPECT_THROW(run_synthetic_load(job, 100000, 1.0, 0), Cancelled);
  canceller.join();
  EXPECT_GT(items.load(), 0);
  EXPECT_LT(items.load(), 100000);
  EXPECT_EQ(job.budget().reserved_bytes(), 0u);  // every reservation was given back
}

// for_each: one worker or one item stays in the calling thread; otherwise every item runs once
// on the pool.
TEST(Job, ForEachRunsSeriallyInTheCallerWithOneWorkerOrOneItem) {
  const auto caller = std::this_thread::get_id();
  for (auto [jobs, n] : {std::pair{1, std::size_t{5}}, std::pair{4, std::size_t{1}}}) {
    Job job({jobs, 0});
    std::vector<std::size_t> order;
    job.for_each(n, [&](std::size_t i) {
      EXPECT_EQ(std::this_thread::get_id(), caller);
      order.push_back(i);
    });
    std::vector<std::size_t> expected(n);
    for (std::size_t i = 0; i < n; ++i) expected[i] = i;
    EXPECT_EQ(order, expected);
  }
}

TEST(Job, ForEachRunsEveryItemOnceOnThePool) {
  Job job({3, 0});
  std::vector<std::atomic<int>> hits(100);
  job.for_each(hits.size(), [&](std::size_t i) { hits[i].fetch_add(1); });
  for (const auto& h : hits) EXPECT_EQ(h.load(), 1);
}
