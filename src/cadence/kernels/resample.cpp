#include "cadence/kernels/resample.h"

#include <soxr.h>

#include <cmath>
#include <stdexcept>
#include <string>

namespace cadence::kernels {

std::size_t resampled_length(std::size_t in_samples, int in_rate_hz, int out_rate_hz) noexcept {
  return static_cast<std::size_t>(std::llround(static_cast<double>(in_samples) * out_rate_hz /
                                               static_cast<double>(in_rate_hz)));
}

std::vector<float> resample(const float* in, std::size_t in_samples, int in_rate_hz,
                            int out_rate_hz) {
  if (in_rate_hz <= 0 || out_rate_hz <= 0)
    throw std::invalid_argument("resample: sample rates must be positive");
  if (in_rate_hz == out_rate_hz) return std::vector<float>(in, in + in_samples);
  std::vector<float> out(resampled_length(in_samples, in_rate_hz, out_rate_hz));
  if (in_samples == 0 || out.empty()) return out;
  const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
  const soxr_runtime_spec_t runtime = soxr_runtime_spec(1);
  std::size_t in_done = 0, out_done = 0;
  // oneshot flushes the filter's tail, so the output is aligned with the input (no delay).
  const soxr_error_t err = soxr_oneshot(in_rate_hz, out_rate_hz, 1, in, in_samples, &in_done,
                                        out.data(), out.size(), &out_done, &io, &quality, &runtime);
  if (err) throw std::runtime_error(std::string("soxr: ") + err);
  out.resize(out_done);
  out.resize(resampled_length(in_samples, in_rate_hz, out_rate_hz), 0.0f);
  return out;
}

}  // namespace cadence::kernels
