// Random access to the audio a prepare run stored: windows cut from whole files (index layout)
// or whole clips (clips layout), read with pread from flat blob files and decoded on the job's
// threads. A window touches O(window) bytes: PCM16/float16/float32 are read at their byte
// offsets; a FLAC file is read frame-wise through its frame table (FlacFrames), decoding only
// the frames that cover the window. Reads go through pread, not a memory map, so that reading
// every window of a corpus larger than RAM leaves the process's RSS flat (the page cache still
// holds hot files); the files themselves are plain, memory-mappable arrays (docs/drums.md).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "cadence/drums/clip_codec.h"
#include "cadence/runtime/job.h"

namespace cadence::drums {

// One encoded item in a blob file.
struct AudioSource {
  std::int32_t blob = 0;          // which blob file
  std::int64_t offset = 0;        // its first byte in that file
  std::int64_t n_bytes = 0;
  std::int64_t n_samples = 0;
  Codec codec = Codec::Pcm16;
  std::uint32_t block_size = 0;   // FLAC with a frame table: samples per frame
  std::int64_t frames_begin = 0;  // FLAC with a frame table: its entries in frame_offsets
  std::int64_t n_frames = 0;      // 0: no frame table (a clip is decoded whole)
};

// A stored item that cannot be read back as it was written; `source` says which.
class StoredAudioError : public std::runtime_error {
 public:
  StoredAudioError(std::int64_t source, const std::string& what) : std::runtime_error(what), source(source) {}
  std::int64_t source;
};

class AudioStore {
 public:
  // Opens the blob files and checks that every source lies inside its file and that frame
  // tables are increasing and inside their source (a truncated or mismatched shard is an error
  // here, not wrong audio later).
  AudioStore(std::vector<std::string> blob_paths, std::vector<AudioSource> sources,
             std::vector<std::uint32_t> frame_offsets);
  ~AudioStore();
  AudioStore(const AudioStore&) = delete;
  AudioStore& operator=(const AudioStore&) = delete;

  [[nodiscard]] std::size_t size() const noexcept { return sources_.size(); }
  [[nodiscard]] const AudioSource& source(std::size_t i) const { return sources_.at(i); }

  // Samples [start, start + n) of source `source` as float32 (full scale 1.0); the part
  // outside [0, n_samples) is zero. Thread-safe.
  void read(std::int64_t source, std::int64_t start, std::int64_t n, float* out) const;

  // Reads the whole source as `cadence drums verify` does: a FLAC file frame by frame through its
  // table (each entry must start the frame of its number and hold a whole block), anything
  // else in one read. Throws StoredAudioError on the first problem.
  void check(std::int64_t source) const;

  // A window at another rate: samples [start, start + n) at `to_rate_hz` of a source stored at
  // `from_rate_hz`. The stored samples around the window (with a margin for the filter, aligned
  // so that input and output sample grids meet exactly) are resampled by libsoxr (HQ, as
  // prepare) and the window cut from the result: the rate is chosen when a dataset is opened.
  void read_resampled(std::int64_t source, std::int64_t start, std::int64_t n, int from_rate_hz, int to_rate_hz,
                      float* out) const;

  // read() (or read_resampled() when the rates differ) for `count` windows of n samples each, on
  // the job's threads; out is count x n.
  void read_batch(const std::int64_t* sources, const std::int64_t* starts, std::size_t count, std::int64_t n,
                  float* out, runtime::Job& job, int from_rate_hz = 0, int to_rate_hz = 0) const;

 private:
  std::vector<std::string> paths_;
  std::vector<int> fds_;
  std::vector<AudioSource> sources_;
  std::vector<std::uint32_t> frame_offsets_;

  void pread_exact(const AudioSource& s, std::int64_t source, std::int64_t from, std::int64_t bytes,
                   void* dst) const;
  [[noreturn]] void fail(std::int64_t source, const std::string& why) const;
};

}  // namespace cadence::drums
