#include "cadence/drums/prepare_run.h"

namespace cadence::drums {

PrepareRun::PrepareRun(std::vector<PairInput> inputs, PrepareConfig config, runtime::Job& job)
    : inputs_(std::move(inputs)), config_(std::move(config)), job_(job), slots_(inputs_.size()) {
  job_.progress().set_total(static_cast<std::int64_t>(inputs_.size()));
  job_.progress().counter("files");
  producer_ = std::thread([this] { produce(); });
}

PrepareRun::~PrepareRun() {
  {
    std::lock_guard lock(mutex_);
    if (!producer_done_) job_.cancellation().cancel();
  }
  producer_.join();
}

void PrepareRun::produce() {
  auto& files = job_.progress().counter("files");
  auto& rejected = job_.progress().counter("rejected");
  auto& records = job_.progress().counter("records");
  auto& audio_ms = job_.progress().counter("audio_ms");
  try {
    job_.parallel_for(inputs_.size(), [&](std::size_t i) {
      // A worker's encoders outlive one run; a run with other FLAC settings makes new ones.
      thread_local std::unique_ptr<PairScratch> scratch;
      thread_local std::pair<int, std::uint32_t> scratch_settings{-1, 0};
      const std::pair<int, std::uint32_t> settings{config_.flac_level, config_.index_block_size};
      if (!scratch || scratch_settings != settings) {
        scratch = std::make_unique<PairScratch>(config_);
        scratch_settings = settings;
      }
      PairResult r = process_pair(inputs_[i], config_, *scratch, job_,
                                  [this, i] { return next_.load() == i; });
      job_.progress().add(files);
      if (r.reject != Reject::None) job_.progress().add(rejected);
      job_.progress().add(records, r.records ? r.records->length : 0);
      job_.progress().add(audio_ms, static_cast<std::int64_t>(r.stats.audio_s * 1e3));
      {
        std::lock_guard lock(mutex_);
        slots_[i] = std::move(r);
      }
      ready_.notify_all();
    });
  } catch (...) {
    std::lock_guard lock(mutex_);
    error_ = std::current_exception();
  }
  {
    std::lock_guard lock(mutex_);
    producer_done_ = true;
  }
  ready_.notify_all();
}

std::optional<PairResult> PrepareRun::next() {
  const std::size_t i = next_.load();
  if (i >= slots_.size()) return std::nullopt;
  std::unique_lock lock(mutex_);
  ready_.wait(lock, [&] { return slots_[i].has_value() || producer_done_; });
  if (!slots_[i]) {
    // The producer stopped before reaching input i: cancelled, or a worker failed.
    if (error_) std::rethrow_exception(error_);
    throw runtime::Cancelled();
  }
  std::optional<PairResult> out = std::move(slots_[i]);
  slots_[i].reset();
  next_.store(i + 1);
  return out;
}

}  // namespace cadence::drums
