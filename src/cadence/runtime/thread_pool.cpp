#include "cadence/runtime/thread_pool.h"

#include <atomic>
#include <exception>

namespace cadence::runtime {

std::size_t resolve_jobs(int jobs) noexcept {
  if (jobs > 0) return static_cast<std::size_t>(jobs);
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : hw;
}

ThreadPool::ThreadPool(int jobs) {
  const std::size_t n = resolve_jobs(jobs);
  workers_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::submit(std::function<void()> task) {
  {
    std::lock_guard lock(mutex_);
    tasks_.push(std::move(task));
  }
  wake_.notify_one();
}

void ThreadPool::worker_loop() {
  for (;;) {
    std::function<void()> task;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopping and drained
      task = std::move(tasks_.front());
      tasks_.pop();
    }
    task();
  }
}

void ThreadPool::parallel_for(std::size_t n, const std::function<void(std::size_t)>& fn,
                              CancellationToken* cancel) {
  if (n == 0) return;
  // Shared state lives on this stack frame: we do not return before every runner has finished.
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr first_error;
  std::mutex error_mutex;
  std::size_t running = 0;
  std::mutex done_mutex;
  std::condition_variable done;

  auto stop_requested = [&] { return failed.load() || (cancel && cancel->cancelled()); };
  auto runner = [&] {
    for (std::size_t i; !stop_requested() && (i = next.fetch_add(1)) < n;) {
      try {
        fn(i);
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
        failed = true;
      }
    }
    std::lock_guard lock(done_mutex);
    if (--running == 0) done.notify_all();
  };

  const std::size_t n_runners = std::min(n, workers_.size());
  running = n_runners;
  for (std::size_t r = 0; r < n_runners; ++r) submit(runner);
  {
    std::unique_lock lock(done_mutex);
    done.wait(lock, [&] { return running == 0; });
  }
  if (first_error) std::rethrow_exception(first_error);
  if (cancel && cancel->cancelled() && next.load() < n) throw Cancelled();
}

}  // namespace cadence::runtime
