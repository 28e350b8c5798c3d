#include "cadence/drums/onset_merge.h"

#include <gtest/gtest.h>

using namespace cadence::drums;

TEST(OnsetMerge, GroupsWithinWindowOfTheFirstHitAfterSorting) {
  const auto map = ClassMap::builtin("gmd9");
  // Deliberately unsorted, as notes from several tracks would be.
  std::vector<Hit> hits = {{0.508, 42, 80}, {0.500, 36, 100}, {0.000, 49, 90}, {0.009, 36, 70},
                           {0.511, 38, 60}, {1.000, 39, 50}};
  MergeStats stats;
  const auto onsets = merge_hits(hits, 0.010, map, &stats);
  ASSERT_EQ(onsets.size(), 4u);
  EXPECT_DOUBLE_EQ(onsets[0].onset_s, 0.0);
  EXPECT_EQ(onsets[0].pitches, (std::vector<std::uint8_t>{49, 36}));
  EXPECT_DOUBLE_EQ(onsets[1].onset_s, 0.500);
  EXPECT_EQ(onsets[1].pitches, (std::vector<std::uint8_t>{36, 42}));  // 0.508 within 10 ms
  EXPECT_DOUBLE_EQ(onsets[2].onset_s, 0.511);  // 11 ms after 0.500: a new group
  EXPECT_EQ(onsets[3].pitches, (std::vector<std::uint8_t>{39}));
  EXPECT_EQ(onsets[3].unmapped_hits, 1);
  EXPECT_EQ(onsets[1].multi_hot, (std::vector<std::uint8_t>{1, 0, 1, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(onsets[0].class_velocity[0], 70);
  EXPECT_EQ(onsets[0].class_velocity[7], 90);
  EXPECT_EQ(stats.hits, 6);
  EXPECT_EQ(stats.unmapped_hits, 1);
  EXPECT_EQ(stats.unmapped_by_pitch[39], 1);
}

TEST(OnsetMerge, LoudestHitGivesTheClassVelocity) {
  const auto map = ClassMap::builtin("gmd9");
  const auto onsets = merge_hits({{0.0, 38, 40}, {0.002, 40, 110}, {0.004, 37, 90}}, 0.010, map);
  ASSERT_EQ(onsets.size(), 1u);
  EXPECT_EQ(onsets[0].class_velocity[1], 110);
}

TEST(OnsetMerge, ZeroWindowMergesOnlyExactTies) {
  const auto map = ClassMap::builtin("gmd9");
  const auto onsets = merge_hits({{0.1, 36, 1}, {0.1, 49, 1}, {0.1000001, 42, 1}}, 0.0, map);
  EXPECT_EQ(onsets.size(), 2u);
}
