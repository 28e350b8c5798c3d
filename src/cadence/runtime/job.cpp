#include "cadence/runtime/job.h"

namespace cadence::runtime {

ThreadPool& Job::pool() {
  std::lock_guard lock(pool_mutex_);
  if (!pool_) pool_ = std::make_unique<ThreadPool>(options_.jobs);
  return *pool_;
}

void Job::parallel_for(std::size_t n, const std::function<void(std::size_t)>& fn) {
  pool().parallel_for(n, fn, &cancel_);
}

}  // namespace cadence::runtime
