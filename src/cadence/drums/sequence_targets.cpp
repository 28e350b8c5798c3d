#include "cadence/drums/sequence_targets.h"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace cadence::drums {

std::int64_t onset_frame(std::int64_t offset, std::int64_t hop) noexcept {
  const std::int64_t q = offset / hop;
  return (offset % hop != 0 && offset < 0) ? q - 1 : q;
}

void sequence_targets(const OnsetTable& t, const std::int64_t* files, const std::int64_t* starts, std::size_t count,
                      const FrameGrid& grid, const float* widening, std::size_t n_widening, float* onset_roll,
                      std::uint8_t* velocity_roll) {
  if (grid.hop_samples < 1 || grid.n_samples < 0) throw std::invalid_argument("sequence targets: bad frame grid");
  const std::int64_t frames = grid.n_frames();
  const std::size_t k = static_cast<std::size_t>(t.n_classes);
  const std::size_t per = static_cast<std::size_t>(frames) * k;
  std::fill(onset_roll, onset_roll + count * per, 0.0f);
  std::fill(velocity_roll, velocity_roll + count * per, std::uint8_t{0});
  for (std::size_t w = 0; w < count; ++w) {
    const std::int64_t f = files[w];
    if (f < 0 || static_cast<std::size_t>(f) >= t.n_files)
      throw std::out_of_range("sequence targets: file " + std::to_string(f) + " not in the index of " +
                              std::to_string(t.n_files) + " files");
    const std::int64_t s0 = starts[w];
    const std::int64_t* begin = t.onset_sample + t.file_begin[f];
    const std::int64_t* end = t.onset_sample + t.file_begin[f + 1];
    const std::int64_t* lo = std::lower_bound(begin, end, s0);
    const std::int64_t* hi = std::lower_bound(lo, end, s0 + grid.n_samples);
    float* roll = onset_roll + w * per;
    std::uint8_t* vel = velocity_roll + w * per;
    for (const std::int64_t* p = lo; p < hi; ++p) {
      const std::size_t r = static_cast<std::size_t>(p - t.onset_sample);
      const std::int64_t frame = onset_frame(*p - s0, grid.hop_samples);
      for (std::size_t c = 0; c < k; ++c) {
        if (!t.classes[r * k + c]) continue;
        roll[frame * k + c] = 1.0f;
        std::uint8_t& v = vel[frame * k + c];
        v = std::max(v, t.class_velocity[r * k + c]);
        for (std::size_t d = 1; d <= n_widening; ++d) {
          const float weight = widening[d - 1];
          for (std::int64_t g : {frame - static_cast<std::int64_t>(d), frame + static_cast<std::int64_t>(d)})
            if (g >= 0 && g < frames) roll[g * k + c] = std::max(roll[g * k + c], weight);
        }
      }
    }
  }
}

}  // namespace cadence::drums
