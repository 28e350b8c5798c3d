// Runs process_pair over every input on the job's workers and hands the results to one
// consumer (the Python shard writer) strictly in input order, whatever the number of jobs:
// the output bytes are the same for 1, 2 or 8 jobs, and a resumed run can tell exactly which
// inputs were committed. Results waiting for an earlier input hold their memory reservation,
// so a slow consumer stalls the workers (back-pressure) instead of growing memory.
#pragma once

#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "cadence/drums/pair_processor.h"
#include "cadence/runtime/job.h"

namespace cadence::drums {

class PrepareRun {
 public:
  // Starts the workers at once. `job` must outlive this object.
  PrepareRun(std::vector<PairInput> inputs, PrepareConfig config, runtime::Job& job);
  ~PrepareRun();  // cancels the job if still running, and waits for the workers
  PrepareRun(const PrepareRun&) = delete;
  PrepareRun& operator=(const PrepareRun&) = delete;

  // The next result in input order; nullopt when every input has been returned. Blocks while
  // it is being computed. After cancellation, returns the results finished in order, then
  // throws runtime::Cancelled. Rethrows an unexpected worker error.
  std::optional<PairResult> next();
  [[nodiscard]] std::size_t size() const noexcept { return inputs_.size(); }
  [[nodiscard]] std::size_t next_index() const noexcept { return next_.load(); }

 private:
  void produce();

  std::vector<PairInput> inputs_;
  PrepareConfig config_;
  runtime::Job& job_;
  std::vector<std::optional<PairResult>> slots_;
  std::atomic<std::size_t> next_{0};
  std::mutex mutex_;
  std::condition_variable ready_;
  bool producer_done_ = false;
  std::exception_ptr error_;
  std::thread producer_;
};

}  // namespace cadence::drums
