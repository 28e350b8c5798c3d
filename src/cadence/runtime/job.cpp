#include "cadence/runtime/job.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace cadence::runtime {

namespace {

// A memory budget only bounds RSS if freed buffers go back to the OS. glibc raises its mmap
// threshold to the size of the largest freed block (up to 32 MiB), after which decoded-audio
// buffers come from per-thread heaps that are kept, not unmapped: RSS then grows well past the
// budget. A fixed threshold keeps big buffers mmapped (returned on free).
void keep_large_buffers_returnable() noexcept {
#if defined(__GLIBC__)
  static const bool once = [] {
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    mallopt(M_TRIM_THRESHOLD, 8 << 20);
    return true;
  }();
  (void)once;
#endif
}

}  // namespace

Job::Job(const JobOptions& options) : options_(options), budget_(options.memory_limit_bytes) {
  if (options.memory_limit_bytes > 0) keep_large_buffers_returnable();
}

ThreadPool& Job::pool() {
  std::lock_guard lock(pool_mutex_);
  if (!pool_) pool_ = std::make_unique<ThreadPool>(options_.jobs);
  return *pool_;
}

void Job::parallel_for(std::size_t n, const std::function<void(std::size_t)>& fn) {
  pool().parallel_for(n, fn, &cancel_);
}

void Job::for_each(std::size_t n, const std::function<void(std::size_t)>& fn) {
  if (jobs() <= 1 || n < 2) {
    for (std::size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  parallel_for(n, fn);
}

}  // namespace cadence::runtime
