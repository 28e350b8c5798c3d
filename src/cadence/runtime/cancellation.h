// A cooperative stop flag shared by a job's workers and whoever may cancel it (Ctrl-C in
// Python, a failing sibling task). Workers poll it between items; nothing is interrupted
// mid-write, so a cancelled job leaves only whole outputs behind.
#pragma once

#include <atomic>
#include <stdexcept>

namespace cadence::runtime {

class Cancelled : public std::runtime_error {
 public:
  Cancelled() : std::runtime_error("cancelled") {}
};

class CancellationToken {
 public:
  void cancel() noexcept { flag_.store(true, std::memory_order_release); }
  [[nodiscard]] bool cancelled() const noexcept { return flag_.load(std::memory_order_acquire); }
  // Throws Cancelled when the job was cancelled: the one-line check workers call per item.
  void throw_if_cancelled() const {
    if (cancelled()) throw Cancelled();
  }

 private:
  std::atomic<bool> flag_{false};
};

}  // namespace cadence::runtime
