#include "cadence/drums/label_table.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

using namespace cadence::drums;

TEST(LabelTable, EnstAsAdtofHasIt) {
  const auto f = AnnotationFormat::Enst;
  EXPECT_EQ(label_pitch(f, "bd"), 35);
  EXPECT_EQ(label_pitch(f, "sd-"), 38);
  EXPECT_EQ(label_pitch(f, "rs"), 38);
  EXPECT_EQ(label_pitch(f, "cs"), 37);
  EXPECT_EQ(label_pitch(f, "cr1"), 49);
  EXPECT_EQ(label_pitch(f, "cr2"), 57);
  EXPECT_EQ(label_pitch(f, "c4"), 57);
  EXPECT_EQ(label_pitch(f, "rc3"), 51);
  EXPECT_EQ(label_pitch(f, "rc4"), 59);
  EXPECT_EQ(label_pitch(f, "ch5"), 52);
  EXPECT_EQ(label_pitch(f, "spl2"), 55);
  EXPECT_EQ(label_pitch(f, "sticks"), 75);
  for (const char* none : {"sweep", "mtr", "ltr", "cr3", "BD", ""}) EXPECT_EQ(label_pitch(f, none), -1) << none;
  EXPECT_EQ(label_table(f).size(), 30u);
}

TEST(LabelTable, MdbSubclassAndClass) {
  EXPECT_EQ(label_table(AnnotationFormat::Mdb).size(), 21u);
  EXPECT_EQ(label_pitch(AnnotationFormat::Mdb, "PHH"), 44);
  EXPECT_EQ(label_pitch(AnnotationFormat::Mdb, "HIT"), 50);
  EXPECT_EQ(label_pitch(AnnotationFormat::Mdb, "TMB"), 54);
  EXPECT_EQ(label_pitch(AnnotationFormat::Mdb, "HH"), -1);  // a class label, not a subclass
  EXPECT_EQ(label_pitch(AnnotationFormat::MdbClass, "TT"), 47);
  EXPECT_EQ(label_pitch(AnnotationFormat::MdbClass, "OT"), -1);
}

TEST(LabelTable, FullTableIsIndexPlus35) {
  for (auto f : {AnnotationFormat::Rbma13, AnnotationFormat::Tmidt}) {
    const auto t = label_table(f);
    ASSERT_EQ(t.size(), 47u);
    for (std::size_t i = 0; i < t.size(); ++i) {
      EXPECT_EQ(t[i].label, std::to_string(i));
      EXPECT_EQ(t[i].pitch, 35 + i);
    }
    EXPECT_TRUE(labels_are_indices(f));
  }
}

TEST(LabelTable, EveryTableHasUniqueLabelsAndGmDrumPitches) {
  for (auto f : annotation_formats()) {
    std::set<std::string_view> seen;
    for (const auto& e : label_table(f)) {
      EXPECT_TRUE(seen.insert(e.label).second) << annotation_format_name(f) << " " << e.label;
      EXPECT_GE(e.pitch, 35);
      EXPECT_LE(e.pitch, 81);
    }
  }
}

TEST(LabelTable, FormatNamesRoundTrip) {
  for (auto f : annotation_formats()) EXPECT_EQ(parse_annotation_format(annotation_format_name(f)), f);
  try {
    parse_annotation_format("ENST");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "annotation format 'ENST' is not one of midi, enst, mdb, mdb_class, rbma13, tmidt, idmt");
  }
}
