#include "cadence/io/audio/decoder.h"

#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <filesystem>
#include <fstream>

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
