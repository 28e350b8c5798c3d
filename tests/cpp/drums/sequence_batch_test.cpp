// The one-pass batch equals its parts (AudioStore::read, Spectrogram::compute, sequence_targets)
// on any number of threads, and refuses a spectrogram whose frames differ from the targets'.
#include "cadence/drums/sequence_batch.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <fstream>

#include "test_files.h"

using namespace cadence;
using namespace cadence::drums;

TEST(SequenceBatch, EqualsItsPartsOnOneAndTwoThreads) {
  TempDir dir;
  const std::string path = dir.path("audio-00000.bin");
  const std::int64_t n_file = 20'000;
  std::vector<float> x(n_file);
  for (std::int64_t i = 0; i < n_file; ++i) x[i] = static_cast<float>(0.3 * std::sin(i * 0.05) + 0.1 * std::sin(i * 0.9));
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(x.data()), n_file * 4);
  AudioSource src;
  src.n_bytes = n_file * 4;
  src.n_samples = n_file;
  src.codec = Codec::Float32;
  AudioStore store({path}, {src}, {});

  std::vector<std::int64_t> onset = {10, 5000, 5100, 19'990};
  std::vector<std::uint8_t> classes = {1, 0, 0, 1, 1, 1, 0, 1}, vel = {50, 0, 0, 60, 70, 80, 0, 90};
  std::vector<std::int64_t> begin = {0, 4};
  const OnsetTable table{onset.data(), classes.data(), vel.data(), begin.data(), 1, 2};
  const FrameGrid grid{8000, 100};
  kernels::SpectrogramOptions so;
  so.n_fft = 512;
  so.hop_length = 100;
  kernels::MelOptions mo;
  mo.n_mels = 20;
  const kernels::Spectrogram spec(so, kernels::mel_filterbank(22050, 512, mo));

  std::vector<std::int64_t> files = {0, 0, 0, 0}, starts = {0, 4000, 15'000, -300};
  const std::size_t count = files.size(), frames = static_cast<std::size_t>(grid.n_frames());
  const float widen[] = {0.5f};
  auto run = [&](int jobs) {
    std::vector<float> audio(count * 8000), feats(count * frames * 20), roll(count * frames * 2);
    std::vector<std::uint8_t> vroll(count * frames * 2);
    runtime::Job job({jobs, 0});
    read_sequence_batch(store, &spec, table, files.data(), starts.data(), count, grid, widen, 1,
                        {audio.data(), feats.data(), roll.data(), vroll.data()}, job);
    return std::make_tuple(audio, feats, roll, vroll);
  };
  const auto [audio, feats, roll, vroll] = run(1);
  EXPECT_EQ(run(2), run(1));
  for (std::size_t i = 0; i < count; ++i) {
    std::vector<float> a(8000), f(frames * 20), r(frames * 2);
    std::vector<std::uint8_t> v(frames * 2);
    store.read(0, starts[i], 8000, a.data());
    spec.compute(a.data(), 8000, f.data());
    sequence_targets(table, &files[i], &starts[i], 1, grid, widen, 1, r.data(), v.data());
    EXPECT_EQ(std::memcmp(a.data(), audio.data() + i * 8000, a.size() * 4), 0) << i;
    EXPECT_EQ(std::memcmp(f.data(), feats.data() + i * f.size(), f.size() * 4), 0) << i;
    EXPECT_EQ(std::memcmp(r.data(), roll.data() + i * r.size(), r.size() * 4), 0) << i;
    EXPECT_EQ(std::memcmp(v.data(), vroll.data() + i * v.size(), v.size()), 0) << i;
  }
  // Window 3 starts 300 samples before the file: the onset at 10 is 310 samples in, frame 3.
  EXPECT_EQ(roll[(3 * frames + 3) * 2 + 0], 1.0f);
  EXPECT_EQ(vroll[(3 * frames + 3) * 2 + 0], 50);

  so.center = false;
  const kernels::Spectrogram uncentred(so, kernels::mel_filterbank(22050, 512, mo));
  std::vector<float> audio2(8000), roll2(frames * 2);
  std::vector<std::uint8_t> vroll2(frames * 2);
  std::vector<float> feats2(frames * 20);
  runtime::Job job;
  EXPECT_THROW(read_sequence_batch(store, &uncentred, table, files.data(), starts.data(), 1, grid, widen, 1,
                                   {audio2.data(), feats2.data(), roll2.data(), vroll2.data()}, job),
               std::invalid_argument);
  std::vector<std::int64_t> bad = {1};
  EXPECT_THROW(read_sequence_batch(store, nullptr, table, bad.data(), starts.data(), 1, grid, widen, 1,
                                   {audio2.data(), nullptr, roll2.data(), vroll2.data()}, job),
               std::out_of_range);
}
