// libFuzzer target: FlacFrameDecoder over arbitrary bytes, as a damaged audio-NNNNN.bin or a
// wrong frame table hands them to it (src/cadence/io/audio/flac_decoder.h). Any input must
// either decode to at most the samples asked for, each a 16-bit value in [-1, 1), or raise
// FlacFrameError with a message; anything else (another exception, a sanitizer report, a write
// past `out`) is a bug. The same decoder object is reused across inputs, as a reader's thread
// reuses it across windows.
//
// Input: byte 0 picks the block size, byte 1 the first frame's number, bytes 2-3 the samples to
// skip, bytes 4-5 the samples asked for; the rest is the frame data (or a whole stream).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cadence/io/audio/flac_decoder.h"

#include "check.h"

namespace audio = cadence::io::audio;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto decoder = std::make_unique<audio::FlacFrameDecoder>();
  if (size < 6) return 0;
  constexpr std::uint32_t kBlocks[] = {0, 576, 1152, 4096};
  const std::uint32_t block = kBlocks[data[0] % 4];
  const std::uint64_t first = data[1];
  const std::uint64_t skip = data[2] | (std::uint64_t{data[3]} << 8);
  const std::size_t n = data[4] | (std::size_t{data[5]} << 8);
  // One guard sample past the window: the decoder must never write it.
  std::vector<float> out(n + 1, 7.0f);
  try {
    const std::size_t got = decoder->decode(data + 6, size - 6, block, first, skip, n, out.data());
    CHECK(got <= n);
    for (std::size_t i = 0; i < got; ++i) CHECK(out[i] >= -1.0f && out[i] < 1.0f);
  } catch (const audio::FlacFrameError& e) {
    CHECK(!std::string(e.what()).empty());
  }
  CHECK(out[n] == 7.0f);
  return 0;
}
