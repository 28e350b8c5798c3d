// The random-access reader: windows of every codec equal the stored samples, zero-padded at the
// edges; bad stores (truncated blob, bad frame table, damaged frame) are errors naming the file.
#include "cadence/drums/audio_store.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "cadence/io/audio/flac_encoder.h"
#include "cadence/kernels/float16.h"
#include "test_files.h"

using namespace cadence;
using namespace cadence::drums;

namespace {

struct Stored {
  TempDir dir;
  std::string path = dir.path("audio-00000.bin");
  std::vector<AudioSource> sources;
  std::vector<std::uint32_t> frames;
  std::string blob;

  void add(const std::string& bytes, std::int64_t n, Codec c, const io::audio::FlacFrames* f = nullptr) {
    AudioSource s;
    s.offset = static_cast<std::int64_t>(blob.size());
    s.n_bytes = static_cast<std::int64_t>(bytes.size());
    s.n_samples = n;
    s.codec = c;
    if (f) {
      s.block_size = f->block_size;
      s.frames_begin = static_cast<std::int64_t>(frames.size());
      s.n_frames = static_cast<std::int64_t>(f->offsets.size());
      frames.insert(frames.end(), f->offsets.begin(), f->offsets.end());
    }
    sources.push_back(s);
    blob += bytes;
    blob.resize((blob.size() + 63) / 64 * 64, '\0');
  }
  void write() const { std::ofstream(path, std::ios::binary).write(blob.data(), static_cast<std::streamsize>(blob.size())); }
};

std::vector<float> pcm16_exact(std::size_t n) {  // values a 16-bit round trip keeps exactly
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i)
    x[i] = static_cast<float>(static_cast<int>(std::lround(9000 * std::sin(i * 0.02) + 300 * std::sin(i * 1.7)))) / 32768.0f;
  return x;
}

}  // namespace

TEST(AudioStore, EveryCodecReadsBackItsSamples) {
  const std::size_t n = 30'000;
  const auto x = pcm16_exact(n);
  Stored st;
  io::audio::FlacEncoder enc(0, 1152);
  io::audio::FlacFrames f;
  st.add(enc.encode(x.data(), n, 22050, &f), n, Codec::Flac, &f);
  std::string pcm(n * 2, '\0'), half(n * 2, '\0'), f32(n * 4, '\0');
  for (std::size_t i = 0; i < n; ++i) {
    const auto v = io::audio::float_to_pcm16(x[i]);
    std::memcpy(pcm.data() + 2 * i, &v, 2);
    const auto h = kernels::float_to_half(x[i]);
    std::memcpy(half.data() + 2 * i, &h, 2);
  }
  std::memcpy(f32.data(), x.data(), f32.size());
  st.add(pcm, n, Codec::Pcm16);
  st.add(half, n, Codec::Float16);
  st.add(f32, n, Codec::Float32);
  io::audio::FlacEncoder clip_enc(0);
  st.add(clip_enc.encode(x.data(), 4410, 22050), 4410, Codec::Flac);  // a clip: no frame table
  st.write();
  AudioStore store({st.path}, st.sources, st.frames);
  for (std::int64_t src = 0; src < 4; ++src) {
    for (std::int64_t start : {-500L, 0L, 1151L, 1152L, 12345L, 29'000L, 40'000L}) {
      std::vector<float> out(4410, -7.0f);
      store.read(src, start, 4410, out.data());
      for (std::int64_t i = 0; i < 4410; ++i) {
        const std::int64_t j = start + i;
        const float want = j < 0 || j >= static_cast<std::int64_t>(n) ? 0.0f
                           : src == 2 ? kernels::half_to_float(kernels::float_to_half(x[j]))
                                      : x[j];
        ASSERT_EQ(out[i], want) << "source " << src << " start " << start << " i " << i;
      }
    }
  }
  std::vector<float> clip(4410);
  store.read(4, 0, 4410, clip.data());
  for (std::size_t i = 0; i < 4410; ++i) ASSERT_EQ(clip[i], x[i]);
}

