#include "cadence/io/audio/decoder.h"

#include <gtest/gtest.h>
#include <sndfile.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

#include "test_files.h"

using namespace cadence::io::audio;

TEST(Decoder, ProbeReadsTheHeader) {
  TempDir dir;
  const auto path = dir.path("a.wav");
  write_wav(path, 22050, 2, ramp(1000, 2));
  const auto info = probe(path);
  EXPECT_EQ(info.sample_rate_hz, 22050);
  EXPECT_EQ(info.channels, 2);
  EXPECT_EQ(info.frames, 1000);
  EXPECT_NEAR(info.duration_s(), 1000.0 / 22050, 1e-12);
  EXPECT_NE(info.container.find("WAV"), std::string::npos);
  EXPECT_EQ(decoded_bytes(info, true), 4000u);
  EXPECT_EQ(decoded_bytes(info, false), 8000u);
}

TEST(Decoder, DownmixAveragesChannels) {
  TempDir dir;
  const auto path = dir.path("b.wav");
  // Left = ramp, right = -ramp / 2: the mono mix is ramp / 4.
  const auto left_right = ramp(40000, 2);
  write_wav(path, 44100, 2, left_right);
  const auto mono = decode(path, true);
  const auto stereo = decode(path, false);
  ASSERT_EQ(mono.samples.size(), 40000u);
  ASSERT_EQ(stereo.samples.size(), 80000u);
  for (std::size_t i = 0; i < 40000; i += 997) {
    const float l = stereo.samples[2 * i], r = stereo.samples[2 * i + 1];
    EXPECT_NEAR(l, left_right[2 * i], 1.0 / 32768);  // PCM16 quantisation
    EXPECT_FLOAT_EQ(mono.samples[i], (l + r) / 2);
  }
}

TEST(Decoder, FlacDecodesLosslessly) {
  TempDir dir;
  const auto wav = dir.path("c.wav"), flac = dir.path("c.flac");
  const auto x = ramp(5000, 1);
  write_wav(wav, 16000, 1, x);
  write_wav(flac, 16000, 1, x, SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  EXPECT_EQ(decode(wav).samples, decode(flac).samples);
  EXPECT_NE(probe(flac).container.find("FLAC"), std::string::npos);
}

TEST(Decoder, MissingGarbageAndTruncatedFilesAreErrorsNamingTheFile) {
  TempDir dir;
  try {
    probe(dir.path("missing.wav"));
    FAIL() << "no error";
  } catch (const AudioError& e) {
    EXPECT_NE(std::string(e.what()).find("missing.wav"), std::string::npos);
  }
  const auto garbage = dir.path("garbage.wav");
  std::ofstream(garbage) << "this is not audio at all, just some text that is long enough";
  EXPECT_THROW(decode(garbage), AudioError);
  const auto empty = dir.path("empty.wav");
  std::ofstream{empty};
  EXPECT_THROW(decode(empty), AudioError);
}

// Regression (fuzz/audio_fuzz.cpp): a 54-byte FLAC whose STREAMINFO claims 2^36 - 1 frames (it
// holds 16). decode_memory used to allocate the claim up front: 256 GiB, std::bad_alloc instead
// of an AudioError, and a claim of a few billion frames would really have been zero-filled.
TEST(Decoder, FlacHeaderClaimingBillionsOfFramesIsAnErrorNotAnAllocation) {
  const std::uint8_t liar[] = {
      0x66, 0x4c, 0x61, 0x43, 0x80, 0x00, 0x00, 0x22, 0x10, 0x00, 0x10, 0x00,
      0x00, 0x00, 0x0c, 0x00, 0x00, 0x0c, 0x01, 0xf4, 0x00, 0xff, 0xff, 0xff,
      0xff, 0xff, 0x70, 0xbc, 0x8f, 0x4b, 0x72, 0xa8, 0x69, 0x21, 0x46, 0x8b,
      0xf8, 0xe8, 0x44, 0x1d, 0xce, 0x51, 0xff, 0xf8, 0x64, 0x08, 0x00, 0x0f,
      0xce, 0x00, 0x00, 0x00, 0x0e, 0x85};
  const Reader reader(liar, sizeof liar, "liar.flac");
  EXPECT_EQ(reader.info().frames, (std::int64_t{1} << 36) - 1);
  // Saturating, never wrapping, for the memory budget.
  EXPECT_EQ(decoded_bytes(reader.info(), true), std::uint64_t{4} * ((std::uint64_t{1} << 36) - 1));
  AudioInfo absurd = reader.info();
  absurd.frames = INT64_MAX;
  absurd.channels = 1024;
  EXPECT_EQ(decoded_bytes(absurd, false), UINT64_MAX);
  for (const bool mono : {true, false}) {
    try {
      decode_memory(liar, sizeof liar, "liar.flac", mono);
      FAIL() << "no error";
    } catch (const AudioError& e) {
      EXPECT_NE(std::string(e.what()).find("liar.flac"), std::string::npos);
      EXPECT_NE(e.reason().find("could read 16"), std::string::npos) << e.what();
    }
  }
}

// The other side of that fix: audio that compresses far beyond the up-front allocation (FLAC
// of digital silence) still decodes whole, growing its buffer as it goes.
TEST(Decoder, HighlyCompressedAudioDecodesWhole) {
  TempDir dir;
  const auto path = dir.path("silence.flac");
  const std::size_t frames = 1'000'000;
  write_wav(path, 44100, 2, std::vector<float>(2 * frames, 0.0f), SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  ASSERT_LT(std::filesystem::file_size(path) * 64, frames);  // beyond the up-front allocation
  std::ifstream in(path, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const bool mono : {true, false}) {
    const auto from_file = decode(path, mono);
    const auto from_memory = decode_memory(bytes.data(), bytes.size(), "silence.flac", mono);
    ASSERT_EQ(from_file.samples.size(), frames * (mono ? 1 : 2));
    EXPECT_EQ(from_memory.samples, from_file.samples);
    EXPECT_TRUE(std::all_of(from_file.samples.begin(), from_file.samples.end(),
                            [](float x) { return x == 0.0f; }));
  }
}
