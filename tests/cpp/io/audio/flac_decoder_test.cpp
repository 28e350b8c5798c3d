// Frame-wise FLAC decoding: any window decoded from its frames alone equals the same samples of
// a whole-stream decode (libsndfile), and a frame table that points at the wrong frame is an
// error, never wrong audio.
#include "cadence/io/audio/flac_decoder.h"

#include <gtest/gtest.h>

#include <random>

#include "cadence/io/audio/decoder.h"
#include "cadence/io/audio/flac_encoder.h"

using namespace cadence::io::audio;

namespace {

std::vector<float> drum_like(std::size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> noise(0.0f, 0.05f);
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i)
    x[i] = 0.3f * static_cast<float>(std::sin(static_cast<double>(i) * 0.03)) * std::exp(-static_cast<float>(i % 5000) / 800.0f) + noise(rng);
  return x;
}

const std::uint8_t* bytes(const std::string& s) { return reinterpret_cast<const std::uint8_t*>(s.data()); }

}  // namespace

TEST(FlacFrames, EncoderRecordsEveryFrame) {
  FlacEncoder enc(0, 1024);
  FlacFrames frames;
  const auto x = drum_like(10'000, 1);
  const std::string flac = enc.encode(x.data(), x.size(), 22050, &frames);
  EXPECT_EQ(frames.block_size, 1024u);
  ASSERT_EQ(frames.offsets.size(), 10u);  // ceil(10000 / 1024)
  EXPECT_EQ(frames.offsets[0], frames.header_bytes);
  EXPECT_EQ(flac_header_bytes(bytes(flac), flac.size()), frames.header_bytes);
  for (std::size_t k = 1; k < frames.offsets.size(); ++k) EXPECT_GT(frames.offsets[k], frames.offsets[k - 1]);
  // Every frame starts with the FLAC sync code 0xFFF8 (fixed block size).
  for (auto off : frames.offsets) {
    EXPECT_EQ(static_cast<unsigned char>(flac[off]), 0xFF);
    EXPECT_EQ(static_cast<unsigned char>(flac[off + 1]), 0xF8);
  }
}

TEST(FlacFrames, AnyWindowEqualsTheWholeDecode) {
  for (std::uint32_t block : {1152u, 4096u}) {
    FlacEncoder enc(0, block);
    FlacFrames frames;
    const auto x = drum_like(50'000, 2);
    const std::string flac = enc.encode(x.data(), x.size(), 22050, &frames);
    const auto whole = decode_memory(flac.data(), flac.size(), "whole").samples;
    ASSERT_EQ(whole.size(), x.size());
    FlacFrameDecoder dec;
    std::mt19937 rng(3);
    for (int trial = 0; trial < 200; ++trial) {
      const std::size_t n = 1 + rng() % 9000;
      const std::size_t lo = rng() % (x.size() - n + 1);
      const std::size_t k0 = lo / block, k1 = (lo + n - 1) / block;
      const std::size_t from = frames.offsets[k0];
      const std::size_t to = k1 + 1 < frames.offsets.size() ? frames.offsets[k1 + 1] : flac.size();
      std::vector<float> out(n, -9.0f);
      const auto got = dec.decode(bytes(flac) + from, to - from, block, k0, lo - k0 * block, n, out.data());
      ASSERT_EQ(got, n);
      for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(out[i], whole[lo + i]) << "block " << block << " at " << lo + i;
    }
    // A whole stream, header included, decodes from frame 0.
    std::vector<float> all(x.size());
    EXPECT_EQ(dec.decode(bytes(flac), flac.size(), block, 0, 0, all.size(), all.data()), all.size());
    EXPECT_EQ(all, whole);
  }
}

TEST(FlacFrames, WrongFrameTableIsAnError) {
  FlacEncoder enc(0, 1152);
  FlacFrames frames;
  const auto x = drum_like(20'000, 4);
  const std::string flac = enc.encode(x.data(), x.size(), 22050, &frames);
  FlacFrameDecoder dec;
  std::vector<float> out(1000);
  // The bytes of frame 5, announced as frame 3.
  const std::size_t from = frames.offsets[5], to = frames.offsets[6];
  EXPECT_THROW(dec.decode(bytes(flac) + from, to - from, 1152, 3, 0, out.size(), out.data()), FlacFrameError);
  // The decoder is usable again after an error.
  EXPECT_EQ(dec.decode(bytes(flac) + from, to - from, 1152, 5, 0, out.size(), out.data()), out.size());
}

TEST(FlacFrames, CorruptFrameIsAnError) {
  FlacEncoder enc(0, 1152);
  FlacFrames frames;
  const auto x = drum_like(20'000, 5);
  std::string flac = enc.encode(x.data(), x.size(), 22050, &frames);
  const std::size_t from = frames.offsets[4], to = frames.offsets[5];
  flac[from + (to - from) / 2] ^= 0x5A;  // a flipped byte inside frame 4: its CRC fails
  FlacFrameDecoder dec;
  std::vector<float> out(1152);
  EXPECT_THROW(dec.decode(bytes(flac) + from, to - from, 1152, 4, 0, out.size(), out.data()), FlacFrameError);
}

TEST(FlacFrames, TruncatedFramesReturnFewerSamples) {
  FlacEncoder enc(0, 1152);
  FlacFrames frames;
  const auto x = drum_like(20'000, 6);
  const std::string flac = enc.encode(x.data(), x.size(), 22050, &frames);
  FlacFrameDecoder dec;
  std::vector<float> out(2 * 1152);
  // Frames 2 and 3 asked for, but only frame 2 and half of frame 3 given.
  const std::size_t from = frames.offsets[2], cut = (frames.offsets[3] + frames.offsets[4]) / 2;
  std::size_t got = 0;
  try {
    got = dec.decode(bytes(flac) + from, cut - from, 1152, 2, 0, out.size(), out.data());
  } catch (const FlacFrameError&) {
    got = 0;  // an error is as good as a short count: never the full window
  }
  EXPECT_LT(got, out.size());
}

TEST(FlacFrames, OneDecoderForStreamsOfDifferentBlockSizes) {
  // A reader meets files of several block sizes (two directories, clips and index layouts): the
  // frame numbering of one must not leak into the next.
  const auto x = drum_like(40'000, 7);
  FlacFrameDecoder dec;
  std::vector<std::pair<std::string, FlacFrames>> streams;
  for (std::uint32_t block : {576u, 1152u, 4096u}) {
    FlacEncoder enc(0, block);
    FlacFrames f;
    std::string s = enc.encode(x.data(), x.size(), 22050, &f);
    streams.emplace_back(std::move(s), std::move(f));
  }
  for (int round = 0; round < 3; ++round) {
    for (const auto& [flac, f] : streams) {
      for (std::size_t k : {std::size_t{0}, std::size_t{5}, f.offsets.size() - 2}) {
        std::vector<float> out(f.block_size);
        const std::size_t to = k + 1 < f.offsets.size() ? f.offsets[k + 1] : flac.size();
        const auto got = dec.decode(bytes(flac) + f.offsets[k], to - f.offsets[k], f.block_size, k, 0, out.size(),
                                    out.data());
        ASSERT_EQ(got, std::min<std::size_t>(f.block_size, x.size() - k * f.block_size));
      }
    }
  }
}
