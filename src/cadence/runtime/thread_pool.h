// A fixed pool of worker threads. Every pipeline runs its per-file or per-group work here, so
// `--jobs` means the same thing everywhere. `parallel_for` hands out indices dynamically (one
// atomic counter), which keeps cores busy when items differ wildly in cost (E-GMD files run from
// 0.7 s to 612 s of audio).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

#include "cadence/runtime/cancellation.h"

namespace cadence::runtime {

// Number of workers for a `jobs` option: 0 or negative means every hardware thread.
std::size_t resolve_jobs(int jobs) noexcept;

class ThreadPool {
 public:
  explicit ThreadPool(int jobs = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  [[nodiscard]] std::size_t size() const noexcept { return workers_.size(); }

  // Runs fn(i) for i in [0, n) on the pool and waits. The first exception thrown by any fn
  // cancels the remaining items (through `cancel`, if given, and an internal flag) and is
  // rethrown here. Items not yet started when `cancel` fires are skipped, and Cancelled is
  // thrown. The calling thread only waits: it may hold no locks the items need.
  void parallel_for(std::size_t n, const std::function<void(std::size_t)>& fn,
                    CancellationToken* cancel = nullptr);

 private:
  void submit(std::function<void()> task);
  void worker_loop();

  std::vector<std::thread> workers_;
  std::queue<std::function<void()>> tasks_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
};

}  // namespace cadence::runtime
