// libFuzzer target: the audio reading paths we own over arbitrary bytes, i.e. decode_memory and
// the Reader over memory (libsndfile virtual IO, our downmix, our truncation checks). Any input
// must either decode to exactly the frames its header promises or raise AudioError naming the
// input; anything else (another exception, a sanitizer report, an allocation the input cannot
// justify) is a bug.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cadence/io/audio/decoder.h"

#include "check.h"

namespace audio = cadence::io::audio;

namespace {

// Decoded samples we let one input produce. Real content can legitimately decompress to a lot
// (a FLAC constant subframe holds 65,535 samples in a few bytes): that is no bug, so inputs whose
// audio really is longer than this are only streamed, not decoded whole. A header that merely
// *promises* more (FLAC's STREAMINFO holds 36 bits of frames) is still decoded whole:
// decode_memory must then fail without allocating the promise (libFuzzer's -malloc_limit_mb
// reports any single allocation over the limit as a crash).
constexpr std::int64_t kMaxSamples = std::int64_t{1} << 22;  // 16 MiB of float

const std::string kName = "fuzz.audio";

void check_error(const audio::AudioError& e) {
  CHECK(std::string(e.what()).rfind(kName + ": ", 0) == 0);
  CHECK(!e.reason().empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // The last byte picks mono downmix or interleaved output (it rarely matters to a header).
  const bool mono = size == 0 || (data[size - 1] & 1) == 0;
  bool long_content = false;  // more than kMaxSamples decoded samples really there
  try {
    audio::Reader reader(data, size, kName, mono);
    const audio::AudioInfo& info = reader.info();
    CHECK(info.sample_rate_hz > 0 && info.channels > 0 && info.frames >= 0);
    CHECK(reader.out_channels() == (mono ? 1 : info.channels));
    // Stream through the Reader, at most kMaxSamples: this path must never trust the header
    // for its allocations (it reads in blocks).
    std::vector<float> block(4096 * static_cast<std::size_t>(reader.out_channels()));
    std::int64_t read = 0;
    while (read * reader.out_channels() < kMaxSamples) {
      const std::size_t got = reader.read(block.data(), 4096);
      if (got == 0) break;
      CHECK(got <= 4096);
      read += static_cast<std::int64_t>(got);
    }
    CHECK(read <= info.frames);
    long_content = read * reader.out_channels() >= kMaxSamples;
  } catch (const audio::AudioError& e) {
    check_error(e);
  }
  if (long_content) return 0;
  try {
    const auto decoded = audio::decode_memory(data, size, kName, mono);
    const auto out_ch = static_cast<std::int64_t>(mono ? 1 : decoded.info.channels);
    CHECK(decoded.info.frames >= 0);
    CHECK(static_cast<std::int64_t>(decoded.samples.size()) == decoded.info.frames * out_ch);
  } catch (const audio::AudioError& e) {
    check_error(e);
  }
  return 0;
}
