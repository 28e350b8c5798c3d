// Test support (not in the engine library or the shipped extension): tests/support/CMakeLists.txt.
// A synthetic workload for exercising the runtime end to end (pool, budget, progress, timers,
// cancellation) without real data: the Python tests use it to prove that Ctrl-C stops C++
// workers and that the budget bounds bytes in flight.
#pragma once

#include <cstdint>

#include "cadence/runtime/job.h"

namespace cadence::runtime {

struct SyntheticLoadResult {
  std::int64_t items_done = 0;
  std::int64_t max_concurrent = 0;  // most items that ever held their reservation at once
};

// Runs `items` items; each reserves `item_bytes` from the job's budget, sleeps `item_ms`, bumps
// the counter "items" and releases. Throws Cancelled if the job is cancelled midway.
SyntheticLoadResult run_synthetic_load(Job& job, std::int64_t items, double item_ms,
                                       std::uint64_t item_bytes);

}  // namespace cadence::runtime
