#include "cadence/runtime/memory_budget.h"

#include <algorithm>
#include <chrono>

namespace cadence::runtime {

bool MemoryBudget::fits(std::uint64_t bytes) const noexcept {
  if (limit_bytes_ == 0 || reserved_ == 0) return true;
  return reserved_ + bytes <= limit_bytes_;
}

void MemoryBudget::grant(std::uint64_t bytes) noexcept {
  reserved_ += bytes;
  peak_ = std::max(peak_, reserved_);
}

void MemoryBudget::reserve(std::uint64_t bytes, const CancellationToken* cancel) {
  reserve(bytes, cancel, nullptr);
}

void MemoryBudget::reserve(std::uint64_t bytes, const CancellationToken* cancel,
                           const std::function<bool()>& may_overdraw) {
  std::unique_lock lock(mutex_);
  if (!fits(bytes)) {
    ++waits_;
    // Wake periodically to notice cancellation or a change of `may_overdraw`: neither can
    // notify this condition variable.
    while (!fits(bytes) && !(may_overdraw && may_overdraw())) {
      if (cancel) cancel->throw_if_cancelled();
      freed_.wait_for(lock, std::chrono::milliseconds(20));
    }
  }
  grant(bytes);
}

bool MemoryBudget::try_reserve(std::uint64_t bytes) {
  std::lock_guard lock(mutex_);
  if (!fits(bytes)) return false;
  grant(bytes);
  return true;
}

void MemoryBudget::release(std::uint64_t bytes) noexcept {
  {
    std::lock_guard lock(mutex_);
    reserved_ -= std::min(bytes, reserved_);
  }
  freed_.notify_all();
}

std::uint64_t MemoryBudget::reserved_bytes() const {
  std::lock_guard lock(mutex_);
  return reserved_;
}

std::uint64_t MemoryBudget::peak_reserved_bytes() const {
  std::lock_guard lock(mutex_);
  return peak_;
}

std::uint64_t MemoryBudget::waits() const {
  std::lock_guard lock(mutex_);
  return waits_;
}

}  // namespace cadence::runtime
