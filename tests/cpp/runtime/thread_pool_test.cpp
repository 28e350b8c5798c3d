#include "cadence/runtime/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <numeric>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

using cadence::runtime::CancellationToken;
using cadence::runtime::Cancelled;
using cadence::runtime::ThreadPool;

TEST(ThreadPool, RunsEveryIndexExactlyOnce) {
  ThreadPool pool(4);
  std::vector<std::atomic<int>> hits(10000);
  pool.parallel_for(hits.size(), [&](std::size_t i) { hits[i].fetch_add(1); });
  for (std::size_t i = 0; i < hits.size(); ++i) ASSERT_EQ(hits[i].load(), 1) << "index " << i;
}

TEST(ThreadPool, ResolvesJobsZeroToAllCores) {
  EXPECT_EQ(cadence::runtime::resolve_jobs(3), 3u);
  EXPECT_GE(cadence::runtime::resolve_jobs(0), 1u);
  ThreadPool pool(0);
  EXPECT_EQ(pool.size(), cadence::runtime::resolve_jobs(0));
}

TEST(ThreadPool, UsesSeveralThreads) {
  ThreadPool pool(4);
  std::mutex m;
  std::set<std::thread::id> ids;
  std::atomic<std::size_t> seen{0};
  pool.parallel_for(64, [&](std::size_t) {
    {
      std::lock_guard lock(m);
      ids.insert(std::this_thread::get_id());
      seen = ids.size();
    }
    // Each item waits for a second thread to take one: a pool that runs everything on one
    // thread fails below after 10 s instead of passing by luck on a busy machine.
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (seen.load() < 2 && std::chrono::steady_clock::now() < give_up) std::this_thread::yield();
  });
  EXPECT_GT(ids.size(), 1u);
  EXPECT_LE(ids.size(), 4u);
}

TEST(ThreadPool, RethrowsFirstErrorAndStopsEarly) {
  ThreadPool pool(2);
  std::atomic<int> ran{0};
  EXPECT_THROW(pool.parallel_for(100000,
                                 [&](std::size_t i) {
                                   ran.fetch_add(1);
                                   if (i == 10) throw std::runtime_error("bad item 10");
                                 }),
               std::runtime_error);
  EXPECT_LT(ran.load(), 100000);  // the rest were skipped
  // The pool is still usable afterwards.
  std::atomic<int> after{0};
  pool.parallel_for(5, [&](std::size_t) { after.fetch_add(1); });
  EXPECT_EQ(after.load(), 5);
}

TEST(ThreadPool, CancellationSkipsRemainingItems) {
  ThreadPool pool(2);
  CancellationToken cancel;
  std::atomic<int> ran{0};
  EXPECT_THROW(pool.parallel_for(
                   1000,
                   [&](std::size_t i) {
                     ran.fetch_add(1);
                     if (i == 3) cancel.cancel();
                     std::this_thread::sleep_for(std::chrono::microseconds(200));
                   },
                   &cancel),
               Cancelled);
  EXPECT_LT(ran.load(), 1000);
}

TEST(ThreadPool, EmptyRangeIsANoOp) {
  ThreadPool pool(2);
  bool called = false;
  pool.parallel_for(0, [&](std::size_t) { called = true; });
  EXPECT_FALSE(called);
}

TEST(ThreadPool, DeterministicResultUnderManyThreads) {
  std::vector<double> expect(5000), got(5000);
  for (std::size_t i = 0; i < expect.size(); ++i) expect[i] = static_cast<double>(i) * 0.5;
  ThreadPool pool(8);
  pool.parallel_for(got.size(), [&](std::size_t i) { got[i] = static_cast<double>(i) * 0.5; });
  EXPECT_EQ(got, expect);
}
