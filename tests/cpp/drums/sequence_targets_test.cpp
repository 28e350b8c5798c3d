#include "cadence/drums/sequence_targets.h"

#include <gtest/gtest.h>

#include <vector>

using namespace cadence::drums;

TEST(SequenceTargets, OnsetFrameIsFloorDivision) {
  EXPECT_EQ(onset_frame(0, 220), 0);
  EXPECT_EQ(onset_frame(219, 220), 0);
  EXPECT_EQ(onset_frame(220, 220), 1);
  EXPECT_EQ(onset_frame(-1, 220), -1);
  EXPECT_EQ(onset_frame(-220, 220), -1);
  EXPECT_EQ(onset_frame(-221, 220), -2);
}

TEST(SequenceTargets, RollsCoverOnlyTheWindowAndWiden) {
  // Two files, two classes. File 0: onsets at samples 100 (class 0, vel 90), 1000 (class 1, vel 50),
  // 1000 again (class 1, vel 70: the louder wins), 2000 (class 0). File 1: one onset at 5.
  std::vector<std::int64_t> onset = {100, 1000, 1000, 2000, 5};
  std::vector<std::uint8_t> classes = {1, 0, 0, 1, 0, 1, 1, 0, 1, 0};
  std::vector<std::uint8_t> vel = {90, 0, 0, 50, 0, 70, 30, 0, 10, 0};
  std::vector<std::int64_t> begin = {0, 4, 5};
  OnsetTable table{onset.data(), classes.data(), vel.data(), begin.data(), 2, 2};
  const FrameGrid grid{1000, 100};  // 11 frames
  ASSERT_EQ(grid.n_frames(), 11);
  std::vector<std::int64_t> files = {0, 0, 1};
  std::vector<std::int64_t> starts = {0, 1000, -50};
  const float widen[] = {0.5f};
  std::vector<float> roll(3 * 11 * 2);
  std::vector<std::uint8_t> vroll(3 * 11 * 2);
  sequence_targets(table, files.data(), starts.data(), 3, grid, widen, 1, roll.data(), vroll.data());
  auto at = [&](int w, int f, int c) { return roll[(w * 11 + f) * 2 + c]; };
  auto vat = [&](int w, int f, int c) { return vroll[(w * 11 + f) * 2 + c]; };
  // Window 0 = [0, 1000): the onset at 100 is frame 1; the one at 1000 is outside (end excluded).
  EXPECT_EQ(at(0, 1, 0), 1.0f);
  EXPECT_EQ(at(0, 0, 0), 0.5f);
  EXPECT_EQ(at(0, 2, 0), 0.5f);
  EXPECT_EQ(at(0, 3, 0), 0.0f);
  EXPECT_EQ(vat(0, 1, 0), 90);
  for (int f = 0; f < 11; ++f) EXPECT_EQ(at(0, f, 1), 0.0f);
  // Window 1 = [1000, 2000): both hits at 1000 on frame 0, velocity 70; 2000 is outside.
  EXPECT_EQ(at(1, 0, 1), 1.0f);
  EXPECT_EQ(at(1, 1, 1), 0.5f);
  EXPECT_EQ(vat(1, 0, 1), 70);
  EXPECT_EQ(vat(1, 1, 1), 0);  // widening touches the onset roll only
  EXPECT_EQ(at(1, 10, 0), 0.0f);
  // Window 2 starts before file 1: the onset at 5 is 55 samples in, frame 0.
  EXPECT_EQ(at(2, 0, 0), 1.0f);
  EXPECT_EQ(vat(2, 0, 0), 10);
  std::vector<std::int64_t> bad = {2};
  EXPECT_THROW(sequence_targets(table, bad.data(), starts.data(), 1, grid, widen, 1, roll.data(), vroll.data()),
               std::out_of_range);
}
