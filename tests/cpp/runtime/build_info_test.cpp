#include "cadence/runtime/build_info.h"

#include <gtest/gtest.h>

#include <map>

using cadence::runtime::build_info;

TEST(BuildInfo, NamesEveryLinkedLibraryWithItsVersion) {
  const auto pairs = build_info();
  const std::map<std::string, std::string> info(pairs.begin(), pairs.end());
  ASSERT_EQ(info.size(), pairs.size()) << "a name appears twice";
  EXPECT_EQ(info.at("libsndfile").rfind("libsndfile-1.", 0), 0u) << info.at("libsndfile");
  EXPECT_EQ(info.at("libFLAC").rfind("1.", 0), 0u) << info.at("libFLAC");
  EXPECT_EQ(info.at("libsoxr").rfind("libsoxr-0.1.", 0), 0u) << info.at("libsoxr");
  EXPECT_EQ(info.at("libzip").rfind("1.", 0), 0u) << info.at("libzip");
  EXPECT_EQ(info.at("libdeflate").rfind("1.", 0), 0u) << info.at("libdeflate");
  EXPECT_TRUE(info.at("native_libs") == "system" || info.at("native_libs") == "vendored") << info.at("native_libs");
  EXPECT_TRUE(info.at("gait_lanes").rfind("4 ", 0) == 0 || info.at("gait_lanes").rfind("8 ", 0) == 0);
}
