#include "cadence/drums/window.h"

#include <gtest/gtest.h>

using namespace cadence::drums;

TEST(Window, RoundsHalvesAwayFromZeroOnce) {
  // 0.0125 s at 22050 Hz = 275.625 samples -> 276; 0.5 samples would round to even in Python.
  EXPECT_EQ(onset_window(1000, 0.0125, 0.2, 22050).start_sample, 1000 - 276);
  EXPECT_EQ(onset_window(1000, 0.0125, 0.2, 22050).n_samples, 4410);
  // 2.5 samples: llround gives 3 where Python's round gives 2.
  EXPECT_EQ(onset_window(10, 2.5 / 1000.0, 0.0, 1000).start_sample, 7);
  EXPECT_EQ(onset_sample(1.0005, 1000), 1001);
  EXPECT_EQ(onset_window(0, 0.02, 5.0, 22050).start_sample, -441);
  EXPECT_EQ(onset_window(0, 0.02, 5.0, 22050).n_samples, 110250);
}
