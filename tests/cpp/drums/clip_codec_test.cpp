#include "cadence/drums/clip_codec.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "cadence/io/audio/decoder.h"
#include "cadence/kernels/float16.h"

using namespace cadence;
using drums::Codec;

namespace {
std::vector<float> tone(std::size_t n) {
  std::vector<float> x(n);
  for (std::size_t i = 0; i < n; ++i) x[i] = 0.3f * std::sin(0.05f * static_cast<float>(i)) * std::exp(-1e-4f * i);
  return x;
}
}  // namespace

// The seed (bench/drums_seed_baseline.py, smart_compress): float32 if < 50 KiB, float16 if
// < 400 KiB, else FLAC. Both bounds are strict, so each edge goes to the next band.
TEST(ClipCodec, AutoUsesTheSeedsStrictSizeBands) {
  EXPECT_EQ(drums::auto_codec(4410), Codec::Float32);     // 0.2 s @ 22.05 kHz: 17.6 KB
  EXPECT_EQ(drums::auto_codec(12799), Codec::Float32);    // just under 50 KiB
  EXPECT_EQ(drums::auto_codec(12800), Codec::Float16);    // exactly 50 KiB: not below it
  EXPECT_EQ(drums::auto_codec(102399), Codec::Float16);   // just under 400 KiB
  EXPECT_EQ(drums::auto_codec(102400), Codec::Flac);      // exactly 400 KiB: not below it
  EXPECT_EQ(drums::auto_codec(110250), Codec::Flac);      // 5 s @ 22.05 kHz: 441 KB
}

TEST(ClipCodec, FlacIsLosslessAt16Bits) {
  io::audio::FlacEncoder enc(5);
  auto x = tone(30000);
  auto clip = drums::encode_clip(x.data(), x.size(), 22050, Codec::Flac, enc);
  ASSERT_EQ(clip.codec, Codec::Flac);
  EXPECT_EQ(clip.bytes.substr(0, 4), "fLaC");
  EXPECT_LT(clip.bytes.size(), x.size() * 2);
  const auto back = io::audio::decode_memory(clip.bytes.data(), clip.bytes.size(), "clip");
  EXPECT_EQ(back.info.sample_rate_hz, 22050);
  ASSERT_EQ(back.samples.size(), x.size());
  for (std::size_t i = 0; i < x.size(); ++i)
    ASSERT_EQ(back.samples[i], io::audio::float_to_pcm16(x[i]) / 32768.0f) << i;
  // The encoder is reusable: a second clip decodes too.
  auto again = drums::encode_clip(x.data(), 100, 16000, Codec::Flac, enc);
  EXPECT_EQ(io::audio::decode_memory(again.bytes.data(), again.bytes.size(), "c2").samples.size(), 100u);
}

TEST(ClipCodec, RawCodecsStoreLittleEndianSamples) {
  io::audio::FlacEncoder enc;
  const std::vector<float> x = {0.5f, -1.0f, 0.999f, 1.5f};
  auto f32 = drums::encode_clip(x.data(), x.size(), 8000, Codec::Float32, enc);
  ASSERT_EQ(f32.bytes.size(), 16u);
  float back[4];
  std::memcpy(back, f32.bytes.data(), 16);
  EXPECT_EQ(back[3], 1.5f);
  auto p16 = drums::encode_clip(x.data(), x.size(), 8000, Codec::Pcm16, enc);
  std::int16_t s[4];
  std::memcpy(s, p16.bytes.data(), 8);
  EXPECT_EQ(s[0], 16384);
  EXPECT_EQ(s[1], -32768);
  EXPECT_EQ(s[3], 32767);  // clipped
  auto f16 = drums::encode_clip(x.data(), x.size(), 8000, Codec::Float16, enc);
  std::uint16_t h[4];
  std::memcpy(h, f16.bytes.data(), 8);
  EXPECT_EQ(kernels::half_to_float(h[0]), 0.5f);
}

TEST(ClipCodec, AutoFallsBackToFloat16WhenFlacDoesNotPay) {
  io::audio::FlacEncoder enc;
  std::vector<float> noise(110250);
  std::uint32_t state = 1;
  for (auto& v : noise) {
    state = state * 1664525u + 1013904223u;
    v = static_cast<float>(static_cast<std::int32_t>(state)) / 2147483648.0f;  // white, full scale
  }
  EXPECT_EQ(drums::encode_clip(noise.data(), noise.size(), 22050, Codec::Auto, enc).codec, Codec::Float16);
  auto t = tone(110250);
  EXPECT_EQ(drums::encode_clip(t.data(), t.size(), 22050, Codec::Auto, enc).codec, Codec::Flac);
  EXPECT_THROW(drums::parse_codec("mp3"), std::invalid_argument);
}
