#include "cadence/drums/class_map.h"

#include <gtest/gtest.h>

using cadence::drums::ClassMap;

TEST(ClassMap, Gmd9MatchesTheGroovePaper) {
  const auto m = ClassMap::builtin("gmd9");
  ASSERT_EQ(m.size(), 9u);
  EXPECT_EQ(m.class_names()[0], "kick");
  EXPECT_EQ(m.class_of(36), 0);
  for (int p : {38, 37, 40}) EXPECT_EQ(m.class_of(static_cast<std::uint8_t>(p)), 1);
  for (int p : {42, 22, 44}) EXPECT_EQ(m.class_of(static_cast<std::uint8_t>(p)), 2);
  for (int p : {49, 52, 55, 57}) EXPECT_EQ(m.class_of(static_cast<std::uint8_t>(p)), 7);
  EXPECT_EQ(m.class_of(39), ClassMap::kUnmapped);  // clap is not in GMD's 9 classes
  EXPECT_EQ(m.class_of(200), ClassMap::kUnmapped);
}

TEST(ClassMap, EveryTd17PitchIsMappedByMagenta8) {
  const auto m = ClassMap::builtin("magenta8");
  for (int p : {36, 38, 40, 37, 48, 50, 45, 47, 43, 58, 46, 26, 42, 22, 44, 49, 55, 57, 52, 51,
                59, 53, 39, 54, 56, 64, 70, 75})
    EXPECT_NE(m.class_of(static_cast<std::uint8_t>(p)), ClassMap::kUnmapped) << p;
  EXPECT_EQ(ClassMap::builtin("magenta3").size(), 3u);
  EXPECT_EQ(ClassMap::builtin("adtof5").size(), 5u);
  EXPECT_EQ(ClassMap::builtin("raw").size(), 128u);
  EXPECT_EQ(ClassMap::builtin("raw").class_of(77), 77);
}

TEST(ClassMap, RejectsOverlapsBadPitchesAndUnknownNames) {
  EXPECT_THROW(ClassMap("m", {{"a", {36}}, {"b", {36}}}), std::invalid_argument);
  EXPECT_THROW(ClassMap("m", {{"a", {128}}}), std::invalid_argument);
  EXPECT_THROW(ClassMap("m", {}), std::invalid_argument);
  try {
    ClassMap::builtin("gmd10");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("gmd9"), std::string::npos);  // lists the real ones
  }
}

// Found while writing fuzz/class_map_fuzz.cpp's oracle: a pitch repeated inside one class was
// refused as "pitch 36 is in both 'kick' and 'kick'", and two classes of one name were accepted
// (two label columns no one can tell apart).
TEST(ClassMap, RepeatedPitchesAndClassNamesAreRefusedClearly) {
  try {
    ClassMap("m", {{"kick", {36, 35, 36}}});
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "class map 'm': class 'kick' lists pitch 36 twice");
  }
  try {
    ClassMap("m", {{"kick", {36}}, {"snare", {38}}, {"kick", {35}}});
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "class map 'm': class name 'kick' is used twice");
  }
}

TEST(ClassMap, ClassesRoundTrip) {
  const auto m = ClassMap("mine", {{"low", {36, 35}}, {"high", {42}}});
  const auto c = m.classes();
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].second, (std::vector<int>{35, 36}));
  EXPECT_EQ(c[1].first, "high");
}
