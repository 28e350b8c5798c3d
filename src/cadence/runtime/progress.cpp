#include "cadence/runtime/progress.h"

namespace cadence::runtime {

Progress::Counter& Progress::counter(const std::string& name) {
  std::lock_guard lock(mutex_);
  for (auto& [n, c] : counters_)
    if (n == name) return c;
  counters_.emplace_back(std::piecewise_construct, std::forward_as_tuple(name),
                         std::forward_as_tuple(0));
  return counters_.back().second;
}

std::vector<std::pair<std::string, std::int64_t>> Progress::snapshot() const {
  std::lock_guard lock(mutex_);
  std::vector<std::pair<std::string, std::int64_t>> out;
  out.reserve(counters_.size());
  for (const auto& [n, c] : counters_) out.emplace_back(n, c.load(std::memory_order_relaxed));
  return out;
}

}  // namespace cadence::runtime
