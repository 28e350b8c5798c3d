// One pair from a dataset's own annotations (issue 19): text/XML annotations, several
// annotation files, several audio files (stems), through PrepareRun as prepare runs them.
#include "cadence/drums/pair_processor.h"

#include <gtest/gtest.h>

#include <cstring>
#include <fstream>

#include "cadence/drums/prepare_run.h"
#include "test_files.h"

using namespace cadence;

namespace {

// Clips of raw float32 at the file's own rate, windows starting at the onset: a window's first
// sample is the audio at the onset.
drums::PrepareConfig raw_clips() {
  drums::PrepareConfig c;
  c.layout = drums::Layout::Clips;
  c.codec = drums::Codec::Float32;
  c.sample_rate_hz = 0;
  c.pad_before_s = 0;
  c.clip_s = 0.01;
  c.class_map = drums::ClassMap::builtin("raw");
  return c;
}

drums::PairInput annotated(std::vector<std::string> annotations, drums::AnnotationFormat f,
                           std::vector<std::string> audio) {
  drums::PairInput in;
  in.annotation_paths = std::move(annotations);
  in.annotation_format = f;
  in.audio_paths = std::move(audio);
  return in;
}

drums::PairResult run_one(const drums::PairInput& in, const drums::PrepareConfig& c = raw_clips()) {
  runtime::Job job({1, 0});
  drums::PrepareRun run({in}, c, job);
  auto r = run.next();
  EXPECT_TRUE(r.has_value());
  return std::move(*r);
}

std::vector<double> onset_times(const drums::PairResult& r) {
  const auto& rec = *r.records;
  const auto* t = static_cast<const double*>(rec.children[1].array->buffers[1].data);
  return {t, t + rec.length};
}

// Onset k's pitches (the list column).
std::vector<int> pitches(const drums::PairResult& r, std::int64_t k) {
  const auto& list = *r.records->children[4].array;
  const auto* off = static_cast<const std::int32_t*>(list.buffers[1].data);
  const auto* p = static_cast<const std::uint8_t*>(list.children[0].array->buffers[1].data);
  return {p + off[k], p + off[k + 1]};
}

float first_sample(const drums::PairResult& r, std::int64_t k) {
  const auto& audio = *r.records->children[11].array;
  const auto* offsets = static_cast<const std::int64_t*>(audio.buffers[1].data);
  float v;
  std::memcpy(&v, static_cast<const char*>(audio.buffers[2].data) + offsets[k], sizeof v);
  return v;
}

}  // namespace

TEST(PairProcessor, EnstAnnotationBecomesRecordsAtItsTimes) {
  TempDir dir;
  write_wav(dir.path("take.wav"), 44100, 1, std::vector<float>(44100 * 2, 0.1f));
  // chh at -1 ms lies before the audio; sweep has no pitch; sd and cr2 are 5 ms apart: one onset.
  std::ofstream(dir.path("take.txt")) << "-0.001 chh\n0.5 bd\n1.0 sweep\n1.0 sd\n1.005 cr2\n1.5 sweep\n";
  auto r = run_one(annotated({dir.path("take.txt")}, drums::AnnotationFormat::Enst, {dir.path("take.wav")}));
  ASSERT_EQ(r.reject, drums::Reject::None) << r.message;
  EXPECT_EQ(onset_times(r), (std::vector<double>{0.5, 1.0}));
  EXPECT_EQ(pitches(r, 0), (std::vector<int>{35}));
  EXPECT_EQ(pitches(r, 1), (std::vector<int>{38, 57}));
  EXPECT_EQ(r.stats.notes, 4);  // chh, bd, sd, cr2
  EXPECT_EQ(r.stats.onsets_before_audio, 1);
  EXPECT_DOUBLE_EQ(r.stats.midi_end_s, 1.005);
  using P = std::pair<std::string, std::int64_t>;
  EXPECT_EQ(r.stats.unmapped_labels, (std::vector<P>{{"sweep", 2}}));
}

TEST(PairProcessor, SeveralAnnotationFilesAreMerged) {
  TempDir dir;
  write_wav(dir.path("mix.wav"), 44100, 1, std::vector<float>(44100, 0.1f));
  std::ofstream(dir.path("a.txt")) << "0.2\tKD\n0.6\tKD\n";
  std::ofstream(dir.path("b.txt")) << "0.4\tCHH\n0.602\tSD\n0.8\tXX\n";
  auto r = run_one(annotated({dir.path("a.txt"), dir.path("b.txt")}, drums::AnnotationFormat::Mdb, {dir.path("mix.wav")}));
  ASSERT_EQ(r.reject, drums::Reject::None) << r.message;
  EXPECT_EQ(onset_times(r), (std::vector<double>{0.2, 0.4, 0.6}));
  EXPECT_EQ(pitches(r, 2), (std::vector<int>{35, 38}));
  ASSERT_EQ(r.stats.unmapped_labels.size(), 1u);
  EXPECT_EQ(r.stats.unmapped_labels[0].first, "XX");
}

