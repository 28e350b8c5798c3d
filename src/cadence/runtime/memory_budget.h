// Back-pressure on bytes in flight. A producer reserves the bytes of a large buffer (decoded
// audio, an encoded shard, a batch of cycles) before allocating it and blocks while the budget
// is spent; releasing wakes the waiters. This is what keeps peak RSS under `--memory-limit`
// whatever the corpus size, instead of hoping the OS copes.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

#include "cadence/runtime/cancellation.h"

namespace cadence::runtime {

class MemoryBudget {
 public:
  // limit_bytes == 0 means unlimited (reservations are still counted, peak still reported).
  explicit MemoryBudget(std::uint64_t limit_bytes = 0) : limit_bytes_(limit_bytes) {}
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  // Blocks until `bytes` fit. A single request larger than the whole limit is granted once
  // nothing else is reserved, so an oversized item runs alone instead of deadlocking.
  // Throws Cancelled if `cancel` fires while waiting.
  void reserve(std::uint64_t bytes, const CancellationToken* cancel = nullptr);
  // As reserve(), but granted at once whenever `may_overdraw()` turns true while waiting. An
  // ordered pipeline passes "my item is the one the consumer waits for": without it, results
  // of later items could fill the budget while the earliest item waits, and nothing would move.
  void reserve(std::uint64_t bytes, const CancellationToken* cancel,
               const std::function<bool()>& may_overdraw);
  [[nodiscard]] bool try_reserve(std::uint64_t bytes);
  void release(std::uint64_t bytes) noexcept;

  [[nodiscard]] std::uint64_t limit_bytes() const noexcept { return limit_bytes_; }
  [[nodiscard]] std::uint64_t reserved_bytes() const;
  [[nodiscard]] std::uint64_t peak_reserved_bytes() const;
  // How many reserve() calls had to wait: a run report uses it to say memory was the limit.
  [[nodiscard]] std::uint64_t waits() const;

 private:
  [[nodiscard]] bool fits(std::uint64_t bytes) const noexcept;
  void grant(std::uint64_t bytes) noexcept;

  const std::uint64_t limit_bytes_;
  std::uint64_t reserved_ = 0;
  std::uint64_t peak_ = 0;
  std::uint64_t waits_ = 0;
  mutable std::mutex mutex_;
  std::condition_variable freed_;
};

// RAII reservation: releases on destruction, movable so it can travel with the buffer it covers.
class Reservation {
 public:
  Reservation() = default;
  Reservation(MemoryBudget& budget, std::uint64_t bytes, const CancellationToken* cancel = nullptr)
      : budget_(&budget), bytes_(bytes) {
    budget.reserve(bytes, cancel);
  }
  Reservation(MemoryBudget& budget, std::uint64_t bytes, const CancellationToken* cancel,
              const std::function<bool()>& may_overdraw)
      : budget_(&budget), bytes_(bytes) {
    budget.reserve(bytes, cancel, may_overdraw);
  }
  Reservation(Reservation&& other) noexcept : budget_(other.budget_), bytes_(other.bytes_) {
    other.budget_ = nullptr;
  }
  Reservation& operator=(Reservation&& other) noexcept {
    if (this != &other) {
      reset();
      budget_ = other.budget_;
      bytes_ = other.bytes_;
      other.budget_ = nullptr;
    }
    return *this;
  }
  ~Reservation() { reset(); }
  void reset() noexcept {
    if (budget_) budget_->release(bytes_);
    budget_ = nullptr;
  }
  [[nodiscard]] std::uint64_t bytes() const noexcept { return budget_ ? bytes_ : 0; }

 private:
  MemoryBudget* budget_ = nullptr;
  std::uint64_t bytes_ = 0;
};

}  // namespace cadence::runtime