TEST(AudioStore, BatchOnThePoolEqualsOneByOne) {
  const std::size_t n = 100'000;
  const auto x = pcm16_exact(n);
  Stored st;
  io::audio::FlacEncoder enc(0, 1152);
  io::audio::FlacFrames f;
  st.add(enc.encode(x.data(), n, 22050, &f), n, Codec::Flac, &f);
  st.write();
  AudioStore store({st.path}, st.sources, st.frames);
  std::vector<std::int64_t> sources(300, 0), starts(300);
  for (std::size_t i = 0; i < starts.size(); ++i) starts[i] = static_cast<std::int64_t>((i * 7919) % n) - 200;
  runtime::Job job(runtime::JobOptions{2, 0});
  std::vector<float> batch(300 * 4410);
  store.read_batch(sources.data(), starts.data(), 300, 4410, batch.data(), job);
  std::vector<float> one(4410);
  for (std::size_t i = 0; i < 300; ++i) {
    store.read(0, starts[i], 4410, one.data());
    ASSERT_TRUE(std::equal(one.begin(), one.end(), batch.begin() + i * 4410)) << i;
  }
}

TEST(AudioStore, BadStoresAreErrors) {
  const auto x = pcm16_exact(20'000);
  io::audio::FlacEncoder enc(0, 1152);
  io::audio::FlacFrames f;
  const std::string flac = enc.encode(x.data(), x.size(), 22050, &f);
  {  // truncated blob file: caught when opening
    Stored st;
    st.add(flac, 20'000, Codec::Flac, &f);
    st.blob.resize(st.blob.size() / 2);
    st.write();
    try {
      AudioStore store({st.path}, st.sources, st.frames);
      FAIL() << "a truncated blob must not open";
    } catch (const StoredAudioError& e) {
      EXPECT_NE(std::string(e.what()).find("audio-00000.bin"), std::string::npos) << e.what();
      EXPECT_EQ(e.source, 0);
    }
  }
  {  // a frame table shifted by one frame: the read fails
    Stored st;
    io::audio::FlacFrames g = f;
    std::rotate(g.offsets.begin() + 3, g.offsets.begin() + 4, g.offsets.begin() + 6);  // frames 3, 4, 5 -> 4, 5, 3
    g.offsets[5] = g.offsets[4] + 1;  // keep the table increasing so that it passes the open check
    st.add(flac, 20'000, Codec::Flac, &g);
    st.write();
    AudioStore store({st.path}, st.sources, st.frames);
    std::vector<float> out(1152);
    EXPECT_THROW(store.read(0, 3 * 1152, 1152, out.data()), StoredAudioError);
  }
  {  // a damaged byte inside a frame
    Stored st;
    std::string bad = flac;
    bad[(f.offsets[7] + f.offsets[8]) / 2] ^= 0x33;
    st.add(bad, 20'000, Codec::Flac, &f);
    st.write();
    AudioStore store({st.path}, st.sources, st.frames);
    std::vector<float> out(1152);
    EXPECT_THROW(store.read(0, 7 * 1152, 1152, out.data()), StoredAudioError);
    store.read(0, 2 * 1152, 1152, out.data());  // other frames still read
  }
  {  // a table that does not cover the samples
    Stored st;
    io::audio::FlacFrames g = f;
    g.offsets.pop_back();
    st.add(flac, 20'000, Codec::Flac, &g);
    st.write();
    EXPECT_THROW(AudioStore({st.path}, st.sources, st.frames), StoredAudioError);
  }
}

TEST(AudioStore, CheckWalksTheFrameTable) {
  const auto x = pcm16_exact(20'000);
  io::audio::FlacEncoder enc(0, 1152);
  io::audio::FlacFrames f;
  const std::string flac = enc.encode(x.data(), x.size(), 22050, &f);
  Stored good;
  good.add(flac, 20'000, Codec::Flac, &f);
  good.write();
  AudioStore(std::vector<std::string>{good.path}, good.sources, good.frames).check(0);
  // Entries 1.. one byte late: a whole-file read from entry 0 would not notice, check() must.
  Stored bad;
  io::audio::FlacFrames g = f;
  for (std::size_t k = 1; k < g.offsets.size(); ++k) ++g.offsets[k];
  bad.add(flac, 20'000, Codec::Flac, &g);
  bad.write();
  AudioStore store({bad.path}, bad.sources, bad.frames);
  std::vector<float> all(20'000);
  store.read(0, 0, 20'000, all.data());
  EXPECT_THROW(store.check(0), StoredAudioError);
}
