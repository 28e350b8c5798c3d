// Audio decoding through libsndfile (WAV, FLAC, AIFF, OGG...). Decoding reads in blocks and
// downmixes on the fly, so a multichannel file never needs its interleaved copy in memory, and
// a file shorter than its header claims (a truncated download) is an error, not silent zeros.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace cadence::io::audio {

struct AudioInfo {
  std::int64_t frames = 0;
  int sample_rate_hz = 0;
  int channels = 0;
  std::string container;  // e.g. "WAV", "FLAC"
  std::string encoding;   // e.g. "PCM_16", "FLOAT"

  [[nodiscard]] double duration_s() const noexcept {
    return sample_rate_hz > 0 ? static_cast<double>(frames) / sample_rate_hz : 0.0;
  }
};

// Raised for any file we cannot decode; what() names the file and the reason.
class AudioError : public std::runtime_error {
 public:
  AudioError(const std::string& path, const std::string& reason)
      : std::runtime_error(path + ": " + reason), reason_(reason) {}
  [[nodiscard]] const std::string& reason() const noexcept { return reason_; }

 private:
  std::string reason_;
};

// Reads only the header.
AudioInfo probe(const std::string& path);

struct DecodedAudio {
  AudioInfo info;
  std::vector<float> samples;  // mono if downmixed, else interleaved; full scale = 1.0
};

// Decodes the whole file as float32. With mono_downmix the channels are averaged.
DecodedAudio decode(const std::string& path, bool mono_downmix = true);

// Bytes decode() will allocate for a file with this header: what a caller reserves from the
// memory budget before decoding.
std::uint64_t decoded_bytes(const AudioInfo& info, bool mono_downmix = true) noexcept;

}  // namespace cadence::io::audio
