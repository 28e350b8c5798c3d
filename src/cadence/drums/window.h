// The one place where a window around an onset is computed, in samples. Preparation (the clips
// layout), the index layout's reader and every Python path call this, so a window never moves
// by a sample between writing and reading (Python's round() rounds halves to even, llround away
// from zero: two formulas would disagree on some --pad-before / --clip values).
#pragma once

#include <cstdint>

namespace cadence::drums {

struct Window {
  std::int64_t start_sample;  // may be negative: the part before the file is zero-padded
  std::int64_t n_samples;
};

// The sample an onset falls on at `rate_hz`.
std::int64_t onset_sample(double onset_s, int rate_hz) noexcept;

// [onset_sample - pad_before_s * rate, ... + clip_s * rate), each length rounded once.
Window onset_window(std::int64_t onset_sample, double pad_before_s, double clip_s, int rate_hz) noexcept;

}  // namespace cadence::drums
