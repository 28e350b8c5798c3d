#include "cadence/drums/prepare_run.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "test_files.h"

using namespace cadence;

namespace {

// 120 bpm at 480 PPQ: 480 ticks = 0.5 s.
void make_pair(const TempDir& dir, const std::string& name, double seconds,
               const std::vector<std::tuple<int, int, int>>& notes) {
  write_smf(dir.path(name + ".mid"), 480, 500000, notes);
  write_wav(dir.path(name + ".wav"), 44100, 1, std::vector<float>(static_cast<std::size_t>(44100 * seconds), 0.1f));
}

drums::PrepareConfig clips_config() {
  drums::PrepareConfig c;
  c.layout = drums::Layout::Clips;
  c.codec = drums::Codec::Pcm16;
  c.clip_s = 0.1;
  return c;
}

}  // namespace

TEST(PrepareRun, ResultsComeInInputOrderWithReasons) {
  TempDir dir;
  make_pair(dir, "good", 3.0, {{0, 36, 100}, {2, 49, 90}, {480, 38, 80}, {960, 42, 70}});
  make_pair(dir, "late", 1.0, {{0, 36, 100}, {4800, 38, 80}});  // a note at 5 s, audio 1 s
  make_pair(dir, "empty", 1.0, {});
  std::ofstream(dir.path("garbage.mid")) << "not midi";
  write_wav(dir.path("garbage.wav"), 44100, 1, std::vector<float>(100, 0.f));
  std::vector<drums::PairInput> inputs = {
      {dir.path("good.mid"), dir.path("good.wav"), 3.0},
      {dir.path("good.mid"), dir.path("nowhere.wav"), std::nan("")},
      {dir.path("late.mid"), dir.path("late.wav"), std::nan("")},
      {dir.path("empty.mid"), dir.path("empty.wav"), std::nan("")},
      {dir.path("garbage.mid"), dir.path("garbage.wav"), std::nan("")},
      {dir.path("good.mid"), dir.path("good.wav"), 1.0},  // CSV says 1 s, audio lasts 3 s
      {dir.path("good.mid"), dir.path("good.wav"), std::nan("")},
  };
  runtime::Job job({3, 1 << 16});  // a budget far below one file's decode: overdraw keeps it moving
  drums::PrepareRun run(inputs, clips_config(), job);
  std::vector<std::string> reasons;
  while (auto r = run.next()) reasons.push_back(drums::reject_name(r->reject));
  EXPECT_EQ(reasons, (std::vector<std::string>{"none", "missing_audio", "midi_past_audio", "no_notes",
                                               "bad_midi", "duration_mismatch", "none"}));
  EXPECT_EQ(job.budget().reserved_bytes(), 0u);
}

TEST(PrepareRun, ClipsHoldMergedOnsetsAndTheirWindows) {
  TempDir dir;
  make_pair(dir, "good", 3.0, {{0, 36, 100}, {2, 49, 90}, {480, 38, 80}, {960, 42, 70}});
  runtime::Job job({2, 0});
  drums::PrepareRun run({{dir.path("good.mid"), dir.path("good.wav"), 3.0}}, clips_config(), job);
  auto r = run.next();
  ASSERT_TRUE(r && r->reject == drums::Reject::None) << (r ? r->message : "");
  EXPECT_FALSE(run.next());
  EXPECT_EQ(r->stats.notes, 4);
  EXPECT_EQ(r->stats.onsets, 3);  // 36 + 49 are 2 ticks (2 ms) apart: one onset
  EXPECT_EQ(r->stats.source_rate_hz, 44100);
  EXPECT_EQ(r->stats.samples_out, 66150);
  const auto& rec = *r->records;
  ASSERT_EQ(rec.length, 3);
  std::vector<std::string> names;
  for (const auto& f : rec.children) names.push_back(f.name);
  EXPECT_EQ(names, (std::vector<std::string>{"onset_index", "onset_s", "onset_sample", "sample_rate_hz",
                                             "pitches", "velocities", "classes", "class_velocity",
                                             "window_start_sample", "n_samples", "codec", "audio"}));
  const auto* onset_s = static_cast<const double*>(rec.children[1].array->buffers[1].data);
  EXPECT_DOUBLE_EQ(onset_s[1], 0.5);
  const auto* start = static_cast<const std::int64_t*>(rec.children[8].array->buffers[1].data);
  EXPECT_EQ(start[0], -441);  // 20 ms of padding before the first onset at 0
  EXPECT_EQ(start[1], 11025 - 441);
  // First window: 441 zeros (before the file), then the 0.1 level (pcm16 3277).
  const auto& audio = *rec.children[11].array;
  const auto* offsets = static_cast<const std::int64_t*>(audio.buffers[1].data);
  const auto* bytes = static_cast<const char*>(audio.buffers[2].data);
  ASSERT_EQ(offsets[1] - offsets[0], 2205 * 2);
  std::int16_t s[2];
  std::memcpy(&s[0], bytes + 2 * 440, 2);
  std::memcpy(&s[1], bytes + 2 * 1000, 2);
  EXPECT_EQ(s[0], 0);
  EXPECT_NEAR(s[1], 3277, 2);
}

