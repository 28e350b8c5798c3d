// Band-limited sample-rate conversion through libsoxr (high quality: 20-bit, linear phase).
// The seed pipeline "resampled" 44.1 -> 22.05 kHz by dropping every other sample, which folds
// everything above 11 kHz (cymbals, hi-hats) back into the band as aliasing; this does not.
#pragma once

#include <cstddef>
#include <vector>

namespace cadence::kernels {

// Number of output samples resample() produces for `in_samples` samples: round(n * out / in).
std::size_t resampled_length(std::size_t in_samples, int in_rate_hz, int out_rate_hz) noexcept;

// Mono float32 in, mono float32 out. Same rates return a copy. Runs single-threaded (the engine
// parallelises across files, not inside soxr). Throws std::runtime_error on a soxr error.
std::vector<float> resample(const float* in, std::size_t in_samples, int in_rate_hz,
                            int out_rate_hz);

}  // namespace cadence::kernels
