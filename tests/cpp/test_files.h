// Helpers shared by the C++ tests: a self-deleting temporary directory and a WAV writer.
#pragma once

#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
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

// A format-0 SMF: one tempo, notes given as (onset tick, pitch, velocity), each 10 ticks long.
#include <fstream>
#include <tuple>

inline void write_smf(const std::string& path, int ppq, std::uint32_t us_per_beat,
                      const std::vector<std::tuple<int, int, int>>& notes) {
  std::vector<std::tuple<int, int, int, int>> ev;  // tick, status, pitch, velocity
  for (auto [t, p, v] : notes) {
    ev.emplace_back(t, 0x99, p, v);
    ev.emplace_back(t + 10, 0x89, p, 0);
  }
  std::stable_sort(ev.begin(), ev.end(),
                   [](const auto& a, const auto& b) { return std::get<0>(a) < std::get<0>(b); });
  std::string track = {'\x00', '\xff', '\x51', '\x03', static_cast<char>(us_per_beat >> 16),
                       static_cast<char>(us_per_beat >> 8), static_cast<char>(us_per_beat)};
  int now = 0;
  auto vlq = [&track](std::uint32_t v) {
    char buf[5];
    int n = 0;
    buf[n++] = static_cast<char>(v & 0x7f);
    while (v >>= 7) buf[n++] = static_cast<char>(0x80 | (v & 0x7f));
    while (n) track.push_back(buf[--n]);
  };
  for (auto [t, s, p, v] : ev) {
    vlq(static_cast<std::uint32_t>(t - now));
    now = t;
    track += {static_cast<char>(s), static_cast<char>(p), static_cast<char>(v)};
  }
  track += {'\x00', '\xff', '\x2f', '\x00'};
  auto be32 = [](std::uint32_t v) {
    return std::string{static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                       static_cast<char>(v)};
  };
  std::ofstream f(path, std::ios::binary);
  f << "MThd" << be32(6) << std::string{0, 0, 0, 1} << static_cast<char>(ppq >> 8)
    << static_cast<char>(ppq & 0xff);
  f << "MTrk" << be32(static_cast<std::uint32_t>(track.size())) << track;
}
