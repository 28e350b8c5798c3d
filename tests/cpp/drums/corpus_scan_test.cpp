#include "cadence/drums/corpus_scan.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "cadence/arrow/c_export.h"
#include "test_files.h"

using namespace cadence;

TEST(CorpusScan, ReportsEveryFileInOrderAndKeepsGoingPastBadOnes) {
  TempDir dir;
  const auto a = dir.path("a.wav"), b = dir.path("b.flac"), bad = dir.path("bad.wav");
  write_wav(a, 44100, 1, std::vector<float>(44100, 0.25f));
  write_wav(b, 22050, 2, ramp(11025, 2), SF_FORMAT_FLAC | SF_FORMAT_PCM_16);
  std::ofstream(bad) << "RIFF but not really";

  runtime::Job job({2, 1 << 20});
  auto batch = drums::scan_corpus({a, bad, b}, job);
  ASSERT_EQ(batch->length, 3);
  const auto col = [&](std::size_t i) { return batch->children.at(i).array; };
  EXPECT_EQ(batch->children[0].name, "path");
  const auto* ok = static_cast<const std::uint8_t*>(col(1)->buffers[1].data);
  EXPECT_EQ(ok[0], 0b101);  // a and b decode, bad does not
  EXPECT_EQ(col(2)->null_count, 2);  // error is null exactly where ok
  const auto* duration = static_cast<const double*>(col(6)->buffers[1].data);
  EXPECT_DOUBLE_EQ(duration[0], 1.0);
  EXPECT_DOUBLE_EQ(duration[2], 0.5);
  const auto* peak = static_cast<const float*>(col(7)->buffers[1].data);
  EXPECT_NEAR(peak[0], 0.25f, 1e-4);
  const auto* rms = static_cast<const float*>(col(8)->buffers[1].data);
  EXPECT_NEAR(rms[0], 20 * std::log10(0.25), 1e-3);

  const auto snap = job.progress().snapshot();
  EXPECT_EQ(snap.at(0).second, 3);  // total
  EXPECT_EQ(snap.at(1).second, 3);  // files
  EXPECT_EQ(snap.at(2).second, 1);  // failed
  EXPECT_EQ(snap.at(3).second, 1500);  // audio_ms
  EXPECT_LE(job.budget().peak_reserved_bytes(), 1u << 20);
  EXPECT_EQ(job.budget().reserved_bytes(), 0u);
}
