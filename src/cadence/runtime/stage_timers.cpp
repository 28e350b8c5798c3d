#include "cadence/runtime/stage_timers.h"

namespace cadence::runtime {

StageTimers::Stage& StageTimers::stage(const std::string& name) {
  std::lock_guard lock(mutex_);
  for (auto& s : stages_)
    if (s.name == name) return s;
  return stages_.emplace_back(name);
}

std::vector<StageTime> StageTimers::snapshot() const {
  std::lock_guard lock(mutex_);
  std::vector<StageTime> out;
  out.reserve(stages_.size());
  for (const auto& s : stages_)
    out.push_back({s.name, static_cast<double>(s.nanoseconds.load()) * 1e-9, s.calls.load()});
  return out;
}

}  // namespace cadence::runtime
