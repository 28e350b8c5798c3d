// Decoding FLAC frames held in memory, without the stream around them: what random access into
// a stored file needs. A window of a long file is read by handing over only the frames that
// cover it (their byte range comes from the FlacFrames table written at encode time), so the
// cost is O(window), never O(file). One decoder per thread is reused for every window.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace cadence::io::audio {

// Raised when the bytes are not the frames they claim to be: a damaged file, a frame table
// that does not match the stream, a CRC mismatch. what() says which.
class FlacFrameError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bytes of the fLaC marker and metadata blocks at the start of a stream (0 if `data` does not
// start with "fLaC"); throws FlacFrameError if the metadata runs past `size`.
std::size_t flac_header_bytes(const std::uint8_t* data, std::size_t size);

class FlacFrameDecoder {
 public:
  FlacFrameDecoder();
  ~FlacFrameDecoder();
  FlacFrameDecoder(const FlacFrameDecoder&) = delete;
  FlacFrameDecoder& operator=(const FlacFrameDecoder&) = delete;

  // Decodes the whole frames in data[0, size) (a complete stream may be passed: its header is
  // skipped). Frame k of the range is expected to be frame number `first_frame + k` of a stream
  // of fixed `block_size` (checked against each frame header, so a frame table pointing at the
  // wrong place is an error, never wrong audio; pass first_frame 0 for a whole stream). Samples are numbered from the first
  // sample of the first frame; those in [skip, skip + n) are written to out[0, n) as float32
  // (full scale 1.0). Returns the number written (< n only when the frames end first).
  std::size_t decode(const std::uint8_t* data, std::size_t size, std::uint32_t block_size, std::uint64_t first_frame,
                     std::uint64_t skip, std::size_t n, float* out);

  struct State;  // the callbacks' view (public only for libFLAC's C callbacks)

 private:
  void* decoder_;  // FLAC__StreamDecoder*, opaque so users need no FLAC headers
  State* state_;
};

}  // namespace cadence::io::audio
