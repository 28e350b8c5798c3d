// Per-stage timers summed over all workers ("decode", "resample", "encode", "write"...), so a
// run report can say where the time went. Like Progress, stages are registered once and then
// timed lock-free: a ScopedStage adds its wall time to an atomic on destruction.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace cadence::runtime {

struct StageTime {
  std::string name;
  double seconds;      // summed across workers: may exceed the run's wall time
  std::int64_t calls;  // how many scopes were timed
};

class StageTimers {
 public:
  struct Stage {
    explicit Stage(std::string n) : name(std::move(n)) {}
    std::string name;
    std::atomic<std::int64_t> nanoseconds{0};
    std::atomic<std::int64_t> calls{0};
  };

  // Returns the stage called `name`, creating it. The reference stays valid for our lifetime.
  Stage& stage(const std::string& name);
  [[nodiscard]] std::vector<StageTime> snapshot() const;

 private:
  mutable std::mutex mutex_;
  std::deque<Stage> stages_;
};

class ScopedStage {
 public:
  explicit ScopedStage(StageTimers::Stage& stage)
      : stage_(stage), start_(std::chrono::steady_clock::now()) {}
  ~ScopedStage() {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now() - start_)
                        .count();
    stage_.nanoseconds.fetch_add(ns, std::memory_order_relaxed);
    stage_.calls.fetch_add(1, std::memory_order_relaxed);
  }
  ScopedStage(const ScopedStage&) = delete;
  ScopedStage& operator=(const ScopedStage&) = delete;

 private:
  StageTimers::Stage& stage_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace cadence::runtime
