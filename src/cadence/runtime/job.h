// Everything one run shares: the worker pool, the memory budget, progress, stage timers and the
// stop flag. Pipelines take a Job& instead of five loose arguments; the Python layer owns one
// Job per call, polls it for the progress bar and cancels it on Ctrl-C.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>

#include "cadence/runtime/cancellation.h"
#include "cadence/runtime/memory_budget.h"
#include "cadence/runtime/progress.h"
#include "cadence/runtime/stage_timers.h"
#include "cadence/runtime/thread_pool.h"

namespace cadence::runtime {

struct JobOptions {
  int jobs = 0;                         // worker threads; 0 = all cores
  std::uint64_t memory_limit_bytes = 0;  // 0 = unlimited
};

class Job {
 public:
  // With a memory limit, also makes glibc return large freed buffers to the OS (job.cpp).
  explicit Job(const JobOptions& options = {});

  // The pool starts lazily, on the first call: a Job created only to be polled costs no threads.
  ThreadPool& pool();
  MemoryBudget& budget() noexcept { return budget_; }
  Progress& progress() noexcept { return progress_; }
  StageTimers& timers() noexcept { return timers_; }
  CancellationToken& cancellation() noexcept { return cancel_; }
  [[nodiscard]] std::size_t jobs() const noexcept { return resolve_jobs(options_.jobs); }

  // parallel_for on this job's pool, honouring its cancellation token.
  void parallel_for(std::size_t n, const std::function<void(std::size_t)>& fn);
  // One batch of n independent items: in the calling thread when the job has one worker or the
  // batch one item (no pool hand-off for a single window), else parallel_for.
  void for_each(std::size_t n, const std::function<void(std::size_t)>& fn);

 private:
  JobOptions options_;
  MemoryBudget budget_;
  Progress progress_;
  StageTimers timers_;
  CancellationToken cancel_;
  std::mutex pool_mutex_;
  std::unique_ptr<ThreadPool> pool_;
};

}  // namespace cadence::runtime
