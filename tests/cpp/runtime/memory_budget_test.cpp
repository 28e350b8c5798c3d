#include "cadence/runtime/memory_budget.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "cadence/runtime/thread_pool.h"

using cadence::runtime::CancellationToken;
using cadence::runtime::Cancelled;
using cadence::runtime::MemoryBudget;
using cadence::runtime::Reservation;

TEST(MemoryBudget, CountsAndReportsPeak) {
  MemoryBudget b(1000);
  b.reserve(400);
  b.reserve(500);
  EXPECT_EQ(b.reserved_bytes(), 900u);
  b.release(400);
  b.reserve(100);
  EXPECT_EQ(b.reserved_bytes(), 600u);
  EXPECT_EQ(b.peak_reserved_bytes(), 900u);
}

TEST(MemoryBudget, TryReserveRefusesWhenFull) {
  MemoryBudget b(100);
  EXPECT_TRUE(b.try_reserve(60));
  EXPECT_FALSE(b.try_reserve(60));
  b.release(60);
  EXPECT_TRUE(b.try_reserve(60));
}

// Until the waiter is counted in waits() (it found the budget full, under the budget's lock),
// nothing can be said about it: the tests wait for that event, not for a time.
namespace {
void await_waiter(const MemoryBudget& b) {
  while (b.waits() == 0) std::this_thread::yield();
}
}  // namespace

TEST(MemoryBudget, BlocksUntilReleased) {
  MemoryBudget b(100);
  b.reserve(80);
  std::atomic<bool> granted{false};
  std::thread waiter([&] {
    b.reserve(50);
    granted = true;
  });
  await_waiter(b);
  EXPECT_FALSE(granted.load());
  EXPECT_EQ(b.reserved_bytes(), 80u);
  b.release(80);
  waiter.join();
  EXPECT_TRUE(granted.load());
  EXPECT_EQ(b.reserved_bytes(), 50u);
  EXPECT_EQ(b.waits(), 1u);
}

TEST(MemoryBudget, OversizedRequestRunsAloneInsteadOfDeadlocking) {
  MemoryBudget b(100);
  b.reserve(10);
  std::atomic<bool> granted{false};
  std::thread waiter([&] {
    b.reserve(500);
    granted = true;
  });
  await_waiter(b);
  EXPECT_FALSE(granted.load());
  b.release(10);
  waiter.join();
  EXPECT_TRUE(granted.load());
}

TEST(MemoryBudget, WaitEndsOnCancellation) {
  MemoryBudget b(100);
  b.reserve(100);
  CancellationToken cancel;
  std::thread canceller([&] {
    await_waiter(b);  // cancelled while it waits, not before
    cancel.cancel();
  });
  EXPECT_THROW(b.reserve(10, &cancel), Cancelled);
  canceller.join();
  EXPECT_EQ(b.reserved_bytes(), 100u);
  EXPECT_EQ(b.waits(), 1u);
}

TEST(MemoryBudget, BoundsBytesInFlightAcrossWorkers) {
  MemoryBudget b(3 * 1024);
  cadence::runtime::ThreadPool pool(8);
  std::atomic<std::uint64_t> in_flight{0}, worst{0};
  pool.parallel_for(200, [&](std::size_t) {
    Reservation r(b, 1024);
    const auto now = in_flight.fetch_add(1024) + 1024;
    for (auto w = worst.load(); now > w && !worst.compare_exchange_weak(w, now);) {
    }
    std::this_thread::sleep_for(std::chrono::microseconds(300));
    in_flight.fetch_sub(1024);
  });
  EXPECT_LE(worst.load(), 3u * 1024);
  EXPECT_EQ(b.peak_reserved_bytes(), 3u * 1024);  // 8 workers, room for 3
  EXPECT_EQ(b.reserved_bytes(), 0u);
}

TEST(MemoryBudget, ReservationIsMovableAndReleasesOnce) {
  MemoryBudget b(100);
  {
    Reservation a(b, 40);
    Reservation moved = std::move(a);
    EXPECT_EQ(a.bytes(), 0u);
    EXPECT_EQ(moved.bytes(), 40u);
    EXPECT_EQ(b.reserved_bytes(), 40u);
  }
  EXPECT_EQ(b.reserved_bytes(), 0u);
}

TEST(MemoryBudget, UnlimitedStillTracksPeak) {
  MemoryBudget b(0);
  b.reserve(1ull << 40);
  EXPECT_EQ(b.peak_reserved_bytes(), 1ull << 40);
}
