// In-memory FLAC encoding through libFLAC (16-bit mono). One encoder per worker thread is
// reused across clips: libFLAC's set-up costs more than encoding a 0.2 s clip.
// With a fixed block size and a FlacFrames table, a reader can later decode any window by
// decoding only the frames that cover it (flac_decoder.h): frame k holds samples
// [k * block_size, (k + 1) * block_size) and starts at byte offsets[k] of the stream.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace cadence::io::audio {

// Float samples are scaled by 32768, rounded and clipped to int16 (libsndfile's convention, so
// PCM16 audio decoded to float and re-encoded is bit-exact).
std::int16_t float_to_pcm16(float x) noexcept;

// Where each frame of an encoded stream starts.
struct FlacFrames {
  std::uint32_t block_size = 0;            // samples per frame (the last frame may be shorter)
  std::uint32_t header_bytes = 0;          // the fLaC marker and metadata blocks before frame 0
  std::vector<std::uint32_t> offsets;      // byte offset of frame k from the start of the stream
};

class FlacEncoder {
 public:
  // block_size 0 keeps the level's own (1152 at levels 0-2, 4096 at 3-8).
  explicit FlacEncoder(int compression_level = 1, std::uint32_t block_size = 0);
  ~FlacEncoder();
  FlacEncoder(const FlacEncoder&) = delete;
  FlacEncoder& operator=(const FlacEncoder&) = delete;

  // Encodes mono float32 samples to a complete FLAC stream (fLaC marker, STREAMINFO, frames).
  // With `frames`, also records where every frame starts.
  std::string encode(const float* samples, std::size_t n, int sample_rate_hz, FlacFrames* frames = nullptr);

 private:
  void* encoder_;  // FLAC__StreamEncoder*, opaque so users need no FLAC headers
  int level_;
  std::uint32_t block_size_;
};

}  // namespace cadence::io::audio
