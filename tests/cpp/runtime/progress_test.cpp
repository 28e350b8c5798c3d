#include "cadence/runtime/progress.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "cadence/runtime/stage_timers.h"
#include "cadence/runtime/thread_pool.h"

using namespace cadence::runtime;

TEST(Progress, CountersSumAcrossThreadsInRegistrationOrder) {
  Progress p;
  p.set_total(1000);
  auto& files = p.counter("files");
  auto& bytes = p.counter("bytes");
  ThreadPool pool(4);
  pool.parallel_for(1000, [&](std::size_t i) {
    p.add(files);
    p.add(bytes, static_cast<std::int64_t>(i));
  });
  const auto snap = p.snapshot();
  ASSERT_EQ(snap.size(), 3u);
  EXPECT_EQ(snap[0].first, "total");
  EXPECT_EQ(snap[0].second, 1000);
  EXPECT_EQ(snap[1].first, "files");
  EXPECT_EQ(snap[1].second, 1000);
  EXPECT_EQ(snap[2].second, 999 * 1000 / 2);
}

TEST(Progress, SameNameGivesSameCounter) {
  Progress p;
  EXPECT_EQ(&p.counter("a"), &p.counter("a"));
  EXPECT_NE(&p.counter("a"), &p.counter("b"));
}

TEST(StageTimers, AccumulatesTimeAndCalls) {
  StageTimers t;
  auto& decode = t.stage("decode");
  const auto outer_start = std::chrono::steady_clock::now();
  for (int i = 0; i < 3; ++i) {
    ScopedStage s(decode);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // at least 5 ms, however busy
  }
  const std::chrono::duration<double> outer = std::chrono::steady_clock::now() - outer_start;
  { ScopedStage s(t.stage("write")); }
  const auto snap = t.snapshot();
  ASSERT_EQ(snap.size(), 2u);
  EXPECT_EQ(snap[0].name, "decode");
  EXPECT_EQ(snap[0].calls, 3);
  // In seconds, between what the sleeps guarantee and the time around them (no bound on speed).
  EXPECT_GE(snap[0].seconds, 0.015);
  EXPECT_LE(snap[0].seconds, outer.count());
  EXPECT_EQ(snap[1].name, "write");
  EXPECT_EQ(snap[1].calls, 1);
}
