#include "codec_floor.h"

#include <atomic>
#include <memory>

#include "cadence/io/audio/flac_encoder.h"

namespace cadence::drums {

std::uint64_t encode_clips_floor(const float* clips, std::size_t rows, std::size_t cols,
                                 int sample_rate_hz, int flac_level, runtime::Job& job) {
  std::atomic<std::uint64_t> total{0};
  job.parallel_for(rows, [&](std::size_t i) {
    thread_local std::unique_ptr<io::audio::FlacEncoder> enc;
    if (!enc) enc = std::make_unique<io::audio::FlacEncoder>(flac_level);
    total.fetch_add(enc->encode(clips + i * cols, cols, sample_rate_hz).size());
  });
  return total.load();
}

}  // namespace cadence::drums