// Slakh: one MIDI file per drum stem, merged.
TEST(PairProcessor, SeveralMidiFilesAreMerged) {
  TempDir dir;
  write_wav(dir.path("mix.wav"), 44100, 1, std::vector<float>(44100 * 2, 0.1f));
  write_smf(dir.path("S01.mid"), 480, 500000, {{0, 36, 100}, {960, 36, 100}});  // 0 s, 1 s
  write_smf(dir.path("S02.mid"), 480, 500000, {{480, 42, 90}});                // 0.5 s
  auto r = run_one(annotated({dir.path("S01.mid"), dir.path("S02.mid")}, drums::AnnotationFormat::Midi,
                             {dir.path("mix.wav")}));
  ASSERT_EQ(r.reject, drums::Reject::None) << r.message;
  EXPECT_EQ(onset_times(r), (std::vector<double>{0.0, 0.5, 1.0}));
  EXPECT_EQ(pitches(r, 1), (std::vector<int>{42}));
  EXPECT_DOUBLE_EQ(r.stats.midi_end_s, 1.0);
}

// Stems: each averaged to mono, brought to one rate, summed; a shorter one padded with silence.
TEST(PairProcessor, SeveralAudioFilesAreSummedAfterMonoDownmix) {
  TempDir dir;
  std::vector<float> stereo(44100 * 2 * 2);
  for (std::size_t i = 0; i < stereo.size(); i += 2) {
    stereo[i] = 0.2f;
    stereo[i + 1] = 0.4f;
  }
  write_wav(dir.path("S00.wav"), 44100, 2, stereo, SF_FORMAT_WAV | SF_FORMAT_FLOAT);            // 2 s
  write_wav(dir.path("S01.wav"), 44100, 1, std::vector<float>(44100, 0.1f), SF_FORMAT_WAV | SF_FORMAT_FLOAT);  // 1 s
  std::ofstream(dir.path("a.txt")) << "0.5 bd\n1.5 bd\n";
  auto r = run_one(annotated({dir.path("a.txt")}, drums::AnnotationFormat::Enst, {dir.path("S00.wav"), dir.path("S01.wav")}));
  ASSERT_EQ(r.reject, drums::Reject::None) << r.message;
  EXPECT_EQ(r.stats.samples_out, 44100 * 2);
  EXPECT_DOUBLE_EQ(r.stats.audio_s, 2.0);
  EXPECT_FLOAT_EQ(first_sample(r, 0), 0.3f + 0.1f);  // (0.2 + 0.4) / 2, plus the mono stem
  EXPECT_FLOAT_EQ(first_sample(r, 1), 0.3f);         // past the shorter stem's end
}

TEST(PairProcessor, AnnotationRejectsNameTheReason) {
  TempDir dir;
  write_wav(dir.path("a.wav"), 44100, 1, std::vector<float>(44100, 0.1f));
  std::ofstream(dir.path("bad.txt")) << "0.1 bd\n0.2bd\n";
  std::ofstream(dir.path("none.txt")) << "0.1 sweep\n0.2 mtr\n0.3 sweep\n";
  std::ofstream(dir.path("bad.xml")) << "<r><event><onsetSec>0.1</onsetSec></event></r>";
  const auto enst = drums::AnnotationFormat::Enst;
  auto bad = run_one(annotated({dir.path("bad.txt")}, enst, {dir.path("a.wav")}));
  EXPECT_EQ(bad.reject, drums::Reject::BadAnnotation);
  EXPECT_EQ(bad.message, dir.path("bad.txt") + ":2: expected 'time label', found only '0.2bd'");
  EXPECT_STREQ(drums::reject_name(bad.reject), "bad_annotation");
  auto xml = run_one(annotated({dir.path("bad.xml")}, drums::AnnotationFormat::Idmt, {dir.path("a.wav")}));
  EXPECT_EQ(xml.message, dir.path("bad.xml") + ":1: the <event> opened on line 1 has no <instrument>");
  auto missing = run_one(annotated({dir.path("nowhere.txt")}, enst, {dir.path("a.wav")}));
  EXPECT_EQ(missing.reject, drums::Reject::MissingAnnotation);
  EXPECT_STREQ(drums::reject_name(missing.reject), "missing_annotation");
  auto unmapped = run_one(annotated({dir.path("none.txt")}, enst, {dir.path("a.wav")}));
  EXPECT_EQ(unmapped.reject, drums::Reject::NoNotes);
  EXPECT_EQ(unmapped.message, dir.path("none.txt") + ": no annotated hit with a pitch (labels without one: mtr: 1, sweep: 2)");
  std::ofstream(dir.path("ok.txt")) << "0.1 bd\n";
  auto no_stem = run_one(annotated({dir.path("ok.txt")}, enst, {dir.path("a.wav"), dir.path("gone.wav")}));
  EXPECT_EQ(no_stem.reject, drums::Reject::MissingAudio);
  EXPECT_EQ(no_stem.message, dir.path("gone.wav") + ": audio file not found");
}
