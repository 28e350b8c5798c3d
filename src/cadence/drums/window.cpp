#include "cadence/drums/window.h"

#include <cmath>

namespace cadence::drums {

std::int64_t onset_sample(double onset_s, int rate_hz) noexcept { return std::llround(onset_s * rate_hz); }

Window onset_window(std::int64_t onset, double pad_before_s, double clip_s, int rate_hz) noexcept {
  return {onset - std::llround(pad_before_s * rate_hz), std::llround(clip_s * rate_hz)};
}

}  // namespace cadence::drums
