// Named progress counters that C++ workers bump lock-free and that a Python progress bar polls
// from another thread while the workers run with the GIL released. Counters are registered
// before a job starts (registration locks; bumping never does), so each pipeline chooses its
// own quantities: files, records, audio seconds, bytes.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace cadence::runtime {

class Progress {
 public:
  using Counter = std::atomic<std::int64_t>;

  // Returns the counter called `name`, creating it at zero. The reference stays valid for the
  // life of this object.
  Counter& counter(const std::string& name);
  // Convenience for the planned amount of work, shown as a bar's total.
  void set_total(std::int64_t items) { counter("total").store(items); }
  void add(Counter& c, std::int64_t n = 1) noexcept { c.fetch_add(n, std::memory_order_relaxed); }

  // A consistent-enough copy for display: each value is read atomically, in registration order.
  [[nodiscard]] std::vector<std::pair<std::string, std::int64_t>> snapshot() const;

 private:
  mutable std::mutex mutex_;
  std::deque<std::pair<std::string, Counter>> counters_;  // deque: stable addresses
};

}  // namespace cadence::runtime
