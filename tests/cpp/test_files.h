// Helpers shared by the C++ tests: a self-deleting temporary directory and a WAV writer.
#pragma once

#include <sndfile.h>

#include <cmath>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    root_ = std::filesystem::temp_directory_path() / ("cadence_test_" + std::to_string(rd()));
    std::filesystem::create_directories(root_);
  }
  ~TempDir() { std::filesystem::remove_all(root_); }
  std::string path(const std::string& name) const { return (root_ / name).string(); }

 private:
  std::filesystem::path root_;
};

// Interleaved test signal: channel 0 a slow sine, channel 1 (if any) minus half of channel 0.
inline std::vector<float> ramp(std::size_t frames, int channels) {
  std::vector<float> x(frames * static_cast<std::size_t>(channels));
  for (std::size_t i = 0; i < frames; ++i) {
    const float v = 0.5f * static_cast<float>(std::sin(static_cast<double>(i) * 0.01));
    x[i * channels] = v;
    if (channels > 1) x[i * channels + 1] = -v / 2;
  }
  return x;
}

inline void write_wav(const std::string& path, int rate, int channels,
                      const std::vector<float>& interleaved,
                      int format = SF_FORMAT_WAV | SF_FORMAT_PCM_16) {
  SF_INFO info{};
  info.samplerate = rate;
  info.channels = channels;
  info.format = format;
  SNDFILE* f = sf_open(path.c_str(), SFM_WRITE, &info);
  if (!f) throw std::runtime_error("cannot write " + path);
  sf_writef_float(f, interleaved.data(), static_cast<sf_count_t>(interleaved.size() / channels));
  sf_close(f);
}
