#include "cadence/drums/annotation_text.h"

#include <gtest/gtest.h>

#include <fstream>

#include "test_files.h"

using namespace cadence::drums;

namespace {

struct Expect {
  double time_s;
  int pitch;
};

void expect_hits(const Annotation& a, const std::vector<Expect>& want) {
  ASSERT_EQ(a.hits.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_DOUBLE_EQ(a.hits[i].onset_s, want[i].time_s) << "hit " << i;
    EXPECT_EQ(a.hits[i].pitch, want[i].pitch) << "hit " << i;
    EXPECT_EQ(a.hits[i].velocity, kAnnotationVelocity) << "hit " << i;
  }
}

std::string error_of(std::string_view text, AnnotationFormat f) {
  try {
    parse_annotation_text(text, f, "take.txt");
  } catch (const AnnotationError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

// ENST-Drums annotation/*.txt: "time label", a space between; instance digits are part of the
// label (cr2 is crash 2 = 57, rc4 ride 2 = 59), sd- (snares off) is a snare, bd is 35.
TEST(AnnotationText, EnstLabelsMatchExactly) {
  const auto a = parse_annotation_text(
      "0.000000 bd\n0.371519 chh\n0.743039 sd\n1.114558 sd-\n1.486077 cr2\n1.857596 rc4\n"
      "2.229116 lft\n2.600635 sticks\n",
      AnnotationFormat::Enst, "001_hits_snare-drum_sticks_x6.txt");
  expect_hits(a, {{0.0, 35}, {0.371519, 42}, {0.743039, 38}, {1.114558, 38}, {1.486077, 57}, {1.857596, 59},
                  {2.229116, 41}, {2.600635, 75}});
  EXPECT_TRUE(a.unmapped_labels.empty());
  EXPECT_EQ(a.lines, 8);
}

TEST(AnnotationText, EnstLabelsWithNoPitchAreCountedNotHits) {
  const auto a = parse_annotation_text("0.10 bd\n0.20 sweep\n0.30 mtr\n0.40 sweep\n0.50 ltr\n0.60 CR2\n",
                                       AnnotationFormat::Enst, "x.txt");
  expect_hits(a, {{0.10, 35}});
  using P = std::pair<std::string, std::int64_t>;
  // Case matters: "CR2" is no ENST label.
  EXPECT_EQ(a.unmapped_labels, (std::vector<P>{{"CR2", 1}, {"ltr", 1}, {"mtr", 1}, {"sweep", 2}}));
}

// MDB-Drums annotations/subclass/*_subclass.txt: "time<TAB>LABEL", MDBS_MIDI.
TEST(AnnotationText, MdbSubclassTabSeparated) {
  const auto a = parse_annotation_text("0.058\tKD\r\n0.058\tCHH\r\n0.290\tSDB\r\n0.523\tOHH\r\n0.755\tRDB\r\n",
                                       AnnotationFormat::Mdb, "MusicDelta_Punk_subclass.txt");
  expect_hits(a, {{0.058, 35}, {0.058, 42}, {0.290, 38}, {0.523, 46}, {0.755, 53}});
}

// The class files' six labels; OT has no single pitch.
TEST(AnnotationText, MdbClassLabels) {
  const auto a = parse_annotation_text("1.0\tKD\n1.5\tSD\n2.0\tHH\n2.5\tTT\n3.0\tCY\n3.5\tOT\n",
                                       AnnotationFormat::MdbClass, "MusicDelta_Punk_class.txt");
  expect_hits(a, {{1.0, 35}, {1.5, 38}, {2.0, 42}, {2.5, 47}, {3.0, 49}});
  ASSERT_EQ(a.unmapped_labels.size(), 1u);
  EXPECT_EQ(a.unmapped_labels[0].first, "OT");
}

// RBMA13 / TMIDT annotations/drums_f: "time<TAB>class index", index i is GM 35 + i (0..46).
TEST(AnnotationText, ClassIndicesThroughTheFullTable) {
  for (auto f : {AnnotationFormat::Rbma13, AnnotationFormat::Tmidt}) {
    const auto a = parse_annotation_text("0.5\t0\n0.75\t7\n1.0\t3.0\n1.25\t46\n1.5\t47\n1.75\t99\n", f, "RBMA-13-Track-01.txt");
    expect_hits(a, {{0.5, 35}, {0.75, 42}, {1.0, 38}, {1.25, 81}});
    using P = std::pair<std::string, std::int64_t>;
    EXPECT_EQ(a.unmapped_labels, (std::vector<P>{{"47", 1}, {"99", 1}}));
  }
}

TEST(AnnotationText, BlankLinesBomAndSpacesAroundTheTab) {
  const auto a = parse_annotation_text("\xEF\xBB\xBF\n  0.25 \t KD  \n\n\t\n0.5\tSD", AnnotationFormat::Mdb, "x.txt");
  expect_hits(a, {{0.25, 35}, {0.5, 38}});
  EXPECT_EQ(a.lines, 5);
}

TEST(AnnotationText, OptionalVelocityColumn) {
  const auto a = parse_annotation_text("0.1\t0\t1.0\n0.2\t0\t0.5\n0.3\t0\t100\n", AnnotationFormat::Rbma13, "x.txt");
  ASSERT_EQ(a.hits.size(), 3u);
  EXPECT_EQ(a.hits[0].velocity, 127);
  EXPECT_EQ(a.hits[1].velocity, 64);  // 0.5 * 127 = 63.5, rounded away from zero
  EXPECT_EQ(a.hits[2].velocity, 100);
}

TEST(AnnotationText, MalformedLinesNameFileAndLine) {
  EXPECT_EQ(error_of("0.1 bd\n0.2\n", AnnotationFormat::Enst), "take.txt:2: expected 'time label', found only '0.2'");
  EXPECT_EQ(error_of("0.1 bd\n\nabc sd\n", AnnotationFormat::Enst), "take.txt:3: time 'abc' is not a number of seconds");
  EXPECT_EQ(error_of("0.1\tKD\tx\n", AnnotationFormat::Mdb), "take.txt:1: velocity 'x' is not a number in (0, 127]");
  EXPECT_EQ(error_of("0.1\t2.5\n", AnnotationFormat::Tmidt), "take.txt:1: class index '2.5' is not a whole number >= 0");
  EXPECT_EQ(error_of("0.1\t-1\n", AnnotationFormat::Rbma13), "take.txt:1: class index '-1' is not a whole number >= 0");
  EXPECT_EQ(error_of("nan bd\n", AnnotationFormat::Enst), "take.txt:1: time 'nan' is not a number of seconds");
  EXPECT_EQ(error_of("0.1 bd 1 2\n", AnnotationFormat::Enst),
            "take.txt:1: expected 'time label' (and at most a velocity), found more fields: '0.1 bd 1 2'");
  EXPECT_EQ(error_of("0.1,bd\n", AnnotationFormat::Enst), "take.txt:1: expected 'time label', found only '0.1,bd'");
}

TEST(AnnotationText, ReadAnnotationDispatchesAndNamesMissingFiles) {
  TempDir dir;
  std::ofstream(dir.path("a.txt")) << "0.5 bd\n";
  const auto a = read_annotation(dir.path("a.txt"), AnnotationFormat::Enst);
  ASSERT_EQ(a.hits.size(), 1u);
  EXPECT_EQ(a.hits[0].pitch, 35);
  try {
    read_annotation(dir.path("none.txt"), AnnotationFormat::Enst);
    FAIL() << "no error";
  } catch (const AnnotationError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(dir.path("none.txt") + ": cannot open", 0), 0u) << e.what();
    EXPECT_EQ(e.line(), 0);
  }
  EXPECT_THROW(read_annotation(dir.path("a.txt"), AnnotationFormat::Midi), std::invalid_argument);
}
