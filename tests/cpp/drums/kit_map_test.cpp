#include "cadence/drums/kit_map.h"

#include <gtest/gtest.h>

using namespace cadence::drums;

namespace {
// Every key as itself, then the given keys changed.
std::vector<std::vector<int>> identity_with(std::vector<std::pair<int, std::vector<int>>> changes) {
  std::vector<std::vector<int>> m(128);
  for (int p = 0; p < 128; ++p) m[p] = {p};
  for (auto& [key, pitches] : changes) m[key] = pitches;
  return m;
}
}  // namespace

TEST(KitMap, EmptyKeepsTheHit) {
  std::vector<Hit> hits;
  push_mapped(hits, {0.5, 54, 90}, KitMap());
  ASSERT_EQ(hits.size(), 1u);
  EXPECT_EQ(hits[0].pitch, 54);
}

TEST(KitMap, AKeyBecomesEachOfItsPitchesAtTheNotesTimeAndVelocity) {
  const KitMap map = checked_kit_map(identity_with({{54, {53}}, {68, {36, 42, 47}}}));
  std::vector<Hit> hits;
  push_mapped(hits, {0.5, 54, 90}, map);
  push_mapped(hits, {1.0, 68, 70}, map);
  push_mapped(hits, {1.5, 100, 60}, map);  // as itself
  ASSERT_EQ(hits.size(), 5u);
  EXPECT_EQ(hits[0].pitch, 53);
  EXPECT_DOUBLE_EQ(hits[0].onset_s, 0.5);
  EXPECT_EQ(hits[0].velocity, 90);
  for (int i = 1; i < 4; ++i) {
    EXPECT_DOUBLE_EQ(hits[i].onset_s, 1.0);
    EXPECT_EQ(hits[i].velocity, 70);
  }
  EXPECT_EQ(hits[1].pitch, 36);
  EXPECT_EQ(hits[2].pitch, 42);
  EXPECT_EQ(hits[3].pitch, 47);
  EXPECT_EQ(hits[4].pitch, 100);
}

TEST(KitMap, ChecksItsShape) {
  EXPECT_TRUE(checked_kit_map({}).empty());
  EXPECT_THROW(checked_kit_map(std::vector<std::vector<int>>(127, {36})), std::invalid_argument);
  EXPECT_THROW(checked_kit_map(identity_with({{3, {}}})), std::invalid_argument);
  EXPECT_THROW(checked_kit_map(identity_with({{3, {128}}})), std::invalid_argument);
  EXPECT_THROW(checked_kit_map(identity_with({{3, {-1}}})), std::invalid_argument);
}
