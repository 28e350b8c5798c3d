#include "synthetic_load.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>

namespace cadence::runtime {

SyntheticLoadResult run_synthetic_load(Job& job, std::int64_t items, double item_ms,
                                       std::uint64_t item_bytes) {
  job.progress().set_total(items);
  auto& done = job.progress().counter("items");
  auto& stage = job.timers().stage("work");
  std::atomic<std::int64_t> concurrent{0};
  std::atomic<std::int64_t> max_concurrent{0};
  job.parallel_for(static_cast<std::size_t>(std::max<std::int64_t>(items, 0)), [&](std::size_t) {
    Reservation hold(job.budget(), item_bytes, &job.cancellation());
    const auto now = concurrent.fetch_add(1) + 1;
    for (auto seen = max_concurrent.load(); now > seen && !max_concurrent.compare_exchange_weak(seen, now);) {
    }
    {
      ScopedStage t(stage);
      std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(item_ms));
    }
    concurrent.fetch_sub(1);
    job.progress().add(done);
  });
  return {done.load(), max_concurrent.load()};
}

}  // namespace cadence::runtime
