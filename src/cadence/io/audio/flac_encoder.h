// In-memory FLAC encoding through libFLAC (16-bit mono). One encoder per worker thread is
// reused across clips: libFLAC's set-up costs more than encoding a 0.2 s clip.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace cadence::io::audio {

// Float samples are scaled by 32768, rounded and clipped to int16 (libsndfile's convention, so
// PCM16 audio decoded to float and re-encoded is bit-exact).
std::int16_t float_to_pcm16(float x) noexcept;

class FlacEncoder {
 public:
  explicit FlacEncoder(int compression_level = 1);
  ~FlacEncoder();
  FlacEncoder(const FlacEncoder&) = delete;
  FlacEncoder& operator=(const FlacEncoder&) = delete;

  // Encodes mono float32 samples to a complete FLAC stream (fLaC marker, STREAMINFO, frames).
  std::string encode(const float* samples, std::size_t n, int sample_rate_hz);

 private:
  void* encoder_;  // FLAC__StreamEncoder*, opaque so users need no FLAC headers
  int level_;
};

}  // namespace cadence::io::audio
