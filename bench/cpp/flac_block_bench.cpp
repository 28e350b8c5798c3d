// Which FLAC block size for the index layout? Smaller frames mean less to decode per random
// window, larger ones compress a little better and need a smaller frame table. For each block
// size this encodes the given WAV files (resampled to 22.05 kHz, as prepare does) at level 0 and
// reads random 0.2 s and 5 s windows through AudioStore, one thread, checking every window
// against the whole-file decode. Results: docs/ARCHITECTURE.md ("Fixed decisions").
//
// usage: flac_block_bench FILE.wav...
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "cadence/drums/audio_store.h"
#include "cadence/io/audio/decoder.h"
#include "cadence/io/audio/flac_encoder.h"
#include "cadence/kernels/resample.h"

using namespace cadence;

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s FILE.wav...\n", argv[0]);
    return 2;
  }
  constexpr int kRate = 22050;
  std::vector<std::vector<float>> audio;
  std::size_t total = 0;
  for (int i = 1; i < argc; ++i) {
    auto d = io::audio::decode(argv[i]);
    audio.push_back(kernels::resample(d.samples.data(), d.samples.size(), d.info.sample_rate_hz, kRate));
    // What the store holds: 16-bit samples.
    for (auto& x : audio.back()) x = static_cast<float>(io::audio::float_to_pcm16(x)) / 32768.0f;
    total += audio.back().size();
  }
  const auto blob = (std::filesystem::temp_directory_path() / "cadence_flac_block_bench.bin").string();
  std::printf("%zu files, %.2f h at %d Hz\n", audio.size(), static_cast<double>(total) / kRate / 3600, kRate);
  std::printf("%-6s %12s %10s %14s %14s %12s\n", "block", "bytes", "vs pcm16", "0.2 s win/s", "5 s win/s",
              "table bytes");
  for (std::uint32_t block : {576u, 1152u, 2304u, 4096u, 4608u}) {
    io::audio::FlacEncoder enc(0, block);
    std::vector<drums::AudioSource> sources;
    std::vector<std::uint32_t> frames;
    std::string bytes;
    for (const auto& a : audio) {
      io::audio::FlacFrames f;
      std::string s = enc.encode(a.data(), a.size(), kRate, &f);
      drums::AudioSource src;
      src.offset = static_cast<std::int64_t>(bytes.size());
      src.n_bytes = static_cast<std::int64_t>(s.size());
      src.n_samples = static_cast<std::int64_t>(a.size());
      src.codec = drums::Codec::Flac;
      src.block_size = block;
      src.frames_begin = static_cast<std::int64_t>(frames.size());
      src.n_frames = static_cast<std::int64_t>(f.offsets.size());
      frames.insert(frames.end(), f.offsets.begin(), f.offsets.end());
      sources.push_back(src);
      bytes += s;
    }
    std::ofstream(blob, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    drums::AudioStore store({blob}, sources, frames);
    double rate[2];
    int k = 0;
    for (double seconds : {0.2, 5.0}) {
      const auto n = static_cast<std::int64_t>(seconds * kRate);
      std::mt19937_64 rng(1);
      std::vector<float> out(static_cast<std::size_t>(n));
      const int windows = seconds < 1 ? 20000 : 1000;
      double busy = 0;
      for (int w = 0; w < windows; ++w) {
        const std::size_t f = rng() % audio.size();
        const auto start = static_cast<std::int64_t>(rng() % audio[f].size()) - n / 10;
        const auto t0 = std::chrono::steady_clock::now();
        store.read(static_cast<std::int64_t>(f), start, n, out.data());
        busy += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        for (std::int64_t i = 0; i < n; ++i) {
          const std::int64_t j = start + i;
          const float want = j < 0 || j >= static_cast<std::int64_t>(audio[f].size()) ? 0.0f : audio[f][j];
          if (out[i] != want) {
            std::fprintf(stderr, "block %u: window of file %zu at %lld differs at %lld\n", block, f,
                         static_cast<long long>(start), static_cast<long long>(i));
            return 1;
          }
        }
      }
      rate[k++] = windows / busy;
    }
    std::printf("%-6u %12zu %9.3fx %14.0f %14.0f %12zu\n", block, bytes.size(),
                static_cast<double>(bytes.size()) / (2.0 * static_cast<double>(total)), rate[0], rate[1],
                frames.size() * 4);
  }
  std::filesystem::remove(blob);
  return 0;
}