TEST(PrepareRun, IndexLayoutStoresEachFileOnce) {
  TempDir dir;
  make_pair(dir, "good", 2.0, {{0, 36, 100}, {480, 38, 80}});
  drums::PrepareConfig c;  // index layout, FLAC, 22.05 kHz
  runtime::Job job({1, 0});
  drums::PrepareRun run({{dir.path("good.mid"), dir.path("good.wav"), std::nan("")}}, c, job);
  auto r = run.next();
  ASSERT_TRUE(r && r->audio);
  EXPECT_EQ(r->audio->length, 1);
  EXPECT_EQ(r->records->children.size(), 8u);  // onsets only, no windows
  EXPECT_EQ(r->stats.clips_by_codec[static_cast<int>(drums::Codec::Flac)], 1);
}

TEST(PrepareRun, CancellationStopsAndReportsCancelled) {
  TempDir dir;
  make_pair(dir, "good", 2.0, {{0, 36, 100}});
  std::vector<drums::PairInput> many(400, {dir.path("good.mid"), dir.path("good.wav"), std::nan("")});
  runtime::Job job({2, 0});
  drums::PrepareRun run(many, clips_config(), job);
  ASSERT_TRUE(run.next());
  job.cancellation().cancel();
  std::size_t got = 1;
  try {
    while (run.next()) ++got;
    FAIL() << "expected Cancelled";
  } catch (const runtime::Cancelled&) {
  }
  EXPECT_LT(got, many.size());
}

// A step that throws (an allocation for a window of a negative length, a FLAC encoder that
// refuses its settings) rejects that pair with processing_error; the run goes on and ends.
TEST(PrepareRun, AStepThatThrowsRejectsOnlyThatPair) {
  TempDir dir;
  make_pair(dir, "good", 1.0, {{0, 36, 100}, {480, 38, 80}});
  std::vector<drums::PairInput> inputs = {{dir.path("good.mid"), dir.path("good.wav"), std::nan("")},
                                          {dir.path("good.mid"), dir.path("good.wav"), std::nan("")}};
  auto negative_clip = clips_config();
  negative_clip.clip_s = -0.2;
  auto flac_refuses = clips_config();
  flac_refuses.codec = drums::Codec::Flac;
  flac_refuses.sample_rate_hz = 2'000'000;  // above FLAC's largest sample rate: encoder init fails
  for (const auto& config : {negative_clip, flac_refuses}) {
    runtime::Job job({2, 0});
    drums::PrepareRun run(inputs, config, job);
    std::vector<std::string> reasons, messages;
    while (auto r = run.next()) {
      reasons.push_back(drums::reject_name(r->reject));
      messages.push_back(r->message);
    }
    EXPECT_EQ(reasons, (std::vector<std::string>{"processing_error", "processing_error"}));
    EXPECT_NE(messages[0].find(dir.path("good.wav") + ": encode failed: "), std::string::npos) << messages[0];
  }
}

TEST(PrepareRun, OnsetsAtOrAfterTheEndOfTheAudioAreLeftOutAndCounted) {
  TempDir dir;
  // Audio of 1 s; onsets at 0, 0.5 s, 1.25 s and 1.5 s (within the 1 s MIDI tolerance).
  make_pair(dir, "late", 1.0, {{0, 36, 100}, {480, 38, 80}, {1200, 42, 70}, {1440, 36, 90}});
  runtime::Job job({1, 0});
  drums::PrepareRun run({{dir.path("late.mid"), dir.path("late.wav"), std::nan("")}}, clips_config(), job);
  auto r = run.next();
  ASSERT_TRUE(r && r->reject == drums::Reject::None) << (r ? r->message : "");
  EXPECT_EQ(r->stats.onsets, 2);
  EXPECT_EQ(r->stats.onsets_past_audio, 2);
  EXPECT_EQ(r->records->length, 2);
}
