// Audio decoding through libsndfile (WAV, FLAC, AIFF, OGG...). Decoding reads in blocks and
// downmixes on the fly, so a multichannel file never needs its interleaved copy in memory, and
// a file shorter than its header claims (a truncated download) is an error, not silent zeros.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
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

// Streams a file block by block: what a scan or an encoder uses when it need not hold the whole
// file. Not copyable; closes the file on destruction.
class Reader {
 public:
  Reader(const std::string& path, bool mono_downmix = true);
  // Reads an encoded file held in memory (e.g. a FLAC clip from a Parquet cell); `name` is used
  // in error messages. The bytes must outlive the Reader.
  Reader(const void* data, std::size_t size, const std::string& name, bool mono_downmix = true);
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  [[nodiscard]] const AudioInfo& info() const noexcept { return info_; }
  // Samples per frame in read()'s output: 1 if downmixing, else the channel count.
  [[nodiscard]] int out_channels() const noexcept { return mono_ ? 1 : info_.channels; }
  // Reads up to `frames` frames into `out` (out_channels() floats a frame). Returns the frames
  // read, 0 at the end; throws AudioError if the file ends before its header says it should.
  std::size_t read(float* out, std::size_t frames);

  struct Memory;  // the virtual-IO cursor (public only for libsndfile's C callbacks)

 private:
  std::string path_;
  void* file_ = nullptr;  // SNDFILE*, kept opaque so that users need no sndfile.h
  AudioInfo info_;
  bool mono_;
  std::int64_t frames_read_ = 0;
  std::vector<float> interleaved_;  // scratch for the downmix
  std::unique_ptr<Memory> memory_;  // the virtual-IO cursor when reading from memory

  void init(void* file, const void* sfinfo);
};

struct DecodedAudio {
  AudioInfo info;
  std::vector<float> samples;  // mono if downmixed, else interleaved; full scale = 1.0
};

// Decodes the whole file as float32. With mono_downmix the channels are averaged.
DecodedAudio decode(const std::string& path, bool mono_downmix = true);
// The same for an encoded file held in memory.
DecodedAudio decode_memory(const void* data, std::size_t size, const std::string& name,
                           bool mono_downmix = true);

// Bytes decode() will allocate for a file with this header: what a caller reserves from the
// memory budget before decoding.
std::uint64_t decoded_bytes(const AudioInfo& info, bool mono_downmix = true) noexcept;

}  // namespace cadence::io::audio
